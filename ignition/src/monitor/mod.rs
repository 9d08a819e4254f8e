//! The InfrastructureTaskMonitoringService: watches each create/delete task until it
//! finishes, then has its event sent.
//!
//! One job of type `InfrastructureTaskMonitoring` per task. Each run polls the driver's
//! `get_infrastructure_task` once and returns an [`Action`]:
//!
//! | poll result | action |
//! | --- | --- |
//! | `IN_PROGRESS` | poll again after `job_queue.poll_interval` |
//! | `COMPLETE` / `FAILED` | send the event; done once it is delivered (else poll again) |
//! | an error with `retry` (`Temporary`, `UnreachableDeploymentLocation`) | poll again, backing off exponentially up to `job_queue.max_poll_interval` |
//! | any other error | log it and forget the task |
//! | a poll past `driver.timeouts.query` / `driver.call_timeout` | cancelled; counts as a temporary error |
//! | `job_queue.task_timeout` passed since the create/delete | a FAILED event (`INTERNAL_ERROR`), done |
//!
//! The first poll runs as soon as the job is taken; nothing ever waits in a loop.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::IgnitionConfig;
use crate::driver::Driver;
use crate::error::DriverError;
use crate::jobqueue::{Action, BoxFuture, Job, JobHandler, JobQueue, JobQueueError};
use crate::messaging::InfrastructureMessagingService;
use crate::metrics::{PollOutcome, Recorder};
use crate::models::{
    DeploymentLocation, FailureCode, FailureDetails, InfrastructureTask, InfrastructureTaskQuery,
    TaskStatus,
};
#[doc(hidden)] // the type of MonitoringJob::trace_ctx
pub use crate::tracectx::TraceCtx;

/// The job type of task monitoring jobs, as in the seed.
pub(crate) const JOB_TYPE: &str = "InfrastructureTaskMonitoring";

/// The data of one monitoring job (its [`Job::data`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[doc(hidden)] // public for the bench only
pub struct MonitoringJob {
    /// The infrastructure the task works on.
    pub infrastructure_id: String,
    /// The create or delete request whose task is watched.
    pub request_id: String,
    /// Where the infrastructure lives (passed to every poll).
    pub deployment_location: DeploymentLocation,
    /// Polls so far.
    #[serde(default)]
    pub polls: u32,
    /// Retryable errors in a row (drives the backoff).
    #[serde(default)]
    pub consecutive_errors: u32,
    /// When the task must have finished (`job_queue.task_timeout` after its create or
    /// delete), in milliseconds since the Unix epoch; it travels with the job, so it
    /// holds on every replica and across restarts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// The trace context of the create or delete (its `X-Tracectx-*` headers): every
    /// poll is logged in it and the task's event carries it as message headers, on
    /// whichever replica polls. Absent in jobs of earlier versions.
    #[serde(default, skip_serializing_if = "TraceCtx::is_empty")]
    pub trace_ctx: TraceCtx,
    /// When the create or delete was accepted, in milliseconds since the Unix epoch
    /// (for `ignition_create_to_event_seconds`); absent in jobs queued by older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ms: Option<u64>,
}

impl MonitoringJob {
    /// The job that carries this task (keyed by infrastructure id).
    pub fn into_job(self) -> Job {
        let key = Some(self.infrastructure_id.clone());
        // Strings and string-keyed maps only: serialising cannot fail.
        Job::new(JOB_TYPE, key, &self).expect("a MonitoringJob serialises to JSON")
    }
}

/// What the monitor needs of a driver: one poll of one task.
pub(crate) trait TaskPoller: Send + Sync + 'static {
    /// Polls the task once (the driver's `get_infrastructure_task`).
    fn poll(
        &self,
        query: InfrastructureTaskQuery,
    ) -> BoxFuture<'static, Result<InfrastructureTask, DriverError>>;
}

/// A [`TaskPoller`] over a driver.
pub(crate) struct DriverPoller<D>(Arc<D>);

impl<D> DriverPoller<D> {
    pub(crate) fn new(driver: Arc<D>) -> Self {
        Self(driver)
    }
}

impl<D: Driver> TaskPoller for DriverPoller<D> {
    fn poll(
        &self,
        query: InfrastructureTaskQuery,
    ) -> BoxFuture<'static, Result<InfrastructureTask, DriverError>> {
        let driver = self.0.clone();
        Box::pin(async move { driver.query(query).await })
    }
}

