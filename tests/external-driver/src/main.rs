//! Serves the driver until SIGTERM or Ctrl-C (configuration: the YAML file named by
//! `MEMORY_CLOUD_CONFIG`, if set).

use external_driver::MemoryCloudDriver;
use ignition::App;

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    App::new("Memory Cloud Driver")
        .config_env("MEMORY_CLOUD_CONFIG")
        .driver(MemoryCloudDriver::new(2))
        .run()
        .await
}
