//! The property groups: one struct per section of the YAML, field names as its keys.
//! (Defaults are in `defaults.rs`, rules across properties in `validate.rs`.)

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use super::encryption_key::EncryptionKey;
use super::logging::LoggingProperties;
use super::size::ByteSize;

/// Every property Ignition reads. Field names are the YAML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IgnitionConfig {
    /// `application.*`: the HTTP server.
    pub application: ApplicationProperties,
    /// `messaging.*`: where task events and monitoring jobs go.
    pub messaging: MessagingProperties,
    /// `job_queue.*`: how tasks are monitored.
    pub job_queue: JobQueueProperties,
    /// `bootstrap.*`: which built-in services start.
    pub bootstrap: BootstrapProperties,
    /// `infrastructure.*`: behaviour of the infrastructure services (VIM drivers).
    pub infrastructure: InfrastructureProperties,
    /// `resource_driver.*`: behaviour of the Resource Driver API (resource drivers).
    pub resource_driver: ResourceDriverProperties,
    /// `driver.*`: how the framework calls the driver.
    pub driver: DriverProperties,
    /// `logging.*`: the format and level of the log lines [`App::run`](crate::App::run)
    /// writes on stderr.
    pub logging: LoggingProperties,
}

/// `application.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApplicationProperties {
    /// Port of the HTTP server; 0 picks any free port. Default 7777.
    pub port: u16,
    /// Address to bind. Default (unset): every interface, IPv6 and IPv4 (`::`, dual
    /// stack) where the machine has IPv6, else `0.0.0.0`.
    pub host: Option<String>,
    /// How long shutdown waits for in-flight requests; one still running then is
    /// cancelled and answered 503 (running monitoring polls then finish, each within
    /// `driver.timeouts.query`). Default 30s.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// On SIGTERM, how long the listener keeps serving after readiness turned 503, so
    /// that the load balancer stops sending requests before the port closes. Default 5s;
    /// `0s`: close at once.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Largest request body accepted (`16MiB`, `512KiB`, or a number of bytes); a larger
    /// one is answered 413 without being read whole. Default 16MiB.
    pub max_body_size: ByteSize,
    /// Serve Swagger UI at `/api/infrastructure/ui` (a resource driver's at
    /// `/api/driver/ui`; the spec is served either way). Default true.
    pub swagger_ui_enabled: bool,
    /// Serve `GET /management/metrics` (Prometheus text format) and record the figures
    /// behind it; `false`: the endpoint is 404 and nothing is recorded. Default true.
    pub metrics_enabled: bool,
    /// Longest a client may take to send a request's header (from the connection's
    /// start, TLS handshake included, or from the first byte of a next request on a
    /// kept-alive connection); past it the connection is closed. Default 10s.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// Longest an operation waits for its request body once the header is in; past it
    /// the answer is 408 (contract JSON) and the connection is closed. Default 30s.
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Connections open at once; past it new connections wait in the listen backlog
    /// until one closes (one WARN line per 10 s says so). Default 1024.
    pub max_connections: usize,
    /// `application.ssl.*`: HTTPS (as in the Python framework).
    pub ssl: SslProperties,
}

/// `application.ssl.*`: serve HTTPS from a Kubernetes TLS secret's layout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SslProperties {
    /// Serve HTTPS instead of HTTP. Default false.
    pub enabled: bool,
    /// The directory holding `tls.crt` (PEM, chain allowed) and `tls.key` (PKCS#8,
    /// PKCS#1 or SEC1); both are read again when they change.
    pub cert_dir: Option<PathBuf>,
}

