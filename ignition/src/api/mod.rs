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

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use poem::http::StatusCode;
use poem::{post, Endpoint, IntoResponse, Request, Response, Route};
use poem_openapi::payload::Payload;
use poem_openapi::types::Type;
use poem_openapi::{OpenApi, OpenApiService};
use serde::de::DeserializeOwned;

pub(crate) use error::ErrorBody;
#[cfg(feature = "fuzz-internals")]
pub(crate) use payload::parse_body;
use payload::{BodyLimit, ContractJson, OperationResponse};

use crate::config::IgnitionConfig;
use crate::driver::{Driver, Operation};
use crate::metrics::Recorder;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};
use crate::monitor::InfrastructureTaskMonitoringService;
use crate::response::Allow;
use crate::service::InfrastructureService;

/// Where the Infrastructure API is served.
pub(crate) const API_PATH: &str = "/api/infrastructure";

/// The Infrastructure API of one driver: its routes and its spec.
pub(crate) struct ApiParts {
    pub(crate) routes: Route,
    pub(crate) spec_json: String,
    pub(crate) spec_yaml: String,
}

/// What the API is wired to: the task monitor (if tasks are monitored) and the settings
/// of the configuration it serves under.
pub(crate) struct Wiring {
    monitor: Option<InfrastructureTaskMonitoringService>,
    config: IgnitionConfig,
    metrics: Recorder,
}

impl Wiring {
    pub(crate) fn new(
        config: &IgnitionConfig,
        monitor: Option<InfrastructureTaskMonitoringService>,
    ) -> Self {
        Self {
            monitor,
            config: config.clone(),
            metrics: Recorder::default(),
        }
    }

    /// Records each request into `metrics`.
    pub(crate) fn metrics(mut self, metrics: Recorder) -> Self {
        self.metrics = metrics;
        self
    }
}

/// The routes and spec of the API over `driver`.
pub(crate) fn api_parts<D: Driver>(driver: Arc<D>, wiring: Wiring) -> ApiParts {
    let service = InfrastructureService::new(driver, wiring.monitor, &wiring.config.driver);
    let api = InfrastructureApi {
        service: Some(Arc::new(service)),
    };
    let docs = openapi_service(api.clone());
    ApiParts {
        spec_json: docs.spec(),
        spec_yaml: docs.spec_yaml(),
        routes: infrastructure_routes(api, docs, &wiring.config, &wiring.metrics),
    }
}

/// The spec of the API of a driver of type `D`, without a driver.
pub(crate) fn spec_parts<D: Driver>() -> ApiParts {
    let docs = openapi_service(InfrastructureApi::<D> { service: None });
    ApiParts {
        spec_json: docs.spec(),
        spec_yaml: docs.spec_yaml(),
        routes: Route::new(),
    }
}

/// The Infrastructure API (the seed's InfrastructureApiService) over a driver.
struct InfrastructureApi<D: Driver> {
    /// `None` for an API built only for its spec (never served).
    service: Option<Arc<InfrastructureService<D>>>,
}

impl<D: Driver> Clone for InfrastructureApi<D> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
}

impl<D: Driver> InfrastructureApi<D> {
    fn service(&self) -> &InfrastructureService<D> {
        self.service
            .as_deref()
            .expect("an API built for its spec only is never served")
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
    ) -> OperationResponse<CreateInfrastructureResponse, D> {
        self.service().create_infrastructure(request.0).await.into()
    }

    /// Query an infrastructure task
    ///
    /// Reports the current state of a create or delete task.
    #[oai(path = "/query", method = "post", operation_id = "query")]
    async fn query(
        &self,
        request: ContractJson<InfrastructureTaskQuery>,
    ) -> OperationResponse<InfrastructureTask, D> {
        self.service()
            .get_infrastructure_task(request.0)
            .await
            .into()
    }

    /// Delete infrastructure
    ///
    /// Starts deleting the infrastructure and answers at once; the outcome arrives later
    /// as an InfrastructureTask event.
    #[oai(path = "/delete", method = "post", operation_id = "delete")]
    async fn delete(
        &self,
        request: ContractJson<DeleteInfrastructureRequest>,
    ) -> OperationResponse<DeleteInfrastructureResponse, D> {
        self.service().delete_infrastructure(request.0).await.into()
    }

    /// Find infrastructure
    ///
    /// Finds infrastructure matching the template and instance name; `result` is null
    /// when nothing matched.
    #[oai(path = "/find", method = "post", operation_id = "find")]
    async fn find(
        &self,
        request: ContractJson<FindInfrastructureRequest>,
    ) -> OperationResponse<FindInfrastructureResponse, D> {
        self.service().find_infrastructure(request.0).await.into()
    }
}

