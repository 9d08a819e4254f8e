//! An OpenStack Heat driver on Ignition for Rust, as the Python framework's flagship
//! `openstack-vim-driver` was: each infrastructure is a Heat stack, created, read and
//! deleted through Heat's v1 REST API, with Keystone v3 password auth. Two binaries serve
//! the two APIs LM has spoken, on the same code:
//!
//! | binary | API | driver |
//! | --- | --- | --- |
//! | `openstack-vim-driver [CONFIG.yml]` (or [`CONFIG_ENV`]) | the Infrastructure API (LM 1.x) | [`OpenStackVimDriver`] |
//! | `openstack-resource-driver [CONFIG.yml]` (or [`RESOURCE_CONFIG_ENV`]) | the Resource Driver API (LM 2.x/3.x) | [`OpenStackResourceDriver`] |
//!
//! | module | what |
//! | --- | --- |
//! | `location` | the deployment location's properties (the Python driver's names) |
//! | `keystone` | password auth, a token cache per set of credentials |
//! | `heat` | [`HeatClient`]: Heat's REST API, one HTTP client per process |
//! | `stack` | what needs no network: the stack name, the parameters, status → state |
//! | `vim` | [`OpenStackVimDriver`]: the Infrastructure API's four operations |
//! | `resource` | [`OpenStackResourceDriver`]: the Resource Driver API's three operations |
//! | `package` | what a Create reads from the driver files (`heat.yaml`, `files/`) |
//! | `request_id` | an execution's request id (`Create::{stack id}::{uuid}`) |
//! | `config` | [`OpenStackConfig`]: the `openstack:` section of the configuration |

mod config;
mod error;
mod heat;
mod keystone;
mod location;
mod package;
mod request_id;
mod resource;
mod stack;
mod vim;

use std::path::PathBuf;

pub use config::OpenStackConfig;
pub use heat::HeatClient;
pub use resource::OpenStackResourceDriver;
pub use vim::OpenStackVimDriver;

/// The VIM driver's name, as the Python driver's (the default job-queue topic is
/// `Openstack_VIM_Driver`).
pub const APP_NAME: &str = "Openstack VIM Driver";

/// The environment variable naming the VIM driver's configuration file.
pub const CONFIG_ENV: &str = "OPENSTACK_DRIVER_CONFIG";

/// The resource driver's name (the default job-queue topic is `Openstack_Resource_Driver`:
/// both drivers on one Kafka never take each other's monitoring jobs).
pub const RESOURCE_APP_NAME: &str = "Openstack Resource Driver";

/// The environment variable naming the resource driver's configuration file.
pub const RESOURCE_CONFIG_ENV: &str = "OPENSTACK_RESOURCE_DRIVER_CONFIG";

/// The VIM driver's app: the configuration file `config_file` (if any) and
/// [`CONFIG_ENV`], the `openstack:` section read into the driver before the port opens.
pub fn app(config_file: Option<PathBuf>) -> ignition::App {
    configured(APP_NAME, CONFIG_ENV, config_file).driver_with(
        |ctx: ignition::DriverContext| async move {
            let config: OpenStackConfig = ctx.properties("openstack")?;
            OpenStackVimDriver::new(&config).map_err(ignition::BootError::driver)
        },
    )
}

/// The resource driver's app: as [`app`], with [`RESOURCE_CONFIG_ENV`].
pub fn resource_app(config_file: Option<PathBuf>) -> ignition::App {
    configured(RESOURCE_APP_NAME, RESOURCE_CONFIG_ENV, config_file).driver_with(
        |ctx: ignition::DriverContext| async move {
            let config: OpenStackConfig = ctx.properties("openstack")?;
            OpenStackResourceDriver::new(&config).map_err(ignition::BootError::driver)
        },
    )
}

/// The app `name` with its configuration: the file `config_file` (if any), then the file
/// the variable `config_env` names (whose properties win).
fn configured(name: &str, config_env: &str, config_file: Option<PathBuf>) -> ignition::App {
    let mut app = ignition::App::new(name);
    if let Some(file) = config_file {
        app = app.config_file(file);
    }
    app.config_env(config_env)
}
