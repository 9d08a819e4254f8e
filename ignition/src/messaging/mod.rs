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

use crate::metrics::Recorder;
use crate::models::{InfrastructureTask, LifecycleExecution, TaskStatus};
use crate::operations::ApiKind;
use crate::tracectx::TraceCtx;
use crate::BoxFuture;

pub use embedded::EmbeddedBus;
pub use task_events::TaskEvents;

/// A message on its way to a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl Envelope {
    /// A message of `payload` (JSON text) for `topic`, partitioned by `key`, without
    /// headers.
    pub fn new(topic: impl Into<String>, key: Option<String>, payload: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            key,
            payload: payload.into(),
            headers: Vec::new(),
        }
    }

    /// The message with these headers.
    pub fn with_headers(mut self, headers: Vec<(String, String)>) -> Self {
        self.headers = headers;
        self
    }
}

/// Why a message was not delivered. The sender keeps it and tries again later.
#[derive(Debug, thiserror::Error)]
#[error("delivery to topic `{topic}` failed: {reason}")]
#[non_exhaustive]
pub struct DeliveryError {
    /// The topic it was meant for.
    pub topic: String,
    /// What went wrong.
    pub reason: String,
}

impl DeliveryError {
    /// `topic` did not take the message, because of `reason`.
    pub fn new(topic: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            reason: reason.into(),
        }
    }
}

/// Hands messages to the bus (the seed's DeliveryService). A delivery returns `Ok` only
/// once the bus has the message; an error means it was not sent (the sender keeps it and
/// tries again later). Replace the built-in one with
/// [`App::delivery`](crate::App::delivery):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use ignition::BoxFuture;
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
    /// The kind whose events go to `topic`: an event of the other kind is refused.
    kind: ApiKind,
    metrics: Recorder,
}

impl MessagingService {
    /// A service posting the events of `kind` to `topic` through `delivery`.
    pub(crate) fn new(
        delivery: Arc<dyn Delivery>,
        topic: impl Into<String>,
        kind: ApiKind,
    ) -> Self {
        Self {
            delivery,
            topic: topic.into(),
            kind,
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
        self.send_own(
            ApiKind::Infrastructure,
            &task.infrastructure_id,
            task.status,
            task,
            trace_ctx,
        )
        .await
    }

    /// Posts a lifecycle execution, keyed by its request id.
    pub(crate) async fn send_lifecycle_execution(
        &self,
        execution: &LifecycleExecution,
        trace_ctx: &TraceCtx,
    ) -> Result<(), DeliveryError> {
        self.send_own(
            ApiKind::ResourceDriver,
            &execution.request_id,
            execution.status,
            execution,
            trace_ctx,
        )
        .await
    }

    /// Posts an event of `kind` as JSON, if this service carries that kind's events (the
    /// other kind's topic is not where an LM would look for it).
    async fn send_own(
        &self,
        kind: ApiKind,
        key: &str,
        status: TaskStatus,
        event: &impl serde::Serialize,
        trace_ctx: &TraceCtx,
    ) -> Result<(), DeliveryError> {
        let refused = |reason: String| DeliveryError {
            topic: self.topic.clone(),
            reason,
        };
        if kind != self.kind {
            return Err(refused(format!(
                "this app serves the {}, whose events go to '{}': an event of the {} does \
                 not belong there",
                self.kind.title(),
                self.topic,
                kind.title()
            )));
        }
        let payload = serde_json::to_string(event)
            .map_err(|err| refused(format!("cannot serialise the event: {err}")))?;
        self.send(key, status, payload, trace_ctx).await
    }
}
