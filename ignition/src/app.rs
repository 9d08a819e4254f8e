//! [`App`]: configure, wire and run a driver; [`RunningApp`]: the handle of a started one.

use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::Server;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api;
use crate::boot::{self, BootError, Supplied};
use crate::config::{ConfigSources, IgnitionConfig};
use crate::driver::Driver;
use crate::jobqueue::JobQueue;
use crate::management::{AppVital, Vital, Vitals};
use crate::messaging::{Delivery, DeliveryError, Envelope, InfrastructureMessagingService};
use crate::models::InfrastructureTask;
use crate::monitor::{DriverPoller, InfrastructureTaskMonitoringService, TaskPoller};
use crate::service::InfrastructureService;

/// A driver application: name, configuration sources, the driver, and optional
/// replacements for built-in services. See the crate docs for a whole example.
pub struct App {
    name: String,
    sources: ConfigSources,
    driver: Option<DriverParts>,
    supplied: Supplied,
    task_events: TaskEvents,
    /// A `config_file` that does not exist: reported by `start`, which returns errors.
    config_file_error: Option<BootError>,
}

/// What the app needs of a driver, with its type erased.
struct DriverParts {
    poller: Arc<dyn TaskPoller>,
    api: Box<dyn Fn(Option<InfrastructureTaskMonitoringService>) -> ApiParts + Send + Sync>,
}

/// The Infrastructure API of one driver: its routes and its spec.
struct ApiParts {
    routes: poem::Route,
    spec_json: String,
    spec_yaml: String,
}

impl DriverParts {
    fn new<D: Driver>(driver: D) -> Self {
        let driver = Arc::new(driver);
        let poller = Arc::new(DriverPoller(driver.clone()));
        let api = Box::new(move |monitor| {
            let api =
                api::InfrastructureApi::new(InfrastructureService::new(driver.clone(), monitor));
            let docs = api::openapi_service(api.clone());
            ApiParts {
                spec_json: docs.spec(),
                spec_yaml: docs.spec_yaml(),
                routes: api::infrastructure_routes(api, docs),
            }
        });
        Self { poller, api }
    }
}

impl App {
    /// An app called `name` (used in logs and for the default job-queue topic).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            sources: ConfigSources::default(),
            driver: None,
            supplied: Supplied::default(),
            task_events: TaskEvents::default(),
            config_file_error: None,
        }
    }

    /// Reads properties from this YAML file, which must exist.
    pub fn config_file(mut self, path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        if !path.is_file() {
            self.config_file_error = Some(BootError::new(format!(
                "configuration file {} does not exist (given to App::config_file)",
                path.display()
            )));
        }
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
        self.driver = Some(DriverParts::new(driver));
        self
    }

    /// Uses this job queue instead of the built-in one.
    pub fn job_queue(mut self, queue: impl JobQueue) -> Self {
        self.supplied.job_queue = Some(Arc::new(queue));
        self
    }

    /// Uses this delivery (how messages reach the bus) instead of the built-in one.
    pub fn delivery(mut self, delivery: impl Delivery) -> Self {
        self.supplied.delivery = Some(Arc::new(delivery));
        self
    }

    /// A handle through which the driver sends its own task events when
    /// `infrastructure.async_messaging_enabled` is set. Take it before `driver(...)` and
    /// keep it in the driver; it works once the app has started.
    pub fn task_events(&self) -> TaskEvents {
        self.task_events.clone()
    }

    /// The configuration this app would start with.
    pub fn config(&self) -> Result<IgnitionConfig, BootError> {
        if let Some(err) = &self.config_file_error {
            return Err(err.clone());
        }
        self.sources.load(&self.name)
    }

    /// The OpenAPI document (JSON) of the Infrastructure API, without serving it.
    pub fn openapi_json(&self) -> String {
        self.api_parts_for_spec().spec_json
    }

    /// The OpenAPI document (YAML) of the Infrastructure API, without serving it.
    pub fn openapi_yaml(&self) -> String {
        self.api_parts_for_spec().spec_yaml
    }

    fn api_parts_for_spec(&self) -> ApiParts {
        match &self.driver {
            Some(driver) => (driver.api)(None),
            // Without a driver: the document of a driver whose errors are all
            // InfrastructureError, i.e. the contract's.
            None => (DriverParts::new(crate::driver::ContractOnly).api)(None),
        }
    }

    /// Starts serving and returns at once with a handle; for tests and embedding.
    /// Does not install a log subscriber (see [`App::run`]).
    pub async fn start(self) -> Result<RunningApp, BootError> {
        let config = self.config()?;
        let driver = self.driver.ok_or_else(|| {
            BootError::new("no driver: give the app one with App::driver(...) before starting it")
        })?;
        let mut vitals: Vec<Arc<dyn Vital>> = Vec::new();
        let connected = connect(&config, &self.supplied, &mut vitals).await?;
        let wiring = boot::wire(&config, self.supplied, connected, driver.poller.clone())?;
        if let Some(messaging) = &wiring.messaging {
            self.task_events.bind(messaging.clone());
        }
        // Jobs run from here on; the API answers only once its job queue is consuming.
        if let Some(queue) = &wiring.job_queue {
            queue
                .start()
                .await
                .map_err(|e| BootError::new(e.to_string()))?;
        }

        let routes = if wiring.api && wiring.service {
            (driver.api)(wiring.monitoring.clone()).routes
        } else {
            poem::Route::new()
        };
        let app_vital = AppVital::default();
        vitals.insert(0, Arc::new(app_vital.clone()));
        let vitals = Vitals(vitals);
        let endpoint = api::app_endpoint(routes, vitals);

        let port = config.application.port;
        let acceptor = TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
            .into_acceptor()
            .await
            .map_err(|err| {
                BootError::new(format!(
                    "cannot listen on port {port} (`application.port`): {err}"
                ))
            })?;
        let local_addr = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().copied())
            .ok_or_else(|| BootError::new("the HTTP listener has no local address"))?;

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
    /// subscriber on stderr (level from `RUST_LOG`, default `info`) unless one is set.
    pub async fn run(self) -> Result<(), BootError> {
        let _log = init_logging();
        let name = self.name.clone();
        let running = self.start().await.inspect_err(|err| {
            tracing::error!(app = %name, "start-up failed: {err}");
        })?;
        shutdown_signal().await;
        tracing::info!(app = %running.name, "shutdown requested");
        running.shutdown().await;
        Ok(())
    }
}

