//! [`TaskEvents`]: the handle through which a driver sends its own task events.

use std::sync::{Arc, OnceLock};

use super::{DeliveryError, MessagingService};
use crate::models::InfrastructureTask;

/// Sends task events on behalf of a driver that reports its own task outcomes
/// (`infrastructure.async_messaging_enabled: false`, as the Python framework's k8s
/// driver does from its pod watcher). Cheap to clone; works once the app has started.
///
/// ```no_run
/// # async fn watcher(events: ignition::TaskEvents) -> Result<(), Box<dyn std::error::Error>> {
/// use ignition::prelude::*;
/// events.send(&InfrastructureTask::complete("stack-1", "req-1")).await?;
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
    pub async fn send(&self, task: &InfrastructureTask) -> Result<(), DeliveryError> {
        match self.messaging.get() {
            Some(messaging) => {
                messaging
                    .send_infrastructure_task(task, &crate::tracectx::current())
                    .await
            }
            None => Err(DeliveryError {
                topic: String::new(),
                reason: "the app has not started (or its messaging service is disabled)".into(),
            }),
        }
    }
}

impl std::fmt::Debug for TaskEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskEvents")
            .field("bound", &self.messaging.get().is_some())
            .finish()
    }
}
