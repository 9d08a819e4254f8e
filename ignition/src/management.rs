//! Management endpoints: `GET /management/health`.
//!
//! The answer is `{"vitals": {"<name>": {"status": "OK"}}}`, 200 when every vital is OK
//! and 503 with the failing vitals `UNHEALTHY` (and a `reason`) otherwise.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use poem::http::StatusCode;
use poem::{handler, web::Data, Response};
use serde::Serialize;

use crate::api::json_response;
use crate::jobqueue::BoxFuture;

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

/// Something the driver cannot work without (the app itself, the broker, ...).
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
pub(crate) struct Vitals(pub(crate) Vec<Arc<dyn Vital>>);

#[derive(Serialize)]
struct Health {
    vitals: serde_json::Map<String, serde_json::Value>,
}

#[handler]
pub(crate) async fn health(Data(vitals): Data<&Vitals>) -> Response {
    let mut all_ok = true;
    let mut report = serde_json::Map::new();
    for vital in &vitals.0 {
        let status = vital.check().await;
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
