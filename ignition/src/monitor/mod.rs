//! The task monitor (the seed's InfrastructureTaskMonitoringService and Python 3.x's
//! LifecycleExecutionMonitoringService, one for both API kinds): watches each task a
//! create, delete or execute started until it ends, then has its event sent.
//!
//! One job per task (type `InfrastructureTaskMonitoring` or
//! `LifecycleExecutionMonitoring`, data [`MonitoringJob`]). Each run polls the driver once
//! through its kind's [`TaskPoller`] and returns an [`Action`]:
//!
//! | poll result | action |
//! | --- | --- |
//! | `IN_PROGRESS` | poll again after `job_queue.poll_interval` |
//! | `COMPLETE` / `FAILED` | send the event; done once it is delivered (else poll again) |
//! | an error with `retry` (`Temporary`, `UnreachableDeploymentLocation`) | poll again, backing off exponentially up to `job_queue.max_poll_interval` |
//! | any other error, or a panic of the poll | the kind's policy: an infrastructure task is forgotten; an execution ends with a FAILED event (`INTERNAL_ERROR`), unless the error is `RequestNotFound` (forgotten) |
//! | a poll past `driver.timeouts.query` / `driver.call_timeout` | cancelled; counts as a temporary error |
//! | `job_queue.task_timeout` passed since the request | a FAILED event (`INTERNAL_ERROR`), done |
//!
//! The first poll runs as soon as the job is taken; nothing ever waits in a loop.

mod job;
mod poller;
mod seal;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;

pub(crate) use job::MonitoringJob;
pub(crate) use poller::{OnPollError, Polled, ResourcePoller, TaskPoller, VimPoller};
#[cfg(feature = "fuzz-internals")]
pub(crate) use seal::open_with as open_sealed;
pub(crate) use seal::JobSeal;

use crate::config::IgnitionConfig;
use crate::error::DriverError;
use crate::jobqueue::{Action, Job, JobHandler, JobQueue, JobQueueError};
use crate::messaging::MessagingService;
use crate::metrics::{PollOutcome, Recorder};
use crate::models::{DeploymentLocation, FailureCode, FailureDetails, TaskStatus};
use crate::operations::{ApiKind, Operation};
use crate::util::now_ms;
use crate::BoxFuture;

/// Called with each task the monitor is about to poll (the test kit counts polls with
/// it).
pub(crate) type PollObserver = Arc<dyn Fn(&MonitoringJob) + Send + Sync>;

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
            poll_timeout: config.driver.timeout_of(Operation::Query.name()),
            task_timeout: config.job_queue.task_timeout,
        }
    }
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

/// The task monitor: asks the job queue to watch tasks of one API kind.
#[derive(Clone)]
pub(crate) struct TaskMonitor {
    job_queue: Arc<dyn JobQueue>,
    kind: ApiKind,
    task_timeout: Option<Duration>,
    /// Seals the jobs' deployment-location properties (`job_queue.encryption_key_file`).
    seal: Option<Arc<JobSeal>>,
    /// Whether jobs carry `created_ms` (only read by the metrics).
    stamp_created: bool,
}

impl TaskMonitor {
    /// Registers the monitoring job handler of `poller`'s kind on `job_queue` and
    /// returns the monitor; events go through `messaging`, polls are counted into
    /// `metrics` and shown to `observer`; with `seal`, jobs travel sealed.
    pub(crate) fn new(
        job_queue: Arc<dyn JobQueue>,
        poller: Arc<dyn TaskPoller>,
        messaging: MessagingService,
        settings: MonitorSettings,
        metrics: Recorder,
        observer: Option<PollObserver>,
        seal: Option<Arc<JobSeal>>,
    ) -> Self {
        let kind = poller.kind();
        let stamp_created = metrics.metrics().is_some();
        job_queue.register_handler(
            kind.job_type(),
            Arc::new(MonitoringHandler {
                monitor: Arc::new(Monitor {
                    poller,
                    messaging,
                    settings,
                    metrics,
                    seal: seal.clone(),
                }),
                observer,
            }),
        );
        Self {
            job_queue,
            kind,
            task_timeout: settings.task_timeout,
            seal,
            stamp_created,
        }
    }

