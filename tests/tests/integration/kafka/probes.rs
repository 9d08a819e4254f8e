//! The probes on a real broker (issue 21): a broker outage that the spool rides out
//! neither takes the replica out of the Service (readiness) nor gets it restarted
//! (liveness), while `/management/health` says the broker is away; on SIGTERM readiness
//! turns 503 at once while the listener serves for `application.shutdown_grace`, then
//! the process exits 0.

use std::time::{Duration, Instant};

use ignition_tests::kafka::{Broker, EventCollector, Replica, Setup};
use ignition_tests::RawClient;

use super::REPLICA;

/// How long the broker stays paused: longer than Kubernetes' default probe budget
/// (failureThreshold 3 × periodSeconds 10) and than the consumer's session timeout.
const PAUSE: Duration = Duration::from_secs(90);

async fn probe(api: &RawClient, which: &str) -> (u16, serde_json::Value) {
    api.get_within(
        &format!("/management/health/{which}"),
        Duration::from_secs(10),
    )
    .await
    .unwrap_or_else(|err| panic!("{which}: no answer: {err}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_paused_broker_leaves_the_probes_at_200_while_the_spool_takes_the_creates() {
    let broker = Broker::start();
    let setup = Setup::new(&broker);
    let config = setup.write(0);
    let mut replica = Replica::spawn(REPLICA, "probed", &config);
    let api = replica.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    for which in ["liveness", "readiness"] {
        let (status, body) = probe(&api, which).await;
        assert_eq!(status, 200, "{which} before the pause: {body}");
    }

    broker.pause();
    let paused = Instant::now();
    let mut ids = Vec::new();
    let mut checks = 0;
    let mut health_saw_the_outage = false;
    while paused.elapsed() < PAUSE {
        for which in ["liveness", "readiness"] {
            let (status, body) = probe(&api, which).await;
            assert_eq!(
                status,
                200,
                "{which} {:?} into the pause: {body}",
                paused.elapsed()
            );
        }
        let (status, body) = api.get("/management/health").await.unwrap();
        if status == 503 && body["vitals"]["kafka"]["status"] == "UNHEALTHY" {
            health_saw_the_outage = true;
        }
        ids.push(api.create("complete_after:0").await); // asserts 202
        checks += 1;
        assert!(
            replica.try_exit().is_none(),
            "the replica exited during the pause:\n{}",
            replica.logs().join("\n")
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    println!(
        "broker paused {:?}: {checks} rounds of liveness 200, readiness 200, create 202",
        paused.elapsed()
    );
    assert!(
        health_saw_the_outage,
        "/management/health reports the broker as away (its kafka vital)"
    );
    broker.resume();

    let tally = events
        .wait_for(
            &super::id_set(&ids),
            Duration::from_secs(120),
            Duration::from_secs(2),
        )
        .await;
    println!("after the pause: {}", tally.summary(ids.len()));
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    for which in ["liveness", "readiness"] {
        let (status, body) = probe(&api, which).await;
        assert_eq!(status, 200, "{which} after the pause: {body}");
    }
    replica.sigterm();
    let status = replica.wait_exit(Duration::from_secs(60)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn on_sigterm_readiness_turns_503_at_once_and_requests_are_served_through_the_grace() {
    let mut setup = Setup::new(Broker::shared());
    setup.shutdown_grace = "4s".into();
    let config = setup.write(0);
    let mut replica = Replica::spawn(REPLICA, "drained", &config);
    let api = replica.wait_ready().await;
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    let before = api.create("complete_after:0").await;
    events
        .wait_for(
            &super::id_set([&before]),
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await;

    let signalled = Instant::now();
    replica.sigterm();
    // Readiness turns 503 at once (within the first probe after the signal is handled).
    let mut readiness = probe(&api, "readiness").await;
    while readiness.0 != 503 {
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "readiness still {readiness:?} 1 s after SIGTERM"
        );
        readiness = probe(&api, "readiness").await;
    }
    let not_ready_after = signalled.elapsed();
    assert_eq!(
        readiness.1["vitals"]["app"]["status"], "UNHEALTHY",
        "{:?}",
        readiness.1
    );
    let (status, body) = probe(&api, "liveness").await;
    assert_eq!(status, 200, "liveness during the grace: {body}");

    // LM calls that arrive before the endpoint is removed are answered.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = api.create("complete_after:0").await; // asserts 202
    let served_after = signalled.elapsed();
    assert!(
        served_after < Duration::from_secs(4),
        "the create was sent within the grace ({served_after:?})"
    );

    let status = replica.wait_exit(Duration::from_secs(60)).await;
    let exited_after = signalled.elapsed();
    println!(
        "SIGTERM: readiness 503 after {not_ready_after:?}, a create served after \
         {served_after:?}, exit {status:?} after {exited_after:?}"
    );
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "{}",
        replica.logs().join("\n")
    );
    assert!(
        exited_after >= Duration::from_secs(4),
        "the listener closed before the grace ended ({exited_after:?})"
    );
    // The task accepted during the grace ends too (its job was on the topic; another
    // replica of the group takes it).
    let mut next = Replica::spawn(REPLICA, "next", &config);
    next.wait_ready().await;
    let tally = events
        .wait_for(
            &super::id_set([&during]),
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await;
    assert!(
        tally.missing.is_empty(),
        "the task accepted during the grace was lost"
    );
}
