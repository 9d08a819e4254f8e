//! Resource drivers on the real broker: `resource_replica` processes on Kafka, their
//! executions watched through the job-queue topic and ended by one `LifecycleExecution`
//! event on the lifecycle execution events topic (keyed by request id, the trace context
//! as record headers); a driver's error ends an execution FAILED `INTERNAL_ERROR`,
//! `RequestNotFound` forgets it; kill -9 of a replica loses no execution.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use ignition_tests::kafka::{Broker, EventCollector, Replica, Setup, Tally};
use ignition_tests::RawClient;
use reqwest::Method;
use serde_json::{json, Map, Value};
use tokio::task::JoinSet;

use crate::resource::{execute_body, request_id};

/// The replica binary of resource drivers.
const RESOURCE_REPLICA: &str = env!("CARGO_BIN_EXE_resource_replica");

const EXECUTE: &str = "/api/driver/lifecycle/execute";

const TRACE: [(&str, &str); 2] = [
    ("X-Tracectx-TransactionId", "t-1"),
    ("X-Tracectx-ProcessId", "p-1"),
];

/// Executes `lifecycle` through `api` with `headers`; asserts 202; the request id.
async fn execute(api: &RawClient, lifecycle: &str, headers: &[(&str, &str)]) -> String {
    let mut request = api
        .request(Method::POST, EXECUTE)
        .json(&execute_body(lifecycle));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = api.exchange(request).await.expect("an answer");
    assert_eq!(answer.status, 202, "execute {lifecycle}: {}", answer.body);
    request_id(&answer.body)
}

/// Executes `count` times `lifecycle`, spread over `apis` in turn, all at once.
async fn execute_many(apis: &[RawClient], lifecycle: &str, count: usize) -> HashSet<String> {
    let mut executes = JoinSet::new();
    for i in 0..count {
        let api = apis[i % apis.len()].clone();
        let lifecycle = lifecycle.to_string();
        executes.spawn(async move { execute(&api, &lifecycle, &[]).await });
    }
    let mut ids = HashSet::new();
    while let Some(rid) = executes.join_next().await {
        ids.insert(rid.expect("execute task"));
    }
    ids
}

/// How many executions each replica completed (`polledBy`).
fn by_replica(tally: &Tally) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in tally.by_id.values().flatten() {
        let replica = event.value["outputs"]["polledBy"].as_str().unwrap_or("?");
        *counts.entry(replica.to_string()).or_default() += 1;
    }
    counts
}

/// Waits until every replica in `names` has polled an execution (on Tansu a group's first
/// join takes about half the session timeout): executes `complete_after:0` through `apis`
/// until each name shows up in `polledBy`. Returns how long it took.
async fn settle(apis: &[RawClient], events: &mut EventCollector, names: &[&str]) -> Duration {
    let started = Instant::now();
    let mut seen = HashSet::new();
    while names.iter().any(|name| !seen.contains(*name)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not every replica polled within 60 s: saw {seen:?}"
        );
        let ids = execute_many(apis, "complete_after:0", 4 * apis.len()).await;
        let tally = events
            .wait_for(&ids, Duration::from_secs(2), Duration::ZERO)
            .await;
        seen.extend(by_replica(&tally).into_keys());
    }
    started.elapsed()
}

