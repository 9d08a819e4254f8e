//! Rules across properties (and ranges serde cannot express), checked once every layer
//! is read.

use humantime_serde::re::humantime::format_duration;

use super::defaults::BROKER_DEFAULT_REPLICATION;
use super::error::ConfigError;
use super::properties::IgnitionConfig;

/// The first rule `config` breaks, naming its property.
pub(crate) fn validate(config: &IgnitionConfig) -> Result<(), ConfigError> {
    job_queue(config)?;
    driver(config)?;
    application(config)?;
    messaging(config)?;
    resource_driver(config)
}

fn job_queue(config: &IgnitionConfig) -> Result<(), ConfigError> {
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
                format_duration(jq.max_poll_interval),
                format_duration(jq.poll_interval)
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
    Ok(())
}

fn driver(config: &IgnitionConfig) -> Result<(), ConfigError> {
    let driver = &config.driver;
    if driver.call_timeout.is_zero() {
        return Err(ConfigError::invalid(
            "driver.call_timeout",
            "must be greater than 0",
        ));
    }
    for (key, timeout) in driver.timeouts.by_key() {
        if timeout.is_some_and(|t| t.is_zero()) {
            return Err(ConfigError::invalid(
                format!("driver.timeouts.{key}"),
                "must be greater than 0 (remove it to use driver.call_timeout)",
            ));
        }
    }
    Ok(())
}

fn application(config: &IgnitionConfig) -> Result<(), ConfigError> {
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
    if application.max_body_size.0 == 0 {
        return Err(ConfigError::invalid(
            "application.max_body_size",
            "must be at least 1 byte",
        ));
    }
    let ssl = &application.ssl;
    if ssl.enabled && ssl.cert_dir.is_none() {
        return Err(ConfigError::invalid(
            "application.ssl.cert_dir",
            "missing: `application.ssl.enabled` is true, so the directory holding tls.crt and tls.key must be given",
        ));
    }
    if application
        .host
        .as_ref()
        .is_some_and(|h| h.trim().is_empty())
    {
        return Err(ConfigError::invalid(
            "application.host",
            "empty (remove it to listen on every interface)",
        ));
    }
    Ok(())
}

fn messaging(config: &IgnitionConfig) -> Result<(), ConfigError> {
    for (key, topic) in config.topics_by_key() {
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
        let replicas = topic.replication_factor;
        if replicas < 1 && replicas != BROKER_DEFAULT_REPLICATION {
            return Err(ConfigError::invalid(
                format!("messaging.topics.{key}.replication_factor"),
                format!(
                    "{replicas} (at least 1, or -1 for the broker's default.replication.factor)"
                ),
            ));
        }
    }
    let messaging = &config.messaging;
    if messaging.spool_max_bytes.0 == 0 {
        return Err(ConfigError::invalid(
            "messaging.spool_max_bytes",
            "must be at least 1 byte (turn the spool off with `messaging.spool_enabled: false`)",
        ));
    }
    if messaging.spool_max_records == 0 {
        return Err(ConfigError::invalid(
            "messaging.spool_max_records",
            "must be at least 1 (turn the spool off with `messaging.spool_enabled: false`)",
        ));
    }
    if matches!(&messaging.connection_address, Some(a) if a.trim().is_empty()) {
        return Err(ConfigError::invalid(
            "messaging.connection_address",
            "empty (remove it to use the embedded default)",
        ));
    }
    Ok(())
}

