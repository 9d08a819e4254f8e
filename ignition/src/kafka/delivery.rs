//! The postal/delivery service on Kafka: an idempotent producer whose sends count only
//! once the broker confirmed them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use tokio::sync::{oneshot, Notify};

use super::{KafkaConfig, KafkaError};
use crate::jobqueue::BoxFuture;
use crate::messaging::{Delivery, DeliveryError, Envelope};

/// Producer settings Ignition needs; `messaging.config` may override them.
pub(crate) const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("acks", "all"),
    // Never give up on a message: an outage delays events, it does not drop them.
    ("message.timeout.ms", "0"),
    // Send at once: events and re-polls are latency-bound, and under load librdkafka
    // still batches what queues up while a request is in flight.
    ("linger.ms", "0"),
];

/// How long one call of the poll thread waits for delivery reports. rdkafka's
/// `BaseProducer::poll` spins through the last partial millisecond of its window (the
/// remaining time is truncated to whole ms), so a long window keeps that spin to ≤ 0.1 %
/// of a core; reports are still handled the moment they arrive. rdkafka's own
/// `FutureProducer` polls in 100 ms windows: ~1 % of a core while idle.
const POLL_WINDOW: Duration = Duration::from_secs(1);

/// While librdkafka's buffer is full, a send waits for a delivery report (room) or this
/// long, whichever comes first, before it tries again.
const QUEUE_FULL_RETRY: Duration = Duration::from_millis(100);

/// Routes each delivery report to the send waiting for it.
#[derive(Default)]
struct Reports {
    /// Signalled on every report: a message left librdkafka's buffer.
    room: Notify,
}

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = Box<oneshot::Sender<Result<(), RdKafkaError>>>;

    fn delivery(&self, result: &DeliveryResult<'_>, waiting: Self::DeliveryOpaque) {
        // The send may have been given up (its future dropped): nothing to tell then.
        let _ = waiting.send(result.as_ref().map(|_| ()).map_err(|(err, _)| err.clone()));
        self.room.notify_waiters();
    }
}

/// The Kafka [`Delivery`].
pub struct KafkaDelivery {
    producer: Arc<BaseProducer<Reports>>,
    /// Tells the poll thread to end (when this is dropped).
    stop: Arc<AtomicBool>,
}

impl KafkaDelivery {
    /// A producer for `kafka`, with a thread that hands delivery reports to their sends.
    pub fn new(kafka: &KafkaConfig) -> Result<Self, KafkaError> {
        let producer: BaseProducer<Reports> = kafka
            .client(PRODUCER_DEFAULTS)
            .create_with_context(Reports::default())
            .map_err(|err| kafka.refused("producer", err))?;
        let producer = Arc::new(producer);
        let stop = Arc::new(AtomicBool::new(false));
        let (polled, stopped) = (producer.clone(), stop.clone());
        std::thread::Builder::new()
            .name("ignition-kafka-reports".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    polled.poll(POLL_WINDOW);
                }
            })
            .map_err(KafkaError::PollThread)?;
        Ok(Self { producer, stop })
    }

    /// Sends one message and waits for the broker's confirmation (as long as it takes).
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
    ) -> Result<(), DeliveryError> {
        self.send_with_headers(topic, key, payload, &[]).await
    }

    /// [`KafkaDelivery::send`] with record headers (name, value).
    pub async fn send_with_headers(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> Result<(), DeliveryError> {
        let failed = |reason: String| DeliveryError {
            topic: topic.to_string(),
            reason,
        };
        let (report, confirmed) = oneshot::channel();
        let mut record = BaseRecord::with_opaque_to(topic, Box::new(report)).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        if !headers.is_empty() {
            let mut owned = OwnedHeaders::new_with_capacity(headers.len());
            for (name, value) in headers {
                owned = owned.insert(Header {
                    key: name,
                    value: Some(value.as_bytes()),
                });
            }
            record = record.headers(owned);
        }
        // When librdkafka's buffer is full, wait for room (a report), then try again. A
        // report that comes before the wait starts costs at most one QUEUE_FULL_RETRY.
        while let Err((err, back)) = self.producer.send(record) {
            match err {
                RdKafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => {
                    record = back;
                    let room = self.producer.context().room.notified();
                    let _ = tokio::time::timeout(QUEUE_FULL_RETRY, room).await;
                }
                err => return Err(failed(err.to_string())),
            }
        }
        match confirmed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(failed(err.to_string())),
            Err(_) => Err(failed(
                "the producer was closed before the broker confirmed".into(),
            )),
        }
    }

    /// Messages handed to the producer and not yet confirmed (or refused) by the broker,
    /// delivery reports not yet handled included.
    pub(crate) fn in_flight(&self) -> i64 {
        i64::from(self.producer.in_flight_count())
    }

    /// Whether the broker answers a metadata request within `timeout`.
    pub(crate) async fn broker_reachable(&self, timeout: Duration) -> Result<(), String> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(None, timeout)
                .map(|_| ())
                .map_err(|err| format!("Kafka unreachable: {err}"))
        })
        .await
        .unwrap_or_else(|err| Err(err.to_string()))
    }

    /// Waits up to `timeout` for every message in flight to be confirmed.
    pub(crate) async fn flush_within(&self, timeout: Duration) {
        let producer = self.producer.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            let result = producer.flush(timeout);
            (result, producer.in_flight_count())
        })
        .await;
        match flushed {
            Ok((Ok(()), _)) => tracing::info!("Kafka producer flushed"),
            Ok((Err(err), left)) => {
                tracing::error!(error = %err, messages_left = left, "Kafka producer not flushed; messages still in flight are lost with this process")
            }
            Err(err) => tracing::error!(error = %err, "Kafka producer flush failed"),
        }
    }
}

impl std::fmt::Debug for KafkaDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaDelivery").finish_non_exhaustive()
    }
}

impl Drop for KafkaDelivery {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Delivery for KafkaDelivery {
    fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
        Box::pin(async move {
            self.send_with_headers(
                &envelope.topic,
                envelope.key.as_deref(),
                envelope.payload.as_bytes(),
                &envelope.headers,
            )
            .await
        })
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.flush_within(Duration::from_secs(30)))
    }
}
