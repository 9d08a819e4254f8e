//! The InfrastructureService: forwards each request to the driver and, after a create or
//! delete, asks the task monitor to watch the task it started.

use std::sync::Arc;

use crate::driver::Driver;
use crate::error::ApiError;
use crate::jobqueue::JobQueueError;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, DeploymentLocation, FindInfrastructureRequest,
    FindInfrastructureResponse, InfrastructureTask, InfrastructureTaskQuery,
};
use crate::monitor::InfrastructureTaskMonitoringService;

/// Why a request failed: the driver said no, or its task could not be watched.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError<E> {
    /// The driver's own error (mapped to its status).
    #[error(transparent)]
    Driver(E),
    /// The driver accepted the request but the task could not be handed to the monitor,
    /// so no event would follow: reported as 503 so LM does not wait forever.
    #[error("infrastructure `{infrastructure_id}` accepted the request `{request_id}`, but its task cannot be monitored: {source}")]
    Monitoring {
        /// The infrastructure whose task is not watched.
        infrastructure_id: String,
        /// The request whose task is not watched.
        request_id: String,
        /// Why the job queue refused it.
        source: JobQueueError,
    },
}

/// The InfrastructureService of the seed.
pub struct InfrastructureService<D> {
    driver: Arc<D>,
    /// `None` when `infrastructure.async_messaging_enabled`: the driver sends its own events.
    monitor: Option<InfrastructureTaskMonitoringService>,
}

impl<D: Driver> InfrastructureService<D> {
    /// A service over `driver`, watching tasks with `monitor` (if any).
    pub fn new(driver: Arc<D>, monitor: Option<InfrastructureTaskMonitoringService>) -> Self {
        Self { driver, monitor }
    }

    /// Forwards a create, then has its task watched.
    pub async fn create_infrastructure(
        &self,
        request: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, ServiceError<D::CreateError>> {
        let location = request.deployment_location.clone();
        let response = self
            .driver
            .create(request)
            .await
            .map_err(|err| driver_error("create_infrastructure", err))?;
        tracing::debug!(infrastructure_id = %response.infrastructure_id, request_id = %response.request_id, location = %location.name, "create accepted");
        self.watch(&response.infrastructure_id, &response.request_id, location)
            .await?;
        Ok(response)
    }

    /// Forwards a delete, then has its task watched.
    pub async fn delete_infrastructure(
        &self,
        request: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, ServiceError<D::DeleteError>> {
        let location = request.deployment_location.clone();
        let response = self
            .driver
            .delete(request)
            .await
            .map_err(|err| driver_error("delete_infrastructure", err))?;
        tracing::debug!(infrastructure_id = %response.infrastructure_id, request_id = %response.request_id, location = %location.name, "delete accepted");
        self.watch(&response.infrastructure_id, &response.request_id, location)
            .await?;
        Ok(response)
    }

    /// Forwards a query.
    pub async fn get_infrastructure_task(
        &self,
        request: InfrastructureTaskQuery,
    ) -> Result<InfrastructureTask, ServiceError<D::QueryError>> {
        self.driver
            .query(request)
            .await
            .map_err(|err| driver_error("get_infrastructure_task", err))
    }

    /// Forwards a find.
    pub async fn find_infrastructure(
        &self,
        request: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, ServiceError<D::FindError>> {
        self.driver
            .find(request)
            .await
            .map_err(|err| driver_error("find_infrastructure", err))
    }

    async fn watch<E>(
        &self,
        infrastructure_id: &str,
        request_id: &str,
        location: DeploymentLocation,
    ) -> Result<(), ServiceError<E>> {
        let Some(monitor) = &self.monitor else {
            return Ok(());
        };
        monitor
            .monitor_task(infrastructure_id, request_id, location)
            .await
            .map_err(|source| {
                tracing::error!(infrastructure_id, request_id, error = %source, "task cannot be monitored; no event will be sent for it");
                ServiceError::Monitoring {
                    infrastructure_id: infrastructure_id.to_string(),
                    request_id: request_id.to_string(),
                    source,
                }
            })
    }
}

/// Logs a driver's error (a 5xx is worth a warning; a 4xx is the client's business).
fn driver_error<E: ApiError>(operation: &str, err: E) -> ServiceError<E> {
    let status = err.status();
    if status >= 500 {
        tracing::warn!(operation, status, error = %err, "driver returned an error");
    } else {
        tracing::debug!(operation, status, error = %err, "driver refused the request");
    }
    ServiceError::Driver(err)
}
