//! The HTTP side: the Infrastructure API (poem-openapi), its spec and Swagger UI, the
//! management endpoints, and the error and panic handling around all of them.
//!
//! `#[vim_driver]` makes a type a [`Driver`]; [`InfrastructureApi`] is the generic
//! poem-openapi API over any driver, so each driver gets the contract's routes and a
//! spec that lists the statuses its own error types can produce.
//!
//! poem-openapi describes the operations; plain poem endpoints serve them. Each route
//! calls the very method the spec is generated from, with the same body type and the
//! same response type, but skips poem-openapi's per-operation routing and extraction
//! layers (request and response are moved through every layer, which costs ~20 % of the
//! throughput of a no-op driver; see docs/BENCHMARKS.md).

mod error;
mod payload;

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::{get, post, Endpoint, EndpointExt, IntoResponse, Request, RequestBody, Response, Route};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::types::Type;
use poem_openapi::{OpenApi, OpenApiService};
use serde::de::DeserializeOwned;

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

impl<D: Driver> Clone for InfrastructureApi<D> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
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

/// The Infrastructure API as a poem-openapi service: its spec and Swagger UI.
pub(crate) fn openapi_service<D: Driver>(
    api: InfrastructureApi<D>,
) -> OpenApiService<InfrastructureApi<D>, ()> {
    OpenApiService::new(api, "Infrastructure", "1.0.0")
        .description("The Infrastructure API of a VIM driver built with Ignition for Rust.")
        .server(API_PATH)
}

/// `/api/infrastructure/*`: the four operations of `api`, Swagger UI at `/ui`, the spec
/// of `docs` at `/openapi.json` and `/openapi.yaml`. Full paths in one flat route: every
/// nesting level rewrites the request's URI, which costs throughput.
pub(crate) fn infrastructure_routes<D: Driver>(
    api: InfrastructureApi<D>,
    docs: OpenApiService<InfrastructureApi<D>, ()>,
) -> Route {
    Route::new()
        .nest(format!("{API_PATH}/ui"), docs.swagger_ui())
        .at(format!("{API_PATH}/openapi.json"), docs.spec_endpoint())
        .at(
            format!("{API_PATH}/openapi.yaml"),
            docs.spec_endpoint_yaml(),
        )
        .at(
            format!("{API_PATH}/create"),
            post(Operation::new(&api, |api, body| async move {
                api.create(body).await
            })),
        )
        .at(
            format!("{API_PATH}/query"),
            post(Operation::new(&api, |api, body| async move {
                api.query(body).await
            })),
        )
        .at(
            format!("{API_PATH}/delete"),
            post(Operation::new(&api, |api, body| async move {
                api.delete(body).await
            })),
        )
        .at(
            format!("{API_PATH}/find"),
            post(Operation::new(&api, |api, body| async move {
                api.find(body).await
            })),
        )
}

/// One operation as a plain poem endpoint: checks the content type, parses the body as
/// poem-openapi would (the same [`ContractJson`]), and calls the documented method.
struct Operation<D: Driver, T, F> {
    api: InfrastructureApi<D>,
    call: F,
    body: PhantomData<fn() -> T>,
}

impl<D, T, F, Fut> Operation<D, T, F>
where
    D: Driver,
    F: Fn(InfrastructureApi<D>, ContractJson<T>) -> Fut,
{
    fn new(api: &InfrastructureApi<D>, call: F) -> Self {
        Self {
            api: api.clone(),
            call,
            body: PhantomData,
        }
    }
}

impl<D, T, F, Fut> Endpoint for Operation<D, T, F>
where
    D: Driver,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(InfrastructureApi<D>, ContractJson<T>) -> Fut + Send + Sync,
    Fut: Future + Send,
    Fut::Output: IntoResponse,
{
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        match request.content_type() {
            Some(content_type) if ContractJson::<T>::check_content_type(content_type) => {}
            Some(content_type) => {
                return Err(unsupported(format!(
                    "unsupported Content-Type `{content_type}`; expected `application/json`"
                )))
            }
            None => {
                return Err(unsupported(
                    "the request has no Content-Type; expected `application/json`".into(),
                ))
            }
        }
        let mut body = RequestBody::new(request.take_body());
        let body = ContractJson::<T>::from_request(&request, &mut body).await?;
        Ok((self.call)(self.api.clone(), body).await.into_response())
    }
}

fn unsupported(message: String) -> poem::Error {
    poem::Error::from_string(message, StatusCode::UNSUPPORTED_MEDIA_TYPE)
}

/// The whole HTTP app: `routes` (the Infrastructure API, when enabled), management, and
/// around them panic catching, error conversion and request logs.
pub(crate) fn app_endpoint(routes: Route, vitals: Vitals) -> BoxEndpoint<'static> {
    Guarded(routes.at("/management/health", get(health).data(vitals))).boxed()
}

/// The one layer around every route: a panic becomes a 500 and every error the contract's
/// JSON (one layer instead of poem's `CatchPanic` + `around`: each layer moves the request
/// and the response, which shows in throughput).
struct Guarded<E>(E);

impl<E: Endpoint> Endpoint for Guarded<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        // Cheap copies (no allocation), for the log line.
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let started = Instant::now();
        let response = match AssertUnwindSafe(self.0.call(request)).catch_unwind().await {
            Ok(Ok(response)) => response.into_response(),
            Ok(Err(err)) => ErrorBody::from_poem(&err).into_response(),
            Err(panic) => panic_response(panic),
        };
        let status = response.status();
        let elapsed = started.elapsed();
        if status.is_server_error() {
            tracing::warn!(%method, path = uri.path(), status = status.as_u16(), ?elapsed, "request failed");
        } else {
            tracing::debug!(%method, path = uri.path(), status = status.as_u16(), ?elapsed, "request");
        }
        Ok(response)
    }
}

fn panic_response(payload: Box<dyn Any + Send + 'static>) -> poem::Response {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    tracing::error!(panic = %what, "the driver panicked while handling a request; answered 500");
    ErrorBody::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the driver failed while handling the request",
    )
    .into_response()
}
