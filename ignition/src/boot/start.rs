//! [`start`]: connect → wire → start the job queue → the API → bind → serve.

use std::net::SocketAddr;
use std::sync::Arc;

use poem::listener::Acceptor;
use poem::Server;
use tokio_util::sync::CancellationToken;

use super::services::{self, Services, Wiring};
use super::{BootError, RunningApp, Supplied};
use crate::api::ApiWiring;
use crate::config::IgnitionConfig;
use crate::management::{AppVital, Vital, Vitals};
use crate::messaging::TaskEvents;
use crate::metrics::{Metrics, Recorder};
use crate::monitor::PollObserver;
use crate::operations::Operation;
use crate::serve::DriverParts;

/// How long after `application.shutdown_timeout` cut the requests in flight the server
/// still waits for their connections to close.
const CLOSE_AFTER_CUT: std::time::Duration = std::time::Duration::from_secs(1);

/// What an app starts from: its name, its configuration, its driver, and what the user
/// supplied or added.
pub(crate) struct StartInputs {
    pub(crate) name: String,
    pub(crate) config: IgnitionConfig,
    pub(crate) driver: DriverParts,
    pub(crate) supplied: Supplied,
    pub(crate) vitals: Vec<Arc<dyn Vital>>,
    pub(crate) task_events: TaskEvents,
    pub(crate) observer: Option<PollObserver>,
}

/// Starts an app: connects to Kafka (when configured), wires its services, starts the
/// job queue (the API answers only once its job queue is consuming), builds the API and
/// serves it on the configured address.
pub(crate) async fn start(inputs: StartInputs) -> Result<RunningApp, BootError> {
    let StartInputs {
        name,
        config,
        driver,
        supplied,
        vitals: driver_vitals,
        task_events,
        observer,
    } = inputs;
    let metrics = Recorder::new(
        config
            .application
            .metrics_enabled
            .then(|| Arc::new(Metrics::new(driver.kind, known_statuses(&driver)))),
    );
    let connected = services::connect(&config, &name, driver.kind, &supplied, &metrics).await?;
    let mut services = services::wire(Wiring {
        config: &config,
        supplied,
        connected,
        poller: driver.poller.clone(),
        metrics: &metrics,
        observer,
    })?;
    if let Some(messaging) = &services.messaging {
        task_events.bind(messaging.clone());
    }
    // Jobs run from here on; the API answers only once its job queue is consuming.
    if let Some(queue) = &services.job_queue {
        queue.start().await?;
    }

    let routes = if services.api {
        (driver.api)(ApiWiring {
            monitor: services.monitor.clone(),
            config: config.clone(),
            metrics: metrics.clone(),
        })
        .routes
    } else {
        poem::Route::new()
    };
    let app_vital = AppVital::default();
    let service_vitals = std::mem::take(&mut services.vitals);
    let vitals = Vitals::new(
        app_vital.clone(),
        service_vitals
            .health
            .into_iter()
            .chain(driver_vitals)
            .collect(),
        service_vitals.liveness,
        service_vitals.readiness,
    );
    // Cancelled `application.shutdown_timeout` after the stop: requests still in flight
    // are cut then (503).
    let hard_stop = CancellationToken::new();
    let endpoint = crate::server::endpoint(routes, vitals, &metrics, hard_stop.clone());

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
            // No timeout of poem's: the endpoint cuts requests at `hard_stop` (see
            // `server::endpoint`), after which each connection closes.
            let serve = Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
                endpoint,
                stop.clone().cancelled_owned(),
                None,
            );
            let deadline = async {
                stop.cancelled().await;
                tokio::time::sleep(timeout).await;
                hard_stop.cancel();
                // A connection that still does not close (a client that reads no answer)
                // is not waited for.
                tokio::time::sleep(CLOSE_AFTER_CUT).await;
            };
            tokio::select! {
                result = serve => {
                    if let Err(err) = result {
                        tracing::error!(error = %err, "HTTP server stopped with an error");
                    }
                }
                () = deadline => {
                    tracing::warn!(timeout = ?timeout, "connections still open after `application.shutdown_timeout`; the server stops without them");
                }
            }
        })
    };

    log_started(&name, &config, local_addr, &services, driver.kind);
    Ok(RunningApp {
        name,
        local_addr,
        stop,
        server: Some(server),
        job_queue: services.job_queue,
        delivery: services.delivery,
        events: services.embedded_bus.map(|bus| bus.subscribe()),
        app_vital,
        shutdown_grace: config.application.shutdown_grace,
    })
}

/// Every status an operation of `driver` may answer: its success, its error type's, the
/// framework's own.
fn known_statuses(driver: &DriverParts) -> impl Fn(Operation) -> Vec<u16> {
    let error_statuses = driver.error_statuses;
    move |operation| {
        let mut statuses: Vec<u16> = std::iter::once(operation.success_status())
            .chain(error_statuses(operation))
            .chain(operation.framework_error_statuses().iter().copied())
            .collect();
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }
}

fn log_started(
    name: &str,
    config: &IgnitionConfig,
    addr: SocketAddr,
    services: &Services,
    kind: crate::operations::ApiKind,
) {
    let port = addr.port();
    let messaging = match (&config.messaging.connection_address, &services.embedded_bus) {
        (_, Some(_)) => "embedded in-process bus and job queue (no Kafka): each task event is printed on stdout as one JSON line".to_string(),
        (Some(address), None) => format!("Kafka at {address}"),
        (None, None) => "supplied by the application".to_string(),
    };
    let monitoring = if services.monitor.is_some() {
        "the framework monitors each task and sends its event"
    } else {
        "tasks are not monitored (async_messaging_enabled: false: the driver sends its own events)"
    };
    tracing::info!(
        "{name} started on port {port} ({addr}), serving the {}; messaging: {messaging}; {monitoring}",
        kind.title()
    );
    let scheme = if config.application.ssl.enabled {
        "https"
    } else {
        "http"
    };
    if services.api {
        let base = kind.path();
        if config.application.swagger_ui_enabled {
            tracing::info!("Swagger UI: {scheme}://localhost:{port}{base}/ui");
        }
        tracing::info!(
            "OpenAPI: {scheme}://localhost:{port}{base}/openapi.json and {base}/openapi.yaml"
        );
    }
}
