//! The durable spool (`messaging.spool_dir`): creates answered during a broker outage
//! survive a `kill -9` of the driver, and are sent when it starts again.

use std::time::{Duration, Instant};

use std::collections::HashSet;
use std::path::Path;

use ignition_tests::kafka::{replica_spool_dir, Broker, EventCollector, Replica, Setup};

use super::REPLICA;

const CREATES: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn creates_answered_during_an_outage_survive_kill_9_and_all_complete() {
    let broker = Broker::start();
    let setup = Setup::new(&broker);
    // One file for both runs: the same `messaging.spool_dir`.
    let config = setup.write(0);
    // The same name too: a replica's spool is `<spool_dir>/<name>` (see `Replica::spawn`).
    let mut first = Replica::spawn(REPLICA, "spooled", &config);
    let api = first.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;

    broker.pause();
    let paused = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..CREATES {
        // asserts 202
        ids.push(api.create("complete_after:0").await);
    }
    let answered = paused.elapsed();
    first.kill9();
    println!(
        "{CREATES} creates answered 202 in {answered:?} with the broker paused; driver killed (-9)"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker.resume();

    let mut second = Replica::spawn(REPLICA, "spooled", &config);
    let _api = second.wait_ready().await;
    let resent = second
        .logs()
        .iter()
        .any(|line| line.contains("sending again what the spool holds"));
    let tally = events
        .wait_for(
            &super::id_set(&ids),
            Duration::from_secs(120),
            Duration::from_secs(5),
        )
        .await;
    println!(
        "kill -9 during an outage, with the spool: {}",
        tally.summary(CREATES)
    );
    println!(
        "spool kill test counts: sent={CREATES} received={} duplicates={} lost={}",
        tally.received(),
        tally.duplicates(),
        tally.missing.len()
    );
    assert!(
        resent,
        "the second run re-sends the spool:\n{}",
        second.logs().join("\n")
    );
    assert_eq!(tally.missing.len(), 0, "lost: {:?}", tally.missing);
    for event in tally.by_id.values().flatten() {
        assert_eq!(event.value["status"], "COMPLETE", "{:?}", event.value);
    }
}

/// Whether a segment of the spool at `dir` holds `needle`.
fn spool_holds(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "seg"))
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .any(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn an_event_spooled_with_its_trace_context_is_sent_again_with_it_after_kill_9() {
    let broker = Broker::start();
    let setup = Setup::new(&broker);
    let config = setup.write(0);
    let name = "traced-spool";
    let spool = replica_spool_dir(&config, name).expect("the test configuration has a spool");
    let mut first = Replica::spawn(REPLICA, name, &config);
    let api = first.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;

    // Each poll of the task takes 3 s; the broker is paused while it runs, so its event
    // is spooled (with its record headers) and handed to a producer that cannot send it.
    let trace = [
        ("X-Tracectx-TransactionId", "t-spooled"),
        ("X-Tracectx-ProcessId", "p-spooled"),
    ];
    let response = api.create_with_headers("slow_poll:3000", &trace).await;
    let body: serde_json::Value = response.json().await.unwrap();
    let iid = body["infrastructureId"].as_str().unwrap().to_string();
    let polling = format!("clock-driver polling {iid}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !first.logs().iter().any(|line| line.contains(&polling)) {
        assert!(Instant::now() < deadline, "the task was never polled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    broker.pause();
    // The event's record is the only one with record headers (a job carries its trace
    // context in its payload).
    let deadline = Instant::now() + Duration::from_secs(30);
    while !spool_holds(&spool, b"X-Tracectx-TransactionId") {
        assert!(
            Instant::now() < deadline,
            "the event was never spooled:\n{}",
            first.logs().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first_pid = first.pid();
    first.kill9();
    broker.resume();

    let mut second = Replica::spawn(REPLICA, name, &config);
    let _api = second.wait_ready().await;
    let confirmed = "what the spool held from an earlier run is confirmed by the broker";
    let deadline = Instant::now() + Duration::from_secs(60);
    while !second.logs().iter().any(|line| line.contains(confirmed)) {
        assert!(
            Instant::now() < deadline,
            "the spooled event was not sent again:\n{}",
            second.logs().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tally = events
        .wait_for(
            &HashSet::from([iid.clone()]),
            Duration::from_secs(30),
            Duration::from_secs(5),
        )
        .await;
    // Events polled by the first process: the one sent again from the spool, and maybe
    // its own send too (SIGSTOP does not stop the kernel taking the producer's bytes,
    // which the broker reads once resumed). The second process may also poll the job
    // again (its offset was not committed): that event has the second's pid.
    let from_first: Vec<_> = tally
        .by_id
        .get(&iid)
        .into_iter()
        .flatten()
        .filter(|event| event.value["outputs"]["pid"] == first_pid)
        .collect();
    assert!(
        !from_first.is_empty(),
        "no event of {iid} polled by the first process: {:?}",
        tally.by_id
    );
    for event in from_first {
        assert_eq!(event.value["status"], "COMPLETE", "{:?}", event.value);
        assert_eq!(
            event.header_pairs(),
            trace,
            "an event sent again from the spool keeps its record headers (offset {})",
            event.offset
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_full_spool_answers_503_naming_the_bound_and_takes_creates_again_once_drained() {
    let broker = Broker::start();
    let setup = Setup::new(&broker);
    let mut config = setup.value(0);
    config["messaging"]["spool_max_records"] = serde_json::json!(3);
    let file = ignition_tests::kafka::write_config(&serde_yaml::to_string(&config).unwrap());
    let app = ignition::App::new("Kafka Spool Test Driver")
        .config_file(&file)
        .driver(ignition_tests::clock_driver::ClockDriver::new("spool-full"))
        .start()
        .await
        .expect("the app starts on Kafka");
    let api = ignition_tests::RawClient::on_port(app.local_addr().port());
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;

    broker.pause();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(api.create("complete_after:0").await);
    }
    let (status, body) = api
        .post(
            "/api/infrastructure/create",
            &ignition_tests::create_body("complete_after:0"),
        )
        .await
        .expect("create answered");
    println!("4th create with 3 jobs unconfirmed: {status} {body}");
    assert_eq!(status, 503, "{body}");
    let message = body["localizedMessage"].as_str().unwrap_or_default();
    assert!(
        message.contains("`messaging.spool_max_records`: 3") && message.contains("full"),
        "{body}"
    );
    broker.resume();

    // Once the broker confirmed the three, creates are taken again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = api
            .post(
                "/api/infrastructure/create",
                &ignition_tests::create_body("complete_after:0"),
            )
            .await
            .expect("create answered");
        if status == 202 {
            ids.push(ignition_tests::client::ids(&body));
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(Instant::now() < deadline, "the spool never drained: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let tally = events
        .wait_for(
            &super::id_set(&ids),
            Duration::from_secs(90),
            Duration::ZERO,
        )
        .await;
    println!("spool full: {}", tally.summary(ids.len()));
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    tokio::time::timeout(Duration::from_secs(30), app.shutdown())
        .await
        .expect("shutdown within 30 s");
}
