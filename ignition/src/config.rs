//! Configuration: the seed's property groups, read from YAML with defaults.
//!
//! Layers, later ones winning: built-in defaults, the file given to
//! [`App::config_file`](crate::App::config_file), the file named by the environment
//! variable given to [`App::config_env`](crate::App::config_env), then values set with
//! [`App::property`](crate::App::property). Unknown keys and ill-typed values stop
//! start-up with a [`BootError`] naming the property and the file it came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Data, Format, Serialized, Yaml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};

use crate::boot::BootError;

/// Every property Ignition reads. Field names are the YAML keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// `application.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationProperties {
    /// Port of the HTTP server on all interfaces; 0 picks any free port. Default 7777.
    pub port: u16,
    /// How long shutdown waits for in-flight requests and jobs. Default 30s.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

/// `messaging.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
}

/// `messaging.topics.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsProperties {
    /// Where task events go (LM reads them). Default `lm_vim_infrastructure_task_events`,
    /// not auto-created (LM creates it).
    pub infrastructure_task_events: TopicProperties,
    /// Where monitoring jobs go. Default: the app name, auto-created with short retention.
    pub job_queue: TopicProperties,
}

/// One topic: its name and how to create it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
}

/// `bootstrap.*`: each flag turns a built-in service off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct MessagingBootstrap {
    /// The postal service through which messages are sent.
    pub postal_enabled: bool,
    /// The delivery service that hands them to Kafka (or the embedded bus).
    pub delivery_enabled: bool,
    /// The inbox that consumes messages (the job queue reads through it).
    pub inbox_enabled: bool,
}

/// `bootstrap.job_queue.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobQueueBootstrap {
    /// The job queue the task monitor schedules its polls on.
    pub service_enabled: bool,
}

/// `infrastructure.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfrastructureProperties {
    /// The driver sends its own task events (through
    /// [`App::task_events`](crate::App::task_events)); create/delete tasks are not
    /// monitored. Default false.
    pub async_messaging_enabled: bool,
}

