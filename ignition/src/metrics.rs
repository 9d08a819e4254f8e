//! Metrics: `GET /management/metrics` in the Prometheus text format (version 0.0.4),
//! encoded by the Prometheus project's `prometheus-client`.
//!
//! One [`Metrics`] per started app (no global registry: two apps in one process keep
//! their own figures), shared by `Arc` with the layers that record, through a
//! [`Recorder`] that does nothing when `application.metrics_enabled` is `false`.
//!
//! | metric | type | recorded |
//! | --- | --- | --- |
//! | `ignition_http_requests_total{operation,status}` | counter | each request to `/api/infrastructure/{create,delete,query,find}` answered (panics as 500); other paths are not counted |
//! | `ignition_http_request_duration_seconds{operation}` | histogram | the same requests, from routing to the response |
//! | `ignition_tasks_monitored` | gauge | read at scrape: monitoring jobs this process holds (waiting for their next poll or polling) |
//! | `ignition_task_polls_total{outcome}` | counter | each poll: `in_progress`, `complete`, `failed`, `retry` (an error with `retry`), `forgotten` (any other error), `timeout` (cut at `driver.timeouts.query`) |
//! | `ignition_task_events_total{status}` | counter | each task event delivered (`COMPLETE`, `FAILED`, ...) |
//! | `ignition_event_delivery_failures_total` | counter | each task event the delivery refused |
//! | `ignition_sealed_jobs_refused_total` | counter | each monitoring job whose sealed properties did not open (`job_queue.encryption_key_file`: another key, tampered, no key): logged at ERROR, never run |
//! | `ignition_messages_buffered` | gauge | read at scrape: Kafka messages handed to the producer and not yet confirmed by the broker |
//! | `ignition_create_to_event_seconds` | histogram | from a create (or delete) accepted to its event delivered |
//! | `ignition_job_queue_lag{partition}` | gauge | read at scrape: Kafka: messages of each assigned job-queue partition not yet consumed; embedded (`partition="embedded"`): jobs due and waiting for a free poller |
//! | `ignition_build_info{version}` | gauge (1) | the version of ignition |

use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

use crate::models::TaskStatus;
use crate::operations::{ApiKind, Operation};
use crate::util::RwLocked;

/// The `Content-Type` of a scrape.
pub(crate) use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Buckets of the HTTP latency histogram, in seconds: 100 µs to 10 s.
const HTTP_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0, 10.0,
];

/// Buckets of the create→event histogram, in seconds: 1 ms to 1 h (tasks take from a
/// poll to many minutes).
const TASK_BUCKETS: [f64; 14] = [
    0.001, 0.01, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The statuses counted without a map look-up, per operation (others go through the
/// family's map, once per request).
const COMMON_STATUSES: [u16; 8] = [200, 202, 400, 404, 413, 415, 500, 503];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PartitionLabels {
    partition: String,
}

/// What came of one poll (`ignition_task_polls_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PollOutcome {
    /// The task is still in progress.
    InProgress,
    /// The task is complete.
    Complete,
    /// The task failed.
    Failed,
    /// The poll failed with an error that is retried.
    Retry,
    /// The poll failed with an error that is not retried: the task is forgotten.
    Forgotten,
    /// The poll was cut at its time limit.
    Timeout,
}

impl PollOutcome {
    const ALL: [PollOutcome; 6] = [
        PollOutcome::InProgress,
        PollOutcome::Complete,
        PollOutcome::Failed,
        PollOutcome::Retry,
        PollOutcome::Forgotten,
        PollOutcome::Timeout,
    ];

    fn label(self) -> &'static str {
        match self {
            PollOutcome::InProgress => "in_progress",
            PollOutcome::Complete => "complete",
            PollOutcome::Failed => "failed",
            PollOutcome::Retry => "retry",
            PollOutcome::Forgotten => "forgotten",
            PollOutcome::Timeout => "timeout",
        }
    }

    /// What a poll that answered `status` came to.
    pub(crate) fn of(status: TaskStatus) -> Self {
        match status {
            TaskStatus::InProgress => PollOutcome::InProgress,
            TaskStatus::Complete => PollOutcome::Complete,
            TaskStatus::Failed => PollOutcome::Failed,
        }
    }
}

fn status_label(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::InProgress => "IN_PROGRESS",
        TaskStatus::Complete => "COMPLETE",
        TaskStatus::Failed => "FAILED",
    }
}

/// One operation's series, resolved once so that a request costs no label hashing.
struct OperationMetrics {
    name: &'static str,
    duration: Histogram,
    /// The counters of [`COMMON_STATUSES`], each made on first use.
    common: [OnceLock<Counter>; COMMON_STATUSES.len()],
}

