//! Figures for the closing note, printed (run with `--nocapture`); only
//! correctness is asserted: create→event latency through Kafka, and how many tasks in
//! flight one replica monitors at a 1 s poll interval.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ignition_tests::clock_driver::{now_ms, PollOutcome, TaskId};
use ignition_tests::kafka::{median_p99, Broker, Setup};
use tokio::task::JoinSet;

use super::{id_set, InProcess};

/// Creates 200 tasks that complete at their first poll, one every ~5 ms; prints the
/// create→event latency.
async fn latency(setup: &Setup, label: &str) {
    let mut app = InProcess::start(setup).await;
    // warm-up: the first task pays for the group join and the producer's connection
    let warm = app.api.create("complete_after:0").await;
    app.events
        .wait_for(&id_set([&warm]), Duration::from_secs(30), Duration::ZERO)
        .await;

    const N: usize = 200;
    let mut sent = Vec::with_capacity(N);
    for _ in 0..N {
        let started = Instant::now();
        let ids = app.api.create("complete_after:0").await;
        sent.push((ids, started));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ids: Vec<_> = sent.iter().map(|(ids, _)| ids.clone()).collect();
    let tally = app
        .events
        .wait_for(&id_set(&ids), Duration::from_secs(60), Duration::ZERO)
        .await;
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    let mut latencies: Vec<f64> = sent
        .iter()
        .map(|((iid, _), started)| {
            (tally.by_id[iid][0].received_at - *started).as_secs_f64() * 1000.0
        })
        .collect();
    let max = latencies.iter().cloned().fold(0.0, f64::max);
    let (median, p99) = median_p99(&mut latencies);
    println!(
        "create→event latency through Kafka ({label}), {N} tasks COMPLETE at the first poll (one every ~5 ms): median {median:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; {}",
        tally.summary(N)
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_from_create_to_event_through_kafka() {
    let setup = Setup::new(Broker::shared());
    latency(&setup, "librdkafka defaults").await;
    // the same with clients that neither wait on fetches nor linger before a send,
    // through `messaging.config`
    let mut setup = Setup::new(Broker::shared());
    setup.client_config = serde_json::json!({"fetch.wait.max.ms": 10, "linger.ms": 0});
    latency(&setup, "messaging.config fetch.wait.max.ms=10, linger.ms=0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_in_flight_one_replica_monitors_at_a_1_s_interval() {
    let tasks: usize = std::env::var("IGNITION_CAPACITY_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut setup = Setup::new(Broker::shared());
    setup.poll_interval = "1s".into();
    setup.max_poll_interval = "10s".into();
    let mut app = InProcess::start(&setup).await;
    let clock = (Instant::now(), now_ms());
    let plan = "complete_after:10000";

    let started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(32));
    let mut creates = JoinSet::new();
    for _ in 0..tasks {
        let (api, limit) = (app.api.clone(), limit.clone());
        creates.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            api.create(plan).await
        });
    }
    let mut ids = Vec::with_capacity(tasks);
    while let Some(created) = creates.join_next().await {
        ids.push(created.expect("create"));
    }
    let create_time = started.elapsed();

    let tally = app
        .events
        .wait_for(
            &id_set(&ids),
            Duration::from_secs(240),
            Duration::from_secs(1),
        )
        .await;
    let polls = app.polls.all();
    // in-progress polls of one task, one interval apart when the replica keeps up
    let mut gaps = Vec::new();
    let mut by_task: std::collections::HashMap<&str, Vec<Instant>> = Default::default();
    for poll in polls
        .iter()
        .filter(|p| p.outcome == PollOutcome::InProgress)
    {
        by_task
            .entry(poll.infrastructure_id.as_str())
            .or_default()
            .push(poll.at);
    }
    for instants in by_task.values() {
        gaps.extend(instants.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()));
    }
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    // how late each event came after the task became COMPLETE
    let mut lateness: Vec<f64> = tally
        .by_id
        .iter()
        .map(|(iid, events)| {
            let due_ms = TaskId::parse(iid).expect("clock id").created_ms + 10_000;
            let received_ms = clock.1 + (events[0].received_at - clock.0).as_millis() as u64;
            received_ms.saturating_sub(due_ms) as f64
        })
        .collect();
    let times: Vec<Instant> = tally.by_id.values().map(|e| e[0].received_at).collect();
    let (first, last) = (times.iter().min(), times.iter().max());
    let spread = match (first, last) {
        (Some(f), Some(l)) => (*l - *f).as_secs_f64(),
        _ => 0.0,
    };
    let (late_median, late_p99) = if lateness.is_empty() {
        (0.0, 0.0)
    } else {
        median_p99(&mut lateness)
    };
    println!(
        "capacity: {tasks} tasks ({plan}) on one replica, poll interval 1 s: created in {:.1} s ({:.0}/s); {} polls in all, mean gap between in-progress polls of a task {:.2} s → {:.0} polls/s achieved of {tasks}/s asked; events spread over {spread:.1} s ({:.0}/s); event after due: median {late_median:.0} ms, p99 {late_p99:.0} ms; {}",
        create_time.as_secs_f64(),
        tasks as f64 / create_time.as_secs_f64(),
        polls.len(),
        mean_gap,
        tasks as f64 / mean_gap.max(f64::EPSILON),
        tasks as f64 / spread.max(f64::EPSILON),
        tally.summary(tasks)
    );
    assert!(
        tally.missing.is_empty(),
        "lost {} tasks",
        tally.missing.len()
    );
    app.shutdown().await;
}
