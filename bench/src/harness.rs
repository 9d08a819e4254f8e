//! What every suite shares: where processes run, the driver process and its events, an
//! HTTP client for it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::servers::DriverStats;
use crate::sys::{self, Child, ProcSample, Spawn, Stdout};

/// Which CPUs run what. With two or more CPUs (and pinning on), the server under test
/// runs alone on CPU 0 and everything else (wrk, the broker, this harness) on CPU 1.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// The server under test (the framework driver or bare poem).
    pub server_cpu: Option<usize>,
    /// wrk, the broker and the harness.
    pub load_cpu: Option<usize>,
}

impl Layout {
    /// Pinned when asked and there are at least two CPUs.
    pub fn new(pin: bool) -> Self {
        if pin && sys::nproc() >= 2 {
            Self {
                server_cpu: Some(0),
                load_cpu: Some(1),
            }
        } else {
            Self {
                server_cpu: None,
                load_cpu: None,
            }
        }
    }

    /// For the report.
    pub fn describe(&self) -> String {
        match (self.server_cpu, self.load_cpu) {
            (Some(s), Some(l)) => format!(
                "server under test pinned to CPU {s}; wrk, broker and harness pinned to CPU {l}"
            ),
            _ => "not pinned".into(),
        }
    }
}

/// One message the harness saw: a task event (its infrastructure id) or a raw message.
#[derive(Debug, Clone)]
pub struct Received {
    /// The infrastructure id (the event's key), or the raw message's key.
    pub key: String,
    /// When the harness read it.
    pub at: Instant,
}

/// The sending side of [`Events`].
pub struct EventSender {
    tx: mpsc::Sender<Received>,
    listening: Arc<AtomicBool>,
}

impl EventSender {
    /// Hands one message over.
    pub fn send(&self, received: Received) {
        let _ = self.tx.send(received);
    }

    /// Whether anybody still listens.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Relaxed)
    }
}

/// Messages read by a background thread, each stamped when it was read.
pub struct Events {
    rx: mpsc::Receiver<Received>,
    listening: Arc<AtomicBool>,
}

impl Events {
    /// A channel: the reader thread keeps the sender.
    pub fn channel() -> (EventSender, Events) {
        let (tx, rx) = mpsc::channel();
        let listening = Arc::new(AtomicBool::new(true));
        (
            EventSender {
                tx,
                listening: listening.clone(),
            },
            Events { rx, listening },
        )
    }

    /// The next message, or `None` once `deadline` passed.
    pub fn next_until(&self, deadline: Instant) -> Option<Received> {
        let wait = deadline.saturating_duration_since(Instant::now());
        self.rx.recv_timeout(wait).ok()
    }

    /// Waits for the message keyed `key` (dropping others) until `deadline`.
    pub fn wait_for(&self, key: &str, deadline: Instant) -> Option<Received> {
        while let Some(received) = self.next_until(deadline) {
            if received.key == key {
                return Some(received);
            }
        }
        None
    }

    /// Collects messages whose key starts with `prefix` until `count` arrived or the
    /// deadline passed; keyed by key, the first arrival of each.
    pub fn collect(
        &self,
        prefix: &str,
        count: usize,
        deadline: Instant,
    ) -> HashMap<String, Instant> {
        let mut seen = HashMap::new();
        while seen.len() < count {
            match self.next_until(deadline) {
                Some(received) if received.key.starts_with(prefix) => {
                    seen.entry(received.key).or_insert(received.at);
                }
                Some(_) => {}
                None => break,
            }
        }
        seen
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.listening.store(false, Ordering::Relaxed);
    }
}

/// The embedded bus prints one task event per stdout line: read them in a thread.
fn read_stdout_events(stdout: std::process::ChildStdout) -> Events {
    let (tx, events) = Events::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let at = Instant::now();
            let key = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v["infrastructureId"].as_str().map(str::to_string))
                .unwrap_or_default();
            // Keep reading (and so draining the pipe) even when nobody listens.
            tx.send(Received { key, at });
        }
    });
    events
}

