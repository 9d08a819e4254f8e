//! Configuration: the seed's property groups, read from YAML with defaults.
//!
//! Layers, later ones winning: built-in defaults, the environment variables `LOG_TYPE` and
//! `LOG_LEVEL` (for `logging.type` and `logging.level` only), the file given to
//! [`App::config_file`](crate::App::config_file), the file named by the environment
//! variable given to [`App::config_env`](crate::App::config_env), then values set with
//! [`App::property`](crate::App::property).
//!
//! The framework owns the sections `application`, `messaging`, `job_queue`, `bootstrap`,
//! `infrastructure`, `driver` and `logging`; every other top-level section belongs to the
//! driver (read it with [`DriverContext::properties`](crate::DriverContext::properties)). In a
//! framework section, a misspelt key or an ill-typed value stops start-up with a
//! [`ConfigError`] naming the property and the file it came from ("did you mean ...?");
//! keys the Python framework knew that do not apply here are accepted with one WARN line
//! each (see [`PYTHON_ERA_KEYS`]).

mod keys;
mod load;
mod size;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

pub use keys::PYTHON_ERA_KEYS;
#[cfg(feature = "fuzz-internals")]
pub(crate) use load::load_yaml_text;
pub(crate) use load::{ConfigSources, LoadedConfig};
pub use size::ByteSize;

/// Why the configuration was refused: which property, from which file, and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{}", self.describe())]
pub struct ConfigError {
    /// The dotted property, e.g. `job_queue.poll_interval` (empty for the file itself).
    pub property: String,
    /// Where the value came from: a file path, or a description such as
    /// "App::property"; `None` for a built-in default or a rule across properties.
    pub file: Option<String>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// What is wrong with a property.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A configuration file that cannot be read (the property is empty).
    Unreadable(String),
    /// A key the section does not have.
    Unknown {
        /// The closest known key, when one is close.
        did_you_mean: Option<String>,
        /// Every key the section has.
        expected: Vec<String>,
    },
    /// A value of the wrong type or out of range.
    Invalid(String),
}

impl ConfigError {
    pub(crate) fn invalid(property: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            property: property.into(),
            file: None,
            kind: ConfigErrorKind::Invalid(why.into()),
        }
    }

    fn describe(&self) -> String {
        let from = self
            .file
            .as_ref()
            .map(|file| format!(" (from {file})"))
            .unwrap_or_default();
        match &self.kind {
            ConfigErrorKind::Unreadable(why) => why.clone(),
            ConfigErrorKind::Unknown {
                did_you_mean,
                expected,
            } => {
                let hint = did_you_mean
                    .as_ref()
                    .map(|key| format!("; did you mean `{key}`?"))
                    .unwrap_or_default();
                let expected = if expected.is_empty() {
                    String::new()
                } else {
                    format!("; expected one of: {}", expected.join(", "))
                };
                format!(
                    "invalid configuration property `{}`{from}: unknown property{hint}{expected}",
                    self.property
                )
            }
            ConfigErrorKind::Invalid(why) => format!(
                "invalid configuration property `{}`{from}: {why}",
                self.property
            ),
        }
    }
}

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
    /// `infrastructure.*`: behaviour of the infrastructure services.
    pub infrastructure: InfrastructureProperties,
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
    /// How long shutdown waits for in-flight requests and jobs. Default 30s.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Largest request body accepted (`16MiB`, `512KiB`, or a number of bytes); a larger
    /// one is answered 413 without being read whole. Default 16MiB.
    pub max_body_size: ByteSize,
    /// Serve Swagger UI at `/api/infrastructure/ui` (the spec is served either way).
    /// Default true.
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
    pub cert_dir: Option<std::path::PathBuf>,
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
    pub spool_dir: Option<std::path::PathBuf>,
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
    /// Replication factor of an auto-created topic.
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
    /// A task not finished this long after its create/delete gets a FAILED event
    /// (`INTERNAL_ERROR`) and is no longer monitored. Default: none (as in the seed).
    #[serde(with = "humantime_serde")]
    pub task_timeout: Option<Duration>,
}

/// `bootstrap.*`: each flag turns a built-in service off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BootstrapProperties {
    /// `bootstrap.infrastructure.*`
    pub infrastructure: InfrastructureBootstrap,
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
    /// `get_infrastructure_task` (queries and monitoring polls).
    #[serde(with = "humantime_serde")]
    pub query: Option<Duration>,
    /// `find_infrastructure`.
    #[serde(with = "humantime_serde")]
    pub find: Option<Duration>,
}

