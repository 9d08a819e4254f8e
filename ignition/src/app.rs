//! [`App`]: configure and run a driver; [`RunningApp`]: the handle of a started one;
//! [`DriverContext`]: what a driver built after configuration sees.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use poem::listener::Acceptor;
use poem::Server;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{self, ApiParts};
use crate::boot::{self, BootError, Supplied};
use crate::config::{ConfigSources, IgnitionConfig, LoadedConfig, LoggingProperties};
use crate::driver::Driver;
use crate::jobqueue::{BoxFuture, JobQueue};
use crate::management::{AppVital, Vital, Vitals};
use crate::messaging::{Delivery, Envelope, TaskEvents};
use crate::metrics::{Metrics, Recorder};
use crate::monitor::{DriverPoller, TaskPoller};
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

/// What the app needs of a driver, with its type erased.
struct DriverParts {
    poller: Arc<dyn TaskPoller>,
    api: Box<dyn FnOnce(api::Wiring) -> ApiParts + Send>,
}

impl DriverParts {
    fn new<D: Driver>(driver: D) -> Self {
        let driver = Arc::new(driver);
        let poller = Arc::new(DriverPoller::new(driver.clone()));
        Self {
            poller,
            api: Box::new(move |wiring| api::api_parts(driver, wiring)),
        }
    }
}

impl App {
    /// An app called `name` (used in logs and for the default job-queue topic).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sources: ConfigSources::default(),
            driver: None,
            spec: api::spec_parts::<crate::driver::ContractOnly>,
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

    /// The driver: any `#[vim_driver]` type.
    pub fn driver<D: Driver>(mut self, driver: D) -> Self {
        self.driver = Some(DriverSource::Ready(DriverParts::new(driver)));
        self.spec = api::spec_parts::<D>;
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
            Box::pin(async move { build(ctx).await.map(DriverParts::new) })
        })));
        self.spec = api::spec_parts::<D>;
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

    /// The OpenAPI document (JSON) of the Infrastructure API, without serving it.
    pub fn openapi_json(&self) -> String {
        (self.spec)().spec_json
    }

    /// The OpenAPI document (YAML) of the Infrastructure API, without serving it.
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
        let metrics = Recorder::new(
            config
                .application
                .metrics_enabled
                .then(|| Arc::new(Metrics::new())),
        );
        let connected = boot::connect(&config, &self.name, &self.supplied, &metrics).await?;
        let wiring = boot::wire(
            &config,
            self.supplied,
            connected,
            driver.poller.clone(),
            &metrics,
        )?;
        if let Some(messaging) = &wiring.messaging {
            self.task_events.bind(messaging.clone());
        }
        // Jobs run from here on; the API answers only once its job queue is consuming.
        if let Some(queue) = &wiring.job_queue {
            queue.start().await?;
        }

        let routes = if wiring.api && wiring.service {
            (driver.api)(
                api::Wiring::new(&config, wiring.monitoring.clone()).metrics(metrics.clone()),
            )
            .routes
        } else {
            poem::Route::new()
        };
        let app_vital = AppVital::default();
        let mut vitals: Vec<Arc<dyn Vital>> = vec![Arc::new(app_vital.clone())];
        vitals.extend(wiring.vitals.iter().cloned());
        vitals.extend(self.vitals);
        let endpoint = crate::server::endpoint(routes, Vitals::new(vitals), &metrics, &config);

        let acceptor = crate::server::bind(&config.application)?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], config.application.port)));

        let stop = CancellationToken::new();
        let server = {
            let stop = stop.clone();
            let timeout = config.application.shutdown_timeout;
            tokio::spawn(async move {
                let result = Server::new_with_acceptor(acceptor)
                    .run_with_graceful_shutdown(endpoint, stop.cancelled_owned(), Some(timeout))
                    .await;
                if let Err(err) = result {
                    tracing::error!(error = %err, "HTTP server stopped with an error");
                }
            })
        };

        log_started(&self.name, &config, local_addr, &wiring);
        Ok(RunningApp {
            name: self.name,
            local_addr,
            stop,
            server: Some(server),
            job_queue: wiring.job_queue,
            delivery: wiring.delivery,
            events: wiring.embedded_bus.map(|bus| bus.subscribe()),
            app_vital,
        })
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
        tracing::info!(app = %running.name, "shutdown requested");
        running.shutdown().await;
        Ok(())
    }
}

fn log_started(name: &str, config: &IgnitionConfig, addr: SocketAddr, wiring: &boot::Wiring) {
    let port = addr.port();
    let messaging = match (&config.messaging.connection_address, &wiring.embedded_bus) {
        (_, Some(_)) => "embedded in-process bus and job queue (no Kafka): each task event is printed on stdout as one JSON line".to_string(),
        (Some(address), None) => format!("Kafka at {address}"),
        (None, None) => "supplied by the application".to_string(),
    };
    let monitoring = if wiring.monitoring.is_some() {
        "the framework monitors each task and sends its event"
    } else {
        "tasks are not monitored (infrastructure.async_messaging_enabled: false: the driver sends its own events)"
    };
    tracing::info!("{name} started on port {port} ({addr}); messaging: {messaging}; {monitoring}");
    let scheme = if config.application.ssl.enabled {
        "https"
    } else {
        "http"
    };
    if wiring.api {
        if config.application.swagger_ui_enabled {
            tracing::info!(
                "Swagger UI: {scheme}://localhost:{port}{}/ui",
                api::API_PATH
            );
        }
        tracing::info!(
            "OpenAPI: {scheme}://localhost:{port}{0}/openapi.json and {0}/openapi.yaml",
            api::API_PATH
        );
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

/// A started app: where it listens, its embedded events, and a graceful stop.
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
/// # async fn embed() -> Result<(), BootError> {
/// let running = App::new("Echo VIM Driver")
///     .property("application.port", 0) // any free port
///     .driver(EchoDriver)
///     .start()
///     .await?;
/// println!("serving on {}", running.local_addr());
/// // ... later: no new requests, in-flight ones finish, jobs stop, deliveries flush.
/// running.shutdown().await;
/// # Ok(()) }
/// ```
pub struct RunningApp {
    name: String,
    local_addr: SocketAddr,
    stop: CancellationToken,
    server: Option<JoinHandle<()>>,
    job_queue: Option<Arc<dyn JobQueue>>,
    delivery: Option<Arc<dyn Delivery>>,
    events: Option<broadcast::Receiver<Envelope>>,
    app_vital: AppVital,
}

impl RunningApp {
    /// The address the HTTP server listens on (its port is the real one when
    /// `application.port` was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// On the embedded default: every message delivered since start (task events),
    /// for tests and tools. `None` when messages go elsewhere (Kafka, a supplied
    /// delivery). Take it once; later calls return `None`.
    pub fn take_embedded_events(&mut self) -> Option<broadcast::Receiver<Envelope>> {
        self.events.take()
    }

    /// Stops gracefully: no new requests; requests in flight finish (up to
    /// `application.shutdown_timeout`); then the job queue stops (running polls finish)
    /// and deliveries in flight are flushed.
    pub async fn shutdown(mut self) {
        self.app_vital.stopping();
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(queue) = &self.job_queue {
            queue.shutdown().await;
        }
        if let Some(delivery) = &self.delivery {
            delivery.flush().await;
        }
        tracing::info!(app = %self.name, "stopped");
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        // Dropped without shutdown(): stop serving at least.
        self.stop.cancel();
    }
}

impl std::fmt::Debug for RunningApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningApp")
            .field("name", &self.name)
            .field("local_addr", &self.local_addr)
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
