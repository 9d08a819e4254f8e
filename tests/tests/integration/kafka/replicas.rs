//! Driver replicas as processes on the real broker: creates at the moment of start-up,
//! two replicas sharing the work, kill -9 with tasks in flight, SIGTERM and restart.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use ignition_tests::kafka::{partition_ends, Broker, EventCollector, Replica, Setup, Tally};
use ignition_tests::process::free_port;
use ignition_tests::RawClient;
use serde_json::json;
use tokio::task::JoinSet;

use super::REPLICA;

/// Creates `count` tasks with `plan`, spread over `apis` in turn, all at once.
async fn create_many(apis: &[RawClient], plan: &str, count: usize) -> Vec<(String, String)> {
    let mut creates = JoinSet::new();
    for i in 0..count {
        let api = apis[i % apis.len()].clone();
        let plan = plan.to_string();
        creates.spawn(async move { api.create(&plan).await });
    }
    let mut ids = Vec::new();
    while let Some(created) = creates.join_next().await {
        ids.push(created.expect("create task"));
    }
    ids
}

/// How many tasks each replica completed (`polledBy`).
fn by_replica(tally: &Tally) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in tally.by_id.values().flatten() {
        let replica = event.value["outputs"]["polledBy"]
            .as_str()
            .unwrap_or("?")
            .to_string();
        *counts.entry(replica).or_default() += 1;
    }
    counts
}

fn assert_all_complete(tally: &Tally) {
    for events in tally.by_id.values() {
        for event in events {
            assert_eq!(event.value["status"], "COMPLETE", "{:?}", event.value);
        }
    }
}

