//! Kafka (with `messaging.connection_address`): task events through an idempotent
//! producer, the job queue on a topic shared by every replica's consumer group, topic
//! creation at start, and a `kafka` health vital.
//!
//! Outages: producers never time a message out (`message.timeout.ms: 0` unless set in
//! `messaging.config`), so events and re-queued jobs wait in librdkafka's buffer (up to
//! `queue.buffering.max.messages`, 100 000 by default, and `queue.buffering.max.kbytes`,
//! 1 GiB) for as long as the broker is away; when the buffer is full, senders wait for
//! room instead of dropping. Jobs not yet committed are delivered again after a
//! rebalance or a restart: delivery is at least once. With the spool
//! (`messaging.spool_dir`, `spool`), what was handed to the producer and not yet
//! confirmed is also on disk, and is sent again at the next start: a process killed
//! during an outage loses nothing, and a create answers once its job is on disk.
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
mod spool;
mod topics;
mod watch;

use std::sync::Arc;
use std::time::Duration;

pub use client::{redacted, KafkaConfig};
pub use delivery::KafkaDelivery;
pub use error::KafkaError;
pub use jobqueue::{KafkaJobQueue, QueuedJob};
pub use spool::SpoolError;

use crate::config::IgnitionConfig;
use crate::jobqueue::BoxFuture;
use crate::management::{Vital, VitalStatus};

/// One monitoring job message of an infrastructure task, exactly as the job queue puts it
/// on the topic (for the bench's raw broker figures).
pub fn sample_job_message(
    infrastructure_id: &str,
    deployment_location: crate::models::DeploymentLocation,
) -> Vec<u8> {
    let job = crate::monitor::MonitoringJob::new(Some(infrastructure_id), "r", deployment_location)
        .into_job(crate::operations::ApiKind::Infrastructure);
    let queued = QueuedJob::new(job, crate::util::now_ms());
    // A job of strings and maps serialises.
    serde_json::to_vec(&queued).expect("a queued job serialises to JSON")
}

/// The Kafka side of a running app.
pub(crate) struct KafkaServices {
    pub(crate) delivery: Arc<KafkaDelivery>,
    pub(crate) job_queue: Arc<KafkaJobQueue>,
    pub(crate) vital: Arc<KafkaVital>,
    /// The `kafka` vital of the readiness answer.
    pub(crate) readiness_vital: Arc<KafkaReadiness>,
    /// The job-queue consumer's vital (`job_queue`).
    pub(crate) consumer_vital: Arc<jobqueue::ConsumerVital>,
}