/// A value read from a running service at scrape time.
type Probe<T> = Box<dyn Fn() -> T + Send + Sync>;

/// The gauges read at scrape time, set once the services exist.
#[derive(Default)]
struct Probes {
    tasks_monitored: Option<Probe<i64>>,
    messages_buffered: Option<Probe<i64>>,
    job_queue_lag: Option<Probe<Vec<(String, i64)>>>,
}

/// Encodes the [`Probes`] on each scrape.
#[derive(Clone, Default)]
struct ProbeCollector(Arc<RwLock<Probes>>);

impl std::fmt::Debug for ProbeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProbeCollector")
    }
}

impl Collector for ProbeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let probes = self.0.read_locked();
        if let Some(probe) = &probes.tasks_monitored {
            let gauge = ConstGauge::new(probe());
            let metric = encoder.encode_descriptor(
                "tasks_monitored",
                "Tasks whose monitoring job this process holds (waiting for its next poll, or polling)",
                None,
                gauge.metric_type(),
            )?;
            gauge.encode(metric)?;
        }
        if let Some(probe) = &probes.messages_buffered {
            let gauge = ConstGauge::new(probe());
            let metric = encoder.encode_descriptor(
                "messages_buffered",
                "Kafka messages (task events and re-queued jobs) handed to the producer and not yet confirmed by the broker",
                None,
                gauge.metric_type(),
            )?;
            gauge.encode(metric)?;
        }
        if let Some(probe) = &probes.job_queue_lag {
            let lags = probe();
            let mut metric = encoder.encode_descriptor(
                "job_queue_lag",
                "Job-queue messages not yet consumed, per assigned partition (Kafka); jobs due and waiting for a free poller (partition=\"embedded\")",
                None,
                MetricType::Gauge,
            )?;
            for (partition, lag) in lags {
                let labels = PartitionLabels { partition };
                ConstGauge::new(lag).encode(metric.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

/// The metrics of one app.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// Indexed by [`Operation::index`]; the operations of the app's API kind only.
    operations: [Option<OperationMetrics>; Operation::ALL.len()],
    polls: [Counter; 6],
    events: Family<StatusLabels, Counter>,
    delivery_failures: Counter,
    sealed_jobs_refused: Counter,
    create_to_event: Histogram,
    probes: ProbeCollector,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every metric of an app serving `kind`, registered under the `ignition_` prefix.
    pub(crate) fn new(kind: ApiKind) -> Self {
        let mut registry = Registry::with_prefix("ignition");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests to the driver's API (the operations of its kind), by operation and HTTP status",
            requests.clone(),
        );
        let durations = Family::<OperationLabels, Histogram>::new_with_constructor(
            (|| Histogram::new(HTTP_BUCKETS)) as fn() -> Histogram,
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request to the driver's API, by operation",
            Unit::Seconds,
            durations.clone(),
        );
        let operations = Operation::ALL.map(|operation| {
            (operation.kind() == kind && operation.path().is_some()).then(|| OperationMetrics {
                name: operation.name(),
                duration: durations.get_or_create_owned(&OperationLabels {
                    operation: operation.name(),
                }),
                common: Default::default(),
            })
        });
        let poll_family = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "task_polls",
            "Polls of tasks by the monitor (get_infrastructure_task, get_lifecycle_execution), by outcome",
            poll_family.clone(),
        );
        let polls = PollOutcome::ALL.map(|outcome| {
            poll_family.get_or_create_owned(&OutcomeLabels {
                outcome: outcome.label(),
            })
        });
        let events = Family::<StatusLabels, Counter>::default();
        registry.register(
            "task_events",
            "Task events delivered, by task status",
            events.clone(),
        );
        let delivery_failures = Counter::default();
        registry.register(
            "event_delivery_failures",
            "Task events the delivery (Kafka, the embedded bus) did not take",
            delivery_failures.clone(),
        );
        let sealed_jobs_refused = Counter::default();
        registry.register(
            "sealed_jobs_refused",
            "Monitoring jobs refused because their sealed properties did not open (another key, tampered, or no job_queue.encryption_key_file): logged at ERROR, not run",
            sealed_jobs_refused.clone(),
        );
        let create_to_event = Histogram::new(TASK_BUCKETS);
        registry.register_with_unit(
            "create_to_event",
            "From a create, delete or execute accepted to its task event delivered",
            Unit::Seconds,
            create_to_event.clone(),
        );
        registry.register(
            "build",
            "The version of ignition this driver is built with",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let probes = ProbeCollector::default();
        registry.register_collector(Box::new(probes.clone()));
        Self {
            registry,
            requests,
            operations,
            polls,
            events,
            delivery_failures,
            sealed_jobs_refused,
            create_to_event,
            probes,
        }
    }

    /// The scrape: every metric in the Prometheus text format.
    pub(crate) fn encode(&self) -> String {
        let mut text = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry);
        text
    }

    fn request(&self, operation: Operation, status: u16, elapsed: Duration) {
        let Some(series) = &self.operations[operation.index()] else {
            return; // not an operation of this app's API
        };
        series.duration.observe(elapsed.as_secs_f64());
        match COMMON_STATUSES.iter().position(|s| *s == status) {
            Some(i) => {
                series.common[i]
                    .get_or_init(|| {
                        self.requests.get_or_create_owned(&RequestLabels {
                            operation: series.name,
                            status,
                        })
                    })
                    .inc();
            }
            None => {
                self.requests
                    .get_or_create(&RequestLabels {
                        operation: series.name,
                        status,
                    })
                    .inc();
            }
        }
    }

    fn set_probes(&self, set: impl FnOnce(&mut Probes)) {
        set(&mut self.probes.0.write_locked());
    }
}

