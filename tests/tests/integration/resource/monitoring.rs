//! Monitoring of executions on the embedded default (Python 3.6's
//! LifecycleExecutionMonitoringService): IN_PROGRESS → again; COMPLETE/FAILED → one
//! `LifecycleExecution` event, exactly the contract's JSON; `RequestNotFound` → forgotten;
//! retried errors → again later; any other error → a FAILED event (`INTERNAL_ERROR`).

use std::collections::HashSet;
use std::time::Duration;

use ignition::models::{FailureCode, TaskStatus};
use ignition_tests::resource_driver::resource_app;
use serde_json::json;

use super::{ResourceServer, WAIT};

#[tokio::test]
async fn in_progress_is_polled_again_until_complete_then_one_event_exactly_as_the_contract() {
    let server = ResourceServer::start().await;
    let rid = server.execute_id("complete_after:300").await;
    let event = server.next_event(WAIT).await.expect("an event");
    assert_eq!(
        event,
        json!({
            "requestId": rid,
            "status": "COMPLETE",
            "outputs": {"polledBy": "in-process", "lifecycle": "complete_after:300"},
            "associatedTopology": {"server": {"id": format!("srv-{rid}"), "type": "Test"}},
            "version": "1.0.0",
        })
    );
    let polls = server.log.polls_of(&rid);
    let outcomes: Vec<&str> = polls.iter().map(|p| p.outcome.as_str()).collect();
    assert!(
        outcomes.len() >= 3,
        "IN_PROGRESS at least twice: {outcomes:?}"
    );
    assert_eq!(outcomes.last(), Some(&"COMPLETE"), "{outcomes:?}");
    assert!(
        outcomes[..outcomes.len() - 1]
            .iter()
            .all(|o| *o == "IN_PROGRESS"),
        "{outcomes:?}"
    );
    for pair in polls.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(45),
            "the poll interval: {gap:?}"
        );
    }
    assert_eq!(
        server.polls(&rid),
        polls.len(),
        "the monitor's count is the driver's"
    );
    // The kit reads the same event as the contract's type.
    let typed = server.app.wait_for_execution(&rid, WAIT).await.unwrap();
    assert_eq!(typed.status, TaskStatus::Complete);
    assert_eq!(
        typed
            .associated_topology
            .get("server")
            .unwrap()
            .element_type,
        "Test"
    );

    assert!(
        server
            .next_event(Duration::from_millis(300))
            .await
            .is_none(),
        "exactly one event"
    );
    assert_eq!(
        server.log.polls_of(&rid).len(),
        polls.len(),
        "no poll after the event"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn failed_from_the_driver_is_a_failed_event_with_its_failure_details() {
    let server = ResourceServer::start().await;
    let rid = server.execute_id("fail_after:100").await;
    let event = server.next_event(WAIT).await.expect("an event");
    assert_eq!(
        event,
        json!({
            "requestId": rid,
            "status": "FAILED",
            "failureDetails": {"failureCode": "INSUFFICIENT_CAPACITY", "description": "no room"},
            "outputs": {},
            "associatedTopology": {},
            "version": "1.0.0",
        })
    );
    assert!(server
        .next_event(Duration::from_millis(300))
        .await
        .is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn a_poll_error_that_is_not_retried_ends_the_execution_failed_with_internal_error() {
    let server = ResourceServer::start().await;
    for error in [
        "Internal",
        "InvalidRequest",
        "InfrastructureNotFound",
        "InvalidDriverFiles",
        "InvalidLifecycleName",
    ] {
        let rid = server.execute_id(&format!("poll_error:{error}")).await;
        let event = server.next_event(WAIT).await.expect("a FAILED event");
        assert_eq!(
            event,
            json!({
                "requestId": rid,
                "status": "FAILED",
                "failureDetails": {"failureCode": "INTERNAL_ERROR", "description": format!("{error} error")},
                "outputs": {},
                "associatedTopology": {},
                "version": "1.0.0",
            }),
            "{error}"
        );
        assert_eq!(server.log.polls_of(&rid).len(), 1, "{error}: polled once");
    }
    assert!(server
        .next_event(Duration::from_millis(300))
        .await
        .is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn a_panicking_poll_ends_the_execution_failed_with_internal_error() {
    // Python 3.6 ended the execution FAILED on any exception of get_lifecycle_execution,
    // a bug's included; a panic is this framework's bug-shaped error.
    let server = ResourceServer::start().await;
    let rid = server.execute_id("poll_panic").await;
    let event = server.next_event(WAIT).await.expect("a FAILED event");
    assert_eq!(event["requestId"], rid.as_str());
    assert_eq!(event["status"], "FAILED");
    assert_eq!(event["failureDetails"]["failureCode"], "INTERNAL_ERROR");
    let description = event["failureDetails"]["description"].as_str().unwrap();
    assert!(
        description.contains("get_lifecycle_execution panicked")
            && description.contains("scripted panic while polling"),
        "{description}"
    );
    assert_eq!(server.log.polls_of(&rid).len(), 1, "polled once");
    // The server goes on.
    server.execute("complete_after:0").await;
    assert_eq!(server.next_event(WAIT).await.unwrap()["status"], "COMPLETE");
    server.shutdown().await;
}

#[tokio::test]
async fn request_not_found_forgets_the_execution_without_an_event() {
    let server = ResourceServer::start().await;
    let rid = server.execute_id("poll_error:RequestNotFound").await;
    assert!(
        server
            .next_event(Duration::from_millis(600))
            .await
            .is_none(),
        "no event for a request the driver does not know"
    );
    let polls = server.log.polls_of(&rid);
    assert_eq!(polls.len(), 1, "polled once, then forgotten: {polls:?}");
    assert_eq!(polls[0].outcome, "RequestNotFound");
    assert_eq!(server.polls(&rid), 1);
    // Monitoring goes on for the others.
    let next = server.execute_id("complete_after:0").await;
    assert_eq!(
        server.next_event(WAIT).await.unwrap()["requestId"],
        next.as_str()
    );
    assert!(server.events_of(&rid).is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn temporary_and_unreachable_are_polled_again_with_backoff() {
    let server = ResourceServer::start().await;
    // Temporary until 400 ms after the execute, then COMPLETE.
    let rid = server.execute_id("temporary_until:400").await;
    let event = server
        .next_event(WAIT)
        .await
        .expect("COMPLETE after the errors");
    assert_eq!(
        (event["requestId"].as_str(), event["status"].as_str()),
        (Some(rid.as_str()), Some("COMPLETE"))
    );
    let polls = server.log.polls_of(&rid);
    assert!(polls.len() >= 3, "{polls:?}");
    assert!(polls[..polls.len() - 1]
        .iter()
        .all(|p| p.outcome == "Temporary"));
    let gaps: Vec<Duration> = polls.windows(2).map(|p| p[1].at - p[0].at).collect();
    // 50 ms, then 100 ms (+ jitter): each wait at least doubles the base
    assert!(gaps[0] >= Duration::from_millis(45), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(95), "{gaps:?}");

    // An error that stays retried: polled again and again, never an event.
    let mut retried = Vec::new();
    for error in ["Temporary", "UnreachableDeploymentLocation"] {
        retried.push(server.execute_id(&format!("poll_error:{error}")).await);
    }
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for rid in &retried {
        let polls = server.log.polls_of(rid);
        assert!(polls.len() >= 3, "{rid}: polled again: {polls:?}");
        assert!(server.events_of(rid).is_empty(), "{rid}: no event");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn the_task_deadline_ends_an_execution_with_a_failed_lifecycle_execution_event() {
    let (app, log) = resource_app();
    let app = app.property("job_queue.task_timeout", "400ms");
    let server = ResourceServer::start_app(app, log).await;
    let rid = server.execute_id("complete_after:600000").await;
    let event = server.next_event(WAIT).await.expect("the deadline's event");
    assert_eq!(event["requestId"], rid.as_str());
    assert_eq!(event["status"], "FAILED");
    assert_eq!(event["failureDetails"]["failureCode"], "INTERNAL_ERROR");
    assert!(
        event["failureDetails"]["description"]
            .as_str()
            .unwrap()
            .contains("job_queue.task_timeout"),
        "{event}"
    );
    assert_eq!(event["outputs"], json!({}), "a LifecycleExecution: {event}");
    assert_eq!(event["associatedTopology"], json!({}), "{event}");
    assert!(event.get("infrastructureId").is_none(), "{event}");
    let typed = server.app.wait_for_execution(&rid, WAIT).await.unwrap();
    assert_eq!(
        typed.failure_details.map(|d| d.failure_code),
        Some(FailureCode::InternalError)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn many_executions_in_flight_each_get_one_event() {
    let server = ResourceServer::start().await;
    let mut expected = HashSet::new();
    for i in 0..100 {
        let plan = if i % 4 == 0 {
            "fail_after:150"
        } else {
            "complete_after:150"
        };
        expected.insert(server.execute_id(plan).await);
    }
    let mut seen = HashSet::new();
    while seen.len() < expected.len() {
        let event = server
            .next_event(WAIT)
            .await
            .expect("every execution ends with an event");
        let rid = event["requestId"].as_str().unwrap().to_string();
        assert!(seen.insert(rid.clone()), "a duplicate for {rid}");
    }
    assert_eq!(seen, expected);
    assert!(server
        .next_event(Duration::from_millis(300))
        .await
        .is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn with_async_messaging_disabled_executions_are_not_monitored() {
    let (app, log) = resource_app();
    let app = app.property("resource_driver.async_messaging_enabled", false);
    let server = ResourceServer::start_app(app, log).await;
    let rid = server.execute_id("complete_after:0").await;
    assert!(server
        .next_event(Duration::from_millis(500))
        .await
        .is_none());
    assert!(server.log.polls_of(&rid).is_empty(), "not polled");
    server.shutdown().await;
}
