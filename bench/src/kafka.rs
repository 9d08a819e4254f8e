//! The Kafka side of the harness: the Tansu broker and the raw clients come from the test
//! kit (`ignition_tests::kafka`, one harness and one pinned broker package for tests and
//! bench); what is the bench's own is a producer with the framework's settings, a reader
//! that stamps each message with its arrival, and the job messages the framework's job
//! queue writes.

use std::time::{Duration, Instant};

use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};

pub use ignition_tests::kafka::{client_config, Broker};

use crate::harness::{self, Events, Received};

/// A producer with the settings of the framework's producer
/// (`ignition/src/kafka/delivery.rs`: idempotent, acks=all, linger 0), so the raw baseline
/// pays what the job queue pays.
pub fn producer(bootstrap: &str) -> FutureProducer {
    client_config(bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "0")
        .create()
        .expect("producer")
}

/// Creates `topic` with one partition (the framework's default for its job topic).
pub async fn create_topic(bootstrap: &str, topic: &str) -> Result<(), String> {
    ignition_tests::kafka::try_create_topic(bootstrap, topic, 1).await
}

/// Reads every partition of `topic` from the beginning in a thread of its own (no
/// consumer group, so no join delay), handing each message's key and arrival time to the
/// returned [`Events`]. Waits up to 30 s for the topic to exist. The thread ends when the
/// [`Events`] are dropped.
///
/// The reader's `fetch.wait.max.ms` is 10 ms, so that it adds at most that to a latency
/// even if a broker holds fetches for their whole wait.
pub fn read_topic(bootstrap: &str, topic: &str) -> Result<Events, String> {
    let consumer = ignition_tests::kafka::reader_from_beginning(
        bootstrap,
        topic,
        &format!("bench-reader-{topic}"),
        Duration::from_secs(30),
    )?;
    let (tx, events) = Events::channel();
    std::thread::spawn(move || {
        while tx.listening() {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    let at = Instant::now();
                    let key = message
                        .key()
                        .map(|k| String::from_utf8_lossy(k).into_owned())
                        .unwrap_or_default();
                    tx.send(Received { key, at });
                }
                Some(Err(err)) => eprintln!("[bench reader] {err}"),
                None => {}
            }
        }
        // Dropping the consumer may block; this thread is detached, so nobody waits.
    });
    Ok(events)
}

/// Produces `payloads` (key, payload) to `topic` as fast as rdkafka takes them; returns
/// when each is acknowledged.
pub async fn produce_all(
    producer: &rdkafka::producer::FutureProducer,
    topic: &str,
    payloads: &[(String, Vec<u8>)],
) -> Result<(), String> {
    let mut pending = Vec::with_capacity(payloads.len());
    for (key, payload) in payloads {
        let mut record = FutureRecord::to(topic).payload(payload.as_slice());
        if !key.is_empty() {
            record = record.key(key.as_str());
        }
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((err, back)) => {
                    if !matches!(
                        err,
                        rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull
                        )
                    ) {
                        return Err(format!("produce: {err}"));
                    }
                    record = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
    }
    for delivery in pending {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((err, _))) => return Err(format!("delivery: {err}")),
            Err(_) => return Err("delivery cancelled".into()),
        }
    }
    Ok(())
}

/// One monitoring job message, as the framework's job queue writes it: a task that is
/// COMPLETE at its first poll.
pub fn job_message(iid: &str) -> Vec<u8> {
    let location = serde_json::from_value(harness::location()).expect("location");
    ignition::kafka::sample_job_message(iid, location)
}
