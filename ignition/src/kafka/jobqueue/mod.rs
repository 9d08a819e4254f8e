//! The job queue on Kafka: one topic shared by every replica of a driver through a
//! consumer group.
//!
//! Each message is a [`QueuedJob`]: the job and the time it is due. A consumed message
//! waits on a timer until it is due (no busy loop), runs its handler, and only then is
//! its offset committable: when the job finished, or when its re-queued successor was
//! confirmed by the broker. Offsets are committed per partition up to the oldest message
//! still outstanding, so after a crash or a rebalance every unfinished job is consumed
//! again (at least once; a job that was running at that moment may run twice).
//!
//! The consumer starts at the earliest offset when its group has none committed, so jobs
//! queued before it joined (creates answered in the first seconds) are not skipped.
//!
//! This module holds [`KafkaJobQueue`] and its [`JobQueue`] impl (queue, start,
//! shutdown); the parts live beside it: [`message`] (the wire format), [`producer`]
//! (producing and re-queueing), [`consumer`] (the consume loop, the life of a job,
//! commits, rebalance callbacks) and [`offsets`] (the bookkeeping behind commits).

mod consumer;
mod health;
mod message;
mod offsets;
mod producer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::CommitMode;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{KafkaConfig, KafkaDelivery};
use crate::jobqueue::{BoxFuture, Handlers, Job, JobHandler, JobQueue, JobQueueError};
use crate::util::now_ms;
use crate::util::Locked;
use consumer::{consume, session_timeout, subscribe, JobConsumer};
use health::ConsumerHealth;
pub(crate) use health::ConsumerVital;
pub use message::QueuedJob;
use offsets::Offsets;

/// At shutdown, how long to let a join in progress finish before leaving the group
/// (a member that leaves mid-join can leave some brokers' group stuck).
const FIRST_JOIN_WAIT: Duration = Duration::from_secs(8);

/// How long `queue` waits for the broker's confirmation before answering anyway.
pub(crate) const QUEUE_CONFIRM_WAIT: Duration = Duration::from_secs(5);

/// The Kafka [`JobQueue`].
pub struct KafkaJobQueue {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for KafkaJobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaJobQueue")
            .field("topic", &self.inner.topic)
            .field("group", &self.inner.group)
            .finish_non_exhaustive()
    }
}

/// What the queue's parts share: the producer, the handlers, the bookkeeping, the
/// consumer once started, and the tokens that stop it all.
struct Inner {
    producer: Arc<KafkaDelivery>,
    kafka: KafkaConfig,
    topic: String,
    group: String,
    handlers: Handlers,
    permits: Arc<Semaphore>,
    max_backoff: Duration,
    offsets: Arc<Mutex<Offsets>>,
    stop: CancellationToken,
    jobs: TaskTracker,
    consumer: Mutex<Option<Arc<JobConsumer>>>,
    consumer_loop: Mutex<Option<tokio::task::JoinHandle<()>>>,
    joined: tokio::sync::watch::Sender<bool>,
    health: Arc<ConsumerHealth>,
    /// Whether the consumer reports statistics (for `lag`).
    measure_lag: std::sync::atomic::AtomicBool,
    /// The lag of each assigned partition, from the consumer's last statistics.
    lag: Arc<Mutex<Vec<(i32, i64)>>>,
}

/// How often the consumer measures its lag (`statistics.interval.ms`).
pub(crate) const LAG_INTERVAL: Duration = Duration::from_secs(5);

