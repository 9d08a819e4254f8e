//! The postal/delivery service on Kafka: an idempotent producer whose sends count only
//! once the broker confirmed them.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

use super::KafkaConfig;
use crate::boot::BootError;
use crate::jobqueue::BoxFuture;
use crate::messaging::{Delivery, DeliveryError, Envelope};

/// Producer settings Ignition needs; `messaging.config` may override them.
pub(crate) const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("enable.idempotence", "true"),
    ("acks", "all"),
    // Never give up on a message: an outage delays events, it does not drop them.
    ("message.timeout.ms", "0"),
    // Send at once: events and re-polls are latency-bound, and under load librdkafka
    // still batches what queues up while a request is in flight.
    ("linger.ms", "0"),
];

/// The Kafka [`Delivery`].
pub struct KafkaDelivery {
    producer: FutureProducer,
}

impl KafkaDelivery {
    /// A producer for `kafka`.
    pub fn new(kafka: &KafkaConfig) -> Result<Self, BootError> {
        let producer = kafka
            .client(PRODUCER_DEFAULTS)
            .create()
            .map_err(|err| kafka.refused("producer", err))?;
        Ok(Self { producer })
    }

    /// Sends one message and waits for the broker's confirmation (as long as it takes).
    pub async fn send(
        &self,
        topic: &str,
        key: Option<&str>,
        payload: &[u8],
    ) -> Result<(), DeliveryError> {
        let mut record = FutureRecord::<str, [u8]>::to(topic).payload(payload);
        if let Some(key) = key {
            record = record.key(key);
        }
        // `Timeout::Never`: when librdkafka's buffer is full, wait for room.
        match self.producer.send(record, Timeout::Never).await {
            Ok(_) => Ok(()),
            Err((err, _)) => Err(DeliveryError {
                topic: topic.to_string(),
                reason: err.to_string(),
            }),
        }
    }

    /// Whether the broker answers a metadata request within `timeout`.
    pub(crate) async fn broker_reachable(&self, timeout: Duration) -> Result<(), String> {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(None, timeout)
                .map(|_| ())
                .map_err(|err| format!("Kafka unreachable: {err}"))
        })
        .await
        .unwrap_or_else(|err| Err(err.to_string()))
    }

    /// Waits up to `timeout` for every message in flight to be confirmed.
    pub(crate) async fn flush_within(&self, timeout: Duration) {
        let producer = self.producer.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            let result = producer.flush(timeout);
            (result, producer.in_flight_count())
        })
        .await;
        match flushed {
            Ok((Ok(()), _)) => tracing::info!("Kafka producer flushed"),
            Ok((Err(err), left)) => {
                tracing::error!(error = %err, messages_left = left, "Kafka producer not flushed; messages still in flight are lost with this process")
            }
            Err(err) => tracing::error!(error = %err, "Kafka producer flush failed"),
        }
    }
}

impl Delivery for KafkaDelivery {
    fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
        Box::pin(async move {
            self.send(
                &envelope.topic,
                envelope.key.as_deref(),
                envelope.payload.as_bytes(),
            )
            .await
        })
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.flush_within(Duration::from_secs(30)))
    }
}
