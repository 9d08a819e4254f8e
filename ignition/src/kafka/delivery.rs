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
use tokio_util::sync::CancellationToken;

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
/// remaining time is truncated to whole ms), so a long window keeps that spin negligible;
/// reports are still handled the moment they arrive. (rdkafka's own `FutureProducer`
/// polls in 100 ms windows; what each costs idle: docs/BENCHMARKS.md, "idle CPU < 1 % on
/// Kafka".)
const POLL_WINDOW: Duration = Duration::from_secs(1);

/// The first wait between two attempts of [`KafkaDelivery::send_until_confirmed`]; it
/// doubles with each failure up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(200);
/// The longest wait between two attempts.
const RETRY_MAX: Duration = Duration::from_secs(10);

/// What a full spool means for a message: the spool's one policy, the same when the spool
/// cannot take a message because its disk refused the write. Each kind of message has its
/// constant here, with the reason; the job producer and the event delivery use these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnFull {
    /// The message is refused; its sender says so.
    Refuse,
    /// The message is sent without the spool (with a WARN naming the reason).
    SendUnspooled,
}

impl OnFull {
    /// A new job (a create's monitoring job) is refused: until the broker has it, the
    /// spool is its only keeper, so the create answers 503 naming the bound and nothing is
    /// dropped silently; the client may try again.
    pub(crate) const NEW_JOB: Self = Self::Refuse;
    /// The re-queue of a job that runs again is sent unspooled: the consumed job's offset
    /// is committed only once its re-queue is confirmed, so a crash runs the job again.
    /// Refusing it would end the monitoring of a task the client was promised.
    pub(crate) const REQUEUE: Self = Self::SendUnspooled;
    /// A task event is sent unspooled: its job's offset is committed only once the event
    /// is confirmed, so a crash polls the task again and sends the event again. Refused,
    /// it would be kept no better: the monitor would poll the task again to send it again,
    /// adding polls while the broker is away.
    pub(crate) const EVENT: Self = Self::SendUnspooled;
}

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
    /// Cancelled at shutdown (flush): messages still failing stop being retried (those
    /// spooled stay in the spool for the next start).
    closing: CancellationToken,
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
            closing: CancellationToken::new(),
        })
    }

    /// Whether messages are spooled.
    pub(crate) fn spooled(&self) -> bool {
        self.spool.is_some()
    }

    /// Sends one message and waits for the broker's confirmation (as long as it takes).
    /// With a spool, the message is in it (fsync'ed) until then; a spool that cannot take
    /// it is handled as [`OnFull::EVENT`] says: the message is sent unspooled.
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
        let message = Message {
            topic: topic.to_string(),
            key: key.map(str::to_string),
            payload: payload.to_vec(),
            headers: headers.to_vec(),
        };
        self.send_message(&message, OnFull::EVENT).await
    }

    /// Sends `message` once and waits for the broker's answer; spooled (as `on_full`
    /// says) while it is in flight. Confirmed or failed, it then leaves the spool: on a
    /// failure the caller decides whether to send it again (as a new message).
    pub(crate) async fn send_message(
        &self,
        message: &Message,
        on_full: OnFull,
    ) -> Result<(), DeliveryError> {
        let ticket = self
            .spool(message, on_full)
            .await
            .map_err(|err| DeliveryError {
                topic: message.topic.clone(),
                reason: err.to_string(),
            })?;
        let sent = self.produce(message).await;
        if let Some(ticket) = ticket {
            self.unspool(ticket);
        }
        sent
    }

    /// Writes `message` to the spool (fsync'ed) and returns its ticket; `None` when there
    /// is no spool, or when the spool did not take it and `on_full` says to send it
    /// unspooled. The one place where [`OnFull`] is applied.
    pub(crate) async fn spool(
        &self,
        message: &Message,
        on_full: OnFull,
    ) -> Result<Option<Ticket>, SpoolError> {
        let Some(spool) = &self.spool else {
            return Ok(None);
        };
        match (spool.append(message).await, on_full) {
            (Ok(ticket), _) => Ok(Some(ticket)),
            (Err(err), OnFull::Refuse) => Err(err),
            (Err(err), OnFull::SendUnspooled) => {
                tracing::warn!(error = %err, topic = %message.topic, "message sent without spooling it");
                Ok(None)
            }
        }
    }

    /// Takes a message out of the spool without its confirmation: its sender gave it up.
    pub(crate) fn unspool(&self, ticket: Ticket) {
        if let Some(spool) = &self.spool {
            spool.remove(ticket);
        }
    }

    /// Sends `message` until the broker confirms it, then takes it out of the spool
    /// (`ticket`, if spooled); failures are retried with a growing delay. Gives up when
    /// this delivery shuts down or `stop` (when given) is cancelled, and returns the
    /// ticket: dropped, the message stays in the spool and is sent again at the next start;
    /// given to [`KafkaDelivery::unspool`], it is not. The one retry loop of the producer.
    pub(crate) async fn send_until_confirmed(
        &self,
        message: &Message,
        ticket: Option<Ticket>,
        stop: Option<&CancellationToken>,
    ) -> Result<(), Option<Ticket>> {
        let mut failures = 0u32;
        loop {
            let err = match self.produce(message).await {
                Ok(()) => {
                    if let Some(ticket) = ticket {
                        self.unspool(ticket);
                    }
                    return Ok(());
                }
                Err(err) => err,
            };
            failures += 1;
            let wait = backoff(RETRY_FIRST, failures, RETRY_MAX);
            tracing::error!(error = %err, key = message.key.as_deref().unwrap_or_default(), ?wait, "a message was not delivered; trying again");
            let stopped = async {
                match stop {
                    Some(stop) => stop.cancelled().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.closing.cancelled() => return Err(ticket),
                () = stopped => return Err(ticket),
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
            let handed = self.enqueue(&message).await;
            let (delivery, confirmed) = (self.clone(), confirmed.clone());
            tokio::spawn(async move {
                let first = match handed {
                    Ok(report) => Self::confirmation(report, &message.topic).await,
                    Err(err) => Err(err),
                };
                let done = match first {
                    Ok(()) => {
                        delivery.unspool(ticket);
                        true
                    }
                    // Given up at shutdown, it stays in the spool for the next start.
                    Err(_) => delivery
                        .send_until_confirmed(&message, Some(ticket), None)
                        .await
                        .is_ok(),
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
    async fn produce(&self, message: &Message) -> Result<(), DeliveryError> {
        let report = self.enqueue(message).await?;
        Self::confirmation(report, &message.topic).await
    }

    /// Hands one message to the producer (waiting for room in its buffer); the receiver
    /// gets the broker's answer.
    async fn enqueue(
        &self,
        message: &Message,
    ) -> Result<oneshot::Receiver<Result<(), RdKafkaError>>, DeliveryError> {
        let Message {
            topic,
            key,
            payload,
            headers,
        } = message;
        let failed = |reason: String| DeliveryError {
            topic: topic.clone(),
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

    /// Whether the spool takes more messages: `None` without a spool.
    pub(crate) fn spool_room(&self) -> Option<Result<(), String>> {
        self.spool.as_ref().map(|spool| spool.room())
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
            let message = Message {
                topic: envelope.topic,
                key: envelope.key,
                payload: envelope.payload.into_bytes(),
                headers: envelope.headers,
            };
            self.send_message(&message, OnFull::EVENT).await
        })
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.flush_within(Duration::from_secs(30)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::spool::SpoolLimits;
    use super::*;

    /// A delivery with a spool of its own, against an address nothing listens on (the
    /// producer is created without a broker), with `settings` for librdkafka.
    fn spooled_delivery(
        name: &str,
        max_records: usize,
        settings: &[(&str, &str)],
    ) -> (KafkaDelivery, Arc<Spool>, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "ignition-delivery-test-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let limits = SpoolLimits {
            max_bytes: 1 << 30,
            max_records,
        };
        let (spool, _) = Spool::open(&dir, limits).unwrap();
        let spool = Arc::new(spool);
        let kafka = KafkaConfig {
            bootstrap: "127.0.0.1:1".into(),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let delivery = KafkaDelivery::with_spool(&kafka, Some(spool.clone())).unwrap();
        (delivery, spool, dir)
    }

    fn message(payload: &[u8]) -> Message {
        Message {
            topic: "jobs".into(),
            key: Some("k".into()),
            payload: payload.to_vec(),
            headers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_full_spool_refuses_new_jobs_and_lets_requeues_and_events_through_unspooled() {
        let (delivery, spool, dir) = spooled_delivery("on-full", 1, &[]);
        let first = delivery
            .spool(&message(b"first"), OnFull::NEW_JOB)
            .await
            .unwrap()
            .expect("spooled");
        let err = delivery
            .spool(&message(b"a new job"), OnFull::NEW_JOB)
            .await
            .expect_err("a new job is refused");
        assert!(matches!(err, SpoolError::Full { .. }), "{err}");
        assert!(
            err.to_string().contains("`messaging.spool_max_records`: 1"),
            "{err}"
        );
        for kind in [OnFull::REQUEUE, OnFull::EVENT] {
            let ticket = delivery
                .spool(&message(b"more"), kind)
                .await
                .expect("not refused: sent unspooled");
            assert!(ticket.is_none(), "{kind:?}");
        }
        assert_eq!(spool.pending(), 1);

        delivery.unspool(first);
        assert_eq!(spool.pending(), 0);
        for kind in [OnFull::NEW_JOB, OnFull::REQUEUE, OnFull::EVENT] {
            let ticket = delivery
                .spool(&message(b"room again"), kind)
                .await
                .unwrap()
                .expect("spooled while there is room");
            assert_eq!(spool.pending(), 1);
            delivery.unspool(ticket);
        }
        drop(delivery);
        drop(spool);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn the_retry_loop_gives_up_at_stop_or_shutdown_and_hands_the_ticket_back() {
        // Larger than `message.max.bytes`: every attempt fails at once, in librdkafka.
        let (delivery, spool, dir) =
            spooled_delivery("retry", 10, &[("message.max.bytes", "1000")]);
        let too_big = message(&[b'x'; 5000]);
        let ticket = delivery.spool(&too_big, OnFull::NEW_JOB).await.unwrap();
        assert!(
            delivery.produce(&too_big).await.is_err(),
            "it cannot be sent"
        );

        let stop = CancellationToken::new();
        let stopper = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                stop.cancel();
            })
        };
        let given_up = delivery
            .send_until_confirmed(&too_big, ticket, Some(&stop))
            .await;
        assert!(stop.is_cancelled(), "retried until stopped");
        stopper.await.unwrap();
        let ticket = given_up
            .expect_err("never confirmed")
            .expect("its ticket handed back");
        assert_eq!(spool.pending(), 1, "given up, it is still in the spool");

        // At shutdown too, without a stop of its own.
        delivery.closing.cancel();
        let ticket = delivery
            .send_until_confirmed(&too_big, Some(ticket), None)
            .await
            .expect_err("never confirmed")
            .expect("its ticket handed back");
        assert_eq!(spool.pending(), 1);
        delivery.unspool(ticket);
        assert_eq!(spool.pending(), 0);
        drop(delivery);
        drop(spool);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
