//! The in-process bus: every message is written to stdout as one JSON line and handed
//! to in-process subscribers.

use std::io::Write;

use tokio::sync::broadcast;

use super::{Delivery, DeliveryError, Envelope};
use crate::BoxFuture;

/// The embedded default [`Delivery`]: prints each message's payload as one line on
/// stdout (logs go to stderr, so stdout carries events only; its headers are not printed)
/// and broadcasts it to
/// [`EmbeddedBus::subscribe`]rs.
#[derive(Clone, Debug)]
pub struct EmbeddedBus {
    subscribers: broadcast::Sender<Envelope>,
    print: bool,
}

impl EmbeddedBus {
    /// A bus that prints to stdout when `print` is true.
    pub fn new(print: bool) -> Self {
        let (subscribers, _) = broadcast::channel(4096);
        Self { subscribers, print }
    }

    /// Receives every message delivered from now on (a slow receiver may lag and lose the
    /// oldest ones; stdout always has all of them).
    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.subscribers.subscribe()
    }
}

impl Delivery for EmbeddedBus {
    fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
        Box::pin(async move {
            if self.print {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", envelope.payload)
                    .and_then(|()| out.flush())
                    .map_err(|err| DeliveryError {
                        topic: envelope.topic.clone(),
                        reason: format!("cannot write to stdout: {err}"),
                    })?;
            }
            tracing::debug!(topic = %envelope.topic, key = envelope.key.as_deref().unwrap_or(""), "event delivered (embedded bus)");
            // No subscriber is fine: stdout is the bus's record.
            let _ = self.subscribers.send(envelope);
            Ok(())
        })
    }
}
