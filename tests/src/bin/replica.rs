//! One replica of a driver for the Kafka tests: the stateless
//! [`ClockDriver`] served by `App::run`.
//!
//! `REPLICA_CONFIG` names its YAML configuration, `REPLICA_NAME` its name (put in the
//! outputs of the tasks it completes as `polledBy`), `REPLICA_SPOOL_DIR` (if set) its
//! `messaging.spool_dir`. Logs on stderr, each poll too
//! (`clock-driver polled <id> <outcome>`); exits 0 on SIGTERM.

use ignition::prelude::*;
use ignition_tests::clock_driver::ClockDriver;

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    let replica = std::env::var("REPLICA_NAME").unwrap_or_else(|_| "replica".into());
    let mut driver = ClockDriver::new(replica);
    driver.log_polls = true;
    let mut app = App::new("Replica Test Driver").config_env("REPLICA_CONFIG");
    if let Ok(dir) = std::env::var("REPLICA_SPOOL_DIR") {
        app = app.property("messaging.spool_dir", dir);
    }
    app.driver(driver).run().await
}