/// Connects to Kafka when `messaging.connection_address` is set and a built-in service
/// needs it (the user may have supplied both delivery and job queue).
#[cfg_attr(not(feature = "kafka"), allow(unused_variables))]
async fn connect(
    config: &IgnitionConfig,
    supplied: &Supplied,
    vitals: &mut Vec<Arc<dyn Vital>>,
) -> Result<boot::Connected, BootError> {
    let needed = supplied.delivery.is_none() || supplied.job_queue.is_none();
    if !config.uses_kafka() || !needed {
        return Ok(boot::Connected::default());
    }
    #[cfg(feature = "kafka")]
    {
        let kafka = crate::kafka::KafkaServices::connect(config)
            .await
            .map_err(|e| BootError::new(e.to_string()))?;
        vitals.push(kafka.vital);
        Ok(boot::Connected {
            delivery: Some(kafka.delivery),
            job_queue: Some(kafka.job_queue),
        })
    }
    #[cfg(not(feature = "kafka"))]
    Ok(boot::Connected::default())
}

fn log_started(name: &str, config: &IgnitionConfig, addr: SocketAddr, wiring: &boot::Wiring) {
    let port = addr.port();
    let messaging = match (&config.messaging.connection_address, &wiring.embedded_bus) {
        (_, Some(_)) => "embedded in-process bus and job queue (no Kafka): each task event is printed on stdout as one JSON line".to_string(),
        (Some(address), None) => format!("Kafka at {address}"),
        (None, None) => "supplied by the application".to_string(),
    };
    tracing::info!("{name} started on port {port}; messaging: {messaging}");
    if wiring.api {
        tracing::info!("Swagger UI: http://localhost:{port}{}/ui", api::API_PATH);
        tracing::info!(
            "OpenAPI: http://localhost:{port}{0}/openapi.json and {0}/openapi.yaml",
            api::API_PATH
        );
    }
}

/// Log lines waiting for the writer thread before a logging thread waits.
const LOG_LINES_BUFFERED: usize = 16 * 1024;

/// Installs the fmt subscriber on stderr, once. A background thread writes the lines, a
/// batch per system call, so a request or a poll never waits on stderr (one log line
/// per finished task otherwise costs ~10 % of create throughput); no line is dropped
/// (senders wait when LOG_LINES_BUFFERED lines are pending), and the guard flushes the
/// rest when `run` returns. With a subscriber already set, nothing (no writer thread).
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    if tracing::dispatcher::has_been_set() {
        return None;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The channel is allocated (and touched) up front: the default 128k lines are
        // 4 MiB of RSS; 16k lines (512 KiB) still absorb any burst the writer lags behind.
        .buffered_lines_limit(LOG_LINES_BUFFERED)
        .finish(std::io::BufWriter::new(std::io::stderr()));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .ok()
        .map(|()| guard)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// A started app.
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

/// Sends task events on behalf of a driver that reports its own task outcomes
/// (`infrastructure.async_messaging_enabled`). Cheap to clone.
#[derive(Clone, Default)]
pub struct TaskEvents {
    messaging: Arc<OnceLock<InfrastructureMessagingService>>,
}

impl TaskEvents {
    fn bind(&self, messaging: InfrastructureMessagingService) {
        let _ = self.messaging.set(messaging);
    }

    /// Sends the task as an event; `Ok` once delivered.
    pub async fn send(&self, task: &InfrastructureTask) -> Result<(), DeliveryError> {
        match self.messaging.get() {
            Some(messaging) => messaging.send_infrastructure_task(task).await,
            None => Err(DeliveryError {
                topic: String::new(),
                reason: "the app has not started (or its messaging service is disabled)".into(),
            }),
        }
    }
}

#[doc(hidden)]
impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
