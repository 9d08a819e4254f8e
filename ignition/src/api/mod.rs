//! The HTTP side of each API kind: its operations (poem-openapi describes them, plain
//! poem endpoints serve them), its spec and Swagger UI, and the error JSON every failure
//! becomes.
//!
//! Each kind has one file with its `#[OpenApi]` impl over a driver of that kind
//! ([`infrastructure`], [`resource`]); what they share is here: the endpoint that serves
//! one operation ([`OperationEndpoint`]), the spec and UI routes, the body parsing and
//! the responses (`payload`); every error's JSON is `response::ErrorBody`'s.
//!
//! Each route calls the very method the spec is generated from, with the same body type
//! and the same response type, but skips poem-openapi's per-operation routing and
//! extraction layers (request and response are moved through every layer, which shows in
//! the throughput of a no-op driver; see docs/BENCHMARKS.md).

mod document;
mod infrastructure;
mod payload;
mod resource;

use std::future::Future;
use std::marker::PhantomData;

use poem::http::{Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response, Route};
use poem_openapi::payload::Payload;
use poem_openapi::types::Type;
use poem_openapi::{OpenApi, OpenApiService};
use serde::de::DeserializeOwned;

pub(crate) use infrastructure::{infrastructure_api, infrastructure_spec};
#[cfg(feature = "fuzz-internals")]
pub(crate) use payload::parse_body;
use payload::{BodyLimit, ContractJson};
pub(crate) use resource::{resource_driver_api, resource_driver_spec};

use crate::config::IgnitionConfig;
use crate::metrics::Recorder;
use crate::monitor::TaskMonitor;
use crate::operations::{ApiKind, Operation};
use crate::response::Allow;
use crate::service::Calls;

/// The API of one driver: its routes and its spec.
pub(crate) struct ApiParts {
    pub(crate) routes: Route,
    pub(crate) spec_json: String,
    pub(crate) spec_yaml: String,
}

/// What an API is wired to: the task monitor (if tasks are monitored), the settings of
/// the configuration it serves under, and the metrics its requests are counted into.
pub(crate) struct ApiWiring {
    pub(crate) monitor: Option<TaskMonitor>,
    pub(crate) config: IgnitionConfig,
    pub(crate) metrics: Recorder,
}

impl ApiWiring {
    /// The calls of the service under the API: within `driver.*` time limits, tasks
    /// watched by the monitor.
    fn calls(&self) -> Calls {
        Calls::new(self.monitor.clone(), &self.config.driver)
    }

    /// `resource_driver.driver_files.*`.
    fn driver_files_limits(&self) -> crate::driver_files::DriverFilesLimits {
        let files = &self.config.resource_driver.driver_files;
        crate::driver_files::DriverFilesLimits {
            max_entries: files.max_entries,
            max_size: files.max_size.bytes(),
        }
    }

    /// `application.max_body_size` and `application.body_read_timeout`.
    fn body_limit(&self) -> BodyLimit {
        BodyLimit {
            max: self.config.application.max_body_size.bytes(),
            timeout: self.config.application.body_read_timeout,
        }
    }
}

/// An API kind's spec (both forms) and, when `routes` is given, its routes with the
/// spec at `openapi.json` / `openapi.yaml` and Swagger UI at `ui` (unless
/// `application.swagger_ui_enabled: false`).
fn parts<A: OpenApi + 'static>(
    kind: ApiKind,
    docs: OpenApiService<A, ()>,
    routes: Option<(Route, &IgnitionConfig)>,
) -> ApiParts {
    let document = document::Document::of(&docs);
    let routes = match routes {
        None => Route::new(),
        Some((routes, config)) => {
            // Full paths in one flat route: every nesting level rewrites the request's
            // URI, which costs throughput.
            let base = kind.path();
            let mut routes = routes
                .at(format!("{base}/openapi.json"), document.json_endpoint())
                .at(format!("{base}/openapi.yaml"), document.yaml_endpoint());
            if config.application.swagger_ui_enabled {
                routes = routes.nest(format!("{base}/ui"), docs.swagger_ui());
            }
            routes
        }
    };
    ApiParts {
        routes,
        spec_json: document.json,
        spec_yaml: document.yaml,
    }
}

/// The route of one operation: an [`OperationEndpoint`] that calls `call` on a clone of
/// `api`.
fn route<A, T, F, Fut>(
    api: &A,
    wiring: &ApiWiring,
    operation: Operation,
    call: F,
) -> OperationEndpoint<A, T, F>
where
    A: Clone + Send + Sync + 'static,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(A, ContractJson<T>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send,
    Fut::Output: IntoResponse,
{
    OperationEndpoint {
        api: api.clone(),
        limit: wiring.body_limit(),
        operation,
        metrics: wiring.metrics.clone(),
        call,
        body: PhantomData,
    }
}

/// One operation as a plain poem endpoint: POST only (405 with `Allow: POST` otherwise),
/// checks the content type, parses the body as poem-openapi would (the same
/// [`ContractJson`]), and calls the documented method. It checks the method itself
/// rather than through poem's `post(..)`: that router is one more boxed future and one
/// more copy of the request per request.
struct OperationEndpoint<A, T, F> {
    api: A,
    limit: BodyLimit,
    operation: Operation,
    metrics: Recorder,
    call: F,
    body: PhantomData<fn() -> T>,
}

impl<A, T, F, Fut> Endpoint for OperationEndpoint<A, T, F>
where
    A: Clone + Send + Sync,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(A, ContractJson<T>) -> Fut + Send + Sync,
    Fut: Future + Send,
    Fut::Output: IntoResponse,
{
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.method() != Method::POST {
            return Ok(Allow::method_not_allowed("POST"));
        }
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

impl<A, T, F, Fut> OperationEndpoint<A, T, F>
where
    A: Clone + Send + Sync,
    T: Type + DeserializeOwned + Send + 'static,
    F: Fn(A, ContractJson<T>) -> Fut + Send + Sync,
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
