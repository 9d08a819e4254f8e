//! The harness by itself: the broker starts, answers, pauses and resumes; a message
//! goes through; names are fresh.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};

use ignition_tests::kafka::{
    client_config, create_topic, partition_count, topic_config, Broker, EventCollector, Names,
    RawProducer,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_carries_a_message_and_survives_a_pause() {
    let broker = Broker::start();
    let names = Names::fresh();
    assert_ne!(names.events, Names::fresh().events, "fresh names");
    create_topic(&broker.bootstrap(), &names.events, 2).await;
    assert_eq!(
        partition_count(&broker.bootstrap(), &names.events).await,
        Some(2)
    );
    assert_eq!(
        partition_count(&broker.bootstrap(), &names.jobs).await,
        None
    );

    let producer = RawProducer::new(&broker.bootstrap());
    let payload = json!({"infrastructureId": "inf-1", "requestId": "r-1", "status": "COMPLETE"});
    let payload = payload.to_string();
    producer
        .send(
            &names.events,
            None,
            Some(b"inf-1"),
            Some(payload.as_bytes()),
        )
        .await;
    let mut events = EventCollector::start(&broker.bootstrap(), &names.events).await;
    let event = events
        .next(Duration::from_secs(10))
        .await
        .expect("the message comes back");
    assert_eq!(event.key.as_deref(), Some("inf-1"));
    assert_eq!(event.value["status"], "COMPLETE");

    // paused: nothing answers; resumed: it carries messages again
    broker.pause();
    let bootstrap = broker.bootstrap();
    let while_paused = tokio::task::spawn_blocking(move || {
        let client: BaseConsumer = client_config(&bootstrap).create().unwrap();
        client.fetch_metadata(None, Duration::from_secs(1)).is_ok()
    })
    .await
    .unwrap();
    broker.resume();
    assert!(!while_paused, "a paused broker does not answer");
    let payload = json!({"infrastructureId": "inf-2"}).to_string();
    producer
        .send(
            &names.events,
            Some(1),
            Some(b"inf-2"),
            Some(payload.as_bytes()),
        )
        .await;
    let event = events
        .next(Duration::from_secs(20))
        .await
        .expect("a message after the pause");
    assert_eq!(event.key.as_deref(), Some("inf-2"));
    assert_eq!(event.partition, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_describe_configs_says_on_this_broker() {
    let broker = Broker::shared();
    let topic = Names::fresh().jobs;
    create_topic(&broker.bootstrap(), &topic, 1).await;
    // Informative: Tansu's DescribeConfigs support decides what the topic test can check.
    match topic_config(&broker.bootstrap(), &topic).await {
        Ok(config) => println!("DescribeConfigs on a fresh topic: {config:?}"),
        Err(why) => println!("DescribeConfigs unsupported: {why}"),
    }
}

/// Polls `consumer` until it has partitions; how long that took, or `None` after `max`.
fn wait_assigned(consumer: &BaseConsumer, max: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < max {
        let _ = consumer.poll(Duration::from_millis(100));
        if consumer
            .assignment()
            .map(|a| a.count() > 0)
            .unwrap_or(false)
        {
            return Some(started.elapsed());
        }
    }
    None
}

fn group_member(bootstrap: &str, group: &str, topic: &str) -> BaseConsumer {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", group)
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "3000")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    consumer
}

/// How long a first join takes on this broker, and that a member leaving after its
/// join does not hold the group up (plain rdkafka consumers, no Ignition).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_join_on_this_broker() {
    let broker = Broker::shared();
    let names = Names::fresh();
    create_topic(&broker.bootstrap(), &names.jobs, 4).await;
    let bootstrap = broker.bootstrap();
    tokio::task::spawn_blocking(move || {
        let first = group_member(&bootstrap, &names.group, &names.jobs);
        let joined = wait_assigned(&first, Duration::from_secs(60));
        println!("first join of a fresh group (session.timeout.ms 10000): {joined:?}");
        assert!(joined.is_some());
        drop(first);
        let second = group_member(&bootstrap, &names.group, &names.jobs);
        let joined = wait_assigned(&second, Duration::from_secs(60));
        println!("next member after the first one left: {joined:?}");
        assert!(joined.is_some());
    })
    .await
    .unwrap();
}

/// A member that leaves while its first join is still pending (here: closed 1.5 s after
/// subscribing, Tansu delays a first join by half the session timeout) leaves the group
/// stuck on Tansu 0.6.0: no later member is ever assigned a partition (seen: none within
/// 150 s, nor within 150 s more for a third one). With Ignition: a replica stopped in
/// its first seconds blocks the job queue of every later replica of the same group.
/// Ignored because it fails on that broker (and takes minutes); run it with
/// `cargo test -p ignition-tests --test integration group_stuck -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "fails on Tansu 0.6.0: a member closed mid-join leaves the group stuck"]
async fn a_member_closed_mid_join_does_not_leave_the_group_stuck() {
    let broker = Broker::shared();
    let names = Names::fresh();
    create_topic(&broker.bootstrap(), &names.jobs, 4).await;
    let bootstrap = broker.bootstrap();
    tokio::task::spawn_blocking(move || {
        let early = group_member(&bootstrap, &names.group, &names.jobs);
        assert_eq!(wait_assigned(&early, Duration::from_millis(1500)), None);
        drop(early);
        let next = group_member(&bootstrap, &names.group, &names.jobs);
        let joined = wait_assigned(&next, Duration::from_secs(60));
        println!("next member after one closed mid-join: {joined:?}");
        assert!(
            joined.is_some(),
            "group stuck after a member closed mid-join"
        );
    })
    .await
    .unwrap();
}
