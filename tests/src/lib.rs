//! Support for the integration tests: a driver whose behaviour each test scripts
//! ([`ScriptedDriver`]), a server started on 127.0.0.1 ([`TestServer`], an
//! [`ignition::testing::TestApp`]) with the one raw JSON client of the tests
//! ([`RawClient`]), a driver for the conformance run ([`stack_driver`]), a resource
//! driver whose executions the requests script ([`resource_driver`]), the Kafka
//! harness ([`kafka`], shared with the bench), the processes the tests start
//! ([`process`]) and the log lines a server writes ([`log_capture`]).

pub mod client;
pub mod clock_driver;
pub mod kafka;
pub mod kafka_security;
pub mod log_capture;
pub mod process;
pub mod resource_driver;
pub mod scripted;
pub mod server;
pub mod stack_driver;

pub use client::{create_body, location, RawClient};
pub use scripted::{error_named, scripted_app, Poll, ScriptedDriver, Scripts, ERROR_ROWS};
pub use server::TestServer;