    /// Starts watching a task (an infrastructure task has an infrastructure id, an
    /// execution has none); returns once the job queue has the job.
    pub(crate) async fn monitor_task(
        &self,
        infrastructure_id: Option<&str>,
        request_id: &str,
        deployment_location: DeploymentLocation,
    ) -> Result<(), JobQueueError> {
        let mut job = MonitoringJob::new(infrastructure_id, request_id, deployment_location);
        let now = now_ms();
        job.deadline_ms = self
            .task_timeout
            .map(|timeout| now.saturating_add(timeout.as_millis() as u64));
        job.trace_ctx = crate::tracectx::current();
        job.created_ms = self.stamp_created.then_some(now);
        let job = sealed(self.seal.as_deref(), job);
        self.job_queue.queue(job.into_job(self.kind)).await?;
        tracing::debug!(infrastructure_id, request_id, "monitoring task");
        Ok(())
    }
}

/// `task` as it goes on the job queue: sealed when there is a key.
fn sealed(seal: Option<&JobSeal>, task: MonitoringJob) -> MonitoringJob {
    match seal {
        Some(seal) => seal.seal(task),
        None => task,
    }
}

/// What a run of a monitoring job needs.
struct Monitor {
    poller: Arc<dyn TaskPoller>,
    messaging: MessagingService,
    settings: MonitorSettings,
    metrics: Recorder,
    seal: Option<Arc<JobSeal>>,
}

struct MonitoringHandler {
    monitor: Arc<Monitor>,
    observer: Option<PollObserver>,
}

impl JobHandler for MonitoringHandler {
    fn handle(&self, job: Job) -> BoxFuture<'static, Action> {
        let monitor = self.monitor.clone();
        let observer = self.observer.clone();
        Box::pin(async move {
            let mut job = job;
            let task: MonitoringJob = match job.take_data() {
                Ok(task) => task,
                Err(err) => {
                    tracing::error!(job_type = %job.job_type, error = %err, "malformed monitoring job skipped");
                    return Action::done();
                }
            };
            let (infrastructure_id, request_id) =
                (task.infrastructure_id.clone(), task.request_id.clone());
            let task = match seal::open_with(monitor.seal.as_deref(), task) {
                Ok(task) => task,
                Err(err) => {
                    monitor.metrics.sealed_job_refused();
                    tracing::error!(job_type = %job.job_type, infrastructure_id, request_id, error = %err, "monitoring job refused: its task is no longer monitored here");
                    return Action::done();
                }
            };
            if let Some(observe) = observer {
                observe(&task);
            }
            if task.trace_ctx.is_empty() {
                return monitor.poll_once(task).await;
            }
            let ctx = task.trace_ctx.clone();
            crate::tracectx::run(ctx, monitor.poll_once(task)).await
        })
    }
}

impl Monitor {
    /// One poll of one task, and what follows from it (the table in the module docs).
    async fn poll_once(&self, mut task: MonitoringJob) -> Action {
        let schedule = self.settings.schedule;
        if let Some(deadline) = task.deadline_ms.filter(|deadline| now_ms() >= *deadline) {
            return self.deadline_passed(deadline, task).await;
        }
        task.polls += 1;
        let poll = crate::util::within(
            self.settings.poll_timeout,
            caught(self.poller.kind(), self.poller.poll(&task)),
        );
        let (polled, timed_out) = match poll.await {
            Ok(polled) => (polled, false),
            Err(_) => {
                let err = DriverError::temporary(format!(
                    "{} did not answer within {} (`driver.timeouts.query` / `driver.call_timeout`); the poll was cancelled",
                    poll_method(self.poller.kind()),
                    humantime_serde::re::humantime::format_duration(self.settings.poll_timeout)
                ));
                (Err(err), true)
            }
        };
        let err = match polled {
            Ok(state) if state.status == TaskStatus::InProgress => {
                self.metrics.poll(PollOutcome::InProgress);
                task.consecutive_errors = 0;
                let after = schedule.interval;
                return Action::requeue(self.job(task), after, "task in progress");
            }
            Ok(state) => {
                self.metrics.poll(PollOutcome::of(state.status));
                return self.finish(state, task, "task finished; event sent").await;
            }
            Err(err) => err,
        };
        let policy = self.poller.on_error(&err);
        self.metrics.poll(match policy {
            _ if timed_out => PollOutcome::Timeout,
            OnPollError::Retry => PollOutcome::Retry,
            OnPollError::Forget => PollOutcome::Forgotten,
            OnPollError::Fail => PollOutcome::Failed,
        });
        match policy {
            OnPollError::Retry => {
                task.consecutive_errors += 1;
                let mut after = schedule.after_errors(task.consecutive_errors);
                if let Some(deadline) = task.deadline_ms {
                    // Not past the deadline: the FAILED event goes out when it is due.
                    let left = Duration::from_millis(deadline.saturating_sub(now_ms()));
                    after = after.min(left);
                }
                tracing::warn!(infrastructure_id = task.infrastructure_id(), request_id = %task.request_id, status = err.status, error = %err.message, errors_in_a_row = task.consecutive_errors, ?after, "poll failed; will retry");
                let reason = format!("retryable error: {}", err.message);
                Action::requeue(self.job(task), after, reason)
            }
            OnPollError::Forget => {
                tracing::warn!(infrastructure_id = task.infrastructure_id(), request_id = %task.request_id, status = err.status, error = %err.message, "poll failed with an error that is not retried; task no longer monitored");
                Action::done()
            }
            OnPollError::Fail => {
                let details = FailureDetails::new(FailureCode::InternalError, err.message.clone());
                let failed = self.poller.failed(&task, details);
                tracing::warn!(infrastructure_id = task.infrastructure_id(), request_id = %task.request_id, status = err.status, error = %err.message, "poll failed with an error that is not retried; the task ends FAILED");
                self.finish(failed, task, "task ended by an error; FAILED event sent")
                    .await
            }
        }
    }

