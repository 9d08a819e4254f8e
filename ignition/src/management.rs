//! Management endpoints: `GET /management/health` and, unless
//! `application.metrics_enabled: false`, `GET /management/metrics` (Prometheus text
//! format; see [`crate::metrics`]).
//!
//! The answer is `{"vitals": {"<name>": {"status": "OK"}}}`, 200 when every vital is OK
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
///             match std::net::TcpStream::connect(&self.endpoint) {
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

/// The `app` vital: OK until shutdown starts.
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

/// Every vital of the running app.
#[derive(Clone, Default)]
pub(crate) struct Vitals(Vec<Arc<dyn Vital>>);

impl Vitals {
    pub(crate) fn new(vitals: Vec<Arc<dyn Vital>>) -> Self {
        Self(vitals)
    }
}

/// `routes` plus the management endpoints (metrics when there are any).
pub(crate) fn routes(routes: Route, vitals: Vitals, metrics: Option<Arc<Metrics>>) -> Route {
    let routes = routes.at(
        "/management/health",
        crate::response::Allow::new("GET, HEAD", get(health).data(vitals)),
    );
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

#[handler]
async fn health(Data(vitals): Data<&Vitals>) -> Response {
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