fn resource_driver(config: &IgnitionConfig) -> Result<(), ConfigError> {
    let files = &config.resource_driver.driver_files;
    if files.max_entries == 0 {
        return Err(ConfigError::invalid(
            "resource_driver.driver_files.max_entries",
            "must be at least 1",
        ));
    }
    if files.max_size.0 == 0 {
        return Err(ConfigError::invalid(
            "resource_driver.driver_files.max_size",
            "must be at least 1 byte",
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::ByteSize;

    /// The property `validate` names for the defaults changed by `change`.
    fn refused(change: impl FnOnce(&mut IgnitionConfig)) -> String {
        let mut config = IgnitionConfig::defaults("x");
        change(&mut config);
        validate(&config).expect_err("must be refused").property
    }

    #[test]
    fn the_defaults_pass() {
        assert_eq!(
            validate(&IgnitionConfig::defaults("Echo VIM Driver")),
            Ok(())
        );
    }

    #[test]
    fn durations_that_must_not_be_zero_are_named() {
        let zero = Duration::ZERO;
        assert_eq!(
            refused(|c| c.job_queue.poll_interval = zero),
            "job_queue.poll_interval"
        );
        assert_eq!(
            refused(|c| c.job_queue.task_timeout = Some(zero)),
            "job_queue.task_timeout"
        );
        assert_eq!(
            refused(|c| c.driver.call_timeout = zero),
            "driver.call_timeout"
        );
        assert_eq!(
            refused(|c| c.driver.timeouts.execute = Some(zero)),
            "driver.timeouts.execute"
        );
        assert_eq!(
            refused(|c| c.driver.timeouts.find_reference = Some(zero)),
            "driver.timeouts.find_reference"
        );
        assert_eq!(
            refused(|c| c.application.body_read_timeout = zero),
            "application.body_read_timeout"
        );
        let mut config = IgnitionConfig::defaults("x");
        config.application.shutdown_grace = zero;
        assert_eq!(validate(&config), Ok(()), "no grace: close at once");
    }

    #[test]
    fn the_backoff_ceiling_cannot_be_below_the_interval() {
        let mut config = IgnitionConfig::defaults("x");
        config.job_queue.poll_interval = Duration::from_secs(2);
        config.job_queue.max_poll_interval = Duration::from_secs(1);
        let err = validate(&config).unwrap_err();
        assert_eq!(err.property, "job_queue.max_poll_interval");
        assert!(
            err.to_string()
                .contains("1s is shorter than job_queue.poll_interval (2s)"),
            "{err}"
        );
    }

    #[test]
    fn every_topic_is_checked_as_kafka_would() {
        assert_eq!(
            refused(|c| c.messaging.topics.lifecycle_execution_events.name = "a b".into()),
            "messaging.topics.lifecycle_execution_events.name"
        );
        assert_eq!(
            refused(|c| c.messaging.topics.job_queue.num_partitions = 0),
            "messaging.topics.job_queue.num_partitions"
        );
        for replicas in [0, -2] {
            assert_eq!(
                refused(|c| c
                    .messaging
                    .topics
                    .infrastructure_task_events
                    .replication_factor = replicas),
                "messaging.topics.infrastructure_task_events.replication_factor"
            );
        }
        let mut config = IgnitionConfig::defaults("x");
        config.messaging.topics.job_queue.replication_factor = 3;
        assert_eq!(validate(&config), Ok(()));
        assert!(check_topic_name(&"a".repeat(250)).is_err());
        assert!(check_topic_name("..").is_err());
        assert!(check_topic_name("lm_vim-events.v1").is_ok());
    }

    #[test]
    fn bounds_of_one_at_least_are_named() {
        assert_eq!(
            refused(|c| c.resource_driver.driver_files.max_entries = 0),
            "resource_driver.driver_files.max_entries"
        );
        assert_eq!(
            refused(|c| c.resource_driver.driver_files.max_size = ByteSize(0)),
            "resource_driver.driver_files.max_size"
        );
        assert_eq!(
            refused(|c| c.messaging.spool_max_records = 0),
            "messaging.spool_max_records"
        );
        assert_eq!(
            refused(|c| c.application.max_connections = 0),
            "application.max_connections"
        );
        assert_eq!(
            refused(|c| c.job_queue.max_concurrent_polls = 0),
            "job_queue.max_concurrent_polls"
        );
    }

    #[test]
    fn blank_addresses_and_https_without_certificates_are_refused() {
        assert_eq!(
            refused(|c| c.messaging.connection_address = Some(" ".into())),
            "messaging.connection_address"
        );
        assert_eq!(
            refused(|c| c.application.host = Some(String::new())),
            "application.host"
        );
        assert_eq!(
            refused(|c| c.application.ssl.enabled = true),
            "application.ssl.cert_dir"
        );
    }
}
