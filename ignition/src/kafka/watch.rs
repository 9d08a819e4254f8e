//! Watching the connection while start-up waits for Kafka.
//!
//! librdkafka retries a broker it cannot reach, talk TLS to or authenticate with, and
//! tells only whoever polls the client (the admin client that creates topics is never
//! polled: its reasons are lost). So while start-up waits, a client of its own asks for
//! metadata and is polled: a failure that retrying will not fix (the TLS handshake
//! failed, SASL authentication failed) stops start-up at once with librdkafka's reason;
//! any other failure is kept, and said, if start-up gives up at its timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use tokio::sync::watch;

use crate::util::Locked;

use super::KafkaConfig;

/// How long one metadata request of the watcher waits; also how soon it notices a
/// rejection reported meanwhile.
const PROBE: Duration = Duration::from_millis(250);

/// How long each poll of the watcher takes the events librdkafka queued for it.
const DRAIN: Duration = Duration::from_millis(5);

/// What librdkafka reported to the watcher.
struct Reports {
    /// The last failure reported (preferring a specific one to "all brokers are down").
    last: Mutex<Option<String>>,
    /// Set to the reason of the first rejection that retrying will not fix.
    rejected: watch::Sender<Option<String>>,
}

impl Reports {
    fn record(&self, reason: &str, specific: bool) {
        let mut last = self.last.locked();
        if specific || last.is_none() {
            *last = Some(reason.to_string());
        }
    }
}

/// The watcher's client context: keeps librdkafka's reports and logs them.
#[derive(Clone)]
struct Watcher(Arc<Reports>);

impl ClientContext for Watcher {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", fac, "{message}");
                self.0.record(message, false);
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", fac, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", fac, "{message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", fac, "{message}"),
        }
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        let code = error.rdkafka_error_code();
        tracing::warn!(%error, reason, "cannot connect to Kafka yet");
        self.0
            .record(reason, code != Some(RDKafkaErrorCode::AllBrokersDown));
        if rejects(code) {
            self.0.rejected.send_if_modified(|rejected| {
                let first = rejected.is_none();
                if first {
                    *rejected = Some(reason.to_string());
                }
                first
            });
        }
    }
}

impl ProducerContext for Watcher {
    type DeliveryOpaque = ();

    /// The watcher sends nothing.
    fn delivery(&self, _: &DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// Whether an error reported by librdkafka means the broker will not take this client
/// as configured, however often it tries: the TLS handshake failed (a certificate that
/// does not verify, no common protocol, ...), or SASL authentication failed.
fn rejects(code: Option<RDKafkaErrorCode>) -> bool {
    matches!(
        code,
        Some(
            RDKafkaErrorCode::SSL
                | RDKafkaErrorCode::Authentication
                | RDKafkaErrorCode::SaslAuthenticationFailed
        )
    )
}

/// A connection watched during start-up; stops watching when dropped.
pub(crate) struct Watch {
    reports: Arc<Reports>,
    rejected: watch::Receiver<Option<String>>,
    stop: Arc<AtomicBool>,
}

impl Watch {
    /// Starts watching: a thread asks for metadata until an answer comes, `within`
    /// passes or the watch is dropped. A client librdkafka refuses to create is not
    /// watched (the clients of start-up report that error themselves).
    pub(crate) fn start(kafka: &KafkaConfig, within: Duration) -> Self {
        let (rejected_tx, rejected) = watch::channel(None);
        let reports = Arc::new(Reports {
            last: Mutex::new(None),
            rejected: rejected_tx,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let client = kafka.client(&[]);
        let (watcher, stopped) = (Watcher(reports.clone()), stop.clone());
        let spawned = std::thread::Builder::new()
            .name("ignition-kafka-watch".into())
            .spawn(move || {
                let Ok(producer) = client.create_with_context::<_, BaseProducer<Watcher>>(watcher)
                else {
                    return;
                };
                let deadline = Instant::now() + within;
                while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let answered = producer.client().fetch_metadata(None, PROBE).is_ok();
                    // Hands librdkafka's errors and logs to the watcher: every event
                    // queued (one poll with no window takes only the first).
                    producer.poll(DRAIN);
                    if answered {
                        break;
                    }
                }
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot watch the Kafka connection; start-up waits without it");
        }
        Self {
            reports,
            rejected,
            stop,
        }
    }

    /// The first rejection that retrying will not fix; pending until there is one.
    pub(crate) async fn rejected(&self) -> String {
        let mut rejected = self.rejected.clone();
        let reason = match rejected.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            // The sender lives in `self.reports`: it cannot be gone.
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }

    /// The last failure librdkafka reported, if any.
    pub(crate) fn last_failure(&self) -> Option<String> {
        self.reports.last.locked().clone()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_and_sasl_failures_reject_and_transport_failures_do_not() {
        assert!(rejects(Some(RDKafkaErrorCode::SSL)));
        assert!(rejects(Some(RDKafkaErrorCode::Authentication)));
        assert!(!rejects(Some(RDKafkaErrorCode::BrokerTransportFailure)));
        assert!(!rejects(Some(RDKafkaErrorCode::AllBrokersDown)));
        assert!(!rejects(None));
    }

    fn kafka(bootstrap: String, settings: &[(&str, &str)]) -> KafkaConfig {
        KafkaConfig {
            bootstrap,
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[tokio::test]
    async fn a_server_that_does_not_speak_tls_is_a_rejection_with_its_reason() {
        // Answers every connection with a line of text: no TLS handshake can succeed.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                use std::io::Write;
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            }
        });
        let watch = Watch::start(
            &kafka(address.to_string(), &[("security.protocol", "SSL")]),
            Duration::from_secs(60),
        );
        let reason = watch.rejected().await;
        assert!(reason.contains("SSL handshake failed"), "{reason}");
        assert!(reason.contains(&address.to_string()), "{reason}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_kept_but_is_no_rejection() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let watch = Watch::start(
            &kafka(format!("127.0.0.1:{port}"), &[]),
            Duration::from_secs(60),
        );
        let mut ticks = tokio::time::interval(Duration::from_millis(50));
        let failure = loop {
            ticks.tick().await;
            if let Some(failure) = watch.last_failure() {
                break failure;
            }
        };
        assert!(failure.contains(&port.to_string()), "{failure}");
        assert!(
            watch.rejected.borrow().is_none(),
            "retried, not rejected: {failure}"
        );
    }

    #[test]
    fn a_specific_failure_is_kept_over_all_brokers_down() {
        let reports = Reports {
            last: Mutex::new(None),
            rejected: watch::channel(None).0,
        };
        reports.record("1/1 brokers are down", false);
        reports.record("SSL handshake failed", true);
        reports.record("1/1 brokers are down", false);
        assert_eq!(
            reports.last.lock().unwrap().as_deref(),
            Some("SSL handshake failed")
        );
    }
}
