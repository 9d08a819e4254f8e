//! `bootstrap.resource_driver.*` for a resource driver: each flag turns its service off, a
//! disabled service that another needs stops start-up naming the flag, and the flags of
//! the other kind (`bootstrap.infrastructure.*`) do not apply.

use ignition::testing::{TestApp, TestError};
use ignition_tests::resource_driver::resource_app;
use serde_json::json;

use super::{ResourceServer, WAIT};

#[tokio::test]
async fn a_disabled_service_that_another_needs_stops_start_up_naming_the_flag() {
    for (flag, names) in [
        (
            "lifecycle_monitoring_service_enabled",
            [
                "ResourceDriverService",
                "LifecycleExecutionMonitoringService",
            ],
        ),
        (
            "lifecycle_messaging_service_enabled",
            [
                "LifecycleExecutionMonitoringService",
                "LifecycleMessagingService",
            ],
        ),
        (
            "service_enabled",
            ["ResourceDriverApiService", "ResourceDriverService"],
        ),
        (
            "api_service_enabled",
            ["Resource Driver API", "ResourceDriverApiService"],
        ),
    ] {
        let (app, _) = resource_app();
        let key = format!("bootstrap.resource_driver.{flag}");
        let started = TestApp::with(app.property(&key, false)).await;
        let err = match started {
            Err(TestError::Start(err)) => err.to_string(),
            Err(other) => panic!("{key}: not a start-up error: {other}"),
            Ok(app) => {
                app.shutdown().await;
                panic!("{key}: false started")
            }
        };
        assert!(err.contains(&format!("`{key}: false`")), "{key}: {err}");
        for name in names {
            assert!(err.contains(name), "{key}: names {name}: {err}");
        }
    }
    // The job queue, which the monitor needs, named by its own flag.
    let (app, _) = resource_app();
    let err = match TestApp::with(app.property("bootstrap.job_queue.service_enabled", false)).await
    {
        Err(err) => err.to_string(),
        Ok(app) => {
            app.shutdown().await;
            panic!("bootstrap.job_queue.service_enabled: false started")
        }
    };
    assert!(
        err.contains("LifecycleExecutionMonitoringService")
            && err.contains("bootstrap.job_queue.service_enabled"),
        "{err}"
    );
}

#[tokio::test]
async fn with_the_api_off_nothing_is_served_under_api_driver_and_the_rest_runs() {
    let (app, log) = resource_app();
    let app = app.property("bootstrap.resource_driver.api_enabled", false);
    let server = ResourceServer::start_app(app, log).await;
    let (status, answer) = server
        .post(
            "/api/driver/lifecycle/execute",
            &super::execute_body("complete_after:0"),
        )
        .await;
    assert_eq!((status, &answer["status"]), (404, &json!(404)), "{answer}");
    assert_eq!(
        server
            .client
            .get("/api/driver/openapi.json")
            .await
            .unwrap()
            .0,
        404
    );
    assert_eq!(server.client.health(WAIT).await.unwrap().0, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn the_other_kinds_flags_do_not_apply_to_a_resource_driver() {
    let (app, log) = resource_app();
    let app = app
        .property("bootstrap.infrastructure.api_enabled", false)
        .property("bootstrap.infrastructure.monitoring_service_enabled", false)
        .property("bootstrap.infrastructure.messaging_service_enabled", false)
        .property("infrastructure.async_messaging_enabled", false);
    let server = ResourceServer::start_app(app, log).await;
    let rid = server.execute_id("complete_after:0").await;
    let event = server.next_event(WAIT).await.expect("monitored as usual");
    assert_eq!(event["requestId"], rid.as_str());
    server.shutdown().await;
}