/// What the layers record through: the app's [`Metrics`], or nothing when
/// `application.metrics_enabled` is `false` (the default value, for tests of a layer).
#[derive(Clone, Default, Debug)]
pub(crate) struct Recorder(Option<Arc<Metrics>>);

impl Recorder {
    /// Records into `metrics` (`None`: records nothing).
    pub(crate) fn new(metrics: Option<Arc<Metrics>>) -> Self {
        Self(metrics)
    }

    /// The metrics recorded into, if any.
    pub(crate) fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.0.as_ref()
    }

    /// Starts timing a request to `operation`; [`RequestTimer::finish`] records it.
    #[inline]
    pub(crate) fn request(&self, operation: Operation) -> RequestTimer<'_> {
        RequestTimer {
            metrics: self.0.as_deref().map(|m| (m, Instant::now())),
            operation,
        }
    }

    /// A poll came to `outcome`.
    pub(crate) fn poll(&self, outcome: PollOutcome) {
        if let Some(metrics) = &self.0 {
            let index = PollOutcome::ALL
                .iter()
                .position(|o| *o == outcome)
                .unwrap_or(0);
            metrics.polls[index].inc();
        }
    }

    /// A task event of `status` was delivered.
    pub(crate) fn event_delivered(&self, status: TaskStatus) {
        if let Some(metrics) = &self.0 {
            metrics
                .events
                .get_or_create(&StatusLabels {
                    status: status_label(status),
                })
                .inc();
        }
    }

    /// The event of a task whose create or delete was accepted at `created_ms` was
    /// delivered at `now_ms` (both ms since the Unix epoch).
    pub(crate) fn create_to_event(&self, created_ms: u64, now_ms: u64) {
        if let Some(metrics) = &self.0 {
            let seconds = now_ms.saturating_sub(created_ms) as f64 / 1000.0;
            metrics.create_to_event.observe(seconds);
        }
    }

    /// A task event was not delivered.
    pub(crate) fn delivery_failed(&self) {
        if let Some(metrics) = &self.0 {
            metrics.delivery_failures.inc();
        }
    }

    /// A monitoring job was refused: its sealed properties did not open.
    pub(crate) fn sealed_job_refused(&self) {
        if let Some(metrics) = &self.0 {
            metrics.sealed_jobs_refused.inc();
        }
    }

    /// Reads `ignition_tasks_monitored` from `probe` at each scrape.
    pub(crate) fn tasks_monitored(&self, probe: impl Fn() -> i64 + Send + Sync + 'static) {
        if let Some(metrics) = &self.0 {
            metrics.set_probes(|p| p.tasks_monitored = Some(Box::new(probe)));
        }
    }

    /// Reads `ignition_messages_buffered` from `probe` at each scrape.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn messages_buffered(&self, probe: impl Fn() -> i64 + Send + Sync + 'static) {
        if let Some(metrics) = &self.0 {
            metrics.set_probes(|p| p.messages_buffered = Some(Box::new(probe)));
        }
    }

    /// Reads `ignition_job_queue_lag` (partition, lag) from `probe` at each scrape.
    pub(crate) fn job_queue_lag(
        &self,
        probe: impl Fn() -> Vec<(String, i64)> + Send + Sync + 'static,
    ) {
        if let Some(metrics) = &self.0 {
            metrics.set_probes(|p| p.job_queue_lag = Some(Box::new(probe)));
        }
    }
}