impl KafkaJobQueue {
    /// A job queue on `topic` for consumer group `group`, sending through `producer`.
    /// It consumes once [`JobQueue::start`] is called.
    pub fn new(
        kafka: &KafkaConfig,
        producer: Arc<KafkaDelivery>,
        topic: &str,
        group: &str,
        max_concurrent: usize,
        max_backoff: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                producer,
                kafka: kafka.clone(),
                topic: topic.to_string(),
                group: group.to_string(),
                handlers: Handlers::default(),
                permits: Arc::new(Semaphore::new(max_concurrent)),
                max_backoff,
                offsets: Arc::new(Mutex::new(Offsets::default())),
                stop: CancellationToken::new(),
                jobs: TaskTracker::new(),
                consumer: Mutex::new(None),
                consumer_loop: Mutex::new(None),
                joined: tokio::sync::watch::channel(false).0,
                health: Arc::new(ConsumerHealth::new(session_timeout(kafka))),
                measure_lag: std::sync::atomic::AtomicBool::new(false),
                lag: Arc::default(),
            }),
        }
    }

    /// The `job_queue` vital: UNHEALTHY when the consumer has not polled Kafka for longer
    /// than its session timeout (or has not started, or its loop ended).
    pub(crate) fn consumer_vital(&self) -> ConsumerVital {
        ConsumerVital {
            health: self.inner.health.clone(),
            stop: self.inner.stop.clone(),
        }
    }

    /// Jobs consumed and not yet finished (waiting until due, or running).
    pub fn outstanding(&self) -> usize {
        self.inner.offsets.locked().outstanding()
    }

    /// Has the consumer, once started, report its lag every [`LAG_INTERVAL`] (librdkafka
    /// statistics); [`lag`](Self::lag) is empty without it.
    pub(crate) fn measure_lag(&self) {
        self.inner
            .measure_lag
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Per assigned partition: messages not consumed yet (the high watermark minus the
    /// next offset to read), as of the consumer's last statistics.
    pub(crate) fn lag(&self) -> Vec<(i32, i64)> {
        self.inner.lag.locked().clone()
    }
}

impl Inner {
    fn handler(&self, job_type: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.get(job_type)
    }
}

impl JobQueue for KafkaJobQueue {
    fn register_handler(&self, job_type: &str, handler: Arc<dyn JobHandler>) {
        self.inner.handlers.register(job_type, handler);
    }

    /// With the spool (`messaging.spool_enabled`, the default on Kafka): returns once the
    /// job is in the spool (fsync'ed, the fsync shared with concurrent creates), and sends
    /// it in the background until the broker confirms it; a full spool is an error (the
    /// API answers 503). Without: waits up to `QUEUE_CONFIRM_WAIT` (5 s) for the broker to
    /// confirm the job; past that (the broker is away), the job stays in the producer's
    /// buffer, is delivered when the broker is back, and `Ok` is returned so the API
    /// keeps answering.
    fn queue(&self, job: Job) -> BoxFuture<'_, Result<(), JobQueueError>> {
        Box::pin(async move {
            if self.inner.stop.is_cancelled() {
                return Err(JobQueueError::ShuttingDown);
            }
            let inner = self.inner.clone();
            let queued = QueuedJob::new(job, now_ms());
            if inner.producer.spooled() {
                return inner.spool_and_produce(&queued).await;
            }
            let mut sent = tokio::spawn(async move { inner.produce(&queued).await });
            match tokio::time::timeout(QUEUE_CONFIRM_WAIT, &mut sent).await {
                Ok(result) => result.map_err(|err| JobQueueError::Storage(err.to_string()))?,
                Err(_) => {
                    tracing::warn!(topic = %self.inner.topic, "the broker has not confirmed a new job within 5 s; it stays buffered in the producer and is sent when the broker is back");
                    tokio::spawn(async move {
                        match sent.await {
                            Ok(Ok(())) => tracing::info!("buffered job confirmed by the broker"),
                            Ok(Err(err)) => tracing::error!(error = %err, "buffered job lost"),
                            Err(err) => tracing::error!(error = %err, "buffered job lost"),
                        }
                    });
                    Ok(())
                }
            }
        })
    }

    fn start(&self) -> BoxFuture<'_, Result<(), JobQueueError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let consumer = subscribe(inner).map_err(|err| JobQueueError::Backend(Box::new(err)))?;
            let consumer = Arc::new(consumer);
            *inner.consumer.locked() = Some(consumer.clone());
            let task = tokio::spawn(consume(inner.clone(), consumer));
            *inner.consumer_loop.locked() = Some(task);
            tracing::info!(topic = %inner.topic, group = %inner.group, "job-queue consumer started");
            Ok(())
        })
    }

    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let inner = &self.inner;
            let consuming = inner.consumer_loop.locked().is_some();
            if consuming && !*inner.joined.borrow() {
                let mut joined = inner.joined.subscribe();
                let waited = tokio::time::timeout(FIRST_JOIN_WAIT, joined.wait_for(|j| *j)).await;
                if waited.is_err() {
                    tracing::warn!("leaving the job-queue group before its first join finished");
                }
            }
            inner.stop.cancel();
            let consumer_loop = inner.consumer_loop.locked().take();
            if let Some(task) = consumer_loop {
                let _ = task.await;
            }
            // Running jobs finish (and their re-queues are confirmed); waiting ones stop.
            inner.jobs.close();
            inner.jobs.wait().await;
            let consumer = inner.consumer.locked().take();
            if let Some(consumer) = consumer {
                close_consumer(inner.clone(), consumer).await;
            }
            tracing::info!(topic = %inner.topic, "job queue stopped");
        })
    }
}

/// How long stopping waits for the consumer's last commit and its leaving the group.
const CONSUMER_CLOSE_WAIT: Duration = Duration::from_secs(10);

/// Commits the last positions and drops the consumer, which leaves the group (its
/// partitions move at once). librdkafka can block in both when the broker is gone, so
/// they run on a thread of their own that nobody joins: not on a runtime thread, and not
/// in `spawn_blocking` either, whose tasks a runtime waits for, forever, when it is
/// dropped (a process that never exits after SIGTERM). Stopping waits for it up to
/// [`CONSUMER_CLOSE_WAIT`].
async fn close_consumer(inner: Arc<Inner>, consumer: Arc<JobConsumer>) {
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("job-queue-close".into())
        .spawn(move || {
            inner.commit(&consumer, CommitMode::Sync);
            // The last reference closes it here; one still held elsewhere (an idle-member
            // check in flight) lets it close on its own thread when released.
            if let Ok(consumer) = Arc::try_unwrap(consumer) {
                consumer.close();
            }
            let _ = closed_tx.send(());
        });
    if let Err(err) = spawned {
        tracing::warn!(error = %err, "cannot start a thread to close the job-queue consumer");
        return;
    }
    if tokio::time::timeout(CONSUMER_CLOSE_WAIT, closed)
        .await
        .is_err()
    {
        tracing::warn!(
            "the job-queue consumer did not close within {CONSUMER_CLOSE_WAIT:?}; the broker may be unreachable"
        );
    }
}
