//! The task monitor end to end on the embedded default: the seed's table, with a 50 ms
//! poll interval (and a 400 ms backoff ceiling).

use std::time::Duration;

use ignition_tests::client::ids;
use ignition_tests::{scripted_app, RawClient, TestServer};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

/// Creates with `script`, returns the ids.
async fn create(server: &TestServer, script: &str) -> (String, String) {
    ids(&server.create(script).await)
}

#[tokio::test]
async fn in_progress_is_polled_again_until_complete_then_one_event_with_outputs() {
    let mut server = TestServer::start().await;
    let (iid, rid) = create(&server, "IN_PROGRESS,IN_PROGRESS,IN_PROGRESS,COMPLETE").await;
    let event = server.next_event(WAIT).await.expect("event");
    assert_eq!(
        event,
        json!({"infrastructureId": iid, "requestId": rid, "status": "COMPLETE", "outputs": {"ip": "10.0.0.1"}})
    );
    let polls = server.scripts.polls_of(&iid, &rid);
    assert_eq!(polls.len(), 4, "three in progress, one complete");
    assert!(
        polls.iter().all(|(_, location)| location == "dl"),
        "polls carry the create's location"
    );
    for pair in polls.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= Duration::from_millis(45),
            "polls follow the interval, got {gap:?}"
        );
    }
    assert!(
        server
            .next_event(Duration::from_millis(300))
            .await
            .is_none(),
        "exactly one event"
    );
    assert_eq!(
        server.scripts.polls_of(&iid, &rid).len(),
        4,
        "no poll after the event"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn the_first_poll_happens_as_soon_as_the_job_is_taken() {
    // With an hour between polls, an event within WAIT means the first poll did not wait
    // for the interval (no bound on wall time is asserted: only order and that it came).
    let (app, scripts) = scripted_app();
    let app = app
        .property("job_queue.poll_interval", "1h")
        .property("job_queue.max_poll_interval", "2h");
    let mut server = TestServer::start_app(app, scripts).await;
    let sent = std::time::Instant::now();
    let (iid, rid) = create(&server, "COMPLETE").await;
    let event = server
        .next_event(WAIT)
        .await
        .expect("the first poll does not wait for the 1 h interval");
    assert_eq!(event["status"], "COMPLETE");
    let polls = server.scripts.polls_of(&iid, &rid);
    assert_eq!(polls.len(), 1);
    assert!(polls[0].0 >= sent, "polled after the create was sent");
    server.shutdown().await;
}

#[tokio::test]
async fn failed_sends_an_event_with_failure_details() {
    let mut server = TestServer::start().await;
    let (iid, rid) = create(&server, "IN_PROGRESS,FAILED").await;
    let event = server.next_event(WAIT).await.expect("event");
    assert_eq!(
        event,
        json!({"infrastructureId": iid, "requestId": rid, "status": "FAILED",
               "failureDetails": {"failureCode": "INSUFFICIENT_CAPACITY", "description": "no room"}})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn temporary_and_unreachable_errors_are_polled_again_with_backoff() {
    let mut server = TestServer::start().await;
    for error in ["Temporary", "Unreachable"] {
        let script = format!("{error},{error},{error},COMPLETE");
        let (iid, rid) = create(&server, &script).await;
        let event = server
            .next_event(WAIT)
            .await
            .expect("event after the errors");
        assert_eq!(event["status"], "COMPLETE");
        let polls = server.scripts.polls_of(&iid, &rid);
        assert_eq!(polls.len(), 4, "{error}");
        let gaps: Vec<Duration> = polls.windows(2).map(|p| p[1].0 - p[0].0).collect();
        // 50 ms, 100 ms, 200 ms (+ jitter): each wait at least doubles the base
        assert!(gaps[0] >= Duration::from_millis(45), "{gaps:?}");
        assert!(gaps[1] >= Duration::from_millis(95), "{gaps:?}");
        assert!(gaps[2] >= Duration::from_millis(195), "{gaps:?}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn any_other_error_forgets_the_task() {
    let mut server = TestServer::start().await;
    for error in [
        "NotFound",
        "RequestNotFound",
        "Internal",
        "InvalidTemplate",
        "PANIC",
    ] {
        let (iid, rid) = create(&server, &format!("{error},COMPLETE")).await;
        assert!(
            server
                .next_event(Duration::from_millis(400))
                .await
                .is_none(),
            "{error}: no event"
        );
        assert_eq!(
            server.scripts.polls_of(&iid, &rid).len(),
            1,
            "{error}: polled once, then forgotten"
        );
    }
    // and monitoring still works afterwards
    create(&server, "COMPLETE").await;
    assert!(server.next_event(WAIT).await.is_some());
    server.shutdown().await;
}

#[tokio::test]
async fn many_tasks_in_flight_each_get_one_event() {
    let mut server = TestServer::start().await;
    let mut expected = std::collections::HashSet::new();
    for _ in 0..200 {
        let (iid, _) = create(&server, "IN_PROGRESS,IN_PROGRESS,COMPLETE").await;
        expected.insert(iid);
    }
    let mut seen = std::collections::HashSet::new();
    while seen.len() < expected.len() {
        let event = server
            .next_event(WAIT)
            .await
            .expect("every task ends with an event");
        assert!(
            seen.insert(event["infrastructureId"].as_str().unwrap().to_string()),
            "no duplicate"
        );
    }
    assert_eq!(seen, expected);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_and_stops_polling() {
    let mut server = TestServer::start().await;
    let (iid, rid) = create(&server, "IN_PROGRESS").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let scripts = server.scripts.clone();
    assert!(server.next_event(Duration::from_millis(10)).await.is_none());
    let base = server.client.base.clone();
    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("shutdown is prompt");
    let before = scripts.polls_of(&iid, &rid).len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        scripts.polls_of(&iid, &rid).len(),
        before,
        "no poll after shutdown"
    );
    assert!(
        RawClient::new(base).health(WAIT).await.is_err(),
        "port closed"
    );
}
