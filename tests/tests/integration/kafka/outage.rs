//! A 30 s broker outage (the broker paused with SIGSTOP) with tasks in flight: the API
//! keeps answering, health says the broker is gone, and no event is lost. And a full
//! producer buffer during an outage: sends wait for room, none fails or is lost.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ignition::kafka::{KafkaConfig, KafkaDelivery};
use ignition_tests::kafka::{create_topic, Broker, EventCollector, Names, Replica, Setup};
use serde_json::Value;

use super::REPLICA;

const OUTAGE: Duration = Duration::from_secs(30);
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_30_s_broker_outage_loses_nothing_and_the_api_keeps_answering() {
    let broker = Broker::start();
    let setup = Setup::new(&broker);
    let mut replica = Replica::spawn(REPLICA, "through-outage", &setup.write(0));
    let api = replica.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;

    // polling first (Tansu delays a group's first join by half the session timeout)
    let warm = api.create("complete_after:0").await;
    let joined = events
        .wait_for(
            &super::id_set([&warm]),
            Duration::from_secs(30),
            Duration::ZERO,
        )
        .await;
    assert!(joined.missing.is_empty(), "the replica polls");

    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(api.create("complete_after:2000").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let polled_before = replica.polls();
    let polled_before = ids
        .iter()
        .filter(|(iid, _)| polled_before.contains_key(iid))
        .count();
    broker.pause();
    let paused = Instant::now();
    println!(
        "broker paused with 20 tasks in flight (complete_after:2000, {polled_before} already polled)"
    );

    // creates during the outage: their outcome is reported, not assumed
    let mut creates = Vec::new();
    for at in [Duration::from_secs(3), Duration::from_secs(15)] {
        let api = api.clone();
        creates.push(tokio::spawn(async move {
            tokio::time::sleep(at).await;
            let started = Instant::now();
            let answer = api
                .post_within(
                    "/api/infrastructure/create",
                    &ignition_tests::create_body("complete_after:0"),
                    Duration::from_secs(10),
                )
                .await;
            (at, started.elapsed(), answer.map_err(|e| e.to_string()))
        }));
    }

    let (mut health_answers, mut health_503_kafka, mut finds_ok) = (0, 0, 0);
    let mut health_statuses = Vec::new();
    let mut slowest_health = Duration::ZERO;
    let mut slowest_find = Duration::ZERO;
    let mut last_unhealthy: Option<Value> = None;
    while paused.elapsed() < OUTAGE {
        let tick = Instant::now();
        let (health, find) = tokio::join!(
            async {
                let started = Instant::now();
                (api.health(ANSWER_WITHIN).await, started.elapsed())
            },
            async {
                let started = Instant::now();
                (api.find("found", ANSWER_WITHIN).await, started.elapsed())
            }
        );
        let (health, took) = health;
        slowest_health = slowest_health.max(took);
        let (status, body) = health.unwrap_or_else(|err| {
            panic!("health did not answer within 5 s during the outage: {err}")
        });
        health_answers += 1;
        health_statuses.push(status);
        if status == 503 && body["vitals"]["kafka"]["status"] == "UNHEALTHY" {
            health_503_kafka += 1;
            last_unhealthy = Some(body);
        }
        let (find, took) = find;
        slowest_find = slowest_find.max(took);
        let (status, body) = find.unwrap_or_else(|err| {
            panic!("find did not answer within 5 s during the outage: {err}")
        });
        assert_eq!(status, 200, "find during the outage: {body}");
        finds_ok += 1;
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed())).await;
    }
    broker.resume();
    let resumed = Instant::now();
    // when health says OK again, measured while the events come back
    let healthy_again = {
        let api = api.clone();
        tokio::spawn(async move {
            while resumed.elapsed() < Duration::from_secs(90) {
                if let Ok((200, _)) = api.health(ANSWER_WITHIN).await {
                    return Some(resumed.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            None
        })
    };
    println!(
        "during the {OUTAGE:?} outage: {health_answers} health answers ({health_503_kafka} were 503 with kafka UNHEALTHY, slowest {slowest_health:?}), statuses {health_statuses:?}; {finds_ok} finds answered 200 (slowest {slowest_find:?})"
    );
    if let Some(body) = &last_unhealthy {
        println!("health during the outage: {body}");
    }

    let mut accepted = 0;
    for create in creates {
        let (at, took, answer) = create.await.expect("create task");
        println!("create {at:?} into the outage: {answer:?} after {took:?}");
        if let Ok((202, body)) = &answer {
            ids.push(ignition_tests::client::ids(body));
            accepted += 1;
        }
    }

    let sent = ids.len();
    let tally = events
        .wait_for(
            &super::id_set(&ids),
            Duration::from_secs(90),
            Duration::from_secs(2),
        )
        .await;
    let last = tally.by_id.values().flatten().map(|e| e.received_at).max();
    let first = tally
        .by_id
        .values()
        .flatten()
        .map(|e| e.received_at)
        .filter(|at| *at > resumed)
        .min();
    println!(
        "outage: {} ({accepted} of them accepted during the outage); events after resume: first {:?}, last {:?}",
        tally.summary(sent),
        first.map(|l| l.saturating_duration_since(resumed)),
        last.map(|l| l.saturating_duration_since(resumed))
    );

    let healthy_after = healthy_again.await.expect("health task");
    println!("health back to 200 {healthy_after:?} after resume");

    if !tally.missing.is_empty() {
        println!("replica log:\n{}", replica.logs().join("\n"));
    }
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    assert!(
        health_503_kafka > 0,
        "health never reported the broker gone: {health_statuses:?}"
    );
    assert!(healthy_after.is_some(), "health OK again after the outage");
}

/// While librdkafka's buffer is full (two messages here) and the broker is down, further
/// sends wait for room instead of failing; once the broker is back every one of them is
/// confirmed, and each message is on the topic once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn sends_wait_while_the_producer_buffer_is_full_and_none_is_lost() {
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    let topic = Names::fresh().events;
    create_topic(&bootstrap, &topic, 1).await;
    let kafka = KafkaConfig {
        bootstrap: bootstrap.clone(),
        settings: [("queue.buffering.max.messages".to_string(), "2".to_string())].into(),
    };
    let delivery = Arc::new(KafkaDelivery::new(&kafka).expect("producer"));
    let payload = |id: &str| serde_json::json!({ "infrastructureId": id }).to_string();
    delivery
        .send(&topic, Some("warm"), payload("warm").as_bytes())
        .await
        .expect("a send to a live broker is confirmed");

    broker.pause();
    let ids: Vec<String> = (0..6).map(|i| format!("queued-{i}")).collect();
    let sends: Vec<_> = ids
        .iter()
        .map(|id| {
            let (delivery, topic, id) = (delivery.clone(), topic.clone(), id.clone());
            tokio::spawn(async move {
                delivery
                    .send(&topic, Some(&id), payload(&id).as_bytes())
                    .await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let early: Vec<bool> = sends.iter().map(|send| send.is_finished()).collect();
    broker.resume();

    let mut finished_early = Vec::new();
    for ((id, send), early) in ids.iter().zip(sends).zip(early) {
        let confirmed = tokio::time::timeout(Duration::from_secs(60), send)
            .await
            .unwrap_or_else(|_| panic!("{id} not confirmed within 60 s of the broker's return"))
            .expect("send task");
        if early {
            finished_early.push(format!("{id}: {confirmed:?}"));
        }
        assert!(confirmed.is_ok(), "{id}: {confirmed:?}");
    }
    // Every send above succeeded, the early ones included: none failed for want of room.
    // Tansu stopped with SIGSTOP has been seen to confirm a send or two all the same
    // (2 of 6, in 2 of ~10 runs; not understood), so that no send finished is not
    // asserted: that most waited is, since the buffer holds two.
    println!("sends confirmed while the broker was stopped: {finished_early:?}");
    assert!(
        finished_early.len() <= 2,
        "sends wait for room in the buffer while the broker is down: {finished_early:?}"
    );
    let mut events = EventCollector::start(&bootstrap, &topic).await;
    let expected: HashSet<String> = ids.iter().cloned().chain(["warm".to_string()]).collect();
    let tally = events
        .wait_for(&expected, Duration::from_secs(20), Duration::from_secs(1))
        .await;
    println!("{}", tally.summary(expected.len()));
    assert!(tally.missing.is_empty(), "missing: {:?}", tally.missing);
    assert_eq!(tally.duplicates(), 0, "{}", tally.summary(expected.len()));
}

/// A runtime dropped with its app still running (no `shutdown`, or one cut short by a
/// time limit) while the broker is paused finishes dropping: the job-queue consumer,
/// whose close blocks while the broker does not answer, is closed on a thread of its own,
/// not on the runtime thread that cancels the consume loop. Before, that thread blocked
/// in librdkafka and the runtime's drop waited for it forever (a test binary that never
/// ended in CI, a driver that would not exit).
#[test]
#[ignore = "needs a Kafka broker"]
fn a_runtime_dropped_during_an_outage_with_its_app_running_finishes_dropping() {
    let broker = Broker::start();
    let setup = Setup::new(&broker);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(async {
        let mut app = super::InProcess::start(&setup).await;
        // Its consumer has joined and been assigned: a task completes.
        let task = app.api.create("complete_after:0").await;
        let tally = app
            .events
            .wait_for(&super::id_set([&task]), OUTAGE, Duration::ZERO)
            .await;
        assert!(tally.missing.is_empty(), "no event for {task:?}");
        app
    });
    broker.pause();
    let (dropped_tx, dropped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(app);
        drop(runtime);
        let _ = dropped_tx.send(());
    });
    let finished = dropped.recv_timeout(OUTAGE);
    broker.resume();
    assert!(
        finished.is_ok(),
        "the runtime did not finish dropping within {OUTAGE:?} with the broker paused"
    );
}
