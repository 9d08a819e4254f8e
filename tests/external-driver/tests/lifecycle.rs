//! The driver through `ignition::testing`, as its author tests it.

use std::time::Duration;

use external_driver::MemoryCloudDriver;
use ignition::prelude::*;
use ignition::testing::{Lifecycle, Step, TestApp, TestError};

fn location() -> DeploymentLocation {
    DeploymentLocation::new("memory")
}

#[tokio::test]
async fn the_driver_passes_the_conformance_lifecycle() {
    let app = TestApp::start(MemoryCloudDriver::new(2)).await.unwrap();
    let report = Lifecycle::new("stack: {}", "MEMORY", location())
        .instance_name("web")
        .timeout(Duration::from_secs(10))
        .run(&app)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(report.steps.len(), 7);
    assert_eq!(report.steps.last().map(|s| s.step), Some(Step::FindDeleted));
    assert_eq!(report.outputs["name"], "web");
    // two polls IN_PROGRESS, then COMPLETE
    assert_eq!(
        app.poll_count(&report.infrastructure_id, &report.create_request_id),
        Some(3)
    );
    println!("{report}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_bad_template_is_a_400_with_the_contracts_error_body() {
    let app = TestApp::start(MemoryCloudDriver::new(0)).await.unwrap();
    let err = app
        .create(CreateInfrastructureRequest {
            template: " ".into(),
            template_type: "MEMORY".into(),
            system_properties: PropValueMap::new(),
            properties: PropValueMap::new(),
            deployment_location: location(),
        })
        .await
        .unwrap_err();
    let body = err.error_body().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(body.status, 400);
    assert_eq!(body.localized_message, "empty template");
    assert!(matches!(
        err,
        TestError::Status {
            operation: "create",
            ..
        }
    ));
    app.shutdown().await;
}

/// Runs against the VIM itself only with `IGNITION_ACCEPTANCE=1` (this one has none but
/// its memory, so the gate is all there is to see).
#[tokio::test]
async fn acceptance_runs_are_gated() {
    if !Lifecycle::acceptance_enabled() {
        eprintln!("skipped: set IGNITION_ACCEPTANCE=1 to run against the real VIM");
        return;
    }
    let app = TestApp::start(MemoryCloudDriver::new(1)).await.unwrap();
    Lifecycle::new("stack: {}", "MEMORY", location())
        .run(&app)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    app.shutdown().await;
}
