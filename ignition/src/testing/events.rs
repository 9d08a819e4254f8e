//! What a [`TestApp`](super::TestApp) keeps while it runs: every message of the embedded
//! bus (read by a task of its own, so a test waits for events without racing them) and
//! the monitor's polls per task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::error::TestError;
use crate::messaging::Envelope;
use crate::util::Locked;

/// Aborts the event drain task when the `TestApp` goes.
pub(super) struct AbortOnDrop(pub(super) Option<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// The monitor's polls, per task (`infrastructure_id` empty for an execution).
#[derive(Default)]
pub(super) struct PollCounter(Mutex<HashMap<(String, String), usize>>);

impl PollCounter {
    pub(super) fn record(&self, infrastructure_id: String, request_id: String) {
        *self
            .0
            .lock()
            .expect("poll counter")
            .entry((infrastructure_id, request_id))
            .or_default() += 1;
    }

    pub(super) fn get(&self, infrastructure_id: &str, request_id: &str) -> usize {
        let key = (infrastructure_id.to_string(), request_id.to_string());
        self.0
            .lock()
            .expect("poll counter")
            .get(&key)
            .copied()
            .unwrap_or(0)
    }
}

/// Every message of the embedded bus since start, read by a task of its own so the
/// bus's buffer never overflows while a test is busy elsewhere.
pub(super) struct EventLog {
    pub(super) state: Mutex<LogState>,
    /// Bumped on every change of `state`.
    changed: watch::Sender<u64>,
}

impl Default for EventLog {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            changed: watch::channel(0).0,
        }
    }
}

#[derive(Default)]
pub(super) struct LogState {
    pub(super) entries: Vec<Entry>,
    /// Messages the bus dropped before they were read (it lagged).
    lost: u64,
    /// The bus is gone (the app stopped).
    closed: bool,
}

pub(super) struct Entry {
    pub(super) envelope: Envelope,
    /// Its `requestId`, if the payload has one.
    pub(super) request_id: Option<String>,
}

impl Entry {
    fn new(envelope: Envelope) -> Self {
        #[derive(serde::Deserialize)]
        struct RequestId {
            #[serde(rename = "requestId")]
            pub(super) request_id: Option<String>,
        }
        let request_id = serde_json::from_str::<RequestId>(&envelope.payload)
            .ok()
            .and_then(|ids| ids.request_id);
        Self {
            envelope,
            request_id,
        }
    }

    /// The payload as a `T`, or why it is not one.
    pub(super) fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.envelope.payload).map_err(|err| err.to_string())
    }
}

impl EventLog {
    pub(super) async fn drain(self: Arc<Self>, mut receiver: broadcast::Receiver<Envelope>) {
        loop {
            let received = receiver.recv().await;
            {
                let mut state = self.state.locked();
                match received {
                    Ok(envelope) => state.entries.push(Entry::new(envelope)),
                    Err(broadcast::error::RecvError::Lagged(n)) => state.lost += n,
                    Err(broadcast::error::RecvError::Closed) => state.closed = true,
                }
            }
            self.changed.send_modify(|n| *n += 1);
            if self.state.locked().closed {
                return;
            }
        }
    }

    /// Waits up to `within` until `find` finds something in the log.
    pub(super) async fn wait<T>(
        &self,
        within: Duration,
        find: impl Fn(&LogState) -> Option<T>,
    ) -> Option<T> {
        let mut changed = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            changed.borrow_and_update();
            let closed = {
                let state = self.state.locked();
                if let Some(found) = find(&state) {
                    return Some(found);
                }
                state.closed
            };
            if closed {
                return None;
            }
            match tokio::time::timeout_at(deadline, changed.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// The error of a wait that found nothing.
    pub(super) fn timeout(&self, request_id: Option<&str>, within: Duration) -> TestError {
        let state = self.state.locked();
        if state.closed {
            return TestError::NoEvents {
                reason: format!(
                    "the app stopped before an event {} arrived",
                    request_id.map_or("".into(), |id| format!("for request id `{id}`"))
                ),
            };
        }
        let mut received: Vec<String> = state
            .entries
            .iter()
            .map(|e| e.request_id.clone().unwrap_or_else(|| "(none)".into()))
            .collect();
        if state.lost > 0 {
            received.push(format!("({} more lost: the bus overflowed)", state.lost));
        }
        TestError::EventTimeout {
            request_id: request_id.map(str::to_string),
            within,
            received,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::InfrastructureTask;

    #[tokio::test]
    async fn a_waiter_wakes_when_the_event_arrives_later() {
        let log = Arc::new(EventLog::default());
        let (tx, rx) = broadcast::channel(4);
        tokio::spawn(log.clone().drain(rx));
        let waiter = {
            let log = log.clone();
            tokio::spawn(async move {
                log.wait(Duration::from_secs(30), |state| {
                    state.entries.iter().find_map(|e| e.request_id.clone())
                })
                .await
            })
        };
        tokio::task::yield_now().await;
        tx.send(Envelope {
            topic: "t".into(),
            key: Some("i".into()),
            payload: r#"{"infrastructureId": "i", "requestId": "r", "status": "COMPLETE"}"#.into(),
            headers: Vec::new(),
        })
        .unwrap();
        assert_eq!(waiter.await.unwrap().as_deref(), Some("r"));
        let state = log.state.lock().unwrap();
        assert!(state.entries[0].parse::<InfrastructureTask>().is_ok());
    }
}
