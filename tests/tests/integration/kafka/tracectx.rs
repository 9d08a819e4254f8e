//! The trace context on Kafka: it travels in the job message, so the replica that polls
//! a task another replica created logs its polls in the create's context, and the task's
//! event carries it as record headers.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ignition_tests::client::ids;
use ignition_tests::kafka::{Broker, EventCollector, Replica, Setup};
use serde_json::{Map, Value};

use super::replicas::settle;
use super::REPLICA;

/// The replica's logstash lines (its stderr also has the driver's plain poll lines).
fn json_lines(replica: &Replica) -> Vec<Map<String, Value>> {
    replica
        .logs()
        .iter()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

/// The lines whose `infrastructure_id` is `iid`, each checked for the trace context.
fn traced_lines_of(replica: &Replica, iid: &str) -> Vec<Map<String, Value>> {
    let lines: Vec<_> = json_lines(replica)
        .into_iter()
        .filter(|line| line.get("infrastructure_id").and_then(Value::as_str) == Some(iid))
        .collect();
    for line in &lines {
        assert_eq!(
            line["traceCtx.transactionid"], "t-1",
            "{}: {line:?}",
            replica.name
        );
        assert_eq!(
            line["traceCtx.processid"], "p-1",
            "{}: {line:?}",
            replica.name
        );
    }
    lines
}

fn count(lines: &[Map<String, Value>], message: &str) -> usize {
    lines
        .iter()
        .filter(|line| line["message"] == message)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn the_trace_context_travels_with_the_job_to_another_replica_and_onto_the_event() {
    let setup = Setup::new(Broker::shared());
    let config = setup.write(0);
    let env = [("LOG_TYPE", "logstash")];
    let mut first = Replica::spawn_with(REPLICA, "first", &config, &env);
    let api = first.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    // polling first: a replica stopped before its first join ends leaves the group stuck
    // on Tansu (see the module docs of ignition_tests::kafka)
    settle(std::slice::from_ref(&api), &mut events, &["first"]).await;

    let trace = [
        ("X-Tracectx-TransactionId", "t-1"),
        ("X-Tracectx-ProcessId", "p-1"),
    ];
    let response = api.create_with_headers("complete_after:4000", &trace).await;
    assert_eq!(
        response.headers()["X-Tracectx-TransactionId"],
        "t-1",
        "the given transaction id is answered"
    );
    let (iid, _) = ids(&response.json().await.unwrap());

    // The first replica polls the task (IN_PROGRESS), then stops; the second finishes it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !first.polls().contains_key(&iid) {
        assert!(
            Instant::now() < deadline,
            "the first replica never polled {iid}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.sigterm();
    let status = first.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        first.logs().join("\n")
    );
    let mut second = Replica::spawn_with(REPLICA, "second", &config, &env);
    second.wait_ready().await;
    let expected = HashSet::from([iid.clone()]);
    let tally = events
        .wait_for(&expected, Duration::from_secs(60), Duration::ZERO)
        .await;
    assert!(tally.missing.is_empty(), "no event for {iid}");
    let event = &tally.by_id[&iid][0];
    assert_eq!(event.value["status"], "COMPLETE", "{:?}", event.value);
    assert_eq!(
        event.value["outputs"]["polledBy"], "second",
        "polled to the end by the second replica"
    );
    assert_eq!(event.header_pairs(), trace, "the event's record headers");

    // Every line about the task has both fields: the create and polls on the first
    // replica, the polls on the second.
    let on_first = traced_lines_of(&first, &iid);
    assert_eq!(count(&on_first, "clock-driver create"), 1, "{on_first:?}");
    assert!(count(&on_first, "clock-driver poll") >= 1, "{on_first:?}");
    let on_second = traced_lines_of(&second, &iid);
    assert!(count(&on_second, "clock-driver poll") >= 1, "{on_second:?}");
    assert_eq!(
        count(&on_second, "task finished; event sent"),
        1,
        "{on_second:?}"
    );
    second.sigterm();
    let _ = second.wait_exit(Duration::from_secs(15)).await;
}
