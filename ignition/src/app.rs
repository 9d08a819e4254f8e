//! [`App`]: configure and run a driver; [`DriverContext`]: what a driver built after
//! configuration sees. (Starting it is `boot`'s; the handle of a started app is
//! [`RunningApp`].)

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::api::{self, ApiParts};
use crate::boot::{self, BootError, RunningApp, StartInputs, Supplied};
use crate::config::{ConfigSources, IgnitionConfig, LoadedConfig, LoggingProperties};
use crate::jobqueue::JobQueue;
use crate::management::Vital;
use crate::messaging::{Delivery, TaskEvents};
use crate::monitor::PollObserver;
use crate::serve::{Driver, DriverParts};
use crate::BoxFuture;
use crate::{logging, runtime};

/// A driver application: name, configuration sources, the driver, and optional
/// replacements for built-in services.
///
/// ```no_run
/// # use ignition::prelude::*;
/// # struct EchoDriver;
/// # #[vim_driver]
/// # impl EchoDriver {
/// #     async fn create_infrastructure(&self, _: String, _: String, _: PropValueMap, _: PropValueMap, _: DeploymentLocation) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }
/// #     async fn get_infrastructure_task(&self, _: String, _: String, _: DeploymentLocation) -> Result<InfrastructureTask, InfrastructureError> { todo!() }
/// #     async fn delete_infrastructure(&self, _: String, _: DeploymentLocation) -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }
/// #     async fn find_infrastructure(&self, _: String, _: String, _: String, _: DeploymentLocation) -> Result<FindInfrastructureResponse, InfrastructureError> { todo!() }
/// # }
/// #[tokio::main]
/// async fn main() -> Result<(), BootError> {
///     App::new("Echo VIM Driver")            // the job-queue topic defaults to "Echo_VIM_Driver"
///         .config_file("config.yml")        // must exist
///         .config_env("ECHO_DRIVER_CONFIG") // a YAML file named by this variable, if set
///         .driver(EchoDriver)
///         .run()                            // until SIGTERM / Ctrl-C, then a graceful stop
///         .await
/// }
/// ```
#[must_use = "an App does nothing until `run` or `start` is awaited"]
pub struct App {
    name: String,
    sources: ConfigSources,
    driver: Option<DriverSource>,
    /// The OpenAPI document of the driver's type (known before the driver is built).
    spec: fn() -> ApiParts,
    /// Called with each task the monitor polls (the test kit counts polls with it).
    observer: Option<PollObserver>,
    supplied: Supplied,
    vitals: Vec<Arc<dyn Vital>>,
    task_events: TaskEvents,
    /// A `config_file` that does not exist: reported by `start`, which returns errors.
    missing_config_file: Option<PathBuf>,
}

/// A driver given as a value, or built once the configuration is loaded.
enum DriverSource {
    Ready(DriverParts),
    Build(
        Box<dyn FnOnce(DriverContext) -> BoxFuture<'static, Result<DriverParts, BootError>> + Send>,
    ),
}

