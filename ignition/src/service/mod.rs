//! The service layer of each API kind (the seed's InfrastructureService, Python 3.x's
//! ResourceDriverService): forwards each request to the driver within its time limit
//! and, after an operation that starts a task, asks the task monitor to watch it.
//!
//! [`Calls`] is what both kinds share; each kind's service only says which driver method
//! an operation calls and which task it starts.

mod infrastructure;
mod resource;

use std::future::Future;
use std::time::Duration;

pub(crate) use infrastructure::InfrastructureService;
pub(crate) use resource::ResourceDriverService;

use crate::config::DriverProperties;
use crate::error::DriverError;
use crate::jobqueue::JobQueueError;
use crate::models::DeploymentLocation;
use crate::monitor::TaskMonitor;
use crate::operations::Operation;

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
    #[error("the request `{request_id}` was accepted{}, but its task cannot be monitored: {source}", infrastructure_id.as_deref().map(|id| format!(" (infrastructure `{id}`)")).unwrap_or_default())]
    Monitoring {
        /// The infrastructure whose task is not watched (none for an execution).
        infrastructure_id: Option<String>,
        /// The request whose task is not watched.
        request_id: String,
        /// Why the job queue refused it.
        source: JobQueueError,
    },
}

/// What every service does around its driver: calls within time limits, and tasks
/// handed to the monitor.
pub(crate) struct Calls {
    /// `None` when tasks are not monitored (the driver sends its own events).
    monitor: Option<TaskMonitor>,
    limits: DriverProperties,
}

impl Calls {
    /// Calls within `limits`, watching tasks with `monitor` (if any).
    pub(crate) fn new(monitor: Option<TaskMonitor>, limits: &DriverProperties) -> Self {
        Self {
            monitor,
            limits: limits.clone(),
        }
    }

    /// Runs one driver call within its limit (dropping, so cancelling, it past that).
    pub(crate) async fn call<T>(
        &self,
        operation: Operation,
        call: impl Future<Output = Result<T, DriverError>>,
    ) -> Result<T, ServiceError> {
        let timeout = self.limits.timeout_of(operation.name());
        match crate::util::within(timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(driver_error(operation, err)),
            Err(_) => {
                let err = ServiceError::Timeout { operation, timeout };
                tracing::warn!(operation = operation.name(), error = %err, "driver call timed out; answered 503");
                Err(err)
            }
        }
    }

    /// A copy of `location` for [`Calls::watch`] when tasks are monitored (the request,
    /// and its location, go to the driver); none to make when they are not.
    pub(crate) fn location_to_watch(
        &self,
        location: &DeploymentLocation,
    ) -> Option<DeploymentLocation> {
        self.monitor.as_ref().map(|_| location.clone())
    }

    /// Has the monitor watch the task the request started at `location` (when tasks are
    /// monitored: see [`Calls::location_to_watch`]).
    pub(crate) async fn watch(
        &self,
        infrastructure_id: Option<&str>,
        request_id: &str,
        location: Option<DeploymentLocation>,
    ) -> Result<(), ServiceError> {
        let (Some(monitor), Some(location)) = (&self.monitor, location) else {
            return Ok(());
        };
        monitor
            .monitor_task(infrastructure_id, request_id, location)
            .await
            .map_err(|source| {
                tracing::error!(infrastructure_id, request_id, error = %source, "task cannot be monitored; no event will be sent for it");
                ServiceError::Monitoring {
                    infrastructure_id: infrastructure_id.map(str::to_string),
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