/// `messaging.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessagingProperties {
    /// Kafka bootstrap servers. Unset: the embedded in-process bus and job queue.
    pub connection_address: Option<String>,
    /// How long start-up waits for Kafka (topic creation, metadata). Default 30s.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Settings passed through to the Kafka client (e.g. `security.protocol`).
    #[serde(deserialize_with = "scalar_map")]
    pub config: BTreeMap<String, String>,
    /// The topics Ignition uses.
    pub topics: TopicsProperties,
    /// On Kafka, where monitoring jobs, re-queues and events wait (fsync'ed) until the
    /// broker confirmed them, so that a crash during an outage loses none; what is left
    /// there is sent again at the next start. Default (unset):
    /// `$TMPDIR/ignition-spool/<app name>` (the first of `<app name>`, `<app name>.1`,
    /// ... that no other process holds). Not used by the embedded default.
    pub spool_dir: Option<PathBuf>,
    /// On Kafka, spool what is not yet confirmed (`messaging.spool_dir`). Default true;
    /// false: a create waits (up to 5 s) for the broker, as before the spool.
    pub spool_enabled: bool,
    /// Most bytes of messages waiting in the spool; past it a create answers 503.
    /// Default 256MiB.
    pub spool_max_bytes: ByteSize,
    /// Most messages waiting in the spool; past it a create answers 503. Default 100000.
    pub spool_max_records: usize,
}

/// `messaging.topics.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TopicsProperties {
    /// Where task events go (LM reads them). Default `lm_vim_infrastructure_task_events`,
    /// not auto-created (LM creates it).
    pub infrastructure_task_events: TopicProperties,
    /// Where a resource driver's lifecycle execution events go (LM reads them). Default
    /// `lm_vnfc_lifecycle_execution_events` (as in the Python framework 3.x), not
    /// auto-created (LM creates it).
    pub lifecycle_execution_events: TopicProperties,
    /// Where monitoring jobs go. Default: the app name, auto-created with short retention.
    pub job_queue: TopicProperties,
}

/// One topic: its name and how to create it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TopicProperties {
    /// The topic's name.
    pub name: String,
    /// Create the topic at start when it does not exist.
    pub auto_create: bool,
    /// Partitions of an auto-created topic.
    pub num_partitions: i32,
    /// Replication factor of an auto-created topic; `-1` (the default) asks the broker
    /// for its own `default.replication.factor` (Kafka 2.4 and later), so that a topic is
    /// not silently created with one replica on a cluster that keeps three.
    pub replication_factor: i32,
    /// Topic settings of an auto-created topic (e.g. `retention.ms`).
    #[serde(deserialize_with = "scalar_map")]
    pub config: BTreeMap<String, String>,
}

/// `job_queue.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobQueueProperties {
    /// Consumer group shared by all replicas of a driver. Default `job_queue_consumer`.
    pub consumer_group_id: String,
    /// Time between two polls of a task in progress. Default 1s.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// Ceiling of the backoff after errors the monitor retries. Default 60s.
    #[serde(with = "humantime_serde")]
    pub max_poll_interval: Duration,
    /// Most polls running at once; more wait their turn. Default 256.
    pub max_concurrent_polls: usize,
    /// A task not finished this long after its create, delete or execute gets a FAILED
    /// event (`INTERNAL_ERROR`) and is no longer monitored. Default: none (as in the
    /// seed).
    #[serde(with = "humantime_serde")]
    pub task_timeout: Option<Duration>,
    /// A file holding a 32-byte key (32 raw bytes, or 64 hex characters and an optional
    /// trailing newline): the deployment location's properties inside every monitoring
    /// job are sealed with it. Read and checked at start. Default: unset (not sealed).
    pub encryption_key_file: Option<PathBuf>,
    /// The key read from `encryption_key_file` at start (never shown, never serialized).
    #[serde(skip)]
    pub(crate) encryption_key: Option<EncryptionKey>,
}

/// `bootstrap.*`: each flag turns a built-in service off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BootstrapProperties {
    /// `bootstrap.infrastructure.*`
    pub infrastructure: InfrastructureBootstrap,
    /// `bootstrap.resource_driver.*`
    pub resource_driver: ResourceDriverBootstrap,
    /// `bootstrap.messaging.*`
    pub messaging: MessagingBootstrap,
    /// `bootstrap.job_queue.*`
    pub job_queue: JobQueueBootstrap,
}

/// `bootstrap.infrastructure.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InfrastructureBootstrap {
    /// Serve `/api/infrastructure`.
    pub api_enabled: bool,
    /// The InfrastructureApiService that handles its requests.
    pub api_service_enabled: bool,
    /// The InfrastructureService that forwards them to the driver.
    pub service_enabled: bool,
    /// The InfrastructureTaskMonitoringService that watches create/delete tasks.
    pub monitoring_service_enabled: bool,
    /// The InfrastructureMessagingService that sends task events.
    pub messaging_service_enabled: bool,
}