/// Times one request; dropped without [`finish`](RequestTimer::finish) while a panic
/// unwinds, it records a 500 (the status the panic is answered with). A request whose
/// client went away (its future dropped) is not counted.
pub(crate) struct RequestTimer<'a> {
    metrics: Option<(&'a Metrics, Instant)>,
    operation: Operation,
}

impl RequestTimer<'_> {
    /// The request was answered with `status`.
    #[inline]
    pub(crate) fn finish(mut self, status: u16) {
        if let Some((metrics, started)) = self.metrics.take() {
            metrics.request(self.operation, status, started.elapsed());
        }
    }
}

impl Drop for RequestTimer<'_> {
    fn drop(&mut self) {
        if let Some((metrics, started)) = self.metrics.take() {
            if std::thread::panicking() {
                metrics.request(self.operation, 500, started.elapsed());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> Recorder {
        Recorder::new(Some(Arc::new(Metrics::new(ApiKind::Infrastructure))))
    }

    fn scrape(recorder: &Recorder) -> String {
        recorder.metrics().unwrap().encode()
    }

    #[test]
    fn requests_are_counted_by_operation_and_status_and_timed() {
        let recorder = recorder();
        recorder.request(Operation::Create).finish(202);
        recorder.request(Operation::Create).finish(202);
        recorder.request(Operation::Create).finish(418);
        recorder.request(Operation::Find).finish(200);
        let text = scrape(&recorder);
        for line in [
            "ignition_http_requests_total{operation=\"create\",status=\"202\"} 2",
            "ignition_http_requests_total{operation=\"create\",status=\"418\"} 1",
            "ignition_http_requests_total{operation=\"find\",status=\"200\"} 1",
            "ignition_http_request_duration_seconds_count{operation=\"create\"} 3",
            "ignition_http_request_duration_seconds_count{operation=\"find\"} 1",
            "ignition_http_request_duration_seconds_count{operation=\"query\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("operation=\"query\",status"), "{text}");
    }

    #[test]
    fn a_request_dropped_while_panicking_counts_as_500_and_a_cancelled_one_not_at_all() {
        let recorder = recorder();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _timer = recorder.request(Operation::Delete);
            panic!("driver bug");
        }));
        assert!(caught.is_err());
        drop(recorder.request(Operation::Delete)); // client went away
        let text = scrape(&recorder);
        assert!(
            text.contains("ignition_http_requests_total{operation=\"delete\",status=\"500\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("ignition_http_request_duration_seconds_count{operation=\"delete\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn polls_events_and_probes_show() {
        let recorder = recorder();
        recorder.poll(PollOutcome::InProgress);
        recorder.poll(PollOutcome::Complete);
        recorder.poll(PollOutcome::Timeout);
        recorder.event_delivered(TaskStatus::Complete);
        recorder.create_to_event(1_000, 3_500);
        recorder.delivery_failed();
        recorder.tasks_monitored(|| 7);
        recorder.messages_buffered(|| 3);
        recorder.job_queue_lag(|| vec![("0".into(), 5), ("1".into(), 0)]);
        let text = scrape(&recorder);
        for line in [
            "ignition_task_polls_total{outcome=\"in_progress\"} 1",
            "ignition_task_polls_total{outcome=\"complete\"} 1",
            "ignition_task_polls_total{outcome=\"timeout\"} 1",
            "ignition_task_polls_total{outcome=\"forgotten\"} 0",
            "ignition_task_events_total{status=\"COMPLETE\"} 1",
            "ignition_event_delivery_failures_total 1",
            "ignition_create_to_event_seconds_sum 2.5",
            "ignition_create_to_event_seconds_count 1",
            "ignition_tasks_monitored 7",
            "ignition_messages_buffered 3",
            "ignition_job_queue_lag{partition=\"0\"} 5",
            "ignition_job_queue_lag{partition=\"1\"} 0",
            "# TYPE ignition_job_queue_lag gauge",
            &format!(
                "ignition_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            ),
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn a_recorder_without_metrics_records_nothing() {
        let recorder = Recorder::default();
        recorder.request(Operation::Create).finish(202);
        recorder.poll(PollOutcome::Complete);
        recorder.event_delivered(TaskStatus::Complete);
        assert!(recorder.metrics().is_none());
    }

    #[test]
    fn two_apps_keep_their_own_figures() {
        let (a, b) = (recorder(), recorder());
        a.request(Operation::Find).finish(200);
        assert!(scrape(&a).contains("operation=\"find\",status=\"200\"} 1"));
        assert!(!scrape(&b).contains("operation=\"find\",status=\"200\""));
    }
}
