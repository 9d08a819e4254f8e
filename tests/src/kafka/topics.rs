//! Topics as the broker sees them: partitions, high watermarks, configuration, and
//! creating one.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::consumer::Consumer;

use super::client::{admin, metadata_client};

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
