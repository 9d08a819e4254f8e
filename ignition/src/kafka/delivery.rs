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

use super::spool::{Message, Spool, SpoolError, Ticket};
use super::{KafkaConfig, KafkaError};
use crate::backoff::backoff;
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

/// The Kafka [`Delivery`]. With a spool (`messaging.spool_dir`), each message is
/// written there (fsync'ed) before it is handed to the producer, and removed once the
/// broker confirmed it.
pub struct KafkaDelivery {
    producer: Arc<BaseProducer<Reports>>,
    /// Tells the poll thread to end (when this is dropped).
    stop: Arc<AtomicBool>,
    spool: Option<Arc<Spool>>,
    /// Cancelled at shutdown (flush): spooled messages still failing stop being retried
    /// (they stay in the spool for the next start).
    closing: tokio_util::sync::CancellationToken,
}

impl KafkaDelivery {
    /// A producer for `kafka`, with a thread that hands delivery reports to their sends.
    pub fn new(kafka: &KafkaConfig) -> Result<Self, KafkaError> {
        Self::with_spool(kafka, None)
    }

    /// [`KafkaDelivery::new`], spooling what is not yet confirmed in `spool`.
    pub(crate) fn with_spool(
        kafka: &KafkaConfig,
        spool: Option<Arc<Spool>>,
    ) -> Result<Self, KafkaError> {
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
        Ok(Self {
            producer,
            stop,
            spool,
            closing: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// Whether messages are spooled.
    pub(crate) fn spooled(&self) -> bool {
        self.spool.is_some()
    }

    /// Sends one message and waits for the broker's confirmation (as long as it takes).
    /// With a spool, the message is in it (fsync'ed) until then. When the spool is full
    /// or cannot be written, the message is sent unspooled (re-queues and events are
    /// also kept by the job queue's commits: their job runs again after a crash).
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
    ) -> Result<(), DeliveryError> {
        self.send_with_headers(topic, key, payload, &[]).await
    }

    /// [`KafkaDelivery::send`] with record headers (name, value), e.g. a task's trace
    /// context. The spool keeps them with the message: one sent again after a crash
    /// carries them too.
    pub async fn send_with_headers(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> Result<(), DeliveryError> {
        let ticket = match &self.spool {
            Some(spool) => match spool
                .append_with_headers(topic, key, payload, headers)
                .await
            {
                Ok(ticket) => Some(ticket),
                Err(err) => {
                    tracing::warn!(error = %err, topic, "message sent without spooling it");
                    None
                }
            },
            None => None,
        };
        let sent = self.produce(topic, key, payload, headers).await;
        // Confirmed, or failed: the caller decides whether to send it again (a new
        // message), so this one leaves the spool either way.
        if let (Some(spool), Some(ticket)) = (&self.spool, ticket) {
            spool.remove(ticket);
        }
        sent
    }

    /// Writes a message to the spool (fsync'ed); `Ok(None)` when there is no spool. Hand
    /// the ticket to [`KafkaDelivery::send_spooled`]. Refused when the spool is full.
    pub(crate) async fn spool(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
    ) -> Result<Option<Ticket>, SpoolError> {
        match &self.spool {
            Some(spool) => spool.append(topic, key, payload).await.map(Some),
            None => Ok(None),
        }
    }

    /// Sends a spooled message until the broker confirms it (then removes it from the
    /// spool), retrying failures with a growing delay, or until `stop` (it stays in the
    /// spool and is sent again at the next start).
    pub(crate) async fn send_spooled(&self, ticket: Ticket, message: &Message) -> bool {
        let mut failures = 0u32;
        loop {
            let sent = self
                .produce(
                    &message.topic,
                    message.key.as_deref(),
                    &message.payload,
                    &message.headers,
                )
                .await;
            match sent {
                Ok(()) => {
                    if let Some(spool) = &self.spool {
                        spool.remove(ticket);
                    }
                    return true;
                }
                Err(err) => {
                    failures += 1;
                    let wait = backoff(
                        Duration::from_millis(200),
                        failures,
                        Duration::from_secs(10),
                    );
                    tracing::error!(error = %err, ?wait, "a spooled message was not delivered; trying again");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.closing.cancelled() => return false,
                    }
                }
            }
        }
    }

    /// Hands the messages left in the spool by an earlier process to the producer, in
    /// their order, before anything else is sent; each is removed once confirmed (in
    /// the background).
    pub(crate) async fn resend(self: &Arc<Self>, left: Vec<(Ticket, Message)>) {
        let Some(spool) = &self.spool else {
            return;
        };
        if left.is_empty() {
            return;
        }
        let count = left.len();
        tracing::info!(messages = count, dir = %spool.dir().display(), "sending again what the spool holds from an earlier run");
        let confirmed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for (ticket, message) in left {
            let handed = self
                .enqueue(
                    &message.topic,
                    message.key.as_deref(),
                    &message.payload,
                    &message.headers,
                )
                .await;
            let (delivery, confirmed) = (self.clone(), confirmed.clone());
            tokio::spawn(async move {
                let first = match handed {
                    Ok(report) => Self::confirmation(report, &message.topic).await,
                    Err(err) => Err(err),
                };
                let done = match first {
                    Ok(()) => {
                        if let Some(spool) = &delivery.spool {
                            spool.remove(ticket);
                        }
                        true
                    }
                    Err(_) => delivery.send_spooled(ticket, &message).await,
                };
                if done && confirmed.fetch_add(1, Ordering::Relaxed) + 1 == count {
                    tracing::info!(
                        messages = count,
                        "what the spool held from an earlier run is confirmed by the broker"
                    );
                }
            });
        }
    }

    /// Hands one message to the producer and waits for the broker's confirmation.
    async fn produce(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> Result<(), DeliveryError> {
        let report = self.enqueue(topic, key, payload, headers).await?;
        Self::confirmation(report, topic).await
    }

    /// Hands one message to the producer (waiting for room in its buffer); the receiver
    /// gets the broker's answer.
    async fn enqueue(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
        headers: &[(String, String)],
    ) -> Result<oneshot::Receiver<Result<(), RdKafkaError>>, DeliveryError> {
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
        Ok(confirmed)
    }

    /// The broker's answer about one message.
    async fn confirmation(
        confirmed: oneshot::Receiver<Result<(), RdKafkaError>>,
        topic: &str,
    ) -> Result<(), DeliveryError> {
        let failed = |reason: String| DeliveryError {
            topic: topic.to_string(),
            reason,
        };
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
        self.closing.cancel();
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
