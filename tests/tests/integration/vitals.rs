//! `GET /management/health`: the app's own vital, and the driver's vitals
//! (`App::vital`), an unhealthy or hanging one making the answer a 503.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use ignition::prelude::*;
use ignition_tests::{scripted_app, TestServer};
use serde_json::json;

#[tokio::test]
async fn health_reports_the_app_vital() {
    let server = TestServer::start().await;
    let (status, body) = server
        .send(server.request(reqwest::Method::GET, "/management/health"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"vitals": {"app": {"status": "OK"}}}));
    server.shutdown().await;
}

#[derive(Clone)]
struct Flaky {
    answer: Arc<Mutex<VitalStatus>>,
}

impl Vital for Flaky {
    fn name(&self) -> &str {
        "vim"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = VitalStatus> + Send + '_>> {
        Box::pin(async move { self.answer.lock().unwrap().clone() })
    }
}

struct Stuck;

impl Vital for Stuck {
    fn name(&self) -> &str {
        "stuck"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = VitalStatus> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn driver_vitals_show_in_health_and_a_hanging_one_is_unhealthy() {
    let flaky = Flaky {
        answer: Arc::new(Mutex::new(VitalStatus::Ok)),
    };
    let (app, scripts) = scripted_app();
    let server = TestServer::start_app(app.vital(flaky.clone()), scripts).await;
    let health = || async { server.client.get("/management/health").await.unwrap() };
    let (status, body) = health().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["vitals"]["vim"]["status"], "OK", "{body}");
    *flaky.answer.lock().unwrap() = VitalStatus::Unhealthy {
        reason: "keystone unreachable".into(),
    };
    let (status, body) = health().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["vitals"]["vim"]["status"], "UNHEALTHY");
    assert_eq!(body["vitals"]["vim"]["reason"], "keystone unreachable");
    assert_eq!(body["vitals"]["app"]["status"], "OK");
    server.shutdown().await;

    let (app, scripts) = scripted_app();
    let server = TestServer::start_app(app.vital(Stuck), scripts).await;
    let (status, body) = server.client.get("/management/health").await.unwrap();
    assert_eq!(status, 503);
    assert_eq!(body["vitals"]["stuck"]["status"], "UNHEALTHY", "{body}");
    assert!(body["vitals"]["stuck"]["reason"]
        .as_str()
        .unwrap()
        .contains("no answer"));
    server.shutdown().await;
}

/// The probes Kubernetes asks: liveness and readiness answer with their own vitals; a
/// driver's vital that fails (the VIM is down) shows in `/management/health` only, so
/// it neither restarts the pod nor takes it out of the Service.
#[tokio::test]
async fn liveness_and_readiness_have_their_own_vitals_and_leave_the_drivers_out() {
    let flaky = Flaky {
        answer: Arc::new(Mutex::new(VitalStatus::Unhealthy {
            reason: "keystone unreachable".into(),
        })),
    };
    let (app, scripts) = scripted_app();
    let server = TestServer::start_app(app.vital(flaky), scripts).await;
    for probe in ["liveness", "readiness"] {
        let path = format!("/management/health/{probe}");
        let (status, body) = server.client.get(&path).await.unwrap();
        assert_eq!(status, 200, "{probe}: {body}");
        assert_eq!(
            body,
            json!({"vitals": {"app": {"status": "OK"}}}),
            "{probe}: the embedded default has no other vital"
        );
        let (status, _) = server
            .send(server.request(reqwest::Method::POST, &path))
            .await;
        assert_eq!(status, 405, "{probe}: GET and HEAD only");
    }
    let (status, body) = server.client.get("/management/health").await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["vitals"]["vim"]["status"], "UNHEALTHY", "{body}");
    server.shutdown().await;
}