/// The Infrastructure API as a poem-openapi service: its spec and Swagger UI.
fn openapi_service<D: Driver>(
    api: InfrastructureApi<D>,
) -> OpenApiService<InfrastructureApi<D>, ()> {
    OpenApiService::new(api, "Infrastructure", "1.0.0")
        .description("The Infrastructure API of a VIM driver built with Ignition for Rust.")
        .server(API_PATH)
}

/// `/api/infrastructure/*`: the four operations of `api`, Swagger UI at `/ui` (unless
/// `application.swagger_ui_enabled: false`), the spec of `docs` at `/openapi.json` and
/// `/openapi.yaml`. Full paths in one flat route: every nesting level rewrites the
/// request's URI, which costs throughput.
fn infrastructure_routes<D: Driver>(
    api: InfrastructureApi<D>,
    docs: OpenApiService<InfrastructureApi<D>, ()>,
    config: &IgnitionConfig,
    metrics: &Recorder,
) -> Route {
    let mut routes = Route::new()
        .at(format!("{API_PATH}/openapi.json"), docs.spec_endpoint())
        .at(
            format!("{API_PATH}/openapi.yaml"),
            docs.spec_endpoint_yaml(),
        );
    if config.application.swagger_ui_enabled {
        routes = routes.nest(format!("{API_PATH}/ui"), docs.swagger_ui());
    }
    let limit = BodyLimit {
        max: config.application.max_body_size.bytes(),
        timeout: config.application.body_read_timeout,
    };
    for operation in Operation::ALL {
        let path = format!("{API_PATH}/{}", operation.name());
        let on = (&api, limit, operation, metrics);
        // One arm per operation only for the method it calls (and so its body type).
        routes = match operation {
            Operation::Create => routes.at(
                path,
                route(on, |a, body| async move { a.create(body).await }),
            ),
            Operation::Query => routes.at(
                path,
                route(on, |a, body| async move { a.query(body).await }),
            ),
            Operation::Delete => routes.at(
                path,
                route(on, |a, body| async move { a.delete(body).await }),
            ),
            Operation::Find => {
                routes.at(path, route(on, |a, body| async move { a.find(body).await }))
            }
        };
    }
    routes
}

/// The route of one operation: POST only (405 with `Allow: POST` otherwise), served by an
/// [`OperationEndpoint`] that calls `call`.
fn route<D, T, F, Fut>(
    (api, limit, operation, metrics): (&InfrastructureApi<D>, BodyLimit, Operation, &Recorder),
    call: F,
) -> Allow<poem::RouteMethod>
where
    D: Driver,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(InfrastructureApi<D>, ContractJson<T>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send,
    Fut::Output: IntoResponse,
{
    Allow::new(
        "POST",
        post(OperationEndpoint {
            api: api.clone(),
            limit,
            operation,
            metrics: metrics.clone(),
            call,
            body: PhantomData,
        }),
    )
}

/// One operation as a plain poem endpoint: checks the content type, parses the body as
/// poem-openapi would (the same [`ContractJson`]), and calls the documented method.
struct OperationEndpoint<D: Driver, T, F> {
    api: InfrastructureApi<D>,
    limit: BodyLimit,
    operation: Operation,
    metrics: Recorder,
    call: F,
    body: PhantomData<fn() -> T>,
}

impl<D, T, F, Fut> Endpoint for OperationEndpoint<D, T, F>
where
    D: Driver,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(InfrastructureApi<D>, ContractJson<T>) -> Fut + Send + Sync,
    Fut: Future + Send,
    Fut::Output: IntoResponse,
{
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        // Counted by the status it is answered with (an error's status, 500 for a panic).
        let timer = self.metrics.request(self.operation);
        let answered = self.answer(request).await;
        timer.finish(match &answered {
            Ok(response) => response.status().as_u16(),
            Err(err) => err.status().as_u16(),
        });
        answered
    }
}

impl<D, T, F, Fut> OperationEndpoint<D, T, F>
where
    D: Driver,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(InfrastructureApi<D>, ContractJson<T>) -> Fut + Send + Sync,
    Fut: Future + Send,
    Fut::Output: IntoResponse,
{
    async fn answer(&self, mut request: Request) -> poem::Result<Response> {
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
        let body = request.take_body();
        let body = ContractJson::<T>::parse(&request, body, self.limit).await?;
        Ok((self.call)(self.api.clone(), body).await.into_response())
    }
}

fn unsupported(message: String) -> poem::Error {
    poem::Error::from_string(message, StatusCode::UNSUPPORTED_MEDIA_TYPE)
}