/// How the monitor works: when to poll, how long a poll may take, and the deadline of a
/// task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MonitorSettings {
    pub(crate) schedule: PollSchedule,
    /// `driver.timeouts.query` (or `driver.call_timeout`).
    pub(crate) poll_timeout: Duration,
    /// `job_queue.task_timeout`.
    pub(crate) task_timeout: Option<Duration>,
}

impl MonitorSettings {
    pub(crate) fn from_config(config: &IgnitionConfig) -> Self {
        Self {
            schedule: PollSchedule {
                interval: config.job_queue.poll_interval,
                max_interval: config.job_queue.max_poll_interval,
            },
            poll_timeout: config.driver.timeout_of("query"),
            task_timeout: config.job_queue.task_timeout,
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How often to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PollSchedule {
    /// Between polls of a task in progress.
    pub(crate) interval: Duration,
    /// Ceiling of the backoff after retryable errors.
    pub(crate) max_interval: Duration,
}

impl PollSchedule {
    /// Delay after the `n`th retryable error in a row (n ≥ 1): the interval doubled per
    /// error, capped, plus up to 10 % jitter so that tasks failing together spread out.
    pub(crate) fn after_errors(&self, n: u32) -> Duration {
        let base = crate::backoff::backoff(self.interval, n, self.max_interval);
        crate::backoff::jitter(base, 0.1)
    }
}

/// The InfrastructureTaskMonitoringService: asks the job queue to watch tasks.
#[derive(Clone)]
pub(crate) struct InfrastructureTaskMonitoringService {
    job_queue: Arc<dyn JobQueue>,
    task_timeout: Option<Duration>,
    /// Whether jobs carry `created_ms` (only read by the metrics).
    stamp_created: bool,
}

impl InfrastructureTaskMonitoringService {
    /// Registers the monitoring job handler on `job_queue` and returns the service;
    /// polls are counted into `metrics`.
    pub(crate) fn new(
        job_queue: Arc<dyn JobQueue>,
        poller: Arc<dyn TaskPoller>,
        messaging: InfrastructureMessagingService,
        settings: MonitorSettings,
        metrics: Recorder,
    ) -> Self {
        let stamp_created = metrics.metrics().is_some();
        job_queue.register_handler(
            JOB_TYPE,
            Arc::new(MonitoringHandler {
                poller,
                messaging,
                settings,
                metrics,
            }),
        );
        Self {
            job_queue,
            task_timeout: settings.task_timeout,
            stamp_created,
        }
    }

    /// Starts watching a task; returns once the job queue has the job.
    pub(crate) async fn monitor_task(
        &self,
        infrastructure_id: &str,
        request_id: &str,
        deployment_location: DeploymentLocation,
    ) -> Result<(), JobQueueError> {
        let job = MonitoringJob {
            infrastructure_id: infrastructure_id.to_string(),
            request_id: request_id.to_string(),
            deployment_location,
            polls: 0,
            consecutive_errors: 0,
            deadline_ms: self
                .task_timeout
                .map(|timeout| now_ms().saturating_add(timeout.as_millis() as u64)),
            trace_ctx: crate::tracectx::current(),
            created_ms: self.stamp_created.then(now_ms),
        };
        self.job_queue.queue(job.into_job()).await?;
        tracing::debug!(infrastructure_id, request_id, "monitoring task");
        Ok(())
    }
}

struct MonitoringHandler {
    poller: Arc<dyn TaskPoller>,
    messaging: InfrastructureMessagingService,
    settings: MonitorSettings,
    metrics: Recorder,
}

impl JobHandler for MonitoringHandler {
    fn handle(&self, job: Job) -> BoxFuture<'static, Action> {
        let poller = self.poller.clone();
        let messaging = self.messaging.clone();
        let settings = self.settings;
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let task: MonitoringJob = match job.data() {
                Ok(task) => task,
                Err(err) => {
                    tracing::error!(job_type = JOB_TYPE, error = %err, "malformed monitoring job skipped");
                    return Action::done();
                }
            };
            if task.trace_ctx.is_empty() {
                return poll_once(&*poller, &messaging, settings, &metrics, task).await;
            }
            let ctx = task.trace_ctx.clone();
            crate::tracectx::run(
                ctx,
                poll_once(&*poller, &messaging, settings, &metrics, task),
            )
            .await
        })
    }
}

