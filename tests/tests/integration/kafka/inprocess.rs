//! One app in this process on the real broker: what the events look like, the monitoring
//! table through Kafka, malformed jobs, topic creation, the `kafka` vital.

use std::time::Duration;

use ignition_tests::clock_driver::PollOutcome;
use ignition_tests::kafka::{partition_count, topic_config, Broker, RawProducer, Setup};
use serde_json::json;

use super::{id_set, InProcess};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn each_outcome_is_one_event_exactly_as_json_keyed_by_infrastructure_id() {
    let setup = Setup::new(Broker::shared());
    let mut app = InProcess::start(&setup).await;
    let complete = app.api.create("complete_after:0").await;
    let failed = app.api.create("fail_after:0").await;
    let deleted = app.api.delete("inf-gone").await;
    assert!(deleted.1.starts_with("delete-complete-"), "{deleted:?}");

    let expected = id_set([&complete, &failed, &deleted]);
    let tally = app
        .events
        .wait_for(&expected, WAIT, Duration::from_secs(1))
        .await;
    println!("event content: {}", tally.summary(3));
    assert!(tally.missing.is_empty(), "missing: {:?}", tally.missing);
    assert!(tally.unexpected.is_empty(), "{:?}", tally.unexpected);
    assert_eq!(tally.duplicates(), 0, "exactly one event per task");
    let event = |iid: &str| {
        let events = &tally.by_id[iid];
        // wait_for checked the key; check it here too, for the record
        assert_eq!(events[0].key.as_deref(), Some(iid));
        events[0].value.clone()
    };
    assert_eq!(
        event(&complete.0),
        json!({"infrastructureId": complete.0, "requestId": complete.1, "status": "COMPLETE",
               "outputs": {"polledBy": "in-process", "ip": "10.0.0.1"}})
    );
    assert_eq!(
        event(&failed.0),
        json!({"infrastructureId": failed.0, "requestId": failed.1, "status": "FAILED",
               "failureDetails": {"failureCode": "INSUFFICIENT_CAPACITY", "description": "no room"}})
    );
    assert_eq!(
        event("inf-gone"),
        json!({"infrastructureId": "inf-gone", "requestId": deleted.1, "status": "COMPLETE"})
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn temporary_errors_are_polled_again_and_not_found_is_forgotten_without_event() {
    let setup = Setup::new(Broker::shared());
    let mut app = InProcess::start(&setup).await;
    // warm-up: right after start the first poll waits for the consumer group's join
    let started = std::time::Instant::now();
    let warm = app.api.create("complete_after:0").await;
    app.events
        .wait_for(&id_set([&warm]), WAIT, Duration::ZERO)
        .await;
    println!(
        "first task after start: polled {:?} after its create",
        app.polls.of(&warm.0)[0].at - started
    );

    let temporary = app.api.create("temporary_until:1000").await;
    let tally = app
        .events
        .wait_for(&id_set([&temporary]), WAIT, Duration::ZERO)
        .await;
    assert!(
        tally.missing.is_empty(),
        "no event after the Temporary errors"
    );
    let event = &tally.by_id[&temporary.0][0].value;
    assert_eq!(event["status"], "COMPLETE");
    assert_eq!(event["requestId"], temporary.1.as_str());
    let polls = app.polls.of(&temporary.0);
    let outcomes: Vec<_> = polls.iter().map(|p| p.outcome.clone()).collect();
    println!(
        "temporary_until:1000 polled {} times: {outcomes:?}",
        polls.len()
    );
    assert!(
        polls.len() >= 2,
        "polled again after Temporary: {outcomes:?}"
    );
    assert_eq!(outcomes[0], PollOutcome::Error("Temporary"));
    assert_eq!(outcomes.last(), Some(&PollOutcome::Complete));
    assert!(
        polls.iter().all(|p| p.request_id == temporary.1),
        "polls carry the create's request id"
    );

    let not_found = app.api.create("not_found").await;
    // a task created after it still gets its event; the forgotten one gets none
    let after = app.api.create("complete_after:0").await;
    let tally = app
        .events
        .wait_for(
            &id_set([&not_found, &after]),
            Duration::from_secs(3),
            Duration::from_secs(1),
        )
        .await;
    let polls = app.polls.of(&not_found.0).len();
    println!(
        "not_found: polled {polls} time(s), {} event(s) within 3 s (15 poll intervals)",
        tally.by_id.get(&not_found.0).map_or(0, Vec::len)
    );
    assert!(
        tally.by_id.contains_key(&after.0),
        "the next task's event arrived"
    );
    assert!(
        !tally.by_id.contains_key(&not_found.0),
        "no event for a task the driver does not know"
    );
    assert_eq!(polls, 1, "polled once, then forgotten");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn malformed_job_messages_are_skipped_and_the_app_keeps_serving() {
    let setup = Setup::new(Broker::shared());
    let mut app = InProcess::start(&setup).await;
    let producer = RawProducer::new(&setup.bootstrap);
    let garbage: [&[u8]; 7] = [
        b"\x00\x01\x02garbage\xff\xfe",
        b"not json at all",
        b"{\"truncated\": ",
        b"{}",
        b"[1, 2, 3]",
        b"{\"due_at\": \"soon\", \"attempt\": -1, \"job\": 42}",
        b"",
    ];
    let partitions = setup.job_partitions;
    for partition in 0..partitions {
        for payload in garbage {
            producer
                .send(
                    &setup.names.jobs,
                    Some(partition),
                    Some(b"junk"),
                    Some(payload),
                )
                .await;
        }
        // a message without key or payload (a tombstone)
        producer
            .send(&setup.names.jobs, Some(partition), None, None)
            .await;
    }
    println!(
        "malformed: wrote {} bad messages on each of {partitions} job partitions",
        garbage.len() + 1
    );

    let tasks = [
        app.api.create("complete_after:0").await,
        app.api.create("complete_after:400").await,
    ];
    let tally = app
        .events
        .wait_for(&id_set(&tasks), WAIT, Duration::from_millis(500))
        .await;
    println!("after malformed jobs: {}", tally.summary(tasks.len()));
    assert!(tally.missing.is_empty(), "missing: {:?}", tally.missing);
    assert!(tally.unexpected.is_empty(), "{:?}", tally.unexpected);

    let (status, body) = app
        .api
        .find("found", Duration::from_secs(5))
        .await
        .expect("find answered");
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .api
        .health(Duration::from_secs(5))
        .await
        .expect("health answered");
    assert_eq!(status, 200, "{body}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn topics_are_created_at_start_with_partitions_and_config_and_existing_is_fine() {
    let mut setup = Setup::new(Broker::shared());
    setup.job_partitions = 3;
    setup.event_partitions = 2;
    setup.job_topic_config = json!({"retention.ms": 60000, "message.timestamp.difference.max.ms": 60000,
                                    "file.delete.delay.ms": 60000});
    let bootstrap = setup.bootstrap.clone();
    assert_eq!(partition_count(&bootstrap, &setup.names.jobs).await, None);
    assert_eq!(partition_count(&bootstrap, &setup.names.events).await, None);

    let app = InProcess::start(&setup).await;
    let jobs = partition_count(&bootstrap, &setup.names.jobs).await;
    let events = partition_count(&bootstrap, &setup.names.events).await;
    println!("auto-created: job topic {jobs:?} partitions, events topic {events:?} partitions");
    assert_eq!(jobs, Some(3));
    assert_eq!(events, Some(2));
    match topic_config(&bootstrap, &setup.names.jobs).await {
        Ok(config) if config.contains_key("retention.ms") => {
            println!("job topic config (DescribeConfigs): {config:?}");
            for key in [
                "retention.ms",
                "message.timestamp.difference.max.ms",
                "file.delete.delay.ms",
            ] {
                assert_eq!(config.get(key).map(String::as_str), Some("60000"), "{key}");
            }
        }
        Ok(config) => println!(
            "DescribeConfigs answers without the topic's settings ({config:?}): config not checked"
        ),
        Err(why) => println!("DescribeConfigs unsupported by Tansu ({why}): config not checked"),
    }
    app.shutdown().await;

    // a second start finds both topics there: fine, same topics
    let app = InProcess::start(&setup).await;
    assert_eq!(
        partition_count(&bootstrap, &setup.names.jobs).await,
        Some(3)
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn the_kafka_vital_is_ok_while_the_broker_runs() {
    let setup = Setup::new(Broker::shared());
    let app = InProcess::start(&setup).await;
    let (status, body) = app
        .api
        .health(Duration::from_secs(10))
        .await
        .expect("health answered");
    println!("health with the broker up: {status} {body}");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["vitals"]["kafka"]["status"], "OK", "{body}");
    assert_eq!(body["vitals"]["job_queue"]["status"], "OK", "{body}");
    assert_eq!(body["vitals"]["app"]["status"], "OK", "{body}");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn the_job_queue_topic_gets_six_partitions_by_default() {
    let setup = Setup::new(Broker::shared());
    let mut config = setup.value(0);
    config["messaging"]["topics"]["job_queue"]
        .as_object_mut()
        .expect("job_queue section")
        .remove("num_partitions");
    let file = ignition_tests::kafka::write_config(&serde_yaml::to_string(&config).unwrap());
    let (driver, _) = ignition_tests::clock_driver::ClockDriver::with_log("defaults");
    let app = ignition::App::new("Kafka Test Driver")
        .config_file(&file)
        .driver(driver)
        .start()
        .await
        .unwrap_or_else(|err| panic!("the app starts on Kafka: {err}"));
    assert_eq!(
        partition_count(&setup.bootstrap, &setup.names.jobs).await,
        Some(ignition::config::JOB_QUEUE_PARTITIONS as usize)
    );
    assert_eq!(ignition::config::JOB_QUEUE_PARTITIONS, 6);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn no_embedded_events_on_kafka() {
    let setup = Setup::new(Broker::shared());
    let (driver, _) = ignition_tests::clock_driver::ClockDriver::with_log("x");
    let mut app = setup
        .app("Kafka Test Driver", driver)
        .start()
        .await
        .expect("starts");
    assert!(app.take_embedded_events().is_none());
    app.shutdown().await;
}
