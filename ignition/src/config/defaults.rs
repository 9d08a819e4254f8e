//! The built-in defaults: the Python framework's where it had the key, the seed's
//! otherwise.

use std::collections::BTreeMap;
use std::time::Duration;

use super::logging::LoggingProperties;
use super::properties::*;
use super::size::ByteSize;

/// Partitions of an auto-created job-queue topic. Each partition is consumed by one
/// replica, so the partitions are how many replicas can share the monitoring: with one
/// (the Python framework's), every replica but one only stands by. Six divide evenly
/// over 1, 2, 3 and 6 replicas (the replica counts drivers' charts use) and still give a
/// 4th and 5th replica one or two; each costs an idle replica next to nothing (one fetch
/// request covers every partition of a broker).
pub const JOB_QUEUE_PARTITIONS: i32 = 6;

/// `replication_factor` of every topic unless set: the broker's own
/// `default.replication.factor` (Kafka's CreateTopics takes -1 for it since 2.4). The
/// Python framework's 1 silently left a job queue with no replica on a cluster that
/// keeps three; a test broker with one node has a default of 1 anyway.
pub(crate) const BROKER_DEFAULT_REPLICATION: i32 = -1;

/// The job-queue topic's settings: jobs are re-queued at every poll, so an old one is
/// worth nothing after a minute. (The Python framework also set
/// `message.timestamp.difference.max.ms`, which Kafka 4 no longer has: a broker that
/// does not know a setting refuses to create the topic.)
const JOB_QUEUE_TOPIC_CONFIG: [(&str, &str); 2] =
    [("retention.ms", "60000"), ("file.delete.delay.ms", "60000")];

impl IgnitionConfig {
    /// The defaults of the seed, for an app of this name. (`logging` is `flat` / `INFO`
    /// here: `LOG_TYPE` and `LOG_LEVEL` are the layer above, applied by
    /// [`App::config`](crate::App::config) and at start.)
    pub fn defaults(app_name: &str) -> Self {
        IgnitionConfig {
            application: ApplicationProperties {
                port: 7777,
                host: None,
                shutdown_timeout: Duration::from_secs(30),
                shutdown_grace: Duration::from_secs(5),
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
                    infrastructure_task_events: lm_topic("lm_vim_infrastructure_task_events"),
                    lifecycle_execution_events: lm_topic("lm_vnfc_lifecycle_execution_events"),
                    job_queue: TopicProperties {
                        name: job_queue_topic_name(app_name),
                        auto_create: true,
                        num_partitions: JOB_QUEUE_PARTITIONS,
                        replication_factor: BROKER_DEFAULT_REPLICATION,
                        config: JOB_QUEUE_TOPIC_CONFIG
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    },
                },
            },
            job_queue: JobQueueProperties {
                consumer_group_id: "job_queue_consumer".into(),
                poll_interval: Duration::from_secs(1),
                max_poll_interval: Duration::from_secs(60),
                max_concurrent_polls: 256,
                task_timeout: None,
                encryption_key_file: None,
                encryption_key: None,
            },
            bootstrap: BootstrapProperties {
                infrastructure: InfrastructureBootstrap {
                    api_enabled: true,
                    api_service_enabled: true,
                    service_enabled: true,
                    monitoring_service_enabled: true,
                    messaging_service_enabled: true,
                },
                resource_driver: ResourceDriverBootstrap {
                    api_enabled: true,
                    api_service_enabled: true,
                    service_enabled: true,
                    lifecycle_monitoring_service_enabled: true,
                    lifecycle_messaging_service_enabled: true,
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
            resource_driver: ResourceDriverProperties {
                async_messaging_enabled: true,
                driver_files: DriverFilesProperties {
                    max_entries: 10_000,
                    max_size: ByteSize(256 * 1024 * 1024),
                },
            },
            driver: DriverProperties {
                call_timeout: Duration::from_secs(30),
                timeouts: OperationTimeouts::default(),
            },
            logging: LoggingProperties::default(),
        }
    }
}

/// A topic LM reads and usually creates: one partition, not auto-created.
fn lm_topic(name: &str) -> TopicProperties {
    TopicProperties {
        name: name.to_string(),
        auto_create: false,
        num_partitions: 1,
        replication_factor: BROKER_DEFAULT_REPLICATION,
        config: BTreeMap::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_topic_is_created_with_one_replica_unless_asked() {
        let config = IgnitionConfig::defaults("x");
        for (key, topic) in config.topics_by_key() {
            assert_eq!(topic.replication_factor, -1, "{key}: the broker's default");
        }
    }

    #[test]
    fn no_default_topic_setting_is_one_kafka_4_refuses() {
        let config = IgnitionConfig::defaults("x");
        for (key, topic) in config.topics_by_key() {
            assert!(
                !topic
                    .config
                    .contains_key("message.timestamp.difference.max.ms"),
                "{key}: removed in Kafka 4"
            );
        }
        let jobs = &config.messaging.topics.job_queue.config;
        assert_eq!(jobs["retention.ms"], "60000");
        assert_eq!(jobs["file.delete.delay.ms"], "60000");
    }

    #[test]
    fn the_resource_driver_keys_have_python_s_names_and_designs_bounds() {
        let config = IgnitionConfig::defaults("x");
        assert_eq!(
            config.messaging.topics.lifecycle_execution_events.name,
            "lm_vnfc_lifecycle_execution_events"
        );
        assert!(
            !config
                .messaging
                .topics
                .lifecycle_execution_events
                .auto_create
        );
        assert!(config.resource_driver.async_messaging_enabled);
        assert_eq!(config.resource_driver.driver_files.max_entries, 10_000);
        assert_eq!(
            config.resource_driver.driver_files.max_size.to_string(),
            "256MiB"
        );
        let boot = &config.bootstrap.resource_driver;
        assert!(boot.api_enabled && boot.api_service_enabled && boot.service_enabled);
        assert!(boot.lifecycle_monitoring_service_enabled);
        assert!(boot.lifecycle_messaging_service_enabled);
        assert_eq!(config.application.shutdown_grace, Duration::from_secs(5));
        assert_eq!(config.job_queue.encryption_key_file, None);
    }

    #[test]
    fn the_job_queue_topic_is_named_after_the_app() {
        assert_eq!(job_queue_topic_name("Echo VIM Driver"), "Echo_VIM_Driver");
        assert_eq!(
            job_queue_topic_name("Open$tack (v2) driver!"),
            "Opentack_v2_driver"
        );
        assert_eq!(job_queue_topic_name("k8s-driver.v1"), "k8s-driver.v1");
        assert_eq!(job_queue_topic_name("¡¿!"), "");
    }
}
