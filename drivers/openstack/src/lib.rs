//! An OpenStack Heat VIM driver on Ignition for Rust, as the Python framework's flagship
//! `openstack-vim-driver` was: each infrastructure is a Heat stack, created, read and
//! deleted through Heat's v1 REST API, with Keystone v3 password auth.
//!
//! | module | what |
//! | --- | --- |
//! | `location` | the deployment location's properties (the Python driver's names) |
//! | `keystone` | password auth, a token cache per set of credentials |
//! | `heat` | [`HeatClient`]: Heat's REST API, one HTTP client per process |
//! | `stack` | what needs no network: the stack name, the parameters, status → state |
//! | `vim` | [`OpenStackVimDriver`]: the Infrastructure API's four operations |
//! | `config` | [`OpenStackConfig`]: the `openstack:` section of the configuration |
//!
//! The binary `openstack-vim-driver [CONFIG.yml]` (or `OPENSTACK_DRIVER_CONFIG`) serves
//! it; a resource driver (the Resource Driver API) can share `heat`, `keystone` and
//! `stack` and add its own operations beside `vim`.

mod config;
mod error;
mod heat;
mod keystone;
mod location;
mod stack;
mod vim;

pub use config::OpenStackConfig;
pub use heat::HeatClient;
pub use vim::OpenStackVimDriver;

/// The app's name, as the Python driver's (the default job-queue topic is
/// `Openstack_VIM_Driver`).
pub const APP_NAME: &str = "Openstack VIM Driver";

/// The environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "OPENSTACK_DRIVER_CONFIG";

/// The app: the configuration file `config_file` (if any) and [`CONFIG_ENV`], the
/// `openstack:` section read into the driver before the port opens.
pub fn app(config_file: Option<std::path::PathBuf>) -> ignition::App {
    let mut app = ignition::App::new(APP_NAME);
    if let Some(file) = config_file {
        app = app.config_file(file);
    }
    app.config_env(CONFIG_ENV)
        .driver_with(|ctx: ignition::DriverContext| async move {
            let config: OpenStackConfig = ctx.properties("openstack")?;
            OpenStackVimDriver::new(&config).map_err(ignition::BootError::driver)
        })
}
