//! The trace context of an execute (LM's `X-Tracectx-*` headers): answered back, carried
//! by the execution's event, and on every log line of the execute and of its polls.

use std::time::{Duration, Instant};

use ignition_tests::kafka::{write_config, Replica};
use ignition_tests::RawClient;
use reqwest::Method;
use serde_json::{Map, Value};

use super::process::RESOURCE_REPLICA;
use super::{execute_body, find_body, request_id, ResourceServer, WAIT};

const EXECUTE: &str = "/api/driver/lifecycle/execute";

const TRACE: [(&str, &str); 2] = [
    ("X-Tracectx-TransactionId", "t-1"),
    ("X-Tracectx-ProcessId", "p-1"),
];

/// POSTs `body` to `path` with `headers`; the answer's status, body and
/// `X-Tracectx-TransactionId`.
async fn post_with(
    client: &RawClient,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, Value, Option<String>) {
    let mut request = client.request(Method::POST, path).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = client.exchange(request).await.expect("an answer");
    let transaction_id = answer
        .header("X-Tracectx-TransactionId")
        .map(str::to_string);
    (answer.status, answer.body, transaction_id)
}

#[tokio::test]
async fn the_trace_context_is_answered_and_carried_by_the_event() {
    let server = ResourceServer::start().await;
    let (status, answer, answered) = post_with(
        &server.client,
        EXECUTE,
        &execute_body("complete_after:100"),
        &TRACE,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answered.as_deref(),
        Some("t-1"),
        "the given transaction id is answered"
    );
    let rid = request_id(&answer);
    server.app.wait_for_execution(&rid, WAIT).await.unwrap();
    let envelope = server
        .app
        .envelopes()
        .unwrap()
        .into_iter()
        .find(|e| e.key.as_deref() == Some(rid.as_str()))
        .expect("the event");
    let headers: Vec<(&str, &str)> = envelope
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(headers, TRACE, "the event's headers");

    // Without headers: a transaction id of its own, answered and on the event.
    let (_, answer, generated) = post_with(
        &server.client,
        EXECUTE,
        &execute_body("complete_after:0"),
        &[],
    )
    .await;
    let generated = generated.expect("a generated X-Tracectx-TransactionId");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    let rid = request_id(&answer);
    server.app.wait_for_execution(&rid, WAIT).await.unwrap();
    let envelope = server
        .app
        .envelopes()
        .unwrap()
        .into_iter()
        .find(|e| e.key.as_deref() == Some(rid.as_str()))
        .expect("the event");
    assert_eq!(
        envelope.headers,
        [("X-Tracectx-TransactionId".to_string(), generated)]
    );
    let (status, _, answered) = post_with(
        &server.client,
        "/api/driver/references/find",
        &find_body("found"),
        &TRACE,
    )
    .await;
    assert_eq!((status, answered.as_deref()), (200, Some("t-1")));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lines_of_an_execute_and_of_every_poll_carry_its_trace_context() {
    let config = write_config("application:\n  port: 0\njob_queue:\n  poll_interval: 100ms\n");
    let mut replica = Replica::spawn_with(
        RESOURCE_REPLICA,
        "traced",
        &config,
        &[("LOG_TYPE", "logstash")],
    );
    let client = replica.wait_ready().await;
    let (status, answer, _) = post_with(
        &client,
        EXECUTE,
        &execute_body("complete_after:350"),
        &TRACE,
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let rid = request_id(&answer);

    let lines = |replica: &Replica| -> Vec<Map<String, Value>> {
        replica
            .logs()
            .iter()
            .filter(|line| line.starts_with('{'))
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    };
    let of_request = |lines: &[Map<String, Value>]| -> Vec<Map<String, Value>> {
        lines
            .iter()
            .filter(|line| line.get("request_id").and_then(Value::as_str) == Some(rid.as_str()))
            .cloned()
            .collect()
    };
    let count = |lines: &[Map<String, Value>], message: &str| {
        lines
            .iter()
            .filter(|line| line["message"] == message)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(&of_request(&lines(&replica)), "task finished; event sent") == 0 {
        assert!(Instant::now() < deadline, "{}", replica.logs().join("\n"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let traced = of_request(&lines(&replica));
    assert_eq!(count(&traced, "resource-driver execute"), 1, "{traced:?}");
    assert!(
        count(&traced, "resource-driver poll") >= 2,
        "IN_PROGRESS, COMPLETE: {traced:?}"
    );
    for line in &traced {
        assert_eq!(line["traceCtx.transactionid"], "t-1", "{line:?}");
        assert_eq!(line["traceCtx.processid"], "p-1", "{line:?}");
    }
    replica.sigterm();
    let status = replica.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}