/// `bootstrap.resource_driver.*`: the Python framework 3.x's names, with the meaning
/// of the `bootstrap.infrastructure.*` flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceDriverBootstrap {
    /// Serve `/api/driver`.
    pub api_enabled: bool,
    /// The ResourceDriverApiService that handles its requests.
    pub api_service_enabled: bool,
    /// The ResourceDriverService that forwards them to the driver.
    pub service_enabled: bool,
    /// The LifecycleExecutionMonitoringService that watches lifecycle executions.
    pub lifecycle_monitoring_service_enabled: bool,
    /// The LifecycleMessagingService that sends lifecycle execution events.
    pub lifecycle_messaging_service_enabled: bool,
}

/// `bootstrap.messaging.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessagingBootstrap {
    /// The postal service through which messages are sent.
    pub postal_enabled: bool,
    /// The delivery service that hands them to Kafka (or the embedded bus).
    pub delivery_enabled: bool,
}

/// `bootstrap.job_queue.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobQueueBootstrap {
    /// The job queue the task monitor schedules its polls on.
    pub service_enabled: bool,
}

/// `infrastructure.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InfrastructureProperties {
    /// As in the Python framework: `true` (the default) = the framework monitors every
    /// create/delete task and sends its event; `false` = the driver sends its own events
    /// (through [`DriverContext::task_events`](crate::DriverContext::task_events) or
    /// [`App::task_events`](crate::App::task_events)) and tasks are not monitored.
    pub async_messaging_enabled: bool,
}

/// `resource_driver.*`: the Resource Driver API (the Python framework 3.x's
/// `ResourceDriverProperties`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceDriverProperties {
    /// As in the Python framework: `true` (the default) = the framework monitors every
    /// lifecycle execution and sends its event; `false` = executions are not monitored
    /// and the driver sends its own events (though [`TaskEvents`](crate::TaskEvents)
    /// sends `InfrastructureTask`s only: there is no handle for a `LifecycleExecution`
    /// event yet).
    pub async_messaging_enabled: bool,
    /// `resource_driver.driver_files.*`: bounds on a request's `driverFiles`.
    pub driver_files: DriverFilesProperties,
}

/// `resource_driver.driver_files.*`: what a request's `driverFiles` (a base64 zip) may
/// unpack to; past either bound the request is answered 400 before the driver is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriverFilesProperties {
    /// Most entries in the archive. Default 10000.
    pub max_entries: usize,
    /// Most bytes unpacked (all entries together). Default 256MiB.
    pub max_size: ByteSize,
}

/// `driver.*`: limits on the calls the framework makes to the driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriverProperties {
    /// Longest a driver call may take; past it an API call answers 503 and a monitoring
    /// poll counts as a temporary error (polled again later). Default 30s.
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
    /// Per-operation overrides of `call_timeout`.
    pub timeouts: OperationTimeouts,
}

/// `driver.timeouts.*`: per-operation overrides of `driver.call_timeout`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OperationTimeouts {
    /// `create_infrastructure`.
    #[serde(with = "humantime_serde")]
    pub create: Option<Duration>,
    /// `delete_infrastructure`.
    #[serde(with = "humantime_serde")]
    pub delete: Option<Duration>,
    /// `get_infrastructure_task` and `get_lifecycle_execution` (queries and monitoring
    /// polls).
    #[serde(with = "humantime_serde")]
    pub query: Option<Duration>,
    /// `find_infrastructure`.
    #[serde(with = "humantime_serde")]
    pub find: Option<Duration>,
    /// `execute_lifecycle` (resource drivers).
    #[serde(with = "humantime_serde")]
    pub execute: Option<Duration>,
    /// `find_reference` (resource drivers).
    #[serde(with = "humantime_serde")]
    pub find_reference: Option<Duration>,
}

