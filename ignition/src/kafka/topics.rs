//! Topic creation at start (`messaging.topics.*.auto_create`), and the check that the
//! job-queue topic is there before the API answers; meanwhile the connection is
//! watched, so that a TLS or SASL rejection stops start-up at once with its reason.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use super::watch::Watch;
use super::{redacted, KafkaConfig, KafkaError};
use crate::config::{IgnitionConfig, TopicProperties};
use crate::operations::ApiKind;

/// Creates the auto-created topics ("already exists" is fine), then waits until the
/// job-queue topic shows in the broker's metadata. Stops early when the broker rejects
/// the connection (TLS, SASL).
pub(crate) async fn ensure(
    kafka: &KafkaConfig,
    config: &IgnitionConfig,
    kind: ApiKind,
) -> Result<(), KafkaError> {
    let watch = Watch::start(kafka, config.messaging.connect_timeout);
    tokio::select! {
        biased;
        result = ensure_topics(kafka, config, kind, &watch) => result,
        reason = watch.rejected() => Err(KafkaError::ConnectionRejected {
            bootstrap: kafka.bootstrap.clone(),
            settings: redacted(&kafka.settings),
            reason,
        }),
    }
}

/// The events topic of the driver's API kind: its key under `messaging.topics`, and its
/// properties.
fn events_topic(config: &IgnitionConfig, kind: ApiKind) -> (&'static str, &TopicProperties) {
    let topics = &config.messaging.topics;
    match kind {
        ApiKind::Infrastructure => (
            "infrastructure_task_events",
            &topics.infrastructure_task_events,
        ),
        ApiKind::ResourceDriver => (
            "lifecycle_execution_events",
            &topics.lifecycle_execution_events,
        ),
    }
}

async fn ensure_topics(
    kafka: &KafkaConfig,
    config: &IgnitionConfig,
    kind: ApiKind,
    watch: &Watch,
) -> Result<(), KafkaError> {
    let topics = &config.messaging.topics;
    let (events_key, events) = events_topic(config, kind);
    let wanted: Vec<(&'static str, &TopicProperties)> =
        [(events_key, events), ("job_queue", &topics.job_queue)]
            .into_iter()
            .filter(|(_, topic)| topic.auto_create)
            .collect();
    let timeout = config.messaging.connect_timeout;
    if !wanted.is_empty() {
        create(kafka, &wanted, timeout, watch).await?;
    }
    wait_for_topic(kafka, &topics.job_queue.name, timeout, watch).await?;
    if !events.auto_create {
        let name = &events.name;
        if wait_for_topic_once(kafka, name).await.is_err() {
            tracing::warn!(topic = %name, "the events topic does not exist yet (LM usually creates it; set messaging.topics.{events_key}.auto_create to create it here); events wait in the producer until it does");
        }
    }
    Ok(())
}

async fn create(
    kafka: &KafkaConfig,
    wanted: &[(&'static str, &TopicProperties)],
    timeout: Duration,
    watch: &Watch,
) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = kafka
        .client(&[])
        .create()
        .map_err(|err| kafka.refused("admin client", err))?;
    let new_topics: Vec<NewTopic<'_>> = wanted
        .iter()
        .map(|(_, topic)| {
            topic.config.iter().fold(
                NewTopic::new(
                    &topic.name,
                    topic.num_partitions,
                    TopicReplication::Fixed(topic.replication_factor),
                ),
                |new, (key, value)| new.set(key, value),
            )
        })
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(timeout))
        .request_timeout(Some(timeout));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|source| KafkaError::TopicsNotCreated {
            bootstrap: kafka.bootstrap.clone(),
            timeout,
            source: Box::new(source),
            last_failure: watch.last_failure(),
        })?;
    for (result, (key, topic)) in results.into_iter().zip(wanted) {
        match result {
            Ok(name) => {
                tracing::info!(topic = %name, partitions = topic.num_partitions, "topic created")
            }
            Err((name, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::info!(topic = %name, "topic already exists")
            }
            Err((name, code)) => return Err(KafkaError::TopicRefused { name, key, code }),
        }
    }
    Ok(())
}

/// Waits (up to `timeout`) until the job-queue topic has partitions in the metadata.
async fn wait_for_topic(
    kafka: &KafkaConfig,
    topic: &str,
    timeout: Duration,
    watch: &Watch,
) -> Result<(), KafkaError> {
    let deadline = Instant::now() + timeout;
    loop {
        match wait_for_topic_once(kafka, topic).await {
            Ok(()) => return Ok(()),
            Err(reason) if Instant::now() >= deadline => {
                return Err(KafkaError::JobQueueTopicUnavailable {
                    topic: topic.to_string(),
                    bootstrap: kafka.bootstrap.clone(),
                    timeout,
                    reason,
                    last_failure: watch.last_failure(),
                })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// One metadata request: does `topic` exist with at least one partition?
async fn wait_for_topic_once(kafka: &KafkaConfig, topic: &str) -> Result<(), String> {
    let client = kafka.client(&[]);
    let topic = topic.to_string();
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = client.create().map_err(|err| err.to_string())?;
        let metadata = consumer
            .fetch_metadata(Some(&topic), Duration::from_secs(5))
            .map_err(|err| err.to_string())?;
        match metadata.topics().first() {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(()),
            Some(t) => Err(format!("topic `{topic}`: {:?}", t.error())),
            None => Err(format!("topic `{topic}` not in metadata")),
        }
    })
    .await
    .map_err(|err| err.to_string())?
}