/// The task's deadline passed: its FAILED event, then done (or, when the event is not
/// delivered, again later).
async fn deadline_passed(
    messaging: &InfrastructureMessagingService,
    schedule: PollSchedule,
    timeout: Option<Duration>,
    deadline: u64,
    metrics: &Recorder,
    mut task: MonitoringJob,
) -> Action {
    let within = timeout
        .map(|t| humantime_serde::re::humantime::format_duration(t).to_string())
        .unwrap_or_else(|| format!("its deadline ({deadline} ms since the epoch)"));
    let failed = InfrastructureTask::failed(
        task.infrastructure_id.clone(),
        task.request_id.clone(),
        FailureDetails::new(
            FailureCode::InternalError,
            format!(
                "the task did not finish within {within} (`job_queue.task_timeout`) after {} polls; it is no longer monitored",
                task.polls
            ),
        ),
    );
    match messaging
        .send_infrastructure_task(&failed, &task.trace_ctx)
        .await
    {
        Ok(()) => {
            if let Some(created) = task.created_ms {
                metrics.create_to_event(created, now_ms());
            }
            tracing::warn!(infrastructure_id = %task.infrastructure_id, request_id = %task.request_id, polls = task.polls, "task deadline passed; FAILED event sent");
            Action::done()
        }
        Err(err) => {
            task.consecutive_errors += 1;
            let after = schedule.after_errors(task.consecutive_errors);
            tracing::warn!(infrastructure_id = %task.infrastructure_id, request_id = %task.request_id, error = %err, ?after, "task deadline passed but its FAILED event was not delivered; will send again");
            Action::requeue(
                task.into_job(),
                after,
                format!("event not delivered: {err}"),
            )
        }
    }
}