/// `logging.*`: what [`App::run`](crate::App::run) writes on stderr (`App::start` installs
/// no log subscriber, so these do not apply there).
///
/// Each key's default is an environment variable, as in the Python framework: `LOG_TYPE`
/// (else `flat`) and `LOG_LEVEL` (else `INFO`); a value in a configuration file wins over
/// the variable. `RUST_LOG`, when set, wins over `level` (it takes tracing's directives,
/// e.g. `info,ignition=debug`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoggingProperties {
    /// `flat` (readable lines) or `logstash` (one JSON object per line, the Python
    /// framework's `LogstashFormatter` fields). Default: env `LOG_TYPE`, else `flat`.
    pub r#type: LogType,
    /// The least severe level written, by its Python name (`DEBUG`, `INFO`, `WARNING`,
    /// `ERROR`, `CRITICAL`; `WARN`, `FATAL` and `TRACE` too; any case). Default: env
    /// `LOG_LEVEL`, else `INFO`.
    pub level: LogLevel,
}

/// `logging.type`: the format of the log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum LogType {
    /// Readable lines: time, level, target, message, fields.
    #[default]
    #[serde(rename = "flat")]
    Flat,
    /// One JSON object per line: `@timestamp`, `@version`, `message`, `host`, `path`,
    /// `tags`, `type`, `thread_name`, `level`, `logger_name`, then the event's fields and
    /// those of the spans it is in.
    #[serde(rename = "logstash")]
    Logstash,
}

/// `logging.level`: the least severe level written. Python's names; tracing has no level
/// above ERROR, so `CRITICAL` writes what `ERROR` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum LogLevel {
    /// Everything (tracing's TRACE; logged as `DEBUG` in logstash lines).
    #[serde(rename = "TRACE")]
    Trace,
    /// `DEBUG` and above.
    #[serde(rename = "DEBUG")]
    Debug,
    /// `INFO` and above.
    #[default]
    #[serde(rename = "INFO")]
    Info,
    /// `WARNING` and above (`WARN` is read as this).
    #[serde(rename = "WARNING")]
    Warning,
    /// `ERROR` only.
    #[serde(rename = "ERROR")]
    Error,
    /// Python's `CRITICAL` (`FATAL` is read as this): ERROR lines, as tracing has nothing
    /// above.
    #[serde(rename = "CRITICAL")]
    Critical,
}

impl std::str::FromStr for LogType {
    type Err = String;

    /// `flat` or `logstash`, in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "flat" => Ok(LogType::Flat),
            "logstash" => Ok(LogType::Logstash),
            _ => Err(format!(
                "unknown log type `{text}`; expected `flat` or `logstash`"
            )),
        }
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    /// A Python level name (`DEBUG`, `INFO`, `WARNING`/`WARN`, `ERROR`,
    /// `CRITICAL`/`FATAL`) or `TRACE`, in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "TRACE" => Ok(LogLevel::Trace),
            "DEBUG" => Ok(LogLevel::Debug),
            "INFO" => Ok(LogLevel::Info),
            "WARNING" | "WARN" => Ok(LogLevel::Warning),
            "ERROR" => Ok(LogLevel::Error),
            "CRITICAL" | "FATAL" => Ok(LogLevel::Critical),
            _ => Err(format!(
                "unknown log level `{text}`; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or TRACE)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for LogType {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        String::deserialize(de)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        String::deserialize(de)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl LoggingProperties {
    /// The environment variable each key defaults to, with the key.
    pub(crate) const ENV_DEFAULTS: [(&'static str, &'static str); 2] =
        [("LOG_TYPE", "type"), ("LOG_LEVEL", "level")];

    /// From `LOG_TYPE` and `LOG_LEVEL` alone, a value that does not parse read as the
    /// built-in default: for the lines written when the configuration itself is refused.
    pub(crate) fn from_env_or_default() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        Self {
            r#type: var("LOG_TYPE")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
            level: var("LOG_LEVEL")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
        }
    }
}

impl DriverProperties {
    /// The time limit of one operation (`create`, `delete`, `query`, `find`).
    pub fn timeout_of(&self, operation: &str) -> Duration {
        let own = match operation {
            "create" => self.timeouts.create,
            "delete" => self.timeouts.delete,
            "query" => self.timeouts.query,
            "find" => self.timeouts.find,
            _ => None,
        };
        own.unwrap_or(self.call_timeout)
    }
}

