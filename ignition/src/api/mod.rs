//! The HTTP side: the Infrastructure API (poem-openapi), its spec and Swagger UI, the
//! management endpoints, and the error and panic handling around all of them.
//!
//! `#[vim_driver]` makes a type a [`Driver`]; [`InfrastructureApi`] is the generic
//! poem-openapi API over any driver, so each driver gets the contract's routes and a
//! spec that lists the statuses its own error types can produce.

mod error;
mod payload;

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use poem::endpoint::BoxEndpoint;
use poem::middleware::CatchPanic;
use poem::{get, Endpoint, EndpointExt, IntoResponse, Route};
use poem_openapi::{OpenApi, OpenApiService};

pub(crate) use error::json_response;
pub use error::ErrorBody;
pub use payload::{ContractJson, OperationOutput, OperationResponse};

use crate::driver::Driver;
use crate::management::{health, Vitals};
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};
use crate::service::InfrastructureService;

/// Where the Infrastructure API is served.
pub const API_PATH: &str = "/api/infrastructure";

/// The Infrastructure API (the seed's InfrastructureApiService) over a driver.
pub struct InfrastructureApi<D: Driver> {
    service: Arc<InfrastructureService<D>>,
}

impl<D: Driver> InfrastructureApi<D> {
    /// The API answering through `service`.
    pub fn new(service: InfrastructureService<D>) -> Self {
        Self {
            service: Arc::new(service),
        }
    }
}

#[OpenApi]
impl<D: Driver> InfrastructureApi<D> {
    /// Create infrastructure
    ///
    /// Starts creating the infrastructure and answers at once; the outcome arrives later
    /// as an InfrastructureTask event.
    #[oai(path = "/create", method = "post", operation_id = "create")]
    async fn create(
        &self,
        request: ContractJson<CreateInfrastructureRequest>,
    ) -> OperationResponse<CreateInfrastructureResponse, D::CreateError> {
        self.service.create_infrastructure(request.0).await.into()
    }

    /// Query an infrastructure task
    ///
    /// Reports the current state of a create or delete task.
    #[oai(path = "/query", method = "post", operation_id = "query")]
    async fn query(
        &self,
        request: ContractJson<InfrastructureTaskQuery>,
    ) -> OperationResponse<InfrastructureTask, D::QueryError> {
        self.service.get_infrastructure_task(request.0).await.into()
    }

    /// Delete infrastructure
    ///
    /// Starts deleting the infrastructure and answers at once; the outcome arrives later
    /// as an InfrastructureTask event.
    #[oai(path = "/delete", method = "post", operation_id = "delete")]
    async fn delete(
        &self,
        request: ContractJson<DeleteInfrastructureRequest>,
    ) -> OperationResponse<DeleteInfrastructureResponse, D::DeleteError> {
        self.service.delete_infrastructure(request.0).await.into()
    }

    /// Find infrastructure
    ///
    /// Finds infrastructure matching the template and instance name; `result` is null
    /// when nothing matched.
    #[oai(path = "/find", method = "post", operation_id = "find")]
    async fn find(
        &self,
        request: ContractJson<FindInfrastructureRequest>,
    ) -> OperationResponse<FindInfrastructureResponse, D::FindError> {
        self.service.find_infrastructure(request.0).await.into()
    }
}

/// The Infrastructure API as a poem-openapi service (routes + spec).
pub(crate) fn openapi_service<D: Driver>(
    service: InfrastructureService<D>,
) -> OpenApiService<InfrastructureApi<D>, ()> {
    OpenApiService::new(InfrastructureApi::new(service), "Infrastructure", "1.0.0")
        .description("The Infrastructure API of a VIM driver built with Ignition for Rust.")
        .server(API_PATH)
}

/// `/api/infrastructure/*`: the operations, Swagger UI at `/ui`, the spec at
/// `/openapi.json` and `/openapi.yaml`. Full paths in one flat route: every nesting
/// level rewrites the request's URI, which costs throughput.
pub(crate) fn infrastructure_routes<D: Driver>(
    api: OpenApiService<InfrastructureApi<D>, ()>,
) -> Route {
    Route::new()
        .nest(format!("{API_PATH}/ui"), api.swagger_ui())
        .at(format!("{API_PATH}/openapi.json"), api.spec_endpoint())
        .at(format!("{API_PATH}/openapi.yaml"), api.spec_endpoint_yaml())
        .nest(API_PATH, api)
}

/// The whole HTTP app: `routes` (the Infrastructure API, when enabled), management, and
/// around them panic catching, error conversion and request logs.
pub(crate) fn app_endpoint(routes: Route, vitals: Vitals) -> BoxEndpoint<'static> {
    routes
        .at("/management/health", get(health).data(vitals))
        .with(CatchPanic::new().with_handler(panic_response))
        .around(|endpoint, request| async move {
            // Cheap copies (no allocation), for the log line.
            let (method, uri) = (request.method().clone(), request.uri().clone());
            let started = Instant::now();
            let response = match endpoint.call(request).await {
                Ok(response) => response,
                Err(err) => ErrorBody::from_poem(&err).into_response(),
            };
            let status = response.status();
            let elapsed = started.elapsed();
            if status.is_server_error() {
                tracing::warn!(%method, path = uri.path(), status = status.as_u16(), ?elapsed, "request failed");
            } else {
                tracing::debug!(%method, path = uri.path(), status = status.as_u16(), ?elapsed, "request");
            }
            Ok(response)
        })
        .boxed()
}

fn panic_response(payload: Box<dyn Any + Send + 'static>) -> poem::Response {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    tracing::error!(panic = %what, "the driver panicked while handling a request; answered 500");
    ErrorBody::new(
        poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the driver failed while handling the request",
    )
    .into_response()
}
