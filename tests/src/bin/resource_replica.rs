//! One replica of a resource driver for the tests that need a process of its own (Kafka
//! replicas, a `TMPDIR` of its own): the stateless
//! [`ResourceClockDriver`] served by `App::run`.
//!
//! `REPLICA_CONFIG` names its YAML configuration (unset: the embedded default, every
//! property at its default), `REPLICA_NAME` its name (put in the outputs of the executions
//! it completes as `polledBy`), `REPLICA_SPOOL_DIR` (if set) its `messaging.spool_dir`.
//! Logs on stderr, each poll too (`clock-driver polled <request id> <outcome>`) and the
//! driver files of each call (`resource-driver files <root> <files>`); task events on
//! stdout on the embedded default; exits 0 on SIGTERM.

use ignition::prelude::*;
use ignition_tests::resource_driver::ResourceClockDriver;

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    let replica = std::env::var("REPLICA_NAME").unwrap_or_else(|_| "replica".into());
    let (mut driver, _) = ResourceClockDriver::new(replica);
    driver.log_calls = true;
    let mut app = App::new("Resource Replica Test Driver").config_env("REPLICA_CONFIG");
    if let Ok(dir) = std::env::var("REPLICA_SPOOL_DIR") {
        app = app.property("messaging.spool_dir", dir);
    }
    app.driver(driver).run().await
}
