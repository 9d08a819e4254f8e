//! Kafka test harness, shared with the bench: a real Kafka-compatible broker (Tansu) on
//! loopback ([`Broker`]), fresh topic and group names per test ([`Setup`]), topics as the
//! broker sees them, a collector of task events ([`EventCollector`]), raw producers and
//! readers, and driver replicas as processes ([`Replica`]). A driver's HTTP API is asked
//! with the tests' one raw client, [`RawClient`] (also known here as [`Api`]).
//!
//! The tests that need the broker are `#[ignore = "needs a Kafka broker"]`: a plain
//! `cargo test --workspace` skips them. `scripts/test` installs the broker package pinned
//! in `tests/BROKER_PACKAGE` ([`BROKER_PACKAGE`]) when it is missing and runs every test,
//! these included (`-- --include-ignored`). To use another Tansu binary, set `TANSU_BIN`.
//!
//! The broker keeps data in memory only (a restart loses every topic), so an outage is a
//! pause ([`Broker::pause`], `kill -STOP`), never a restart. Every process started here
//! is killed when the test process ends, even if it ends by a panic or an abort.
//!
//! Known on Tansu 0.6.0 (the pinned package's): a group member that leaves while its
//! first join is still pending (Tansu delays a first join by half the session timeout)
//! leaves the group stuck: no later member is ever assigned a partition. Tests that stop
//! a replica therefore let it poll first.

mod broker;
mod client;
mod events;
mod replica;
mod setup;
mod topics;

pub use broker::{find_tansu, tansu_binary, Broker, BrokerOptions, BROKER_PACKAGE};
pub use client::{client_config, reader_from_beginning, reader_from_beginning_with, RawProducer};
pub use events::{Event, EventCollector, Tally};
pub use replica::{replica_spool_dir, Replica};
pub use setup::{write_config, Names, Setup};
pub use topics::{create_topic, partition_count, partition_ends, topic_config, try_create_topic};

pub use crate::client::{ids, RawClient};
pub use crate::process::{free_port, kill_with_this_process, signal};

/// The raw JSON client of a driver, under the name this harness gave it first: the same
/// type as [`RawClient`].
pub type Api = RawClient;
