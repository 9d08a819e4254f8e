//! [`TaskEvents`]: the handle through which a driver sends its own task events.

use std::sync::{Arc, OnceLock};

use super::{DeliveryError, MessagingService};
use crate::models::{InfrastructureTask, LifecycleExecution};

/// Sends task events on behalf of a driver that reports its own task outcomes
/// (`infrastructure.async_messaging_enabled: false`, or
/// `resource_driver.async_messaging_enabled: false` for a resource driver, as the Python
/// framework's k8s driver does from its pod watcher). Cheap to clone; works once the app
/// has started.
///
/// ```no_run
/// # async fn watcher(events: ignition::TaskEvents) -> Result<(), Box<dyn std::error::Error>> {
/// use ignition::prelude::*;
/// // A VIM driver's task:
/// events.send(&InfrastructureTask::complete("stack-1", "req-1")).await?;
/// // A resource driver's execution:
/// events.send_execution(&LifecycleExecution::complete("req-2")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct TaskEvents {
    messaging: Arc<OnceLock<MessagingService>>,
}

impl TaskEvents {
    pub(crate) fn bind(&self, messaging: MessagingService) {
        let _ = self.messaging.set(messaging);
    }

    /// Sends the task as an event (keyed by infrastructure id); `Ok` once delivered.
    /// Sent while serving a request, the event carries its trace context (`X-Tracectx-*`)
    /// as message headers; from a task of the driver's own, none.
    /// A resource driver's app refuses it (its events topic is the lifecycle executions').
    pub async fn send(&self, task: &InfrastructureTask) -> Result<(), DeliveryError> {
        self.messaging()?
            .send_infrastructure_task(task, &crate::tracectx::current())
            .await
    }

    /// Sends a resource driver's lifecycle execution as an event (keyed by request id);
    /// `Ok` once delivered, with the trace context as [`send`](Self::send) has it. A VIM
    /// driver's app refuses it.
    pub async fn send_execution(
        &self,
        execution: &LifecycleExecution,
    ) -> Result<(), DeliveryError> {
        self.messaging()?
            .send_lifecycle_execution(execution, &crate::tracectx::current())
            .await
    }

    fn messaging(&self) -> Result<&MessagingService, DeliveryError> {
        self.messaging.get().ok_or_else(|| DeliveryError {
            topic: String::new(),
            reason: "the app has not started (or its messaging service is disabled)".into(),
        })
    }
}

impl std::fmt::Debug for TaskEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskEvents")
            .field("bound", &self.messaging.get().is_some())
            .finish()
    }
}