/// Waits until every replica in `names` has polled a task: creates tasks that complete
/// at their first poll through `apis` until each name shows up in `polledBy` (on Tansu
/// a group's first join takes about half the session timeout). Returns how long it took.
pub(super) async fn settle(
    apis: &[RawClient],
    events: &mut EventCollector,
    names: &[&str],
) -> Duration {
    let started = Instant::now();
    let mut seen = HashSet::new();
    while names.iter().any(|n| !seen.contains(*n)) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not every replica polled within 60 s: saw {seen:?}"
        );
        let ids = create_many(apis, "complete_after:0", 4 * apis.len()).await;
        let tally = events
            .wait_for(&super::id_set(&ids), Duration::from_secs(2), Duration::ZERO)
            .await;
        seen.extend(by_replica(&tally).into_keys());
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn creates_fired_the_moment_the_port_opens_all_get_their_events() {
    let setup = Setup::new(Broker::shared());
    let port = free_port();
    let mut replica = Replica::spawn(REPLICA, "early", &setup.write(port));
    let spawned = Instant::now();
    // the moment the port opens
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        if let Some(status) = replica.wait_exit(Duration::ZERO).await {
            panic!(
                "replica exited with {status}:\n{}",
                replica.logs().join("\n")
            );
        }
        assert!(Instant::now() < deadline, "the port never opened");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let opened = spawned.elapsed();
    let api = RawClient::on_port(port);
    let ids = create_many(std::slice::from_ref(&api), "complete_after:500", 28).await;
    let created = spawned.elapsed();

    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    let tally = wait_for_all(&mut events, &ids).await;
    println!(
        "start-up creates: port open {opened:?} after spawn, 28 creates answered by {created:?}; {}",
        tally.summary(28)
    );
    assert!(
        tally.missing.is_empty(),
        "lost at start-up: {:?}",
        tally.missing
    );
    assert_all_complete(&tally);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn two_replicas_share_the_work() {
    let setup = Setup::new(Broker::shared());
    let config = setup.write(0);
    let mut a = Replica::spawn(REPLICA, "replica-a", &config);
    let mut b = Replica::spawn(REPLICA, "replica-b", &config);
    let apis = [a.wait_ready().await, b.wait_ready().await];
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    let settled = settle(&apis, &mut events, &["replica-a", "replica-b"]).await;
    println!("two replicas: both polling {settled:?} after start");
    let ids = create_many(&apis, "complete_after:3000", 40).await;
    let tally = wait_for_all(&mut events, &ids).await;
    let shares = by_replica(&tally);
    let polled = |r: &Replica| {
        let polls = r.polls();
        ids.iter()
            .filter(|(iid, _)| polls.contains_key(iid))
            .count()
    };
    println!(
        "two replicas: {}; completed by {shares:?}; tasks polled by replica-a {}, by replica-b {}; job messages per partition {:?}",
        tally.summary(40),
        polled(&a),
        polled(&b),
        partition_ends(&setup.bootstrap, &setup.names.jobs).await
    );
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    assert_all_complete(&tally);
    assert!(
        shares.contains_key("replica-a") && shares.contains_key("replica-b"),
        "both replicas completed tasks (polledBy): {shares:?}; jobs are produced without a key, so librdkafka's sticky partitioner puts each burst of re-queued jobs on one partition, hence one replica"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_replica_left_without_a_partition_says_which_key_to_raise() {
    let mut setup = Setup::new(Broker::shared());
    setup.job_partitions = 1;
    setup.client_config["session.timeout.ms"] = json!(6000);
    let config = setup.write(0);
    let mut a = Replica::spawn(REPLICA, "replica-a", &config);
    let mut b = Replica::spawn(REPLICA, "replica-b", &config);
    let apis = [a.wait_ready().await, b.wait_ready().await];
    let warned = |r: &Replica| {
        r.logs()
            .into_iter()
            .find(|line| line.contains("messaging.topics.job_queue.num_partitions"))
    };
    let started = Instant::now();
    let line = loop {
        if let Some(line) = warned(&a).or_else(|| warned(&b)) {
            break line;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no replica warned within 90 s\n--- a\n{}\n--- b\n{}",
            a.logs().join("\n"),
            b.logs().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!("idle replica after {:?}: {line}", started.elapsed());
    assert!(line.contains("WARN"), "{line}");
    // "1 partition(s) for 2 members", or "1 partition(s); the group's members could not
    // be listed" on a broker without DescribeGroups (Tansu 0.6)
    assert!(line.contains("(1 partition(s)"), "{line}");
    // exactly one of them stands by, and only it warns; both are healthy
    assert!(warned(&a).is_none() || warned(&b).is_none());
    for api in &apis {
        let (status, body) = api.health(Duration::from_secs(10)).await.expect("health");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["vitals"]["job_queue"]["status"], "OK", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn kill_9_of_a_replica_with_tasks_in_flight_loses_nothing() {
    let mut setup = Setup::new(Broker::shared());
    setup.client_config["session.timeout.ms"] = json!(6000);
    let config = setup.write(0);
    let mut replicas = [
        Replica::spawn(REPLICA, "replica-1", &config),
        Replica::spawn(REPLICA, "replica-2", &config),
    ];
    let apis = [
        replicas[0].wait_ready().await,
        replicas[1].wait_ready().await,
    ];
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    let settled = settle(&apis, &mut events, &["replica-1", "replica-2"]).await;
    let ids = create_many(&apis, "complete_after:4000", 40).await;
    let created_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    // the victim is the replica polling more of the 40 tasks (the job queue, not the
    // test, decides where each job goes)
    let in_flight: Vec<usize> = replicas
        .iter()
        .map(|r| {
            let polls = r.polls();
            ids.iter()
                .filter(|(iid, _)| polls.contains_key(iid))
                .count()
        })
        .collect();
    let victim = if in_flight[0] > in_flight[1] { 0 } else { 1 };
    replicas[victim].kill9();
    let (victim_name, survivor) = (replicas[victim].name.clone(), &replicas[1 - victim]);
    println!(
        "kill -9 of {victim_name} 1 s after the 40 creates (both polling {settled:?} after start); tasks in flight: replica-1 polled {}, replica-2 polled {}",
        in_flight[0], in_flight[1]
    );

    let tally = events
        .wait_for(
            &super::id_set(&ids),
            Duration::from_secs(90),
            Duration::from_secs(3),
        )
        .await;
    let last = tally.by_id.values().flatten().map(|e| e.received_at).max();
    println!(
        "kill -9: {}; completed by {:?}; last event {:?} after the creates",
        tally.summary(40),
        by_replica(&tally),
        last.map(|l| l - created_at)
    );
    if !tally.missing.is_empty() {
        let logs = survivor.logs();
        println!(
            "survivor's log:\n{}",
            logs[logs.len().saturating_sub(40)..].join("\n")
        );
    }
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    assert_all_complete(&tally);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn sigterm_exits_0_and_a_new_replica_finishes_the_tasks() {
    let setup = Setup::new(Broker::shared());
    let config = setup.write(0);
    let mut first = Replica::spawn(REPLICA, "first", &config);
    let api = first.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    // polling first: a replica stopped before its first join ends leaves the group stuck
    // on Tansu (see the module docs of ignition_tests::kafka)
    settle(std::slice::from_ref(&api), &mut events, &["first"]).await;
    let ids = create_many(&[api], "complete_after:3000", 20).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let asked = Instant::now();
    first.sigterm();
    let status = first.wait_exit(Duration::from_secs(15)).await;
    let took = asked.elapsed();
    println!("SIGTERM: exited with {status:?} after {took:?}");
    let status = status
        .unwrap_or_else(|| panic!("no exit 15 s after SIGTERM:\n{}", first.logs().join("\n")));
    assert_eq!(status.code(), Some(0), "{}", first.logs().join("\n"));
    assert!(
        took < Duration::from_secs(10),
        "graceful but prompt: {took:?}"
    );

    let mut second = Replica::spawn(REPLICA, "second", &config);
    second.wait_ready().await;
    let tally = wait_for_all(&mut events, &ids).await;
    println!(
        "SIGTERM then restart: {}; completed by {:?}",
        tally.summary(20),
        by_replica(&tally)
    );
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    assert_all_complete(&tally);
}

/// Every event of `ids` (within 60 s), then 1 s more to catch duplicates.
async fn wait_for_all(events: &mut EventCollector, ids: &[(String, String)]) -> Tally {
    events
        .wait_for(
            &super::id_set(ids),
            Duration::from_secs(60),
            Duration::from_secs(1),
        )
        .await
}
