//! Configuration: the framework's property groups, read from YAML (and the environment)
//! with defaults.
//!
//! Layers, later ones winning:
//! 1. built-in defaults;
//! 2. the environment variables `LOG_TYPE` and `LOG_LEVEL` (for `logging.type` and
//!    `logging.level` only, as in the Python framework);
//! 3. the file given to [`App::config_file`](crate::App::config_file);
//! 4. the file named by the environment variable given to
//!    [`App::config_env`](crate::App::config_env);
//! 5. environment variables `IGNITION__<SECTION>__<KEY>` (any property, e.g.
//!    `IGNITION__MESSAGING__CONNECTION_ADDRESS`: a Kubernetes secret as an env var wins
//!    over the ConfigMap's file);
//! 6. values set in code with [`App::property`](crate::App::property) (the driver's own
//!    choices, e.g. from its command line, win over everything).
//!
//! Any string value of any layer may be a reference, resolved as the configuration is
//! read: `${env:NAME}` (the variable's value) or `${file:PATH}` (the file's text, its
//! trailing newlines trimmed), so that a password stays in a secret. An unset variable or
//! an unreadable file stops start-up naming the property and the file it was written in.
//! A value from a reference or the environment is never shown in a message.
//!
//! The framework owns the sections `application`, `messaging`, `job_queue`, `bootstrap`,
//! `infrastructure`, `resource_driver`, `driver` and `logging`; every other top-level
//! section belongs to the driver (read it with
//! [`DriverContext::properties`](crate::DriverContext::properties), which resolves its
//! references too). In a framework section, a misspelt key or an ill-typed value stops
//! start-up with a [`ConfigError`] naming the property and the file it came from ("did
//! you mean ...?"); keys the Python framework knew that do not apply here are accepted
//! with one WARN line each (see [`PYTHON_ERA_KEYS`]).
//!
//! Files: the property groups (`properties`), their defaults (`defaults`), the rules
//! across them (`validate`), the layers (`load`, `env`, `secrets`), the errors (`error`),
//! the keys the framework owns (`keys`), and the value types `ByteSize` (`size`),
//! the log settings (`logging`) and the job-queue key (`encryption_key`).

mod defaults;
mod encryption_key;
mod env;
mod error;
mod keys;
mod load;
mod logging;
mod properties;
mod secrets;
mod size;
mod validate;

pub use defaults::{job_queue_topic_name, JOB_QUEUE_PARTITIONS};
pub use error::{ConfigError, ConfigErrorKind};
pub use keys::{is_framework_section, PYTHON_ERA_KEYS};
#[cfg(feature = "fuzz-internals")]
pub(crate) use load::load_yaml_text;
pub(crate) use load::{ConfigSources, LoadedConfig};
pub use logging::{LogLevel, LogType, LoggingProperties};
pub use properties::{
    ApplicationProperties, BootstrapProperties, DriverFilesProperties, DriverProperties,
    IgnitionConfig, InfrastructureBootstrap, InfrastructureProperties, JobQueueBootstrap,
    JobQueueProperties, MessagingBootstrap, MessagingProperties, OperationTimeouts,
    ResourceDriverBootstrap, ResourceDriverProperties, SslProperties, TopicProperties,
    TopicsProperties,
};
pub use size::ByteSize;
