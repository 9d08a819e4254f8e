//! Sealed monitoring jobs (`job_queue.encryption_key_file`, issue 21): a deployment
//! location's properties are in no job on the job-queue topic and in no spool file;
//! replicas with the same key share the tasks; a job sealed with another key is refused
//! (an ERROR, counted), never polled, and the replica keeps serving.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use ignition_tests::client::ids;
use ignition_tests::kafka::{
    reader_from_beginning, replica_spool_dir, Broker, EventCollector, RawProducer, Replica, Setup,
};
use ignition_tests::{create_body, RawClient};
use rdkafka::consumer::BaseConsumer;
use rdkafka::Message;

use super::REPLICA;

/// The credential every create of these tests carries in its deployment location.
const SECRET: &str = "os-password-7Q9xZ2";

/// A file holding a key of 64 hex characters (as `openssl rand -hex 32` writes it).
fn key_file(dir: &Path, name: &str, byte: u8) -> std::path::PathBuf {
    let path = dir.join(name);
    let hex: String = std::iter::repeat_n(format!("{byte:02x}"), 32).collect();
    std::fs::write(&path, format!("{hex}\n")).unwrap();
    path
}

/// POST /create of `plan` whose deployment location holds [`SECRET`]; asserts 202.
async fn create_with_secret(api: &RawClient, plan: &str) -> (String, String) {
    let mut body = create_body(plan);
    body["deploymentLocation"]["properties"]["os_auth_password"] = SECRET.into();
    let (status, answer) = api
        .post("/api/infrastructure/create", &body)
        .await
        .expect("create answered");
    assert_eq!(status, 202, "{answer}");
    ids(&answer)
}

