//! Why Kafka could not be set up: [`KafkaError`].
//!
//! Each variant carries the values its message names (the property to look at, the
//! address, the settings with every secret shown as `****`) and, where there is one, the
//! librdkafka error as its `source`, so that callers can match on the cause and the
//! message still reads as one clear sentence. librdkafka's errors are boxed: they are
//! large, and these errors travel through every `Result` of start-up.

use std::time::Duration;

use rdkafka::types::RDKafkaErrorCode;

/// Why the Kafka side of an app could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// `messaging.connection_address` is not set.
    #[error("`messaging.connection_address` is not set: there is no Kafka to connect to")]
    NoConnectionAddress,
    /// librdkafka refused to create a client (e.g. a bad setting in `messaging.config`).
    #[error("cannot create the Kafka {what} for `messaging.connection_address` {bootstrap} with `messaging.config` {settings}: {source}")]
    ClientRefused {
        /// Which client: `producer`, `admin client`, `job-queue consumer`.
        what: &'static str,
        /// `messaging.connection_address`.
        bootstrap: String,
        /// `messaging.config`, secrets shown as `****`.
        settings: String,
        /// What librdkafka said.
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    /// The broker would not take the client as configured, and retrying will not help:
    /// the TLS handshake failed (e.g. a certificate that does not verify against
    /// `ssl.ca.location`) or SASL authentication failed.
    #[error("cannot connect to Kafka at `messaging.connection_address` {bootstrap} with `messaging.config` {settings}: {reason}")]
    ConnectionRejected {
        /// `messaging.connection_address`.
        bootstrap: String,
        /// `messaging.config`, secrets shown as `****`.
        settings: String,
        /// librdkafka's reason, e.g. `... SSL handshake failed: ... certificate verify
        /// failed ...` or `... SASL authentication error: ...`.
        reason: String,
    },
    /// The topic creation request failed or timed out.
    #[error("cannot create topics on Kafka at `messaging.connection_address` {bootstrap} within {}s (`messaging.connect_timeout`): {source}{}", .timeout.as_secs_f64(), failure_note(.last_failure))]
    TopicsNotCreated {
        /// `messaging.connection_address`.
        bootstrap: String,
        /// `messaging.connect_timeout`.
        timeout: Duration,
        /// What librdkafka said.
        #[source]
        source: Box<rdkafka::error::KafkaError>,
        /// The last connection failure librdkafka reported meanwhile, if any.
        last_failure: Option<String>,
    },
    /// The broker refused to create one topic.
    #[error("cannot create topic `{name}` (`messaging.topics.{key}`): {code}")]
    TopicRefused {
        /// The topic's name.
        name: String,
        /// Its key under `messaging.topics` (`job_queue`, `infrastructure_task_events`).
        key: &'static str,
        /// The broker's answer.
        code: RDKafkaErrorCode,
    },
    /// The job-queue topic did not show up in the broker's metadata in time.
    #[error("the job-queue topic `{topic}` (`messaging.topics.job_queue.name`) is not available on Kafka at `messaging.connection_address` {bootstrap} after {}s (`messaging.connect_timeout`): {reason}{}", .timeout.as_secs_f64(), failure_note(.last_failure))]
    JobQueueTopicUnavailable {
        /// `messaging.topics.job_queue.name`.
        topic: String,
        /// `messaging.connection_address`.
        bootstrap: String,
        /// `messaging.connect_timeout`.
        timeout: Duration,
        /// The last metadata answer (or failure).
        reason: String,
        /// The last connection failure librdkafka reported meanwhile, if any.
        last_failure: Option<String>,
    },
    /// The job-queue consumer could not subscribe to its topic.
    #[error("cannot subscribe to the job-queue topic `{topic}` (`messaging.topics.job_queue.name`): {source}")]
    Subscribe {
        /// `messaging.topics.job_queue.name`.
        topic: String,
        /// What librdkafka said.
        #[source]
        source: Box<rdkafka::error::KafkaError>,
    },
    /// The spool (`messaging.spool_dir`) cannot be opened: locked by another process,
    /// or not writable.
    #[error(transparent)]
    Spool(#[from] super::spool::SpoolError),
    /// The thread that hands delivery reports to their sends did not start.
    #[error("cannot start the Kafka producer's poll thread: {0}")]
    PollThread(#[source] std::io::Error),
}

/// `; last reported by librdkafka: ...`, or nothing.
fn failure_note(failure: &Option<String>) -> String {
    failure
        .as_ref()
        .map(|failure| format!("; last reported by librdkafka: {failure}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;
    use crate::jobqueue::JobQueueError;

    #[test]
    fn messages_name_the_property_and_keep_the_cause_as_source() {
        let refused = KafkaError::ClientRefused {
            what: "producer",
            bootstrap: "b:9092".into(),
            settings: "{sasl.password: ****}".into(),
            source: Box::new(rdkafka::error::KafkaError::ClientCreation("bad".into())),
        };
        assert_eq!(
            refused.to_string(),
            "cannot create the Kafka producer for `messaging.connection_address` b:9092 with `messaging.config` {sasl.password: ****}: Client creation error: bad"
        );
        assert!(refused.source().is_some());
        let unavailable = KafkaError::JobQueueTopicUnavailable {
            topic: "jobs".into(),
            bootstrap: "b:9092".into(),
            timeout: Duration::from_millis(2500),
            reason: "not in metadata".into(),
            last_failure: None,
        };
        assert_eq!(
            unavailable.to_string(),
            "the job-queue topic `jobs` (`messaging.topics.job_queue.name`) is not available on Kafka at `messaging.connection_address` b:9092 after 2.5s (`messaging.connect_timeout`): not in metadata"
        );
        let refused_topic = KafkaError::TopicRefused {
            name: "jobs".into(),
            key: "job_queue",
            code: RDKafkaErrorCode::InvalidReplicationFactor,
        };
        assert!(
            refused_topic
                .to_string()
                .starts_with("cannot create topic `jobs` (`messaging.topics.job_queue`): "),
            "{refused_topic}"
        );
    }

    #[test]
    fn a_job_queue_backend_error_reads_as_its_own_message() {
        let wrapped = JobQueueError::Backend(Box::new(KafkaError::NoConnectionAddress));
        assert_eq!(
            wrapped.to_string(),
            "`messaging.connection_address` is not set: there is no Kafka to connect to"
        );
    }
}