/// One poll of one task, and what follows from it (the table in the module docs).
async fn poll_once(
    poller: &dyn TaskPoller,
    messaging: &InfrastructureMessagingService,
    settings: MonitorSettings,
    metrics: &Recorder,
    mut task: MonitoringJob,
) -> Action {
    let schedule = settings.schedule;
    if let Some(deadline) = task.deadline_ms.filter(|deadline| now_ms() >= *deadline) {
        return deadline_passed(
            messaging,
            schedule,
            settings.task_timeout,
            deadline,
            metrics,
            task,
        )
        .await;
    }
    task.polls += 1;
    let query = InfrastructureTaskQuery {
        infrastructure_id: task.infrastructure_id.clone(),
        request_id: task.request_id.clone(),
        deployment_location: task.deployment_location.clone(),
    };
    let polled = match tokio::time::timeout(settings.poll_timeout, poller.poll(query)).await {
        Ok(polled) => {
            metrics.poll(match &polled {
                Ok(state) => PollOutcome::of(state.status),
                Err(err) if err.retry => PollOutcome::Retry,
                Err(_) => PollOutcome::Forgotten,
            });
            polled
        }
        Err(_) => Err(DriverError::temporary(format!(
            "get_infrastructure_task did not answer within {} (`driver.timeouts.query` / `driver.call_timeout`); the poll was cancelled",
            humantime_serde::re::humantime::format_duration(settings.poll_timeout)
        )))
        .inspect_err(|_| metrics.poll(PollOutcome::Timeout)),
    };
    match polled {
        Ok(state) if state.status == TaskStatus::InProgress => {
            task.consecutive_errors = 0;
            let after = schedule.interval;
            Action::requeue(task.into_job(), after, "task in progress")
        }
        Ok(state) => match messaging
            .send_infrastructure_task(&state, &task.trace_ctx)
            .await
        {
            Ok(()) => {
                if let Some(created) = task.created_ms {
                    metrics.create_to_event(created, now_ms());
                }
                tracing::info!(infrastructure_id = %task.infrastructure_id, request_id = %task.request_id, status = ?state.status, polls = task.polls, "task finished; event sent");
                Action::done()
            }
            Err(err) => {
                // The event is not lost: keep the job, poll again and send again.
                task.consecutive_errors += 1;
                let after = schedule.after_errors(task.consecutive_errors);
                tracing::warn!(infrastructure_id = %task.infrastructure_id, request_id = %task.request_id, error = %err, ?after, "task finished but its event was not delivered; will poll and send again");
                Action::requeue(
                    task.into_job(),
                    after,
                    format!("event not delivered: {err}"),
                )
            }
        },
        Err(err) if err.retry => {
            task.consecutive_errors += 1;
            let mut after = schedule.after_errors(task.consecutive_errors);
            if let Some(deadline) = task.deadline_ms {
                // Not past the deadline: the FAILED event goes out when it is due.
                let left = Duration::from_millis(deadline.saturating_sub(now_ms()));
                after = after.min(left);
            }
            tracing::warn!(infrastructure_id = %task.infrastructure_id, request_id = %task.request_id, status = err.status, error = %err.message, errors_in_a_row = task.consecutive_errors, ?after, "poll failed; will retry");
            Action::requeue(
                task.into_job(),
                after,
                format!("retryable error: {}", err.message),
            )
        }
        Err(err) => {
            tracing::warn!(infrastructure_id = %task.infrastructure_id, request_id = %task.request_id, status = err.status, error = %err.message, "poll failed with an error that is not retried; task no longer monitored");
            Action::done()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::messaging::{Delivery, DeliveryError, EmbeddedBus, Envelope};

    /// Answers polls from a script.
    struct Scripted(Mutex<VecDeque<Result<InfrastructureTask, DriverError>>>);

    impl TaskPoller for Scripted {
        fn poll(
            &self,
            _: InfrastructureTaskQuery,
        ) -> BoxFuture<'static, Result<InfrastructureTask, DriverError>> {
            let next = self
                .0
                .lock()
                .unwrap()
                .pop_front()
                .expect("no more scripted polls");
            Box::pin(async move { next })
        }
    }

    struct Refusing;
    impl Delivery for Refusing {
        fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
            Box::pin(async move {
                Err(DeliveryError {
                    topic: envelope.topic,
                    reason: "broker down".into(),
                })
            })
        }
    }

    const SCHEDULE: PollSchedule = PollSchedule {
        interval: Duration::from_secs(1),
        max_interval: Duration::from_secs(8),
    };

    fn job() -> MonitoringJob {
        MonitoringJob {
            infrastructure_id: "i1".into(),
            request_id: "r1".into(),
            deployment_location: DeploymentLocation::new("dl"),
            polls: 0,
            consecutive_errors: 0,
            deadline_ms: None,
            trace_ctx: TraceCtx::default(),
            created_ms: None,
        }
    }

    fn err(retry: bool) -> DriverError {
        DriverError {
            status: if retry { 503 } else { 500 },
            message: "boom".into(),
            extra: serde_json::Map::new(),
            retry,
        }
    }

    const SETTINGS: MonitorSettings = MonitorSettings {
        schedule: SCHEDULE,
        poll_timeout: Duration::from_secs(30),
        task_timeout: None,
    };

    async fn run(
        answer: Result<InfrastructureTask, DriverError>,
        delivery: Arc<dyn Delivery>,
        job: MonitoringJob,
    ) -> Action {
        let poller = Scripted(Mutex::new(VecDeque::from([answer])));
        let messaging = InfrastructureMessagingService::new(delivery, "events");
        poll_once(&poller, &messaging, SETTINGS, &Recorder::default(), job).await
    }

    fn requeued(action: Action) -> (MonitoringJob, Duration) {
        match action {
            Action::Requeue { job, after, .. } => {
                assert_eq!(job.job_type, JOB_TYPE);
                (job.data::<MonitoringJob>().unwrap(), after)
            }
            Action::Done => panic!("expected a requeue"),
        }
    }

    #[tokio::test]
    async fn in_progress_polls_again_after_the_interval() {
        let bus = Arc::new(EmbeddedBus::new(false));
        let action = run(Ok(InfrastructureTask::in_progress("i1", "r1")), bus, job()).await;
        let (next, after) = requeued(action);
        assert_eq!(after, SCHEDULE.interval);
        assert_eq!(next.polls, 1);
    }

    #[tokio::test]
    async fn complete_and_failed_send_the_event_and_finish() {
        for task in [
            InfrastructureTask::complete("i1", "r1"),
            InfrastructureTask::failed(
                "i1",
                "r1",
                crate::models::FailureDetails::new(
                    crate::models::FailureCode::InsufficientCapacity,
                    "full",
                ),
            ),
        ] {
            let bus = Arc::new(EmbeddedBus::new(false));
            let mut events = bus.subscribe();
            let action = run(Ok(task.clone()), bus, job()).await;
            assert_eq!(action, Action::Done);
            let event = events.try_recv().expect("one event");
            assert_eq!(event.topic, "events");
            assert_eq!(event.key.as_deref(), Some("i1"));
            let sent: InfrastructureTask = serde_json::from_str(&event.payload).unwrap();
            assert_eq!(sent, task);
        }
    }

    #[tokio::test]
    async fn an_undelivered_event_keeps_the_job() {
        let action = run(
            Ok(InfrastructureTask::complete("i1", "r1")),
            Arc::new(Refusing),
            job(),
        )
        .await;
        let (next, after) = requeued(action);
        assert_eq!(next.consecutive_errors, 1);
        assert!(after >= SCHEDULE.interval);
    }

    #[tokio::test]
    async fn retryable_errors_back_off_up_to_the_ceiling() {
        let bus: Arc<dyn Delivery> = Arc::new(EmbeddedBus::new(false));
        let mut task = job();
        let mut delays = Vec::new();
        for _ in 0..6 {
            let (next, after) = requeued(run(Err(err(true)), bus.clone(), task).await);
            delays.push(after);
            task = next;
        }
        let base: Vec<u64> = delays.iter().map(|d| d.as_secs()).collect();
        assert_eq!(
            base,
            [1, 2, 4, 8, 8, 8],
            "doubling, capped (plus < 10 % jitter): {delays:?}"
        );
        assert!(delays
            .iter()
            .all(|d| *d < SCHEDULE.max_interval.mul_f64(1.1) + Duration::from_millis(1)));
        // progress resets the backoff
        let (next, after) =
            requeued(run(Ok(InfrastructureTask::in_progress("i1", "r1")), bus, task).await);
        assert_eq!((next.consecutive_errors, after), (0, SCHEDULE.interval));
    }

    #[tokio::test]
    async fn other_errors_forget_the_task() {
        let bus = Arc::new(EmbeddedBus::new(false));
        let mut events = bus.subscribe();
        assert_eq!(run(Err(err(false)), bus, job()).await, Action::Done);
        assert!(events.try_recv().is_err(), "no event for a forgotten task");
    }

    /// Answers COMPLETE; records the trace context each poll ran in.
    struct Traced(Mutex<Vec<TraceCtx>>);

    impl TaskPoller for Traced {
        fn poll(
            &self,
            query: InfrastructureTaskQuery,
        ) -> BoxFuture<'static, Result<InfrastructureTask, DriverError>> {
            self.0.lock().unwrap().push(crate::tracectx::current());
            let task = InfrastructureTask::complete(query.infrastructure_id, query.request_id);
            Box::pin(async move { Ok(task) })
        }
    }

    #[tokio::test]
    async fn the_trace_context_travels_with_the_job_into_the_poll_and_the_event() {
        let ctx: TraceCtx =
            serde_json::from_value(serde_json::json!({"transactionid": "t-1", "processid": "p-1"}))
                .unwrap();
        let job = MonitoringJob {
            trace_ctx: ctx.clone(),
            ..job()
        };
        let message = job.clone().into_job();
        let data: serde_json::Value = message.data().unwrap();
        assert_eq!(
            data["trace_ctx"],
            serde_json::json!({"transactionid": "t-1", "processid": "p-1"})
        );
        // a job of an earlier version (no trace_ctx) still decodes
        let mut older = data.clone();
        older.as_object_mut().unwrap().remove("trace_ctx");
        let older: MonitoringJob = serde_json::from_value(older).unwrap();
        assert!(older.trace_ctx.is_empty());
        assert!(!serde_json::to_string(&older).unwrap().contains("trace_ctx"));

        let bus = Arc::new(EmbeddedBus::new(false));
        let mut events = bus.subscribe();
        let poller = Arc::new(Traced(Mutex::new(Vec::new())));
        let handler = MonitoringHandler {
            poller: poller.clone(),
            messaging: InfrastructureMessagingService::new(bus, "events"),
            settings: SETTINGS,
            metrics: Recorder::default(),
        };
        assert_eq!(handler.handle(message).await, Action::Done);
        assert_eq!(
            *poller.0.lock().unwrap(),
            [ctx],
            "the poll ran in the job's context"
        );
        let event = events.try_recv().expect("one event");
        assert_eq!(
            event.headers,
            [
                ("X-Tracectx-TransactionId".to_string(), "t-1".to_string()),
                ("X-Tracectx-ProcessId".into(), "p-1".into())
            ]
        );
    }

    #[tokio::test]
    async fn a_requeued_job_keeps_its_trace_context() {
        let ctx: TraceCtx =
            serde_json::from_value(serde_json::json!({"transactionid": "t-2"})).unwrap();
        let bus = Arc::new(EmbeddedBus::new(false));
        let task = MonitoringJob {
            trace_ctx: ctx.clone(),
            ..job()
        };
        let (next, _) =
            requeued(run(Ok(InfrastructureTask::in_progress("i1", "r1")), bus, task).await);
        assert_eq!(next.trace_ctx, ctx);
    }

    #[tokio::test]
    async fn malformed_jobs_are_skipped() {
        let handler = MonitoringHandler {
            poller: Arc::new(Scripted(Mutex::new(VecDeque::new()))),
            messaging: InfrastructureMessagingService::new(
                Arc::new(EmbeddedBus::new(false)),
                "events",
            ),
            settings: SETTINGS,
            metrics: Recorder::default(),
        };
        let job = Job::new(JOB_TYPE, None, &serde_json::json!({"infrastructure_id": 5})).unwrap();
        assert_eq!(handler.handle(job).await, Action::Done);
    }
}