    /// The task's deadline passed: its FAILED event, then done (or, when the event is
    /// not delivered, again later).
    async fn deadline_passed(&self, deadline: u64, task: MonitoringJob) -> Action {
        let within = self
            .settings
            .task_timeout
            .map(|t| humantime_serde::re::humantime::format_duration(t).to_string())
            .unwrap_or_else(|| format!("its deadline ({deadline} ms since the epoch)"));
        let details = FailureDetails::new(
            FailureCode::InternalError,
            format!(
                "the task did not finish within {within} (`job_queue.task_timeout`) after {} polls; it is no longer monitored",
                task.polls
            ),
        );
        let failed = self.poller.failed(&task, details);
        self.finish(failed, task, "task deadline passed; FAILED event sent")
            .await
    }

    /// Sends the event of a task that ended, then done; when the event is not
    /// delivered, the job stays and the task is polled (and its event sent) again.
    async fn finish(&self, state: Polled, mut task: MonitoringJob, done: &str) -> Action {
        let delivered = self
            .messaging
            .send(task.key(), state.status, state.event, &task.trace_ctx)
            .await;
        match delivered {
            Ok(()) => {
                if let Some(created) = task.created_ms {
                    self.metrics.create_to_event(created, now_ms());
                }
                tracing::info!(infrastructure_id = task.infrastructure_id(), request_id = %task.request_id, status = ?state.status, polls = task.polls, "{done}");
                Action::done()
            }
            Err(err) => {
                // The event is not lost: keep the job, poll again and send again.
                task.consecutive_errors += 1;
                let after = self.settings.schedule.after_errors(task.consecutive_errors);
                tracing::warn!(infrastructure_id = task.infrastructure_id(), request_id = %task.request_id, error = %err, ?after, "task ended but its event was not delivered; will poll and send again");
                let reason = format!("event not delivered: {err}");
                Action::requeue(self.job(task), after, reason)
            }
        }
    }

    /// `task` as a job again (sealed when there is a key).
    fn job(&self, task: MonitoringJob) -> Job {
        sealed(self.seal.as_deref(), task).into_job(self.poller.kind())
    }
}

/// `poll`, its panic an internal error of the driver (`<method> panicked: <message>`):
/// the kind's error policy then applies, as to any other error that is not retried (a
/// resource driver's execution ends FAILED, as Python 3.6 ended it on any exception of
/// `get_lifecycle_execution`; a VIM driver's task is forgotten).
async fn caught(
    kind: ApiKind,
    poll: BoxFuture<'static, Result<Polled, DriverError>>,
) -> Result<Polled, DriverError> {
    AssertUnwindSafe(poll)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            Err(DriverError::internal(format!(
                "{} panicked: {}",
                poll_method(kind),
                crate::util::panic_message(panic.as_ref())
            )))
        })
}

/// The author's method a poll calls, for messages.
fn poll_method(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Infrastructure => Operation::Query.method(),
        ApiKind::ResourceDriver => Operation::ExecutionQuery.method(),
    }
}

#[cfg(test)]
mod tests;