impl App {
    /// An app called `name` (used in logs and for the default job-queue topic).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sources: ConfigSources::default(),
            driver: None,
            spec: api::infrastructure_spec::<crate::driver::ContractOnly>,
            observer: None,
            supplied: Supplied::default(),
            vitals: Vec::new(),
            task_events: TaskEvents::default(),
            missing_config_file: None,
        }
    }

    /// Reads properties from this YAML file, which must exist.
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        self.missing_config_file = (!path.is_file()).then(|| path.to_path_buf());
        self.sources.file = Some(path.to_path_buf());
        self
    }

    /// Reads properties from the YAML file named by this environment variable, when it
    /// is set (its properties win over `config_file`'s).
    pub fn config_env(mut self, var: impl Into<String>) -> Self {
        self.sources.env_var = Some(var.into());
        self
    }

    /// Sets one property (dotted key, e.g. `"application.port"`), winning over files.
    pub fn property(mut self, key: impl Into<String>, value: impl serde::Serialize) -> Self {
        let value = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.sources.properties.push((key.into(), value));
        self
    }

    /// The driver: any `#[vim_driver]` or `#[resource_driver]` type.
    pub fn driver<D: Driver>(mut self, driver: D) -> Self {
        self.driver = Some(DriverSource::Ready(DriverParts::of(driver)));
        self.spec = D::__serve().spec;
        self
    }

    /// A driver built once the configuration is loaded and before the port opens, from
    /// its own section of the configuration file; an `Err` stops start-up with it.
    ///
    /// ```no_run
    /// # use ignition::prelude::*;
    /// # struct CloudDriver { endpoint: String }
    /// # #[vim_driver]
    /// # impl CloudDriver {
    /// #     async fn create_infrastructure(&self, _: String, _: String, _: PropValueMap, _: PropValueMap, _: DeploymentLocation) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }
    /// #     async fn get_infrastructure_task(&self, _: String, _: String, _: DeploymentLocation) -> Result<InfrastructureTask, InfrastructureError> { todo!() }
    /// #     async fn delete_infrastructure(&self, _: String, _: DeploymentLocation) -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }
    /// #     async fn find_infrastructure(&self, _: String, _: String, _: String, _: DeploymentLocation) -> Result<FindInfrastructureResponse, InfrastructureError> { todo!() }
    /// # }
    /// #[derive(serde::Deserialize)]
    /// struct CloudProperties {
    ///     endpoint: String,
    /// }
    ///
    /// # async fn run() -> Result<(), BootError> {
    /// // config.yml:  cloud: { endpoint: "https://cloud.example:5000" }
    /// App::new("Cloud VIM Driver")
    ///     .config_file("config.yml")
    ///     .driver_with(|ctx: DriverContext| async move {
    ///         let props: CloudProperties = ctx.properties("cloud")?;
    ///         Ok(CloudDriver { endpoint: props.endpoint })
    ///     })
    ///     .run()
    ///     .await
    /// # }
    /// ```
    pub fn driver_with<D, F, Fut>(mut self, build: F) -> Self
    where
        D: Driver,
        F: FnOnce(DriverContext) -> Fut + Send + 'static,
        Fut: Future<Output = Result<D, BootError>> + Send + 'static,
    {
        self.driver = Some(DriverSource::Build(Box::new(move |ctx| {
            Box::pin(async move { build(ctx).await.map(DriverParts::of) })
        })));
        self.spec = D::__serve().spec;
        self
    }

    /// Adds a vital of the driver's own (e.g. "can I reach the VIM?") to
    /// `/management/health`; a check that does not answer within 2 s counts as
    /// UNHEALTHY.
    pub fn vital(mut self, vital: impl Vital) -> Self {
        self.vitals.push(Arc::new(vital));
        self
    }

    /// Uses this job queue instead of the built-in one (see [`JobQueue`]).
    pub fn job_queue(mut self, queue: impl JobQueue) -> Self {
        self.supplied.job_queue = Some(Arc::new(queue));
        self
    }

    /// Uses this delivery (how messages reach the bus) instead of the built-in one (see
    /// [`Delivery`]).
    pub fn delivery(mut self, delivery: impl Delivery) -> Self {
        self.supplied.delivery = Some(Arc::new(delivery));
        self
    }

    /// A handle through which the driver sends its own task events when
    /// `infrastructure.async_messaging_enabled` is `false`. Take it before
    /// `driver(...)` and keep it in the driver; it works once the app has started.
    /// (With [`App::driver_with`], [`DriverContext::task_events`] gives the same.)
    pub fn task_events(&self) -> TaskEvents {
        self.task_events.clone()
    }

    /// The configuration this app would start with.
    pub fn config(&self) -> Result<IgnitionConfig, BootError> {
        Ok(self.load_config()?.config)
    }

    fn load_config(&self) -> Result<LoadedConfig, BootError> {
        if let Some(path) = &self.missing_config_file {
            return Err(BootError::ConfigFileMissing { path: path.clone() });
        }
        Ok(self.sources.load(&self.name)?)
    }

    /// The OpenAPI document (JSON) of the driver's API (the Infrastructure API, or the
    /// Resource Driver API), without serving it.
    pub fn openapi_json(&self) -> String {
        (self.spec)().spec_json
    }

    /// The OpenAPI document (YAML) of the driver's API, without serving it.
    pub fn openapi_yaml(&self) -> String {
        (self.spec)().spec_yaml
    }

    /// Starts serving and returns at once with a handle; for tests and embedding.
    /// Does not install a log subscriber (see [`App::run`]).
    pub async fn start(self) -> Result<RunningApp, BootError> {
        let loaded = self.load_config()?;
        self.start_loaded(loaded).await
    }

    async fn start_loaded(self, loaded: LoadedConfig) -> Result<RunningApp, BootError> {
        for warning in &loaded.warnings {
            tracing::warn!("{warning}");
        }
        let config = loaded.config.clone();
        let driver = match self.driver.ok_or(BootError::NoDriver)? {
            DriverSource::Ready(parts) => parts,
            DriverSource::Build(build) => {
                let ctx = DriverContext {
                    app_name: self.name.clone(),
                    loaded: Arc::new(loaded),
                    task_events: self.task_events.clone(),
                };
                build(ctx).await?
            }
        };
        boot::start(StartInputs {
            name: self.name,
            config,
            driver,
            supplied: self.supplied,
            vitals: self.vitals,
            task_events: self.task_events,
            observer: self.observer,
        })
        .await
    }

    /// Has `observer` called with each task the monitor polls (the test kit counts polls
    /// with it).
    #[cfg(feature = "testing")]
    pub(crate) fn observe_polls(mut self, observer: PollObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Starts, serves until SIGTERM or Ctrl-C, then shuts down gracefully. Installs a log
    /// subscriber on stderr unless one is set: the format and level of
    /// [`logging`](crate::config::LoggingProperties) (`RUST_LOG`, when set, wins over the
    /// level), every line with PEM private keys obfuscated; panics are logged through it.
    /// A configuration that is refused is logged with `LOG_TYPE` and `LOG_LEVEL`.
    pub async fn run(self) -> Result<(), BootError> {
        // The configuration first, so that its `logging` section is honoured.
        let loaded = self.load_config();
        let _log = match &loaded {
            Ok(loaded) => logging::init(&loaded.config.logging),
            Err(_) => logging::init(&LoggingProperties::from_env_or_default()),
        };
        let name = self.name.clone();
        let started = match loaded {
            Ok(loaded) => self.start_loaded(loaded).await,
            Err(err) => Err(err),
        };
        let running = started.inspect_err(|err| {
            tracing::error!(app = %name, "start-up failed: {err}");
        })?;
        runtime::shutdown_signal().await;
        tracing::info!(app = %running.name(), "shutdown requested");
        running.drain().await;
        running.shutdown().await;
        Ok(())
    }
}

/// What a driver built with [`App::driver_with`] is given: the configuration (its own
/// section included), the app's name and the handle for its own task events.
pub struct DriverContext {
    app_name: String,
    loaded: Arc<LoadedConfig>,
    task_events: TaskEvents,
}

impl DriverContext {
    /// The driver's own section of the configuration (a top-level key such as
    /// `openstack:`) as a `T`. An absent section reads as an empty map (so
    /// `#[serde(default)]` fields work); a key `T` does not have, or a value it refuses,
    /// stops start-up with an error naming `section.key` and the file.
    pub fn properties<T: DeserializeOwned>(&self, section: &str) -> Result<T, BootError> {
        Ok(self.loaded.section(section)?)
    }

    /// The handle through which the driver sends its own task events (for
    /// `infrastructure.async_messaging_enabled: false`); it works once the app has
    /// started.
    pub fn task_events(&self) -> TaskEvents {
        self.task_events.clone()
    }

    /// The app's name.
    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    /// The framework's properties the app starts with.
    pub fn config(&self) -> &IgnitionConfig {
        &self.loaded.config
    }
}

impl std::fmt::Debug for DriverContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverContext")
            .field("app_name", &self.app_name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