impl IgnitionConfig {
    /// The defaults of the seed, for an app of this name.
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
                shutdown_timeout: Duration::from_secs(30),
            },
            messaging: MessagingProperties {
                connection_address: None,
                connect_timeout: Duration::from_secs(30),
                config: BTreeMap::new(),
                topics: TopicsProperties {
                    infrastructure_task_events: topic(
                        "lm_vim_infrastructure_task_events".into(),
                        false,
                        &[],
                    ),
                    job_queue: topic(
                        job_queue_topic_name(app_name),
                        true,
                        &[
                            ("retention.ms", "60000"),
                            ("message.timestamp.difference.max.ms", "60000"),
                            ("file.delete.delay.ms", "60000"),
                        ],
                    ),
                },
            },
            job_queue: JobQueueProperties {
                consumer_group_id: "job_queue_consumer".into(),
                poll_interval: Duration::from_secs(1),
                max_poll_interval: Duration::from_secs(60),
                max_concurrent_polls: 256,
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
                    inbox_enabled: true,
                },
                job_queue: JobQueueBootstrap {
                    service_enabled: true,
                },
            },
            infrastructure: InfrastructureProperties {
                async_messaging_enabled: false,
            },
        }
    }

    /// Whether events and jobs go through Kafka (else the embedded default).
    pub fn uses_kafka(&self) -> bool {
        self.messaging.connection_address.is_some()
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

/// Where the configuration comes from; built by [`App`](crate::App).
#[derive(Debug, Default, Clone)]
pub(crate) struct ConfigSources {
    pub(crate) file: Option<PathBuf>,
    pub(crate) env_var: Option<String>,
    pub(crate) properties: Vec<(String, serde_json::Value)>,
}

impl ConfigSources {
    /// Reads every layer and checks the result.
    pub(crate) fn load(&self, app_name: &str) -> Result<IgnitionConfig, BootError> {
        let mut figment = Figment::from(Serialized::defaults(IgnitionConfig::defaults(app_name)));
        if let Some(file) = &self.file {
            figment = figment.merge(yaml_file(file, None)?);
        }
        if let Some(var) = &self.env_var {
            if let Some(path) = std::env::var_os(var) {
                figment = figment.merge(yaml_file(Path::new(&path), Some(var))?);
            }
        }
        for (key, value) in &self.properties {
            figment = figment.merge(Serialized::global(key, value));
        }
        let config: IgnitionConfig = figment.extract().map_err(config_error)?;
        validate(&config)?;
        Ok(config)
    }
}

fn yaml_file(path: &Path, env_var: Option<&str>) -> Result<Data<Yaml>, BootError> {
    let named_by = env_var
        .map(|var| format!(" (named by environment variable {var})"))
        .unwrap_or_default();
    // figment treats a missing file as empty; a configured file that is absent is a mistake.
    let text = std::fs::read_to_string(path).map_err(|err| {
        BootError::new(format!(
            "cannot read configuration file {}{named_by}: {err}",
            path.display()
        ))
    })?;
    // An empty file is an empty mapping, not a type error.
    if text.trim().is_empty() {
        return Ok(Yaml::string("{}"));
    }
    Ok(Yaml::file_exact(path))
}

/// Turns figment's error into one sentence that names the property and its source.
fn config_error(err: figment::Error) -> BootError {
    use figment::error::Kind;
    let mut messages = Vec::new();
    for err in err {
        let source = err
            .metadata
            .as_ref()
            .map(|md| match &md.source {
                Some(source) => format!(" (from {source})"),
                None => format!(" (from {})", md.name),
            })
            .unwrap_or_default();
        let mut path = err.path.clone();
        let detail = match &err.kind {
            Kind::UnknownField(field, expected) => {
                path.push(field.clone());
                format!("unknown property; expected one of: {}", expected.join(", "))
            }
            Kind::MissingField(field) => {
                path.push(field.to_string());
                "missing property".to_string()
            }
            kind => kind.to_string(),
        };
        let property = if path.is_empty() {
            "(root)".to_string()
        } else {
            path.join(".")
        };
        messages.push(format!(
            "invalid configuration property `{property}`{source}: {detail}"
        ));
    }
    BootError::new(messages.join("; "))
}

fn validate(config: &IgnitionConfig) -> Result<(), BootError> {
    let jq = &config.job_queue;
    if jq.poll_interval.is_zero() {
        return Err(BootError::new(
            "invalid configuration property `job_queue.poll_interval`: must be greater than 0",
        ));
    }
    if jq.max_poll_interval < jq.poll_interval {
        return Err(BootError::new(format!(
            "invalid configuration property `job_queue.max_poll_interval`: {} is shorter than job_queue.poll_interval ({})",
            humantime_serde::re::humantime::format_duration(jq.max_poll_interval),
            humantime_serde::re::humantime::format_duration(jq.poll_interval)
        )));
    }
    if jq.max_concurrent_polls == 0 {
        return Err(BootError::new(
            "invalid configuration property `job_queue.max_concurrent_polls`: must be at least 1",
        ));
    }
    for (key, topic) in [
        (
            "infrastructure_task_events",
            &config.messaging.topics.infrastructure_task_events,
        ),
        ("job_queue", &config.messaging.topics.job_queue),
    ] {
        if let Err(why) = check_topic_name(&topic.name) {
            return Err(BootError::new(format!(
                "invalid configuration property `messaging.topics.{key}.name`: {why}"
            )));
        }
        // Some brokers (Tansu) accept these; Kafka does not, so neither do we.
        if topic.num_partitions < 1 {
            return Err(BootError::new(format!(
                "invalid configuration property `messaging.topics.{key}.num_partitions`: {} (at least 1)",
                topic.num_partitions
            )));
        }
        if topic.replication_factor < 1 {
            return Err(BootError::new(format!(
                "invalid configuration property `messaging.topics.{key}.replication_factor`: {} (at least 1)",
                topic.replication_factor
            )));
        }
    }
    if matches!(&config.messaging.connection_address, Some(a) if a.trim().is_empty()) {
        return Err(BootError::new(
            "invalid configuration property `messaging.connection_address`: empty (remove it to use the embedded default)",
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
