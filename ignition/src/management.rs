//! Management endpoints: the health of the app and its probes, and, unless
//! `application.metrics_enabled: false`, `GET /management/metrics` (Prometheus text
//! format; see [`crate::metrics`]).
//!
//! | endpoint | vitals | for |
//! | --- | --- | --- |
//! | `GET /management/health` | every vital: `app`, the built-in services' (`kafka`, `job_queue`), the driver's own | people, dashboards |
//! | `GET /management/health/liveness` | the process's own machinery: `app` (the HTTP loop answers), `job_queue` (on Kafka: the consume loop turns); never Kafka or the VIM | Kubernetes' liveness and startup probes: fails only when a restart helps |
//! | `GET /management/health/readiness` | `app` (not shutting down), `kafka` (on Kafka: the broker reachable **or** the spool has room) | Kubernetes' readiness probe: fails when the driver cannot take work |
//!
//! Each answer is `{"vitals": {"<name>": {"status": "OK"}}}`, 200 when every vital is OK
//! and 503 with the failing vitals `UNHEALTHY` (and a `reason`) otherwise. Vitals are
//! checked at once, each within [`VITAL_TIMEOUT`]: a check that hangs answers UNHEALTHY,
//! never a hung probe.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::{get, handler, web::Data, EndpointExt, Response, Route};
use serde::Serialize;

use crate::jobqueue::BoxFuture;
use crate::metrics::{Metrics, CONTENT_TYPE};
use crate::response::json_response;

/// How long one vital's check may take before it counts as UNHEALTHY.
pub(crate) const VITAL_TIMEOUT: Duration = Duration::from_secs(2);

/// The state of one vital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VitalStatus {
    /// Working.
    Ok,
    /// Not working, and why.
    Unhealthy {
        /// What is wrong.
        reason: String,
    },
}

/// Something the driver cannot work without (the app itself, the broker, the VIM...),
/// shown under `vitals` in `GET /management/health`. Add the driver's own with
/// [`App::vital`](crate::App::vital).
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use ignition::prelude::*;
///
/// /// Can the VIM's endpoint be reached?
/// struct CloudReachable { endpoint: String }
///
/// impl Vital for CloudReachable {
///     fn name(&self) -> &str { "cloud" }
///     fn check(&self) -> Pin<Box<dyn Future<Output = VitalStatus> + Send + '_>> {
///         Box::pin(async move {
///             // Asynchronous I/O: a check runs on the runtime's workers, which a
///             // blocking connect would stall (the framework cuts a check at 2 s).
///             match tokio::net::TcpStream::connect(&self.endpoint).await {
///                 Ok(_) => VitalStatus::Ok,
///                 Err(err) => VitalStatus::Unhealthy { reason: format!("{}: {err}", self.endpoint) },
///             }
///         })
///     }
/// }
/// let _app = App::new("Cloud VIM Driver").vital(CloudReachable { endpoint: "127.0.0.1:1".into() });
/// ```
pub trait Vital: Send + Sync + 'static {
    /// The name under `vitals` in the health answer.
    fn name(&self) -> &str;
    /// Checks it now.
    fn check(&self) -> BoxFuture<'_, VitalStatus>;
}

/// The `app` vital of the health and readiness answers: OK until shutdown starts (the
/// listener may keep serving for `application.shutdown_grace` after that).
#[derive(Clone, Default)]
pub(crate) struct AppVital {
    stopping: Arc<AtomicBool>,
}

impl AppVital {
    pub(crate) fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
}

impl Vital for AppVital {
    fn name(&self) -> &str {
        "app"
    }

    fn check(&self) -> BoxFuture<'_, VitalStatus> {
        Box::pin(async move {
            if self.stopping.load(Ordering::SeqCst) {
                VitalStatus::Unhealthy {
                    reason: "shutting down".into(),
                }
            } else {
                VitalStatus::Ok
            }
        })
    }
}

/// The `app` vital of the liveness answer: OK whenever it is asked (the HTTP loop that
/// answers is the machinery it stands for), shutting down or not.
struct Alive;

impl Vital for Alive {
    fn name(&self) -> &str {
        "app"
    }

    fn check(&self) -> BoxFuture<'_, VitalStatus> {
        Box::pin(async { VitalStatus::Ok })
    }
}

/// Every vital of the running app, by the answer it shows in.
#[derive(Clone, Default)]
pub(crate) struct Vitals {
    health: Vec<Arc<dyn Vital>>,
    liveness: Vec<Arc<dyn Vital>>,
    readiness: Vec<Arc<dyn Vital>>,
}

impl Vitals {
    /// The vitals of an app whose `app` vital is `app`: `health` in the health answer
    /// (after `app`), `liveness` in the liveness answer (after an `app` that is always
    /// OK), `readiness` in the readiness answer (after `app`).
    pub(crate) fn new(
        app: AppVital,
        health: Vec<Arc<dyn Vital>>,
        liveness: Vec<Arc<dyn Vital>>,
        readiness: Vec<Arc<dyn Vital>>,
    ) -> Self {
        let app: Arc<dyn Vital> = Arc::new(app);
        let alive: Arc<dyn Vital> = Arc::new(Alive);
        Self {
            health: std::iter::once(app.clone()).chain(health).collect(),
            liveness: std::iter::once(alive).chain(liveness).collect(),
            readiness: std::iter::once(app).chain(readiness).collect(),
        }
    }
}

/// `routes` plus the management endpoints (metrics when there are any).
pub(crate) fn routes(routes: Route, vitals: Vitals, metrics: Option<Arc<Metrics>>) -> Route {
    let probe = |vitals: Vec<Arc<dyn Vital>>| {
        crate::response::Allow::new("GET, HEAD", get(answer).data(Probe(vitals)))
    };
    let routes = routes
        .at("/management/health", probe(vitals.health))
        .at("/management/health/liveness", probe(vitals.liveness))
        .at("/management/health/readiness", probe(vitals.readiness));
    match metrics {
        Some(metrics) => routes.at(
            "/management/metrics",
            crate::response::Allow::new("GET, HEAD", get(scrape).data(metrics)),
        ),
        None => routes,
    }
}

#[handler]
fn scrape(Data(metrics): Data<&Arc<Metrics>>) -> Response {
    Response::builder()
        .content_type(CONTENT_TYPE)
        .body(metrics.encode())
}

/// Checks one vital, within [`VITAL_TIMEOUT`].
async fn check(vital: &dyn Vital) -> VitalStatus {
    match tokio::time::timeout(VITAL_TIMEOUT, vital.check()).await {
        Ok(status) => status,
        Err(_) => VitalStatus::Unhealthy {
            reason: format!("no answer within {VITAL_TIMEOUT:?}"),
        },
    }
}

#[derive(Serialize)]
struct Health {
    vitals: serde_json::Map<String, serde_json::Value>,
}

/// The vitals of one answer.
#[derive(Clone)]
struct Probe(Vec<Arc<dyn Vital>>);

#[handler]
async fn answer(Data(vitals): Data<&Probe>) -> Response {
    let statuses =
        futures_util::future::join_all(vitals.0.iter().map(|vital| check(vital.as_ref()))).await;
    let mut all_ok = true;
    let mut report = serde_json::Map::new();
    for (vital, status) in vitals.0.iter().zip(statuses) {
        all_ok &= status == VitalStatus::Ok;
        report.insert(
            vital.name().to_string(),
            serde_json::to_value(&status).unwrap_or_default(),
        );
    }
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &Health { vitals: report })
}