/// Partitions of an auto-created job-queue topic. Each partition is consumed by one
/// replica, so the partitions are how many replicas can share the monitoring: with one
/// (the Python framework's), every replica but one only stands by. Six divide evenly
/// over 1, 2, 3 and 6 replicas (the replica counts drivers' charts use) and still give a
/// 4th and 5th replica one or two; each costs an idle replica next to nothing (one fetch
/// request covers every partition of a broker).
pub const JOB_QUEUE_PARTITIONS: i32 = 6;

impl IgnitionConfig {
    /// The defaults of the seed, for an app of this name. (`logging` is `flat` / `INFO`
    /// here: `LOG_TYPE` and `LOG_LEVEL` are the layer above, applied by
    /// [`App::config`](crate::App::config) and at start.)
    pub fn defaults(app_name: &str) -> Self {
        let topic = |name: String, auto_create: bool, config: &[(&str, &str)]| TopicProperties {
            name,
            auto_create,
            num_partitions: 1,
            replication_factor: 1,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        IgnitionConfig {
            application: ApplicationProperties {
                port: 7777,
                host: None,
                shutdown_timeout: Duration::from_secs(30),
                max_body_size: ByteSize(16 * 1024 * 1024),
                swagger_ui_enabled: true,
                metrics_enabled: true,
                header_read_timeout: Duration::from_secs(10),
                body_read_timeout: Duration::from_secs(30),
                max_connections: 1024,
                ssl: SslProperties::default(),
            },
            messaging: MessagingProperties {
                connection_address: None,
                connect_timeout: Duration::from_secs(30),
                config: BTreeMap::new(),
                spool_dir: None,
                spool_enabled: true,
                spool_max_bytes: ByteSize(256 * 1024 * 1024),
                spool_max_records: 100_000,
                topics: TopicsProperties {
                    infrastructure_task_events: topic(
                        "lm_vim_infrastructure_task_events".into(),
                        false,
                        &[],
                    ),
                    job_queue: TopicProperties {
                        num_partitions: JOB_QUEUE_PARTITIONS,
                        ..topic(
                            job_queue_topic_name(app_name),
                            true,
                            &[
                                ("retention.ms", "60000"),
                                ("message.timestamp.difference.max.ms", "60000"),
                                ("file.delete.delay.ms", "60000"),
                            ],
                        )
                    },
                },
            },
            job_queue: JobQueueProperties {
                consumer_group_id: "job_queue_consumer".into(),
                poll_interval: Duration::from_secs(1),
                max_poll_interval: Duration::from_secs(60),
                max_concurrent_polls: 256,
                task_timeout: None,
            },
            bootstrap: BootstrapProperties {
                infrastructure: InfrastructureBootstrap {
                    api_enabled: true,
                    api_service_enabled: true,
                    service_enabled: true,
                    monitoring_service_enabled: true,
                    messaging_service_enabled: true,
                },
                messaging: MessagingBootstrap {
                    postal_enabled: true,
                    delivery_enabled: true,
                },
                job_queue: JobQueueBootstrap {
                    service_enabled: true,
                },
            },
            infrastructure: InfrastructureProperties {
                async_messaging_enabled: true,
            },
            driver: DriverProperties {
                call_timeout: Duration::from_secs(30),
                timeouts: OperationTimeouts::default(),
            },
            logging: LoggingProperties::default(),
        }
    }

    /// Whether events and jobs go through Kafka (else the embedded default).
    pub fn uses_kafka(&self) -> bool {
        self.messaging.connection_address.is_some()
    }

    /// Whether the framework monitors tasks (`infrastructure.async_messaging_enabled`).
    pub fn framework_monitors_tasks(&self) -> bool {
        self.infrastructure.async_messaging_enabled
    }
}

/// The default job-queue topic: the app name without the characters Kafka does not allow
/// in topic names, spaces turned into `_` ("Echo VIM Driver" → "Echo_VIM_Driver").
pub fn job_queue_topic_name(app_name: &str) -> String {
    app_name
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('_'),
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') => Some(c),
            _ => None,
        })
        .collect()
}

