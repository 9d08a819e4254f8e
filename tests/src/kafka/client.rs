//! Raw Kafka clients of the tests: the client settings, a metadata client, an admin
//! client, a reader of a topic from its beginning, a producer of raw bytes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::clock_driver::random_suffix;

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

pub(crate) fn metadata_client(bootstrap: &str) -> BaseConsumer {
    client_config(bootstrap)
        .set("group.id", format!("metadata-{}", random_suffix(8)))
        .set("allow.auto.create.topics", "false")
        .create()
        .expect("metadata client")
}

pub(crate) fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    client_config(bootstrap).create().expect("admin client")
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
