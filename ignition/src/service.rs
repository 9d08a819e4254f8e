//! The InfrastructureService: forwards each request to the driver (within its time
//! limit) and, after a create or delete, asks the task monitor to watch the task it
//! started.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::config::DriverProperties;
use crate::driver::{Driver, Operation};
use crate::error::DriverError;
use crate::jobqueue::JobQueueError;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, DeploymentLocation, FindInfrastructureRequest,
    FindInfrastructureResponse, InfrastructureTask, InfrastructureTaskQuery,
};
use crate::monitor::InfrastructureTaskMonitoringService;

/// Why a request failed: the driver said no, took too long, or its task could not be
/// watched.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServiceError {
    /// The driver's own error (mapped to its status).
    #[error(transparent)]
    Driver(DriverError),
    /// The driver call took longer than its limit; the call was cancelled. 503.
    #[error("{operation} did not answer within {} (`driver.timeouts.{}` / `driver.call_timeout`); the call was cancelled", humantime_serde::re::humantime::format_duration(*timeout), operation.name())]
    Timeout {
        /// The operation.
        operation: Operation,
        /// Its limit.
        timeout: Duration,
    },
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
pub(crate) struct InfrastructureService<D> {
    driver: Arc<D>,
    /// `None` when tasks are not monitored (the driver sends its own events).
    monitor: Option<InfrastructureTaskMonitoringService>,
    limits: DriverProperties,
}

impl<D: Driver> InfrastructureService<D> {
    /// A service over `driver`, watching tasks with `monitor` (if any), calling the
    /// driver within `limits`.
    pub(crate) fn new(
        driver: Arc<D>,
        monitor: Option<InfrastructureTaskMonitoringService>,
        limits: &DriverProperties,
    ) -> Self {
        Self {
            driver,
            monitor,
            limits: limits.clone(),
        }
    }

    /// Forwards a create, then has its task watched.
    pub(crate) async fn create_infrastructure(
        &self,
        request: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, ServiceError> {
        let location = request.deployment_location.clone();
        let response = self
            .call(Operation::Create, self.driver.create(request))
            .await?;
        tracing::debug!(infrastructure_id = %response.infrastructure_id, request_id = %response.request_id, location = %location.name, "create accepted");
        self.watch(&response.infrastructure_id, &response.request_id, location)
            .await?;
        Ok(response)
    }

    /// Forwards a delete, then has its task watched.
    pub(crate) async fn delete_infrastructure(
        &self,
        request: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, ServiceError> {
        let location = request.deployment_location.clone();
        let response = self
            .call(Operation::Delete, self.driver.delete(request))
            .await?;
        tracing::debug!(infrastructure_id = %response.infrastructure_id, request_id = %response.request_id, location = %location.name, "delete accepted");
        self.watch(&response.infrastructure_id, &response.request_id, location)
            .await?;
        Ok(response)
    }

    /// Forwards a query.
    pub(crate) async fn get_infrastructure_task(
        &self,
        request: InfrastructureTaskQuery,
    ) -> Result<InfrastructureTask, ServiceError> {
        self.call(Operation::Query, self.driver.query(request))
            .await
    }

    /// Forwards a find.
    pub(crate) async fn find_infrastructure(
        &self,
        request: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, ServiceError> {
        self.call(Operation::Find, self.driver.find(request)).await
    }

    /// Runs one driver call within its limit (dropping, so cancelling, it past that).
    async fn call<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, DriverError>>,
    ) -> Result<T, ServiceError> {
        let timeout = self.limits.timeout_of(operation.name());
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(driver_error(operation, err)),
            Err(_) => {
                let err = ServiceError::Timeout { operation, timeout };
                tracing::warn!(operation = operation.name(), error = %err, "driver call timed out; answered 503");
                Err(err)
            }
        }
    }

    async fn watch(
        &self,
        infrastructure_id: &str,
        request_id: &str,
        location: DeploymentLocation,
    ) -> Result<(), ServiceError> {
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
fn driver_error(operation: Operation, err: DriverError) -> ServiceError {
    if err.status >= 500 {
        tracing::warn!(operation = operation.method(), status = err.status, error = %err, "driver returned an error");
    } else {
        tracing::debug!(operation = operation.method(), status = err.status, error = %err, "driver refused the request");
    }
    ServiceError::Driver(err)
}
