//! Task events as a test reads them off the events topic: each [`Event`], an
//! [`EventCollector`] reading the topic from its beginning, and the [`Tally`] of what it
//! saw for a set of expected tasks.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::message::{Headers, Message};
use serde_json::Value;

use super::client::reader_from_beginning_with;
use crate::clock_driver::random_suffix;

/// One message read from the events topic.
#[derive(Debug, Clone)]
pub struct Event {
    /// The message key, as UTF-8.
    pub key: Option<String>,
    /// The payload as JSON (`Value::String` with the raw text if it is not JSON).
    pub value: Value,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// When the collector received it.
    pub received_at: Instant,
    /// Its record headers (name, value as UTF-8), in order.
    pub headers: Vec<(String, String)>,
}

impl Event {
    /// `infrastructureId` of the event.
    pub fn infrastructure_id(&self) -> &str {
        self.value["infrastructureId"].as_str().unwrap_or_default()
    }

    /// The id of the task the event ends, which is also its key: the `infrastructureId` of
    /// a task event, the `requestId` of a lifecycle execution event (which has no
    /// infrastructure id).
    pub fn task_id(&self) -> &str {
        match self.value.get("infrastructureId") {
            Some(_) => self.infrastructure_id(),
            None => self.value["requestId"].as_str().unwrap_or_default(),
        }
    }

    /// Its record headers as `(name, value)` pairs, for comparing with a literal.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// What a collector saw for a set of expected tasks.
#[derive(Debug, Default)]
pub struct Tally {
    /// Every event received for the expected ids, grouped by task id
    /// ([`Event::task_id`]).
    pub by_id: HashMap<String, Vec<Event>>,
    /// Events for ids that were not expected.
    pub unexpected: Vec<Event>,
    /// Expected ids with no event.
    pub missing: Vec<String>,
}

impl Tally {
    /// Events received for expected ids (duplicates included).
    pub fn received(&self) -> usize {
        self.by_id.values().map(Vec::len).sum()
    }

    /// Expected ids with at least one event.
    pub fn unique(&self) -> usize {
        self.by_id.values().filter(|v| !v.is_empty()).count()
    }

    /// Events beyond the first one of each id.
    pub fn duplicates(&self) -> usize {
        self.received() - self.unique()
    }

    /// `sent=.. received=.. duplicates=.. lost=..` for the report.
    pub fn summary(&self, sent: usize) -> String {
        format!(
            "sent={sent} received={} unique={} duplicates={} lost={} unexpected={}",
            self.received(),
            self.unique(),
            self.duplicates(),
            self.missing.len(),
            self.unexpected.len()
        )
    }
}

/// Reads the task events topic from its beginning in a background thread (no group:
/// it assigns itself every partition), so no event is missed whenever it starts.
pub struct EventCollector {
    rx: tokio::sync::mpsc::UnboundedReceiver<Event>,
    stop: Arc<AtomicBool>,
    /// Events received but not yet handed out by [`EventCollector::wait_for`].
    pending: Vec<Event>,
}

impl EventCollector {
    /// Waits (up to 30 s) for `topic` to exist, then reads all its partitions from the
    /// beginning.
    pub async fn start(bootstrap: &str, topic: &str) -> Self {
        Self::start_with(bootstrap, topic, &BTreeMap::new()).await
    }

    /// [`EventCollector::start`] with extra client `settings` (TLS, SASL, ...).
    pub async fn start_with(
        bootstrap: &str,
        topic: &str,
        settings: &BTreeMap<String, String>,
    ) -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
        let stop = Arc::new(AtomicBool::new(false));
        let (bootstrap, topic) = (bootstrap.to_string(), topic.to_string());
        let settings = settings.clone();
        let stopping = stop.clone();
        std::thread::spawn(move || {
            let group = format!("collector-{}", random_suffix(8));
            let consumer = match reader_from_beginning_with(
                &bootstrap,
                &topic,
                &group,
                Duration::from_secs(30),
                &settings,
            ) {
                Ok(consumer) => consumer,
                Err(why) => {
                    let _ = ready_tx.send(Err(why));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            while !stopping.load(Ordering::SeqCst) {
                match consumer.poll(Duration::from_millis(100)) {
                    Some(Ok(message)) => {
                        let payload = message.payload().unwrap_or_default();
                        let text = String::from_utf8_lossy(payload).into_owned();
                        let event = Event {
                            key: message
                                .key()
                                .map(|k| String::from_utf8_lossy(k).into_owned()),
                            value: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                            partition: message.partition(),
                            offset: message.offset(),
                            received_at: Instant::now(),
                            headers: message
                                .headers()
                                .map(|headers| {
                                    headers
                                        .iter()
                                        .map(|h| {
                                            let value = h.value.unwrap_or_default();
                                            (
                                                h.key.to_string(),
                                                String::from_utf8_lossy(value).into_owned(),
                                            )
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        };
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                    Some(Err(err)) => eprintln!("[collector {topic}] {err}"),
                    None => {}
                }
            }
            // Dropping a consumer can block; this thread is detached, so it blocks nobody.
        });
        match ready_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(why)) => panic!("event collector: {why}"),
            Err(_) => panic!("event collector thread died"),
        }
        Self {
            rx,
            stop,
            pending: Vec::new(),
        }
    }

    /// The next event, or `None` if none arrives within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        if !self.pending.is_empty() {
            return Some(self.pending.remove(0));
        }
        tokio::time::timeout(within, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every event that arrives within `window` (plus any already received).
    pub async fn drain(&mut self, window: Duration) -> Vec<Event> {
        let mut events = std::mem::take(&mut self.pending);
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            events.push(event);
        }
        events
    }

    /// Collects events until every id in `expected` (infrastructure ids, or the request
    /// ids of lifecycle executions: [`Event::task_id`]) has one, or `within` passed; then
    /// keeps listening for `linger` to catch duplicates. Checks every event is keyed by
    /// its task id.
    pub async fn wait_for(
        &mut self,
        expected: &HashSet<String>,
        within: Duration,
        linger: Duration,
    ) -> Tally {
        let mut tally = Tally::default();
        let deadline = tokio::time::Instant::now() + within;
        let add = |tally: &mut Tally, event: Event| {
            assert_eq!(
                event.key.as_deref(),
                Some(event.task_id()),
                "every event is keyed by its infrastructure id (a lifecycle execution's: its request id): {event:?}"
            );
            let id = event.task_id().to_string();
            if expected.contains(&id) {
                tally.by_id.entry(id).or_default().push(event);
            } else {
                tally.unexpected.push(event);
            }
        };
        for event in std::mem::take(&mut self.pending) {
            add(&mut tally, event);
        }
        while tally.unique() < expected.len() {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => add(&mut tally, event),
                _ => break,
            }
        }
        let linger_until = tokio::time::Instant::now() + linger;
        while let Ok(Some(event)) = tokio::time::timeout_at(linger_until, self.rx.recv()).await {
            add(&mut tally, event);
        }
        tally.missing = expected
            .iter()
            .filter(|id| !tally.by_id.contains_key(*id))
            .cloned()
            .collect();
        tally.missing.sort();
        tally
    }
}

impl Drop for EventCollector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
