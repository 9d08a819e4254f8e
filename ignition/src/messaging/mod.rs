//! Task events: the messaging service (the seed's InfrastructureMessagingService, Python
//! 3.x's LifecycleMessagingService) and the postal/delivery layer below it.
//!
//! The messaging service posts each task event — an `InfrastructureTask` or a
//! `LifecycleExecution`, as the contract's JSON — keyed by its task (so one task's events
//! stay in order), to its API kind's events topic
//! (`messaging.topics.infrastructure_task_events.name`,
//! `messaging.topics.lifecycle_execution_events.name`) through a [`Delivery`].
//! Deliveries: [`EmbeddedBus`] (in process, one JSON line per event on stdout) and, with
//! `messaging.connection_address`, Kafka.

mod embedded;
mod task_events;

use std::sync::Arc;

use crate::jobqueue::BoxFuture;
use crate::metrics::Recorder;
use crate::models::{InfrastructureTask, TaskStatus};
use crate::tracectx::TraceCtx;

pub use embedded::EmbeddedBus;
pub use task_events::TaskEvents;

/// A message on its way to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Destination topic.
    pub topic: String,
    /// Partitioning key: messages with one key stay in order.
    pub key: Option<String>,
    /// The message, as JSON text.
    pub payload: String,
    /// Message headers, e.g. the trace context (`X-Tracectx-TransactionId`, ...) of the
    /// request whose task the event reports. Kafka sends them as record headers; the
    /// embedded bus leaves them out of its stdout lines.
    pub headers: Vec<(String, String)>,
}

/// Why a message was not delivered. The sender keeps it and tries again later.
#[derive(Debug, thiserror::Error)]
#[error("delivery to topic `{topic}` failed: {reason}")]
pub struct DeliveryError {
    /// The topic it was meant for.
    pub topic: String,
    /// What went wrong.
    pub reason: String,
}

/// Hands messages to the bus (the seed's DeliveryService). A delivery returns `Ok` only
/// once the bus has the message; an error means it was not sent (the sender keeps it and
/// tries again later). Replace the built-in one with
/// [`App::delivery`](crate::App::delivery):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use ignition::jobqueue::BoxFuture;
/// use ignition::messaging::{Delivery, DeliveryError, Envelope};
///
/// /// Keeps every message in memory (a real one would write to a bus).
/// #[derive(Clone, Default)]
/// struct Recorder(Arc<Mutex<Vec<Envelope>>>);
///
/// impl Delivery for Recorder {
///     fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
///         Box::pin(async move {
///             self.0.lock().unwrap().push(envelope);
///             Ok(())
///         })
///     }
/// }
///
/// let _app = ignition::App::new("Recording Driver").delivery(Recorder::default());
/// ```
pub trait Delivery: Send + Sync + 'static {
    /// Delivers one message.
    fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>>;

    /// Waits until every delivery in flight is confirmed (at shutdown).
    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Sends the task events of one API kind to its topic.
#[derive(Clone)]
pub(crate) struct MessagingService {
    delivery: Arc<dyn Delivery>,
    topic: String,
    metrics: Recorder,
}

impl MessagingService {
    /// A service posting to `topic` through `delivery`.
    pub(crate) fn new(delivery: Arc<dyn Delivery>, topic: impl Into<String>) -> Self {
        Self {
            delivery,
            topic: topic.into(),
            metrics: Recorder::default(),
        }
    }

    /// Counts each event delivered (by status) and each refused into `metrics`.
    pub(crate) fn with_metrics(mut self, metrics: Recorder) -> Self {
        self.metrics = metrics;
        self
    }

    /// Posts one event of a task whose status is `status` (its `payload`, the contract's
    /// JSON), keyed by `key`, with the trace context as message headers; `Ok` once
    /// delivered.
    pub(crate) async fn send(
        &self,
        key: &str,
        status: TaskStatus,
        payload: String,
        trace_ctx: &TraceCtx,
    ) -> Result<(), DeliveryError> {
        let delivered = self
            .delivery
            .deliver(Envelope {
                topic: self.topic.clone(),
                key: Some(key.to_string()),
                payload,
                headers: trace_ctx.message_headers(),
            })
            .await;
        match &delivered {
            Ok(()) => self.metrics.event_delivered(status),
            Err(_) => self.metrics.delivery_failed(),
        }
        delivered
    }

    /// Posts an infrastructure task, keyed by its infrastructure id.
    pub(crate) async fn send_infrastructure_task(
        &self,
        task: &InfrastructureTask,
        trace_ctx: &TraceCtx,
    ) -> Result<(), DeliveryError> {
        let payload = serde_json::to_string(task).map_err(|err| DeliveryError {
            topic: self.topic.clone(),
            reason: format!("cannot serialise the task: {err}"),
        })?;
        self.send(&task.infrastructure_id, task.status, payload, trace_ctx)
            .await
    }
}
