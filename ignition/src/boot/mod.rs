//! Start-up, in one place: [`start`] connects to what the configuration names (Kafka),
//! wires the services the `bootstrap.*` flags leave on (`services`), starts the job queue,
//! builds the API and opens the listener, and returns the [`RunningApp`]; the error that
//! stops it is a [`BootError`].
//!
//! `boot` depends on every layer; no layer depends on `boot`: each returns its own error
//! type, which [`BootError`] wraps as its `source`.

mod running;
mod services;
mod start;

pub use running::RunningApp;
pub(crate) use services::Supplied;
pub(crate) use start::{start, StartInputs};

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::jobqueue::JobQueueError;

/// Why the app did not start: a clear message naming the file, property or service.
///
/// Match on the variant to tell causes apart; `Display` is the message for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootError {
    /// The configuration is refused (a file, a property, a value).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The file given to [`App::config_file`](crate::App::config_file) does not exist.
    #[error("configuration file {} does not exist (given to App::config_file)", path.display())]
    ConfigFileMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The app was started without a driver.
    #[error("no driver: give the app one with App::driver(...) or App::driver_with(...) before starting it")]
    NoDriver,
    /// A service is disabled that another one needs.
    #[error("the {service} needs the {needed}, which is disabled by `{flag}: false`; enable it{supply}", supply = supply.map(|how| format!(", or supply one with {how}")).unwrap_or_default())]
    ServiceDisabled {
        /// The service that cannot run (e.g. `InfrastructureService`).
        service: &'static str,
        /// The service it needs.
        needed: &'static str,
        /// The `bootstrap.*` flag that turned it off.
        flag: &'static str,
        /// How the user can supply one instead (e.g. `App::job_queue`).
        supply: Option<&'static str>,
    },
    /// Kafka is configured but this build has no Kafka support.
    #[error("`messaging.connection_address` is set ({address}), but this build of ignition has no Kafka {what} (the `kafka` feature is off); enable it, or remove the property to use the embedded default")]
    NoKafkaSupport {
        /// The configured address.
        address: String,
        /// What is missing (delivery, job queue).
        what: &'static str,
    },
    /// The job queue did not start.
    #[error(transparent)]
    JobQueue(#[from] JobQueueError),
    /// The HTTP listener could not be opened.
    #[error(transparent)]
    Listen(#[from] crate::server::ListenError),
    /// Kafka could not be reached or set up.
    #[cfg(feature = "kafka")]
    #[error(transparent)]
    Kafka(#[from] crate::kafka::KafkaError),
    /// The driver's own start-up failed ([`BootError::driver`]).
    #[error("the driver did not start: {0}")]
    Driver(String),
}

impl BootError {
    /// A start-up error of the driver's own, e.g. from
    /// [`App::driver_with`](crate::App::driver_with) when the VIM cannot be reached:
    ///
    /// ```
    /// # use ignition::BootError;
    /// let err = BootError::driver("cannot reach https://vim.example:5000: connection refused");
    /// assert!(err.to_string().contains("connection refused"));
    /// ```
    pub fn driver(error: impl std::fmt::Display) -> Self {
        BootError::Driver(error.to_string())
    }
}
