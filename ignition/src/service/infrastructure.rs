//! The InfrastructureService: the four operations of a VIM driver.

use std::sync::Arc;

use super::{Calls, ServiceError};
use crate::driver::VimDriver;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};
use crate::operations::Operation;

/// The InfrastructureService of the seed.
pub(crate) struct InfrastructureService<D> {
    driver: Arc<D>,
    calls: Calls,
}

impl<D: VimDriver> InfrastructureService<D> {
    /// A service over `driver`.
    pub(crate) fn new(driver: Arc<D>, calls: Calls) -> Self {
        Self { driver, calls }
    }

    /// Forwards a create, then has its task watched.
    pub(crate) async fn create_infrastructure(
        &self,
        request: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, ServiceError> {
        let location = self.calls.location_to_watch(&request.deployment_location);
        let response = self
            .calls
            .call(Operation::Create, self.driver.create(request))
            .await?;
        tracing::debug!(infrastructure_id = %response.infrastructure_id, request_id = %response.request_id, location = location.as_ref().map(|l| tracing::field::display(&l.name)), "create accepted");
        self.calls
            .watch(
                Some(&response.infrastructure_id),
                &response.request_id,
                location,
            )
            .await?;
        Ok(response)
    }

    /// Forwards a delete, then has its task watched.
    pub(crate) async fn delete_infrastructure(
        &self,
        request: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, ServiceError> {
        let location = self.calls.location_to_watch(&request.deployment_location);
        let response = self
            .calls
            .call(Operation::Delete, self.driver.delete(request))
            .await?;
        tracing::debug!(infrastructure_id = %response.infrastructure_id, request_id = %response.request_id, location = location.as_ref().map(|l| tracing::field::display(&l.name)), "delete accepted");
        self.calls
            .watch(
                Some(&response.infrastructure_id),
                &response.request_id,
                location,
            )
            .await?;
        Ok(response)
    }

    /// Forwards a query.
    pub(crate) async fn get_infrastructure_task(
        &self,
        request: InfrastructureTaskQuery,
    ) -> Result<InfrastructureTask, ServiceError> {
        self.calls
            .call(Operation::Query, self.driver.query(request))
            .await
    }

    /// Forwards a find.
    pub(crate) async fn find_infrastructure(
        &self,
        request: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, ServiceError> {
        self.calls
            .call(Operation::Find, self.driver.find(request))
            .await
    }
}
