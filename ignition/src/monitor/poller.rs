//! [`TaskPoller`]: what the monitor needs of a driver of one API kind — one poll of one
//! task, the event that ends a task the monitor gives up on, and what a poll's error
//! means — with the adapter of each kind.

use std::sync::Arc;

use super::MonitoringJob;
use crate::driver::{LifecycleExecutionQuery, ResourceDriver, VimDriver};
use crate::error::DriverError;
use crate::jobqueue::BoxFuture;
use crate::models::{
    FailureDetails, InfrastructureTask, InfrastructureTaskQuery, LifecycleExecution, TaskStatus,
};
use crate::operations::ApiKind;

/// A poll's answer: the task's status and, as the contract's JSON, the event it is sent
/// as once it has ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Polled {
    pub(crate) status: TaskStatus,
    /// The event's payload (an `InfrastructureTask`, a `LifecycleExecution`).
    pub(crate) event: String,
}

impl Polled {
    /// `task` as the answer of a poll; a task that does not serialise (it cannot: its
    /// fields are strings and JSON maps) is an internal error of the driver.
    fn of<T: serde::Serialize>(status: TaskStatus, task: &T) -> Result<Self, DriverError> {
        serde_json::to_string(task)
            .map(|event| Polled { status, event })
            .map_err(|err| DriverError::internal(format!("cannot serialise the task: {err}")))
    }
}

/// What an error of a poll means for the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnPollError {
    /// Poll again later, with backoff (a `retry` error).
    Retry,
    /// Stop watching the task; no event.
    Forget,
    /// End the task with a FAILED event (`INTERNAL_ERROR`, the error's message).
    Fail,
}

/// One kind's view of its driver, for the monitor.
pub(crate) trait TaskPoller: Send + Sync + 'static {
    /// The API kind, whose job type this poller's jobs have.
    fn kind(&self) -> ApiKind;

    /// Polls the task once (`get_infrastructure_task`, `get_lifecycle_execution`).
    fn poll(&self, task: &MonitoringJob) -> BoxFuture<'static, Result<Polled, DriverError>>;

    /// The FAILED event of a task the monitor ends itself (its deadline passed, or a
    /// poll's error ends it).
    fn failed(&self, task: &MonitoringJob, details: FailureDetails) -> Polled;

    /// What `err`, the error of a poll, means (the kind's error policy).
    fn on_error(&self, err: &DriverError) -> OnPollError;
}

/// The [`TaskPoller`] of a VIM driver: an error that is not retried forgets the task (as
/// the Python framework's 1.x monitor did).
pub(crate) struct VimPoller<D>(pub(crate) Arc<D>);

impl<D: VimDriver> TaskPoller for VimPoller<D> {
    fn kind(&self) -> ApiKind {
        ApiKind::Infrastructure
    }

    fn poll(&self, task: &MonitoringJob) -> BoxFuture<'static, Result<Polled, DriverError>> {
        let driver = self.0.clone();
        let query = InfrastructureTaskQuery {
            infrastructure_id: task.infrastructure_id.clone(),
            request_id: task.request_id.clone(),
            deployment_location: task.deployment_location.clone(),
        };
        Box::pin(async move {
            let state = driver.query(query).await?;
            Polled::of(state.status, &state)
        })
    }

    fn failed(&self, task: &MonitoringJob, details: FailureDetails) -> Polled {
        let failed = InfrastructureTask::failed(
            task.infrastructure_id.clone(),
            task.request_id.clone(),
            details,
        );
        failed_event(&failed)
    }

    fn on_error(&self, err: &DriverError) -> OnPollError {
        if err.retry {
            OnPollError::Retry
        } else {
            OnPollError::Forget
        }
    }
}

/// A FAILED task built by the monitor, as an event.
fn failed_event<T: serde::Serialize>(task: &T) -> Polled {
    Polled {
        status: TaskStatus::Failed,
        // The monitor's own task: ids, a failure code and a description (strings).
        event: serde_json::to_string(task).expect("a failed task serialises to JSON"),
    }
}

/// The [`TaskPoller`] of a resource driver, with the Python framework 3.x's policy: a
/// `RequestNotFound` forgets the request (another replica may have handled it); any other
/// error that is not retried ends the execution with a FAILED event.
pub(crate) struct ResourcePoller<D>(pub(crate) Arc<D>);

impl<D: ResourceDriver> TaskPoller for ResourcePoller<D> {
    fn kind(&self) -> ApiKind {
        ApiKind::ResourceDriver
    }

    fn poll(&self, task: &MonitoringJob) -> BoxFuture<'static, Result<Polled, DriverError>> {
        let driver = self.0.clone();
        let query = LifecycleExecutionQuery {
            request_id: task.request_id.clone(),
            deployment_location: task.deployment_location.clone(),
        };
        Box::pin(async move {
            let execution = driver.query(query).await?;
            Polled::of(execution.status, &execution)
        })
    }

    fn failed(&self, task: &MonitoringJob, details: FailureDetails) -> Polled {
        failed_event(&LifecycleExecution::failed(
            task.request_id.clone(),
            details,
        ))
    }

    fn on_error(&self, err: &DriverError) -> OnPollError {
        if err.retry {
            OnPollError::Retry
        } else if err.request_not_found {
            OnPollError::Forget
        } else {
            OnPollError::Fail
        }
    }
}
