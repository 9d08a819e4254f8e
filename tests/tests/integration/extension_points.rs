//! The documented extension points, used as an author would: a job queue of their own
//! (`App::job_queue`) and a delivery of their own (`App::delivery`). (`App::vital` is in
//! `vitals.rs`.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ignition::jobqueue::{BoxFuture, EmbeddedJobQueue, Job, JobHandler, JobQueue, JobQueueError};
use ignition::messaging::{Delivery, DeliveryError, Envelope};
use ignition::prelude::*;
use ignition_tests::{create_body, RawClient, ScriptedDriver};
use serde_json::Value;

/// Counts the jobs it is given and lets the embedded queue run them.
struct Counting {
    inner: EmbeddedJobQueue,
    queued: Arc<AtomicUsize>,
}

impl JobQueue for Counting {
    fn register_handler(&self, job_type: &str, handler: Arc<dyn JobHandler>) {
        self.inner.register_handler(job_type, handler);
    }
    fn queue(&self, job: Job) -> BoxFuture<'_, Result<(), JobQueueError>> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.inner.queue(job)
    }
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        self.inner.shutdown()
    }
}

/// Keeps every message; refuses the first `refuse` ones (a bus that is away).
#[derive(Clone, Default)]
struct Recorder {
    messages: Arc<Mutex<Vec<Envelope>>>,
    refuse: Arc<AtomicUsize>,
}

impl Delivery for Recorder {
    fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
        Box::pin(async move {
            if self
                .refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                return Err(DeliveryError {
                    topic: envelope.topic,
                    reason: "the bus is away".into(),
                });
            }
            self.messages.lock().unwrap().push(envelope);
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_supplied_job_queue_and_delivery_carry_the_monitoring_and_the_events() {
    let queued = Arc::new(AtomicUsize::new(0));
    let recorder = Recorder::default();
    recorder.refuse.store(1, Ordering::SeqCst);
    let (driver, _) = ScriptedDriver::new();
    let app = App::new("Extended Driver")
        .property("application.port", 0)
        .property("job_queue.poll_interval", "20ms")
        .property("job_queue.max_poll_interval", "50ms")
        .job_queue(Counting {
            inner: EmbeddedJobQueue::new(8),
            queued: queued.clone(),
        })
        .delivery(recorder.clone())
        .driver(driver);
    let mut running = app.start().await.expect("starts with supplied services");
    assert!(
        running.take_embedded_events().is_none(),
        "the embedded bus is not used"
    );
    let client = RawClient::on_port(running.local_addr().port());
    let (status, created) = client
        .post(
            "/api/infrastructure/create",
            &create_body("IN_PROGRESS,COMPLETE"),
        )
        .await
        .unwrap();
    assert_eq!(status, 202, "{created}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while recorder.messages.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no event delivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        queued.load(Ordering::SeqCst),
        1,
        "the create's job went through it"
    );
    let messages = recorder.messages.lock().unwrap().clone();
    assert_eq!(
        messages.len(),
        1,
        "one event, after one refused delivery: {messages:?}"
    );
    assert_eq!(messages[0].topic, "lm_vim_infrastructure_task_events");
    let event: Value = serde_json::from_str(&messages[0].payload).unwrap();
    assert_eq!(event["status"], "COMPLETE");
    assert_eq!(event["infrastructureId"], created["infrastructureId"]);
    running.shutdown().await;
}