/// Rules across properties, after every layer is read.
fn validate(config: &IgnitionConfig) -> Result<(), ConfigError> {
    let jq = &config.job_queue;
    if jq.poll_interval.is_zero() {
        return Err(ConfigError::invalid(
            "job_queue.poll_interval",
            "must be greater than 0",
        ));
    }
    if jq.max_poll_interval < jq.poll_interval {
        return Err(ConfigError::invalid(
            "job_queue.max_poll_interval",
            format!(
                "{} is shorter than job_queue.poll_interval ({})",
                humantime_serde::re::humantime::format_duration(jq.max_poll_interval),
                humantime_serde::re::humantime::format_duration(jq.poll_interval)
            ),
        ));
    }
    if jq.max_concurrent_polls == 0 {
        return Err(ConfigError::invalid(
            "job_queue.max_concurrent_polls",
            "must be at least 1",
        ));
    }
    if jq.task_timeout.is_some_and(|t| t.is_zero()) {
        return Err(ConfigError::invalid(
            "job_queue.task_timeout",
            "must be greater than 0 (remove it for no deadline)",
        ));
    }
    let driver = &config.driver;
    for (key, timeout) in [
        ("driver.call_timeout", Some(driver.call_timeout)),
        ("driver.timeouts.create", driver.timeouts.create),
        ("driver.timeouts.delete", driver.timeouts.delete),
        ("driver.timeouts.query", driver.timeouts.query),
        ("driver.timeouts.find", driver.timeouts.find),
    ] {
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(ConfigError::invalid(key, "must be greater than 0"));
        }
    }
    let application = &config.application;
    for (property, value) in [
        (
            "application.header_read_timeout",
            application.header_read_timeout,
        ),
        (
            "application.body_read_timeout",
            application.body_read_timeout,
        ),
    ] {
        if value.is_zero() {
            return Err(ConfigError::invalid(property, "must be greater than 0"));
        }
    }
    if application.max_connections == 0
        || application.max_connections > tokio::sync::Semaphore::MAX_PERMITS
    {
        return Err(ConfigError::invalid(
            "application.max_connections",
            format!(
                "must be between 1 and {}",
                tokio::sync::Semaphore::MAX_PERMITS
            ),
        ));
    }
    if config.application.max_body_size.0 == 0 {
        return Err(ConfigError::invalid(
            "application.max_body_size",
            "must be at least 1 byte",
        ));
    }
    let ssl = &config.application.ssl;
    if ssl.enabled && ssl.cert_dir.is_none() {
        return Err(ConfigError::invalid(
            "application.ssl.cert_dir",
            "missing: `application.ssl.enabled` is true, so the directory holding tls.crt and tls.key must be given",
        ));
    }
    if let Some(host) = &config.application.host {
        if host.trim().is_empty() {
            return Err(ConfigError::invalid(
                "application.host",
                "empty (remove it to listen on every interface)",
            ));
        }
    }
    for (key, topic) in [
        (
            "infrastructure_task_events",
            &config.messaging.topics.infrastructure_task_events,
        ),
        ("job_queue", &config.messaging.topics.job_queue),
    ] {
        if let Err(why) = check_topic_name(&topic.name) {
            return Err(ConfigError::invalid(
                format!("messaging.topics.{key}.name"),
                why,
            ));
        }
        // Some brokers (Tansu) accept these; Kafka does not, so neither do we.
        if topic.num_partitions < 1 {
            return Err(ConfigError::invalid(
                format!("messaging.topics.{key}.num_partitions"),
                format!("{} (at least 1)", topic.num_partitions),
            ));
        }
        if topic.replication_factor < 1 {
            return Err(ConfigError::invalid(
                format!("messaging.topics.{key}.replication_factor"),
                format!("{} (at least 1)", topic.replication_factor),
            ));
        }
    }
    if config.messaging.spool_max_bytes.0 == 0 {
        return Err(ConfigError::invalid(
            "messaging.spool_max_bytes",
            "must be at least 1 byte (turn the spool off with `messaging.spool_enabled: false`)",
        ));
    }
    if config.messaging.spool_max_records == 0 {
        return Err(ConfigError::invalid(
            "messaging.spool_max_records",
            "must be at least 1 (turn the spool off with `messaging.spool_enabled: false`)",
        ));
    }
    if matches!(&config.messaging.connection_address, Some(a) if a.trim().is_empty()) {
        return Err(ConfigError::invalid(
            "messaging.connection_address",
            "empty (remove it to use the embedded default)",
        ));
    }
    Ok(())
}

/// Kafka's rules for topic names (some brokers accept more; we do not).
fn check_topic_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a topic name cannot be empty (an app name of only special characters needs an explicit name)".into());
    }
    if name == "." || name == ".." {
        return Err(format!("`{name}` is not a valid topic name"));
    }
    if name.len() > 249 {
        return Err(format!("`{name}` is longer than 249 characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "`{name}` contains `{c}`; topic names allow only ASCII letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
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

/// Where a configuration file came from, for messages.
pub(crate) fn describe_file(path: &std::path::Path, env_var: Option<&str>) -> String {
    match env_var {
        Some(var) => format!("{} (named by environment variable {var})", path.display()),
        None => path.display().to_string(),
    }
}