#[cfg(test)]
mod deadline_and_timeout_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::messaging::EmbeddedBus;

    /// Never answers; counts its polls.
    struct Hanging(AtomicUsize);
    impl TaskPoller for Hanging {
        fn poll(
            &self,
            _: InfrastructureTaskQuery,
        ) -> BoxFuture<'static, Result<InfrastructureTask, DriverError>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(std::future::pending())
        }
    }

    fn settings(task_timeout: Option<Duration>) -> MonitorSettings {
        MonitorSettings {
            schedule: PollSchedule {
                interval: Duration::from_secs(1),
                max_interval: Duration::from_secs(8),
            },
            poll_timeout: Duration::from_secs(5),
            task_timeout,
        }
    }

    fn job(deadline_ms: Option<u64>) -> MonitoringJob {
        MonitoringJob {
            infrastructure_id: "i1".into(),
            request_id: "r1".into(),
            deployment_location: DeploymentLocation::new("dl"),
            polls: 0,
            consecutive_errors: 0,
            deadline_ms,
            trace_ctx: TraceCtx::default(),
            created_ms: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_poll_is_cancelled_at_its_timeout_and_retried() {
        let poller = Hanging(AtomicUsize::new(0));
        let bus = Arc::new(EmbeddedBus::new(false));
        let messaging = InfrastructureMessagingService::new(bus, "events");
        let started = tokio::time::Instant::now();
        let action = poll_once(
            &poller,
            &messaging,
            settings(None),
            &Recorder::default(),
            job(None),
        )
        .await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(5),
            "cut at the poll timeout"
        );
        match action {
            Action::Requeue { job, reason, .. } => {
                let next: MonitoringJob = job.data().unwrap();
                assert_eq!(next.consecutive_errors, 1, "counted as a temporary error");
                assert!(reason.contains("driver.call_timeout"), "{reason}");
            }
            Action::Done => panic!("a timed-out poll must be retried"),
        }
    }

    #[tokio::test]
    async fn a_task_past_its_deadline_gets_a_failed_event_and_is_done() {
        let poller = Hanging(AtomicUsize::new(0));
        let bus = Arc::new(EmbeddedBus::new(false));
        let mut events = bus.subscribe();
        let messaging = InfrastructureMessagingService::new(bus, "events");
        let past = now_ms() - 1;
        let action = poll_once(
            &poller,
            &messaging,
            settings(Some(Duration::from_secs(60))),
            &Recorder::default(),
            job(Some(past)),
        )
        .await;
        assert_eq!(action, Action::Done);
        assert_eq!(
            poller.0.load(Ordering::SeqCst),
            0,
            "no poll after the deadline"
        );
        let event: InfrastructureTask =
            serde_json::from_str(&events.try_recv().expect("an event").payload).unwrap();
        assert_eq!(event.status, TaskStatus::Failed);
        let details = event.failure_details.expect("failure details");
        assert_eq!(details.failure_code, FailureCode::InternalError);
        let description = details.description.unwrap_or_default();
        assert!(
            description.contains("job_queue.task_timeout") && description.contains("1m"),
            "{description}"
        );
    }
}
