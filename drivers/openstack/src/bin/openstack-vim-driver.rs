//! `openstack-vim-driver [CONFIG.yml]`: the OpenStack Heat VIM driver. The configuration
//! file may also be named by `OPENSTACK_DRIVER_CONFIG` (whose properties win).

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    let config_file = std::env::args_os().nth(1).map(std::path::PathBuf::from);
    openstack_driver::app(config_file).run().await
}