impl KafkaServices {
    /// Connects: opens the spool (`messaging.spool_dir`), creates the topics that are
    /// to be auto-created, then the producer, which is handed what the spool holds from
    /// an earlier run before anything else, and the (not yet consuming) job queue.
    /// Fails when the broker cannot be reached or the spool cannot be opened.
    pub(crate) async fn connect(
        config: &IgnitionConfig,
        app_name: &str,
        kind: crate::operations::ApiKind,
    ) -> Result<Self, KafkaError> {
        let kafka = KafkaConfig::from_config(config)?;
        let (spool, left) = match open_spool(config, app_name)? {
            Some((spool, left)) => (Some(Arc::new(spool)), left),
            None => (None, Vec::new()),
        };
        tracing::info!(
            bootstrap = %kafka.bootstrap,
            settings = %redacted(&kafka.settings),
            "connecting to Kafka"
        );
        topics::ensure(&kafka, config, kind).await?;
        let delivery = Arc::new(KafkaDelivery::with_spool(&kafka, spool)?);
        delivery.resend(left).await;
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
        let readiness_vital = Arc::new(KafkaReadiness {
            producer: delivery.clone(),
        });
        let consumer_vital = Arc::new(job_queue.consumer_vital());
        Ok(Self {
            delivery,
            job_queue,
            vital,
            readiness_vital,
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

/// How many default spool directories (`<app>`, `<app>.1`, ...) are tried before
/// start-up gives up because every one is held by another process.
const DEFAULT_SPOOL_SLOTS: usize = 16;

/// An open spool with what it holds from an earlier run.
type OpenedSpool = (spool::Spool, Vec<(spool::Ticket, spool::Message)>);

/// Opens the spool `messaging.spool_*` asks for, if any, with what it holds.
fn open_spool(config: &IgnitionConfig, app_name: &str) -> Result<Option<OpenedSpool>, KafkaError> {
    let messaging = &config.messaging;
    if !messaging.spool_enabled {
        return Ok(None);
    }
    let limits = spool::SpoolLimits {
        max_bytes: messaging.spool_max_bytes.bytes(),
        max_records: messaging.spool_max_records,
    };
    let opened = match &messaging.spool_dir {
        Some(dir) => spool::Spool::open(dir, limits)?,
        None => {
            // Replicas on one machine each take the first free slot; a slot left by a
            // process that died is taken (and its messages sent) by the next one.
            let base = default_spool_dir(app_name);
            let mut slot = 0;
            loop {
                let dir = match slot {
                    0 => base.clone(),
                    n => base.with_file_name(format!(
                        "{}.{n}",
                        base.file_name().unwrap_or_default().to_string_lossy()
                    )),
                };
                match spool::Spool::open(&dir, limits) {
                    Err(spool::SpoolError::Locked { .. }) if slot + 1 < DEFAULT_SPOOL_SLOTS => {
                        slot += 1;
                    }
                    opened => break opened?,
                }
            }
        }
    };
    tracing::info!(dir = %opened.0.dir().display(), waiting = opened.1.len(), "spool open (`messaging.spool_dir`)");
    Ok(Some(opened))
}

/// `$TMPDIR/ignition-spool/<app name>` (characters other than letters, digits, `-`,
/// `_` and `.` left out, spaces as `_`).
pub(crate) fn default_spool_dir(app_name: &str) -> std::path::PathBuf {
    let mut name = crate::config::job_queue_topic_name(app_name);
    if name.is_empty() || name.starts_with('.') {
        name.insert_str(0, "app");
    }
    std::env::temp_dir().join("ignition-spool").join(name)
}

/// The `kafka` vital of the health answer: can the broker be reached (a metadata request
/// within [`METADATA_TIMEOUT`])?
pub(crate) struct KafkaVital {
    producer: Arc<KafkaDelivery>,
}

/// How long the `kafka` vitals wait for the broker's metadata: within the vitals' own
/// time limit ([`crate::management::VITAL_TIMEOUT`]), so that a slow broker is reported
/// with its own reason rather than as "no answer".
const METADATA_TIMEOUT: Duration = Duration::from_millis(1500);

impl Vital for KafkaVital {
    fn name(&self) -> &str {
        "kafka"
    }

    fn check(&self) -> BoxFuture<'_, VitalStatus> {
        Box::pin(async move {
            match self.producer.broker_reachable(METADATA_TIMEOUT).await {
                Ok(()) => VitalStatus::Ok,
                Err(reason) => VitalStatus::Unhealthy { reason },
            }
        })
    }
}

/// The `kafka` vital of the readiness answer: the driver can take work while the broker
/// answers **or** the spool has room for the jobs of new creates (they are sent once the
/// broker is back). Without a spool, the broker must answer.
pub(crate) struct KafkaReadiness {
    producer: Arc<KafkaDelivery>,
}

impl Vital for KafkaReadiness {
    fn name(&self) -> &str {
        "kafka"
    }

    fn check(&self) -> BoxFuture<'_, VitalStatus> {
        Box::pin(async move {
            let reachable = self.producer.broker_reachable(METADATA_TIMEOUT).await;
            let Err(unreachable) = reachable else {
                return VitalStatus::Ok;
            };
            match self.producer.spool_room() {
                Some(Ok(())) => VitalStatus::Ok,
                Some(Err(full)) => VitalStatus::Unhealthy {
                    reason: format!("{unreachable}; {full}"),
                },
                None => VitalStatus::Unhealthy {
                    reason: format!("{unreachable} (no spool: `messaging.spool_enabled: false`)"),
                },
            }
        })
    }
}