/// The replica's logstash lines about `request_id` (its stderr also has the driver's
/// plain poll lines).
fn lines_of(replica: &Replica, request_id: &str) -> Vec<Map<String, Value>> {
    replica
        .logs()
        .iter()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .filter(|line: &Map<String, Value>| {
            line.get("request_id").and_then(Value::as_str) == Some(request_id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn executions_end_with_one_lifecycle_execution_event_on_its_topic_or_none_if_not_found() {
    let setup = Setup::new(Broker::shared());
    let config = setup.write(0);
    let mut replica = Replica::spawn_with(
        RESOURCE_REPLICA,
        "kafka-1",
        &config,
        &[("LOG_TYPE", "logstash")],
    );
    let api = replica.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.lifecycle_events).await;
    let settled = settle(std::slice::from_ref(&api), &mut events, &["kafka-1"]).await;

    let not_found = execute(&api, "poll_error:RequestNotFound", &[]).await;
    let complete = execute(&api, "complete_after:500", &TRACE).await;
    let failed = execute(&api, "fail_after:200", &[]).await;
    let internal = execute(&api, "poll_error:Internal", &[]).await;
    let panicked = execute(&api, "poll_panic", &[]).await;
    let ended = HashSet::from([
        complete.clone(),
        failed.clone(),
        internal.clone(),
        panicked.clone(),
    ]);
    let mut expected = ended.clone();
    expected.insert(not_found.clone());
    let tally = events
        .wait_for(&expected, Duration::from_secs(30), Duration::from_secs(2))
        .await;
    println!(
        "resource on Kafka: polling {settled:?} after start; {}",
        tally.summary(expected.len())
    );
    assert_eq!(
        tally.missing,
        std::slice::from_ref(&not_found),
        "every execution but the RequestNotFound one has its event"
    );
    assert_eq!(tally.duplicates(), 0, "one event each: {:?}", tally.by_id);
    let event = |rid: &String| tally.by_id[rid][0].clone();

    let done = event(&complete);
    assert_eq!(
        done.value,
        json!({
            "requestId": complete,
            "status": "COMPLETE",
            "outputs": {"polledBy": "kafka-1", "lifecycle": "complete_after:500"},
            "associatedTopology": {"server": {"id": format!("srv-{complete}"), "type": "Test"}},
            "version": "1.0.0",
        }),
        "the contract's LifecycleExecution"
    );
    assert_eq!(
        done.header_pairs(),
        TRACE,
        "the trace context as record headers"
    );
    assert_eq!(
        event(&failed).value["failureDetails"],
        json!({"failureCode": "INSUFFICIENT_CAPACITY", "description": "no room"})
    );
    assert_eq!(
        event(&internal).value,
        json!({
            "requestId": internal,
            "status": "FAILED",
            "failureDetails": {"failureCode": "INTERNAL_ERROR", "description": "Internal error"},
            "outputs": {},
            "associatedTopology": {},
            "version": "1.0.0",
        }),
        "a driver error that is not retried ends the execution"
    );
    let panic = event(&panicked).value;
    assert_eq!(panic["status"], "FAILED", "{panic}");
    assert_eq!(
        panic["failureDetails"]["failureCode"], "INTERNAL_ERROR",
        "{panic}"
    );

    let polls = replica.polls();
    assert_eq!(
        polls.get(&not_found),
        Some(&1),
        "polled once, then forgotten"
    );
    for rid in [&internal, &panicked] {
        assert_eq!(polls.get(rid), Some(&1), "{rid}: polled once");
    }
    // Every line of the traced execute carries its context, its polls' too (the context
    // travels in the job message).
    let traced = lines_of(&replica, &complete);
    let count = |message: &str| traced.iter().filter(|l| l["message"] == message).count();
    assert_eq!(count("resource-driver execute"), 1, "{traced:?}");
    assert!(
        count("resource-driver poll") >= 2,
        "IN_PROGRESS, COMPLETE: {traced:?}"
    );
    for line in &traced {
        assert_eq!(line["traceCtx.transactionid"], "t-1", "{line:?}");
        assert_eq!(line["traceCtx.processid"], "p-1", "{line:?}");
    }

    replica.sigterm();
    let status = replica.wait_exit(Duration::from_secs(15)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0), "exits 0 on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn kill_9_of_a_replica_with_executions_in_flight_loses_none() {
    let mut setup = Setup::new(Broker::shared());
    setup.client_config["session.timeout.ms"] = json!(6000);
    let config = setup.write(0);
    let mut replicas = [
        Replica::spawn(RESOURCE_REPLICA, "replica-1", &config),
        Replica::spawn(RESOURCE_REPLICA, "replica-2", &config),
    ];
    let apis = [
        replicas[0].wait_ready().await,
        replicas[1].wait_ready().await,
    ];
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.lifecycle_events).await;
    let settled = settle(&apis, &mut events, &["replica-1", "replica-2"]).await;
    let ids = execute_many(&apis, "complete_after:4000", 30).await;
    let executed_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The victim is the replica polling more of them (the job queue decides which).
    let in_flight: Vec<usize> = replicas
        .iter()
        .map(|r| {
            let polls = r.polls();
            ids.iter().filter(|rid| polls.contains_key(*rid)).count()
        })
        .collect();
    let victim = if in_flight[0] > in_flight[1] { 0 } else { 1 };
    replicas[victim].kill9();
    println!(
        "resource kill -9 of {} 1 s after 30 executes (both polling {settled:?} after start); in flight: replica-1 polled {}, replica-2 polled {}",
        replicas[victim].name, in_flight[0], in_flight[1]
    );
    assert!(in_flight[victim] > 0, "the victim had executions in flight");

    let tally = events
        .wait_for(&ids, Duration::from_secs(90), Duration::from_secs(3))
        .await;
    let last = tally.by_id.values().flatten().map(|e| e.received_at).max();
    println!(
        "resource kill -9: {}; completed by {:?}; last event {:?} after the executes",
        tally.summary(ids.len()),
        by_replica(&tally),
        last.map(|last| last - executed_at)
    );
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    for event in tally.by_id.values().flatten() {
        assert_eq!(event.value["status"], "COMPLETE", "{:?}", event.value);
    }
    // Each ended after the kill, so by the survivor: it took over the victim's jobs.
    let survivor = replicas[1 - victim].name.clone();
    assert_eq!(
        by_replica(&tally),
        BTreeMap::from([(survivor, ids.len())]),
        "completed by the survivor"
    );
}
