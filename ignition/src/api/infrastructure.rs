//! The Infrastructure API (the seed's InfrastructureApiService) over a VIM driver:
//! `POST /api/infrastructure/{create,query,delete,find}`.

use std::sync::Arc;

use poem::Route;
use poem_openapi::{OpenApi, OpenApiService};

use super::payload::{ContractJson, OperationResponse, VimStatuses};
use super::{parts, route, ApiParts, ApiWiring};
use crate::driver::VimDriver;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};
use crate::operations::{ApiKind, Operation};
use crate::service::InfrastructureService;

/// The routes and spec of the Infrastructure API over `driver`.
pub(crate) fn infrastructure_api<D: VimDriver>(driver: Arc<D>, wiring: ApiWiring) -> ApiParts {
    let service = InfrastructureService::new(driver, wiring.calls());
    let api = InfrastructureApi {
        service: Some(Arc::new(service)),
    };
    let mut routes = Route::new();
    for operation in ApiKind::Infrastructure.http_operations() {
        let Some(path) = operation.path() else {
            continue;
        };
        // One arm per operation only for the method it calls (and so its body type).
        routes = match operation {
            Operation::Create => routes.at(
                path,
                route(
                    &api,
                    &wiring,
                    operation,
                    |a, b| async move { a.create(b).await },
                ),
            ),
            Operation::Query => routes.at(
                path,
                route(
                    &api,
                    &wiring,
                    operation,
                    |a, b| async move { a.query(b).await },
                ),
            ),
            Operation::Delete => routes.at(
                path,
                route(
                    &api,
                    &wiring,
                    operation,
                    |a, b| async move { a.delete(b).await },
                ),
            ),
            _ => routes.at(
                path,
                route(
                    &api,
                    &wiring,
                    operation,
                    |a, b| async move { a.find(b).await },
                ),
            ),
        };
    }
    parts(
        ApiKind::Infrastructure,
        openapi_service(api),
        Some((routes, &wiring.config)),
    )
}

/// The spec of the Infrastructure API of a driver of type `D`, without a driver.
pub(crate) fn infrastructure_spec<D: VimDriver>() -> ApiParts {
    let api = InfrastructureApi::<D> { service: None };
    parts(ApiKind::Infrastructure, openapi_service(api), None)
}

/// The Infrastructure API as a poem-openapi service: its spec and Swagger UI.
fn openapi_service<D: VimDriver>(
    api: InfrastructureApi<D>,
) -> OpenApiService<InfrastructureApi<D>, ()> {
    OpenApiService::new(api, "Infrastructure", "1.0.0")
        .description("The Infrastructure API of a VIM driver built with Ignition for Rust.")
        .server(ApiKind::Infrastructure.path())
}

/// The answer of an operation of `D`.
type Answer<T, D> = OperationResponse<T, VimStatuses<D>>;

/// The Infrastructure API over a driver.
struct InfrastructureApi<D: VimDriver> {
    /// `None` for an API built only for its spec (never served).
    service: Option<Arc<InfrastructureService<D>>>,
}

impl<D: VimDriver> Clone for InfrastructureApi<D> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
        }
    }
}

impl<D: VimDriver> InfrastructureApi<D> {
    fn service(&self) -> &InfrastructureService<D> {
        self.service
            .as_deref()
            .expect("an API built for its spec only is never served")
    }
}

#[OpenApi]
impl<D: VimDriver> InfrastructureApi<D> {
    /// Create infrastructure
    ///
    /// Starts creating the infrastructure and answers at once; the outcome arrives later
    /// as an InfrastructureTask event.
    #[oai(path = "/create", method = "post", operation_id = "create")]
    async fn create(
        &self,
        request: ContractJson<CreateInfrastructureRequest>,
    ) -> Answer<CreateInfrastructureResponse, D> {
        self.service().create_infrastructure(request.0).await.into()
    }

    /// Query an infrastructure task
    ///
    /// Reports the current state of a create or delete task.
    #[oai(path = "/query", method = "post", operation_id = "query")]
    async fn query(
        &self,
        request: ContractJson<InfrastructureTaskQuery>,
    ) -> Answer<InfrastructureTask, D> {
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
    ) -> Answer<DeleteInfrastructureResponse, D> {
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
    ) -> Answer<FindInfrastructureResponse, D> {
        self.service().find_infrastructure(request.0).await.into()
    }
}
