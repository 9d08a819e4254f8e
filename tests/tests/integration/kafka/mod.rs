//! Kafka for real: every test talks to a Tansu broker on loopback (see
//! `ignition_tests::kafka` for the harness and how to install the broker), with fresh
//! topic and group names. Tests that pause the broker start their own; the others share
//! one per test process. Figures are printed (`cargo test kafka -- --nocapture`).
//!
//! Every test here is `#[ignore = "needs a Kafka broker"]`, so that a plain `cargo test`
//! needs none; `scripts/test` installs the broker and runs them (`--include-ignored`).

mod inprocess;
mod metrics;
mod outage;
mod probes;
mod replicas;
mod resource;
mod sealed;
mod security;
mod spool;
mod tracectx;

use std::collections::HashSet;
use std::sync::Arc;

use ignition::RunningApp;
use ignition_tests::clock_driver::{ClockDriver, PollLog};
use ignition_tests::kafka::{EventCollector, Setup};
use ignition_tests::RawClient;

/// The replica binary of this package.
const REPLICA: &str = env!("CARGO_BIN_EXE_replica");

/// An in-process app on Kafka with a [`ClockDriver`] named `in-process`, its client, the
/// driver's poll log and a collector of its events topic.
struct InProcess {
    app: RunningApp,
    api: RawClient,
    polls: Arc<PollLog>,
    events: EventCollector,
}

impl InProcess {
    async fn start(setup: &Setup) -> Self {
        let (driver, polls) = ClockDriver::with_log("in-process");
        let app = setup
            .app("Kafka Test Driver", driver)
            .start()
            .await
            .unwrap_or_else(|err| panic!("the app starts on Kafka: {err}"));
        let api = RawClient::on_port(app.local_addr().port());
        let events = EventCollector::start(&setup.bootstrap, &setup.names.events).await;
        Self {
            app,
            api,
            polls,
            events,
        }
    }

    async fn shutdown(self) {
        tokio::time::timeout(std::time::Duration::from_secs(30), self.app.shutdown())
            .await
            .expect("shutdown within 30 s");
    }
}

/// The set of infrastructure ids.
fn id_set<'a>(ids: impl IntoIterator<Item = &'a (String, String)>) -> HashSet<String> {
    ids.into_iter().map(|(iid, _)| iid.clone()).collect()
}
