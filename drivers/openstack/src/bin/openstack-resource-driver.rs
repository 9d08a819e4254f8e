//! `openstack-resource-driver [CONFIG.yml]`: the OpenStack Heat resource driver (the
//! Resource Driver API). The configuration file may also be named by
//! `OPENSTACK_RESOURCE_DRIVER_CONFIG` (whose properties win).

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    let config_file = std::env::args_os().nth(1).map(std::path::PathBuf::from);
    openstack_driver::resource_app(config_file).run().await
}
