//! The InfrastructureTaskMonitoringService: watches each create/delete task until it
//! finishes, then has its event sent.
//!
//! One job of type [`JOB_TYPE`] per task. Each run polls the driver's
//! `get_infrastructure_task` once and returns an [`Action`]:
//!
//! | poll result | action |
//! | --- | --- |
//! | `IN_PROGRESS` | poll again after `job_queue.poll_interval` |
//! | `COMPLETE` / `FAILED` | send the event; done once it is delivered (else poll again) |
//! | an error with `retry` (`Temporary`, `UnreachableDeploymentLocation`) | poll again, backing off exponentially up to `job_queue.max_poll_interval` |
//! | any other error | log it and forget the task |
//!
//! The first poll runs as soon as the job is taken; nothing ever waits in a loop.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::driver::Driver;
use crate::error::ApiError;
use crate::jobqueue::{Action, BoxFuture, Job, JobHandler, JobQueue, JobQueueError};
use crate::messaging::InfrastructureMessagingService;
use crate::models::{DeploymentLocation, InfrastructureTask, InfrastructureTaskQuery, TaskStatus};

/// The job type of task monitoring jobs, as in the seed.
pub const JOB_TYPE: &str = "InfrastructureTaskMonitoring";

/// The data of one monitoring job (its [`Job::data`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl MonitoringJob {
    /// The job that carries this task (keyed by infrastructure id).
    pub fn into_job(self) -> Job {
        let key = Some(self.infrastructure_id.clone());
        // Strings and string-keyed maps only: serialising cannot fail.
        Job::new(JOB_TYPE, key, &self).expect("a MonitoringJob serialises to JSON")
    }
}

/// Why a poll failed, as the monitor sees it (the driver's error, type-erased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollError {
    /// The error's HTTP status.
    pub status: u16,
    /// Its message.
    pub message: String,
    /// Whether to poll again later.
    pub retry: bool,
}

impl PollError {
    fn from_api_error<E: ApiError>(err: &E) -> Self {
        Self {
            status: err.status(),
            message: err.to_string(),
            retry: err.retry(),
        }
    }
}

/// What the monitor needs of a driver: one poll of one task.
pub trait TaskPoller: Send + Sync + 'static {
    /// Polls the task once (the driver's `get_infrastructure_task`).
    fn poll(
        &self,
        query: InfrastructureTaskQuery,
    ) -> BoxFuture<'static, Result<InfrastructureTask, PollError>>;
}

/// A [`TaskPoller`] over a driver.
pub(crate) struct DriverPoller<D>(pub(crate) Arc<D>);

impl<D: Driver> TaskPoller for DriverPoller<D> {
    fn poll(
        &self,
        query: InfrastructureTaskQuery,
    ) -> BoxFuture<'static, Result<InfrastructureTask, PollError>> {
        let driver = self.0.clone();
        Box::pin(async move {
            driver
                .query(query)
                .await
                .map_err(|err| PollError::from_api_error(&err))
        })
    }
}

/// How often to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSchedule {
    /// Between polls of a task in progress.
    pub interval: Duration,
    /// Ceiling of the backoff after retryable errors.
    pub max_interval: Duration,
}

impl PollSchedule {
    /// Delay after the `n`th retryable error in a row (n ≥ 1): the interval doubled per
    /// error, capped, plus up to 10 % jitter so that tasks failing together spread out.
    pub fn after_errors(&self, n: u32) -> Duration {
        let base = crate::backoff::backoff(self.interval, n, self.max_interval);
        crate::backoff::jitter(base, 0.1)
    }
}

/// The InfrastructureTaskMonitoringService: asks the job queue to watch tasks.
#[derive(Clone)]
pub struct InfrastructureTaskMonitoringService {
    job_queue: Arc<dyn JobQueue>,
}

impl InfrastructureTaskMonitoringService {
    /// Registers the monitoring job handler on `job_queue` and returns the service.
    pub fn new(
        job_queue: Arc<dyn JobQueue>,
        poller: Arc<dyn TaskPoller>,
        messaging: InfrastructureMessagingService,
        schedule: PollSchedule,
    ) -> Self {
        job_queue.register_handler(
            JOB_TYPE,
            Arc::new(MonitoringHandler {
                poller,
                messaging,
                schedule,
            }),
        );
        Self { job_queue }
    }

    /// Starts watching a task; returns once the job queue has the job.
    pub async fn monitor_task(
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
        };
        self.job_queue.queue(job.into_job()).await?;
        tracing::debug!(infrastructure_id, request_id, "monitoring task");
        Ok(())
    }
}

struct MonitoringHandler {
    poller: Arc<dyn TaskPoller>,
    messaging: InfrastructureMessagingService,
    schedule: PollSchedule,
}

impl JobHandler for MonitoringHandler {
    fn handle(&self, job: Job) -> BoxFuture<'static, Action> {
        let poller = self.poller.clone();
        let messaging = self.messaging.clone();
        let schedule = self.schedule;
        Box::pin(async move {
            let task: MonitoringJob = match job.data() {
                Ok(task) => task,
                Err(err) => {
                    tracing::error!(job_type = JOB_TYPE, error = %err, "malformed monitoring job skipped");
                    return Action::done();
                }
            };
            poll_once(&*poller, &messaging, schedule, task).await
        })
    }
}

/// One poll of one task, and what follows from it (the table in the module docs).
async fn poll_once(
    poller: &dyn TaskPoller,
    messaging: &InfrastructureMessagingService,
    schedule: PollSchedule,
    mut task: MonitoringJob,
) -> Action {
    task.polls += 1;
    let query = InfrastructureTaskQuery {
        infrastructure_id: task.infrastructure_id.clone(),
        request_id: task.request_id.clone(),
        deployment_location: task.deployment_location.clone(),
    };
    match poller.poll(query).await {
        Ok(state) if state.status == TaskStatus::InProgress => {
            task.consecutive_errors = 0;
            let after = schedule.interval;
            Action::requeue(task.into_job(), after, "task in progress")
        }
        Ok(state) => match messaging.send_infrastructure_task(&state).await {
            Ok(()) => {
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
            let after = schedule.after_errors(task.consecutive_errors);
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
    struct Scripted(Mutex<VecDeque<Result<InfrastructureTask, PollError>>>);

    impl TaskPoller for Scripted {
        fn poll(
            &self,
            _: InfrastructureTaskQuery,
        ) -> BoxFuture<'static, Result<InfrastructureTask, PollError>> {
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
        }
    }

    fn err(retry: bool) -> PollError {
        PollError {
            status: if retry { 503 } else { 500 },
            message: "boom".into(),
            retry,
        }
    }

    async fn run(
        answer: Result<InfrastructureTask, PollError>,
        delivery: Arc<dyn Delivery>,
        job: MonitoringJob,
    ) -> Action {
        let poller = Scripted(Mutex::new(VecDeque::from([answer])));
        let messaging = InfrastructureMessagingService::new(delivery, "events");
        poll_once(&poller, &messaging, SCHEDULE, job).await
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

    #[tokio::test]
    async fn malformed_jobs_are_skipped() {
        let handler = MonitoringHandler {
            poller: Arc::new(Scripted(Mutex::new(VecDeque::new()))),
            messaging: InfrastructureMessagingService::new(
                Arc::new(EmbeddedBus::new(false)),
                "events",
            ),
            schedule: SCHEDULE,
        };
        let job = Job::new(JOB_TYPE, None, &serde_json::json!({"infrastructure_id": 5})).unwrap();
        assert_eq!(handler.handle(job).await, Action::Done);
    }
}