/// Every message of `topic` so far: (key, payload).
fn read_all(bootstrap: &str, topic: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let reader: BaseConsumer = reader_from_beginning(
        bootstrap,
        topic,
        &format!("sealed-reader-{}", std::process::id()),
        Duration::from_secs(10),
    )
    .expect("a reader of the job topic");
    let mut messages = Vec::new();
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < Duration::from_secs(2) {
        if let Some(Ok(message)) = reader.poll(Duration::from_millis(200)) {
            messages.push((
                message.key().unwrap_or_default().to_vec(),
                message.payload().unwrap_or_default().to_vec(),
            ));
            quiet_since = Instant::now();
        }
    }
    messages
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Whether any file in `dir` holds `needle` (and how many files there were).
fn files_holding(dir: &Path, needle: &str) -> (usize, usize) {
    let files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect();
    let holding = files.iter().filter(|bytes| holds(bytes, needle)).count();
    (files.len(), holding)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn sealed_jobs_keep_the_secret_off_the_topic_and_the_spool_and_replicas_share_them() {
    let broker = Broker::start();
    let keys = tempfile::tempdir().unwrap();
    let mut setup = Setup::new(&broker);
    setup.encryption_key_file = Some(key_file(keys.path(), "ours.key", 0x5a));
    let config = setup.write(0);
    let mut first = Replica::spawn(REPLICA, "sealed-a", &config);
    let mut second = Replica::spawn(REPLICA, "sealed-b", &config);
    let (api_a, api_b) = (first.wait_ready().await, second.wait_ready().await);
    let mut events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
    super::replicas::settle(
        &[api_a.clone(), api_b.clone()],
        &mut events,
        &["sealed-a", "sealed-b"],
    )
    .await;

    // Both replicas take tasks whose jobs they can only read with the shared key.
    let mut created = Vec::new();
    for i in 0..20 {
        let api = if i % 2 == 0 { &api_a } else { &api_b };
        created.push(create_with_secret(api, "complete_after:1000").await);
    }
    let tally = events
        .wait_for(
            &super::id_set(&created),
            Duration::from_secs(90),
            Duration::from_secs(1),
        )
        .await;
    assert!(tally.missing.is_empty(), "lost: {:?}", tally.missing);
    let mut by_replica = BTreeMap::<String, usize>::new();
    for event in tally.by_id.values().flatten() {
        assert_eq!(event.value["status"], "COMPLETE", "{:?}", event.value);
        let replica = event.value["outputs"]["polledBy"].as_str().unwrap_or("?");
        *by_replica.entry(replica.to_string()).or_default() += 1;
    }
    println!("sealed tasks completed by {by_replica:?}");
    assert!(
        by_replica.len() == 2,
        "both replicas polled sealed jobs: {by_replica:?}"
    );

    // The topic holds the jobs (their request ids) but never the secret.
    let jobs = read_all(&setup.bootstrap, &setup.names.jobs);
    let (_, some_request) = &created[0];
    assert!(
        jobs.iter().any(|(_, payload)| holds(payload, some_request)),
        "the job topic holds the jobs ({} messages)",
        jobs.len()
    );
    assert!(
        jobs.iter().all(|(_, payload)| !holds(payload, SECRET)),
        "a job on the topic holds the secret in clear"
    );
    assert!(jobs
        .iter()
        .any(|(_, payload)| holds(payload, "sealed_properties")));

    // The spool: jobs written while the broker is away stay in its files, sealed.
    let spool = replica_spool_dir(&config, "sealed-a").expect("a spool");
    broker.pause();
    let (_, spooled_request) = create_with_secret(&api_a, "complete_after:0").await;
    let (files, with_request) = files_holding(&spool, &spooled_request);
    let (_, with_secret) = files_holding(&spool, SECRET);
    broker.resume();
    assert!(with_request > 0, "the spool ({files} files) holds the job");
    assert_eq!(with_secret, 0, "a spool file holds the secret in clear");

    for replica in [&mut first, &mut second] {
        replica.sigterm();
        assert_eq!(
            replica
                .wait_exit(Duration::from_secs(60))
                .await
                .and_then(|s| s.code()),
            Some(0)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_job_sealed_with_another_key_is_refused_counted_and_never_polled() {
    let broker = Broker::shared();
    let keys = tempfile::tempdir().unwrap();
    // A replica with key A makes sealed jobs; a replica with key B (its own topics) is
    // handed exactly those messages.
    let mut ours = Setup::new(broker);
    ours.encryption_key_file = Some(key_file(keys.path(), "a.key", 0x0a));
    let ours_config = ours.write(0);
    let mut theirs = Setup::new(broker);
    theirs.encryption_key_file = Some(key_file(keys.path(), "b.key", 0x0b));
    let theirs_config = theirs.write(0);

    let mut maker = Replica::spawn(REPLICA, "key-a", &ours_config);
    let api_a = maker.wait_ready().await;
    let made: Vec<_> = futures_created(&api_a, 3).await;
    let mut events = EventCollector::start(&ours.bootstrap, &ours.names.events).await;
    events
        .wait_for(
            &super::id_set(&made),
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await;
    let jobs = read_all(&ours.bootstrap, &ours.names.jobs);
    assert!(!jobs.is_empty());
    maker.sigterm();

    let mut other = Replica::spawn(REPLICA, "key-b", &theirs_config);
    let api_b = other.wait_ready().await;
    let producer = RawProducer::new(&theirs.bootstrap);
    for (key, payload) in &jobs {
        producer
            .send(&theirs.names.jobs, None, Some(key), Some(payload))
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let refused = loop {
        let (_, scrape) = api_b.get("/management/metrics").await.unwrap();
        let count = scrape
            .as_str()
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("ignition_sealed_jobs_refused_total "))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if count >= jobs.len() || Instant::now() > deadline {
            break count;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let logs = other.logs();
    println!(
        "{} sealed jobs handed to a replica with another key: {refused} refused",
        jobs.len()
    );
    assert_eq!(refused, jobs.len(), "{}", logs.join("\n"));
    let errors: Vec<_> = logs
        .iter()
        .filter(|line| line.contains("ERROR") && line.contains("monitoring job refused"))
        .collect();
    assert_eq!(
        errors.len(),
        jobs.len(),
        "one ERROR per refused job:\n{}",
        logs.join("\n")
    );
    assert!(errors[0].contains("another key"), "{}", errors[0]);
    for (iid, _) in &made {
        assert!(
            !logs
                .iter()
                .any(|line| line.contains("clock-driver polled") && line.contains(iid.as_str())),
            "a refused job was polled: {iid}"
        );
    }
    assert!(
        logs.iter().all(|line| !line.contains(SECRET)),
        "the secret is in a log line"
    );
    let (status, _) = api_b.health(Duration::from_secs(10)).await.unwrap();
    assert_eq!(status, 200, "the replica still serves");
    other.sigterm();
    assert_eq!(
        other
            .wait_exit(Duration::from_secs(60))
            .await
            .and_then(|s| s.code()),
        Some(0)
    );
}

/// `count` creates with the secret, one after the other.
async fn futures_created(api: &RawClient, count: usize) -> Vec<(String, String)> {
    let mut made = Vec::new();
    for _ in 0..count {
        made.push(create_with_secret(api, "complete_after:0").await);
    }
    made
}
