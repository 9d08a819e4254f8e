//! Kafka (with `messaging.connection_address`): task events through an idempotent
//! producer, the job queue on a topic shared by every replica's consumer group, topic
//! creation at start, and a `kafka` health vital.
//!
//! Outages: producers never time a message out (`message.timeout.ms: 0` unless set in
//! `messaging.config`), so events and re-queued jobs wait in librdkafka's buffer (up to
//! `queue.buffering.max.messages`, 100 000 by default, and `queue.buffering.max.kbytes`,
//! 1 GiB) for as long as the broker is away; when the buffer is full, senders wait for
//! room instead of dropping. Jobs not yet committed are delivered again after a
//! rebalance or a restart: delivery is at least once.
//!
//! Security: `messaging.config` goes to librdkafka as is, which is built with OpenSSL,
//! so `security.protocol` may be `SSL`, `SASL_SSL` or `SASL_PLAINTEXT`, with
//! `sasl.mechanisms` `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`
//! (`GSSAPI` with the `gssapi` cargo feature). A TLS handshake or SASL authentication
//! that fails at start-up stops it at once with librdkafka's reason; secrets in
//! `messaging.config` are shown as `****` in every message and log line.

mod client;
mod delivery;
mod error;
mod jobqueue;
mod topics;
mod watch;

use std::sync::Arc;
use std::time::Duration;

pub use client::{redacted, KafkaConfig};
pub use delivery::KafkaDelivery;
pub use error::KafkaError;
pub use jobqueue::{KafkaJobQueue, QueuedJob};

use crate::config::IgnitionConfig;
use crate::jobqueue::BoxFuture;
use crate::management::{Vital, VitalStatus};

/// The Kafka side of a running app.
pub(crate) struct KafkaServices {
    pub(crate) delivery: Arc<KafkaDelivery>,
    pub(crate) job_queue: Arc<KafkaJobQueue>,
    pub(crate) vital: Arc<KafkaVital>,
    /// The job-queue consumer's vital (`job_queue`).
    pub(crate) consumer_vital: Arc<jobqueue::ConsumerVital>,
}

impl KafkaServices {
    /// Connects: creates the topics that are to be auto-created, then the producer and
    /// the (not yet consuming) job queue. Fails when the broker cannot be reached.
    pub(crate) async fn connect(config: &IgnitionConfig) -> Result<Self, KafkaError> {
        let kafka = KafkaConfig::from_config(config)?;
        tracing::info!(
            bootstrap = %kafka.bootstrap,
            settings = %redacted(&kafka.settings),
            "connecting to Kafka"
        );
        topics::ensure(&kafka, config).await?;
        let delivery = Arc::new(KafkaDelivery::new(&kafka)?);
        let job_queue = Arc::new(KafkaJobQueue::new(
            &kafka,
            delivery.clone(),
            &config.messaging.topics.job_queue.name,
            &config.job_queue.consumer_group_id,
            config.job_queue.max_concurrent_polls,
            config.job_queue.max_poll_interval,
        ));
        let vital = Arc::new(KafkaVital {
            producer: delivery.clone(),
        });
        let consumer_vital = Arc::new(job_queue.consumer_vital());
        Ok(Self {
            delivery,
            job_queue,
            vital,
            consumer_vital,
        })
    }
}

impl KafkaServices {
    /// Has `metrics` read the producer's buffer and, with `job_queue` (the built-in Kafka
    /// job queue is the one used), the job queue's tasks and lag at each scrape (through
    /// weak references: the metrics never keep the Kafka clients alive).
    pub(crate) fn record(&self, metrics: &crate::metrics::Recorder, job_queue: bool) {
        let delivery = Arc::downgrade(&self.delivery);
        metrics.messages_buffered(move || delivery.upgrade().map_or(0, |d| d.in_flight()));
        if job_queue {
            let queue = Arc::downgrade(&self.job_queue);
            metrics.tasks_monitored(move || queue.upgrade().map_or(0, |q| q.outstanding() as i64));
            self.job_queue.measure_lag();
            let queue = Arc::downgrade(&self.job_queue);
            metrics.job_queue_lag(move || {
                queue.upgrade().map_or_else(Vec::new, |q| {
                    q.lag()
                        .into_iter()
                        .map(|(partition, lag)| (partition.to_string(), lag))
                        .collect()
                })
            });
        }
    }
}

/// The `kafka` vital: can the broker be reached (a metadata request within 3 s)?
pub(crate) struct KafkaVital {
    producer: Arc<KafkaDelivery>,
}

impl Vital for KafkaVital {
    fn name(&self) -> &str {
        "kafka"
    }

    fn check(&self) -> BoxFuture<'_, VitalStatus> {
        Box::pin(async move {
            match self.producer.broker_reachable(Duration::from_secs(3)).await {
                Ok(()) => VitalStatus::Ok,
                Err(reason) => VitalStatus::Unhealthy { reason },
            }
        })
    }
}