/// Where a driver sends its events and jobs.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The embedded default (in-process job queue; events on stdout).
    Embedded,
    /// Kafka at this bootstrap address.
    Kafka(String),
}

impl Backend {
    /// `embedded` or `kafka`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Embedded => "embedded",
            Backend::Kafka(_) => "kafka",
        }
    }
}

/// Topic and group names of one driver on Kafka.
#[derive(Debug, Clone)]
pub struct KafkaNames {
    /// Task events.
    pub events: String,
    /// The job queue.
    pub jobs: String,
    /// The job queue's consumer group.
    pub group: String,
}

fn suffix() -> String {
    use std::sync::atomic::AtomicU32;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// How to start a driver process.
pub struct DriverSpec {
    /// Embedded or Kafka.
    pub backend: Backend,
    /// `job_queue.poll_interval`.
    pub poll_interval: String,
    /// Read its task events (stdout on the embedded default, the topic on Kafka).
    pub read_events: bool,
    /// `messaging.config` for Kafka (librdkafka passthrough).
    pub kafka_config: Map<String, Value>,
    /// More properties (dotted keys).
    pub extra: Map<String, Value>,
    /// Its `RUST_LOG`, instead of `BENCH_DRIVER_LOG` (default `info`).
    pub log: Option<String>,
    /// Count its heap allocations (`BENCH_COUNT_ALLOCS=1`; the `allocs` part).
    pub count_allocs: bool,
    /// The no-op resource driver (`BENCH_KIND=resource`) instead of the VIM driver.
    pub resource: bool,
}

/// The framework's no-op driver as a process of its own.
pub struct DriverProc {
    /// The process.
    pub child: Child,
    /// Its HTTP base URL.
    pub base: String,
    /// Its topics, on Kafka.
    pub kafka: Option<KafkaNames>,
    /// Its task events, when asked for.
    pub events: Option<Events>,
    stats: PathBuf,
}

impl DriverProc {
    /// Starts it (pinned to the layout's server CPU) and waits until it answers health;
    /// on Kafka, also until its job-queue consumer has its partitions (a probe task's
    /// event arrived), so that what follows measures a driver at work.
    pub async fn start(
        spec: DriverSpec,
        layout: Layout,
        client: &reqwest::Client,
    ) -> Result<Self, String> {
        let port = sys::free_port();
        let mut props = Map::new();
        props.insert("application.port".into(), json!(port));
        props.insert("job_queue.poll_interval".into(), json!(spec.poll_interval));
        let kafka = match &spec.backend {
            Backend::Embedded => None,
            Backend::Kafka(bootstrap) => {
                let s = suffix();
                let names = KafkaNames {
                    events: format!("bench_events_{s}"),
                    jobs: format!("bench_jobs_{s}"),
                    group: format!("bench_group_{s}"),
                };
                props.insert("messaging.connection_address".into(), json!(bootstrap));
                props.insert(
                    "messaging.topics.infrastructure_task_events.name".into(),
                    json!(names.events),
                );
                props.insert(
                    "messaging.topics.infrastructure_task_events.auto_create".into(),
                    json!(true),
                );
                props.insert("messaging.topics.job_queue.name".into(), json!(names.jobs));
                props.insert("job_queue.consumer_group_id".into(), json!(names.group));
                if !spec.kafka_config.is_empty() {
                    props.insert(
                        "messaging.config".into(),
                        Value::Object(spec.kafka_config.clone()),
                    );
                }
                Some(names)
            }
        };
        props.extend(spec.extra.clone());
        let stats = sys::temp_path("driver-stats", "json");
        let mut spawn = Spawn::new("driver", sys::this_exe(), &["serve-driver"]);
        spawn.env = vec![
            ("BENCH_PROPS".into(), Value::Object(props).to_string()),
            ("BENCH_STATS".into(), stats.display().to_string()),
            (
                "RUST_LOG".into(),
                spec.log.clone().unwrap_or_else(|| {
                    std::env::var("BENCH_DRIVER_LOG").unwrap_or_else(|_| "info".into())
                }),
            ),
        ];
        if spec.count_allocs {
            spawn.env.push(("BENCH_COUNT_ALLOCS".into(), "1".into()));
        }
        if spec.resource {
            spawn.env.push(("BENCH_KIND".into(), "resource".into()));
        }
        spawn.cpu = layout.server_cpu;
        let embedded_events = spec.read_events && kafka.is_none();
        spawn.stdout = if embedded_events {
            Stdout::Piped
        } else {
            Stdout::Null
        };
        let mut child = spawn.start();
        let mut events = None;
        if embedded_events {
            events = child.take_stdout().map(read_stdout_events);
        }
        let scheme = if spec.extra.get("application.ssl.enabled") == Some(&json!(true)) {
            "https"
        } else {
            "http"
        };
        let mut driver = DriverProc {
            child,
            base: format!("{scheme}://127.0.0.1:{port}"),
            kafka,
            events,
            stats,
        };
        wait_healthy(client, &driver.base, &mut driver.child).await?;
        if let (Backend::Kafka(bootstrap), Some(names)) = (&spec.backend, &driver.kafka) {
            let events = crate::kafka::read_topic(bootstrap, &names.events)?;
            let iid = create(client, &driver.base, "0").await?;
            if events
                .wait_for(&iid, Instant::now() + Duration::from_secs(60))
                .is_none()
            {
                return Err(format!(
                    "the probe task's event did not arrive within 60 s:\n{}",
                    driver.child.log_tail(30)
                ));
            }
            if spec.read_events {
                driver.events = Some(events);
            }
        }
        Ok(driver)
    }

    /// Its task events (panics when it was started without).
    pub fn events(&self) -> &Events {
        self.events.as_ref().expect("started with read_events")
    }

    /// Its counters (asked for with SIGUSR1).
    pub fn stats(&self) -> DriverStats {
        ask_stats(self.child.pid, &self.stats)
    }

    /// Its counters once they are at least `settle` old (so the last polls are in).
    pub fn stats_after(&self, settle: Duration) -> DriverStats {
        std::thread::sleep(settle);
        self.stats()
    }

    /// Where it writes its counters.
    pub fn stats_path(&self) -> &std::path::Path {
        &self.stats
    }

    /// CPU time and memory now.
    pub fn sample(&self) -> ProcSample {
        self.child.sample().expect("the driver is running")
    }

    /// SIGTERM, and up to 10 s to stop.
    pub fn stop(self) {
        let _ = std::fs::remove_file(&self.stats);
        self.child.stop(Duration::from_secs(10));
    }
}

/// The counters of the bench server `pid` (started with `BENCH_STATS` = `path`): asked
/// for with SIGUSR1, read once written.
pub fn ask_stats(pid: u32, path: &std::path::Path) -> DriverStats {
    let read = || -> Option<DriverStats> {
        let text = std::fs::read_to_string(path).ok()?;
        serde_json::from_str(&text).ok()
    };
    let seen = read().map_or(0, |s| s.seq);
    // SAFETY: asks our own child for its counters.
    unsafe {
        libc::kill(pid as i32, libc::SIGUSR1);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        match read() {
            Some(stats) if stats.seq > seen => return stats,
            _ => std::thread::sleep(Duration::from_millis(5)),
        }
    }
    eprintln!("  the server did not write its counters within 5 s");
    DriverStats::default()
}

/// Waits (up to 60 s) until `GET base/management/health` answers 200; for an `https`
/// base (the harness's HTTP client has no TLS), until the port accepts connections: the
/// warm-up wrk run that follows fails on any error.
pub async fn wait_healthy(
    client: &reqwest::Client,
    base: &str,
    child: &mut Child,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let tls_port = base
        .strip_prefix("https://")
        .and_then(|rest| rest.rsplit(':').next())
        .and_then(|port| port.parse::<u16>().ok());
    loop {
        if let Some(port) = tls_port {
            if child.exited().is_none()
                && tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
            {
                return Ok(());
            }
        }
        if let Some(status) = child.exited() {
            return Err(format!(
                "{} exited with {status} before serving:\n{}",
                child.name,
                child.log_tail(30)
            ));
        }
        let answer = client
            .get(format!("{base}/management/health"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if matches!(&answer, Ok(r) if r.status().is_success()) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} did not answer health within 60 s:\n{}",
                child.name,
                child.log_tail(30)
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A deployment location.
pub fn location() -> Value {
    json!({"name": "dl", "type": "Openstack", "properties": {"os_auth_url": "http://keystone:5000/v3"}})
}

/// The create body (its template tells the no-op driver how many polls stay IN_PROGRESS).
pub fn create_body(template: &str) -> Value {
    json!({
        "template": template,
        "templateType": "TOSCA",
        "systemProperties": {
            "resourceId": "7c2a4ff4-3c8e-4d0e-8d3a-0d7a6a1b2c3d",
            "resourceName": {"type": "string", "value": "vm-1"},
        },
        "properties": {
            "image": "ubuntu-22.04",
            "flavor": {"type": "string", "value": "m1.small"},
            "key": {"type": "key", "keyName": "k1", "privateKey": "SECRET", "publicKey": "PUB"},
        },
        "deploymentLocation": location(),
    })
}

/// [`create_body`] with every property typed (`{"type", "value"}`): the Python
/// framework's schema refuses bare values, so what is compared with it sends this one.
pub fn typed_create_body(template: &str) -> Value {
    let mut body = create_body(template);
    body["systemProperties"]["resourceId"] =
        json!({"type": "string", "value": body["systemProperties"]["resourceId"]});
    body["properties"]["image"] = json!({"type": "string", "value": body["properties"]["image"]});
    body
}

/// The execute body of the Resource Driver API (its `driverFiles` a small zip).
pub fn execute_body() -> Value {
    json!({
        "lifecycleName": "Create",
        "driverFiles": crate::servers::DRIVER_FILES,
        "systemProperties": {
            "resourceId": {"type": "string", "value": "7c2a4ff4-3c8e-4d0e-8d3a-0d7a6a1b2c3d"},
            "resourceName": {"type": "string", "value": "vm-1"},
        },
        "resourceProperties": {
            "image": {"type": "string", "value": "ubuntu-22.04"},
            "flavor": {"type": "string", "value": "m1.small"},
        },
        "requestProperties": {},
        "associatedTopology": {},
        "deploymentLocation": location(),
    })
}

/// The find body.
pub fn find_body() -> Value {
    json!({
        "template": "tosca_definitions_version: tosca_simple_yaml_1_0",
        "templateType": "TOSCA",
        "instanceName": "vm-1",
        "deploymentLocation": location(),
    })
}

/// POSTs a create; returns the infrastructure id.
pub async fn create(
    client: &reqwest::Client,
    base: &str,
    template: &str,
) -> Result<String, String> {
    let response = client
        .post(format!("{base}/api/infrastructure/create"))
        .json(&create_body(template))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("create: {e}"))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| format!("create: {e}"))?;
    if status.as_u16() != 202 {
        return Err(format!("create answered {status}: {body}"));
    }
    body["infrastructureId"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("create answered {body}"))
}

/// Creates `n` tasks with this template, spread evenly over `ramp`, at most 64 at once.
/// Returns the infrastructure ids with the instant each create was sent.
pub async fn create_tasks(
    client: &reqwest::Client,
    base: &str,
    template: &str,
    n: usize,
    ramp: Duration,
) -> Result<HashMap<String, Instant>, String> {
    let permits = Arc::new(Semaphore::new(64));
    let mut creates = JoinSet::new();
    let start = tokio::time::Instant::now();
    for i in 0..n {
        tokio::time::sleep_until(start + ramp.mul_f64(i as f64 / n as f64)).await;
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let (client, base, template) = (client.clone(), base.to_string(), template.to_string());
        creates.spawn(async move {
            let sent = Instant::now();
            let result = create(&client, &base, &template).await;
            drop(permit);
            result.map(|iid| (iid, sent))
        });
    }
    let mut sent = HashMap::with_capacity(n);
    while let Some(result) = creates.join_next().await {
        let (iid, at) = result.map_err(|e| e.to_string())??;
        sent.insert(iid, at);
    }
    Ok(sent)
}
