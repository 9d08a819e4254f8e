//! The Resource Driver API (Python 3.x's ResourceDriverApiService) over a resource
//! driver: `POST /api/driver/lifecycle/execute` and `POST /api/driver/references/find`.

use std::collections::HashMap;
use std::sync::Arc;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::Route;
use poem_openapi::registry::{MetaApi, Registry};
use poem_openapi::{OpenApi, OpenApiService};

use super::payload::{ContractJson, OperationResponse, ResourceStatuses};
use super::{parts, route, ApiParts, ApiWiring};
use crate::driver::ResourceDriver;
use crate::models::{
    FindReferenceRequest, FindReferenceResponse, LifecycleExecuteResponse,
    LifecycleExecutionRequest,
};
use crate::operations::{ApiKind, Operation};
use crate::service::ResourceDriverService;

/// The routes and spec of the Resource Driver API over `driver`.
pub(crate) fn resource_driver_api<D: ResourceDriver>(
    driver: Arc<D>,
    wiring: ApiWiring,
) -> ApiParts {
    let service = ResourceDriverService::new(driver, wiring.calls(), wiring.driver_files_limits());
    let api = ResourceDriverApi {
        service: Some(Arc::new(service)),
    };
    let mut routes = Route::new();
    for operation in ApiKind::ResourceDriver.http_operations() {
        let Some(path) = operation.path() else {
            continue;
        };
        // One arm per operation only for the method it calls (and so its body type).
        routes = match operation {
            Operation::Execute => routes.at(
                path,
                route(&api, &wiring, operation, |a, b| async move {
                    a.execute_lifecycle(b).await
                }),
            ),
            _ => routes.at(
                path,
                route(&api, &wiring, operation, |a, b| async move {
                    a.find_reference(b).await
                }),
            ),
        };
    }
    parts(
        ApiKind::ResourceDriver,
        openapi_service(api),
        Some((routes, &wiring.config)),
    )
}

/// The spec of the Resource Driver API of a driver of type `D`, without a driver.
pub(crate) fn resource_driver_spec<D: ResourceDriver>() -> ApiParts {
    let api = ResourceDriverApi::<D> { service: None };
    parts(ApiKind::ResourceDriver, openapi_service(api), None)
}

/// The Resource Driver API as a poem-openapi service: its spec and Swagger UI.
fn openapi_service<D: ResourceDriver>(
    api: ResourceDriverApi<D>,
) -> OpenApiService<(ResourceDriverApi<D>, EventSchemas), ()> {
    OpenApiService::new((api, EventSchemas), "Resource Driver", "1.0.0")
        .description(
            "The Resource Driver API of a driver built with Ignition for Rust; the outcome of \
             each execution is a LifecycleExecution event (component `LifecycleExecution`).",
        )
        .server(ApiKind::ResourceDriver.path())
}

/// The contract's components that no operation answers with (the `LifecycleExecution`
/// event, its status): registered so that the document has every component of the
/// contract.
struct EventSchemas;

impl OpenApi for EventSchemas {
    fn meta() -> Vec<MetaApi> {
        Vec::new()
    }

    fn register(registry: &mut Registry) {
        ignition_openapi::schema::resource_driver::register_all(registry);
    }

    fn add_routes(self, _: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {}
}

/// The answer of an operation of `D`.
type Answer<T, D> = OperationResponse<T, ResourceStatuses<D>>;

/// The Resource Driver API over a driver.
struct ResourceDriverApi<D: ResourceDriver> {
    /// `None` for an API built only for its spec (never served).
    service: Option<Arc<ResourceDriverService<D>>>,
}

impl<D: ResourceDriver> Clone for ResourceDriverApi<D> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
}

impl<D: ResourceDriver> ResourceDriverApi<D> {
    fn service(&self) -> &ResourceDriverService<D> {
        self.service
            .as_deref()
            .expect("an API built for its spec only is never served")
    }
}

#[OpenApi]
impl<D: ResourceDriver> ResourceDriverApi<D> {
    /// Execute a lifecycle transition or operation
    ///
    /// Starts the transition or operation on the Resource and answers at once; the
    /// outcome arrives later as a LifecycleExecution event.
    #[oai(
        path = "/lifecycle/execute",
        method = "post",
        operation_id = "execute_lifecycle"
    )]
    async fn execute_lifecycle(
        &self,
        request: ContractJson<LifecycleExecutionRequest>,
    ) -> Answer<LifecycleExecuteResponse, D> {
        self.service().execute_lifecycle(request.0).await.into()
    }

    /// Find a reference
    ///
    /// Finds a Resource by instance name; `result` is null when nothing was found.
    #[oai(
        path = "/references/find",
        method = "post",
        operation_id = "find_reference"
    )]
    async fn find_reference(
        &self,
        request: ContractJson<FindReferenceRequest>,
    ) -> Answer<FindReferenceResponse, D> {
        self.service().find_reference(request.0).await.into()
    }
}
