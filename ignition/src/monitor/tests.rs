//! Tests of the monitor: one poll and what follows, the job data, sealing, deadlines.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;
use crate::driver::VimDriver;
use crate::messaging::{Delivery, DeliveryError, EmbeddedBus, Envelope};
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    InfrastructureTask, InfrastructureTaskQuery,
};
use crate::operations::{ApiKind, Operation};
use crate::tracectx::TraceCtx;

/// Answers polls from a script; records the trace context of each poll; a poll with
/// an empty script never answers.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<InfrastructureTask, DriverError>>>,
    contexts: Mutex<Vec<TraceCtx>>,
    polls: AtomicUsize,
}

impl Scripted {
    fn answering(
        answers: impl IntoIterator<Item = Result<InfrastructureTask, DriverError>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into_iter().collect()),
            ..Self::default()
        })
    }
}

impl VimDriver for Scripted {
    async fn create(
        &self,
        _: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, DriverError> {
        unreachable!()
    }
    async fn query(&self, _: InfrastructureTaskQuery) -> Result<InfrastructureTask, DriverError> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.contexts
            .lock()
            .unwrap()
            .push(crate::tracectx::current());
        let next = self.answers.lock().unwrap().pop_front();
        match next {
            Some(answer) => answer,
            None => std::future::pending().await,
        }
    }
    async fn delete(
        &self,
        _: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, DriverError> {
        unreachable!()
    }
    async fn find(
        &self,
        _: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, DriverError> {
        unreachable!()
    }
    fn error_statuses(_: Operation) -> Vec<u16> {
        Vec::new()
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

const SETTINGS: MonitorSettings = MonitorSettings {
    schedule: SCHEDULE,
    poll_timeout: Duration::from_secs(30),
    task_timeout: None,
};

fn job() -> MonitoringJob {
    MonitoringJob::new(Some("i1"), "r1", DeploymentLocation::new("dl"))
}

fn err(retry: bool) -> DriverError {
    DriverError {
        status: if retry { 503 } else { 500 },
        message: "boom".into(),
        extra: serde_json::Map::new(),
        retry,
        request_not_found: false,
    }
}

fn monitor(
    driver: Arc<Scripted>,
    delivery: Arc<dyn Delivery>,
    settings: MonitorSettings,
) -> Monitor {
    Monitor {
        poller: Arc::new(VimPoller(driver)),
        messaging: MessagingService::new(delivery, "events", ApiKind::Infrastructure),
        settings,
        metrics: Recorder::default(),
        seal: None,
    }
}

async fn run(
    answer: Result<InfrastructureTask, DriverError>,
    delivery: Arc<dyn Delivery>,
    job: MonitoringJob,
) -> Action {
    monitor(Scripted::answering([answer]), delivery, SETTINGS)
        .poll_once(job)
        .await
}

fn requeued(action: Action) -> (MonitoringJob, Duration) {
    match action {
        Action::Requeue { job, after, .. } => {
            assert_eq!(job.job_type, "InfrastructureTaskMonitoring");
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
            FailureDetails::new(FailureCode::InsufficientCapacity, "full"),
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
async fn other_errors_forget_an_infrastructure_task() {
    let bus = Arc::new(EmbeddedBus::new(false));
    let mut events = bus.subscribe();
    assert_eq!(run(Err(err(false)), bus, job()).await, Action::Done);
    assert!(events.try_recv().is_err(), "no event for a forgotten task");
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
    let message = job.clone().into_job(ApiKind::Infrastructure);
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
    let driver = Scripted::answering([Ok(InfrastructureTask::complete("i1", "r1"))]);
    let observed = Arc::new(AtomicUsize::new(0));
    let counter = observed.clone();
    let handler = MonitoringHandler {
        monitor: Arc::new(monitor(driver.clone(), bus, SETTINGS)),
        observer: Some(Arc::new(move |_: &MonitoringJob| {
            counter.fetch_add(1, Ordering::SeqCst);
        })),
    };
    assert_eq!(handler.handle(message).await, Action::Done);
    assert_eq!(
        *driver.contexts.lock().unwrap(),
        [ctx],
        "the poll ran in the job's context"
    );
    assert_eq!(
        observed.load(Ordering::SeqCst),
        1,
        "the observer saw the poll"
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
    let (next, _) = requeued(run(Ok(InfrastructureTask::in_progress("i1", "r1")), bus, task).await);
    assert_eq!(next.trace_ctx, ctx);
}

#[tokio::test]
async fn with_a_key_jobs_travel_sealed_and_another_keys_jobs_are_refused() {
    let mut location = DeploymentLocation::new("dl");
    location
        .properties
        .insert("password".into(), "hunter2".into());
    let task = MonitoringJob::new(Some("i1"), "r1", location);
    let ours = Arc::new(JobSeal::new(&[1; 32]));
    let driver = Scripted::answering([Ok(InfrastructureTask::in_progress("i1", "r1"))]);
    let bus = Arc::new(EmbeddedBus::new(false));
    let metrics = Recorder::new(Some(Arc::new(crate::metrics::Metrics::new(
        ApiKind::Infrastructure,
        |_| Vec::new(),
    ))));
    let handler = |seal: Arc<JobSeal>| MonitoringHandler {
        monitor: Arc::new(Monitor {
            seal: Some(seal),
            metrics: metrics.clone(),
            ..monitor(driver.clone(), bus.clone(), SETTINGS)
        }),
        observer: None,
    };
    let job = ours.seal(task.clone()).into_job(ApiKind::Infrastructure);
    assert!(!job.data.get().contains("hunter2"), "{}", job.data.get());
    let Action::Requeue { job: next, .. } = handler(ours.clone()).handle(job.clone()).await else {
        panic!("the poll answered IN_PROGRESS: requeued");
    };
    assert!(
        !next.data.get().contains("hunter2"),
        "requeued sealed: {}",
        next.data.get()
    );
    assert_eq!(driver.polls.load(Ordering::SeqCst), 1, "opened and polled");

    let theirs = Arc::new(JobSeal::new(&[2; 32]));
    assert_eq!(handler(theirs).handle(job).await, Action::Done, "refused");
    assert_eq!(driver.polls.load(Ordering::SeqCst), 1, "never polled");
    let scrape = metrics.metrics().unwrap().encode();
    assert!(
        scrape.contains("ignition_sealed_jobs_refused_total 1"),
        "{scrape}"
    );
}

#[tokio::test]
async fn malformed_jobs_are_skipped() {
    let handler = MonitoringHandler {
        monitor: Arc::new(monitor(
            Scripted::answering([]),
            Arc::new(EmbeddedBus::new(false)),
            SETTINGS,
        )),
        observer: None,
    };
    let job = Job::new(
        ApiKind::Infrastructure.job_type(),
        None,
        &serde_json::json!({"infrastructure_id": 5}),
    )
    .unwrap();
    assert_eq!(handler.handle(job).await, Action::Done);
}

fn settings(task_timeout: Option<Duration>) -> MonitorSettings {
    MonitorSettings {
        schedule: SCHEDULE,
        poll_timeout: Duration::from_secs(5),
        task_timeout,
    }
}

#[tokio::test(start_paused = true)]
async fn a_hanging_poll_is_cancelled_at_its_timeout_and_retried() {
    let bus = Arc::new(EmbeddedBus::new(false));
    let started = tokio::time::Instant::now();
    let action = monitor(Scripted::answering([]), bus, settings(None))
        .poll_once(job())
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
            assert!(reason.contains("get_infrastructure_task"), "{reason}");
        }
        Action::Done => panic!("a timed-out poll must be retried"),
    }
}

#[tokio::test]
async fn a_task_past_its_deadline_gets_a_failed_event_and_is_done() {
    let driver = Scripted::answering([]);
    let bus = Arc::new(EmbeddedBus::new(false));
    let mut events = bus.subscribe();
    let task = MonitoringJob {
        deadline_ms: Some(now_ms() - 1),
        ..job()
    };
    let action = monitor(driver.clone(), bus, settings(Some(Duration::from_secs(60))))
        .poll_once(task)
        .await;
    assert_eq!(action, Action::Done);
    assert_eq!(
        driver.polls.load(Ordering::SeqCst),
        0,
        "no poll after the deadline"
    );
    let event: InfrastructureTask =
        serde_json::from_str(&events.try_recv().expect("an event").payload).unwrap();
    assert_eq!(event.status, TaskStatus::Failed);
    assert_eq!(
        (event.infrastructure_id.as_str(), event.request_id.as_str()),
        ("i1", "r1")
    );
    let details = event.failure_details.expect("failure details");
    assert_eq!(details.failure_code, FailureCode::InternalError);
    let description = details.description.unwrap_or_default();
    assert!(
        description.contains("job_queue.task_timeout") && description.contains("1m"),
        "{description}"
    );
}