impl OperationTimeouts {
    /// Each key below `driver.timeouts` with its value, for the rules that apply to all.
    pub(crate) fn by_key(&self) -> [(&'static str, Option<Duration>); 6] {
        [
            ("create", self.create),
            ("delete", self.delete),
            ("query", self.query),
            ("find", self.find),
            ("execute", self.execute),
            ("find_reference", self.find_reference),
        ]
    }
}

impl DriverProperties {
    /// The time limit of one operation, by its key under `driver.timeouts` (`create`,
    /// `delete`, `query`, `find`, `execute`, `find_reference`); `driver.call_timeout` for
    /// one without its own.
    pub fn timeout_of(&self, operation: &str) -> Duration {
        self.timeouts
            .by_key()
            .into_iter()
            .find(|(key, _)| *key == operation)
            .and_then(|(_, own)| own)
            .unwrap_or(self.call_timeout)
    }
}

impl IgnitionConfig {
    /// Whether events and jobs go through Kafka (else the embedded default).
    pub fn uses_kafka(&self) -> bool {
        self.messaging.connection_address.is_some()
    }

    /// Whether the framework monitors tasks (`infrastructure.async_messaging_enabled`).
    pub fn framework_monitors_tasks(&self) -> bool {
        self.infrastructure.async_messaging_enabled
    }

    /// The three topics with their key under `messaging.topics`.
    pub(crate) fn topics_by_key(&self) -> [(&'static str, &TopicProperties); 3] {
        let topics = &self.messaging.topics;
        [
            (
                "infrastructure_task_events",
                &topics.infrastructure_task_events,
            ),
            (
                "lifecycle_execution_events",
                &topics.lifecycle_execution_events,
            ),
            ("job_queue", &topics.job_queue),
        ]
    }
}

/// Reads a map whose values may be YAML strings, numbers or booleans (Kafka settings
/// are strings, but `retention.ms: 60000` is what people write).
fn scalar_map<'de, D: Deserializer<'de>>(de: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        String(String),
        Int(i64),
        Float(f64),
        Bool(bool),
    }
    let map = BTreeMap::<String, Scalar>::deserialize(de)?;
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Scalar::String(s) => s,
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => f.to_string(),
                Scalar::Bool(b) => b.to_string(),
            };
            (k, v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_has_its_own_timeout_or_the_call_timeout() {
        let mut driver = IgnitionConfig::defaults("x").driver;
        driver.call_timeout = Duration::from_secs(7);
        driver.timeouts.execute = Some(Duration::from_secs(90));
        driver.timeouts.find_reference = Some(Duration::from_secs(3));
        driver.timeouts.query = Some(Duration::from_secs(2));
        assert_eq!(driver.timeout_of("execute"), Duration::from_secs(90));
        assert_eq!(driver.timeout_of("find_reference"), Duration::from_secs(3));
        assert_eq!(driver.timeout_of("query"), Duration::from_secs(2));
        assert_eq!(driver.timeout_of("create"), Duration::from_secs(7));
        assert_eq!(
            driver.timeout_of("no_such_operation"),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn kafka_settings_may_be_written_as_numbers_and_booleans() {
        let yaml = "name: t\nauto_create: true\nnum_partitions: 1\nreplication_factor: 1\nconfig: {retention.ms: 60000, compression: lz4, ratio: 0.5, flag: true}\n";
        let topic: TopicProperties = serde_yaml::from_str(yaml).unwrap();
        let read: Vec<(&str, &str)> = topic
            .config
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            read,
            [
                ("compression", "lz4"),
                ("flag", "true"),
                ("ratio", "0.5"),
                ("retention.ms", "60000")
            ]
        );
        assert!(serde_yaml::from_str::<TopicProperties>(
            "name: t\nauto_create: true\nnum_partitions: 1\nreplication_factor: 1\nconfig: {a: [1]}\n"
        )
        .is_err());
    }

    #[test]
    fn the_encryption_key_is_never_serialized() {
        let mut config = IgnitionConfig::defaults("x");
        config.job_queue.encryption_key_file = Some("/run/key".into());
        config.job_queue.encryption_key = Some(EncryptionKey::from_bytes([7; 32]));
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["job_queue"]["encryption_key_file"], "/run/key");
        assert!(json["job_queue"].get("encryption_key").is_none(), "{json}");
    }
}
