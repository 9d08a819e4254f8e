//! The test kit itself (`ignition::testing`): a driver that keeps its promises passes the
//! conformance run; one that breaks a rule fails at the step that checks it, with a
//! message naming the step; errors come back as the contract's error body; events are
//! kept from the start, polls counted.

use std::time::Duration;

use ignition::prelude::*;
use ignition::testing::{Lifecycle, Step, TestApp, TestError};
use ignition_tests::stack_driver::{Quirk, StackDriver};
use ignition_tests::{ScriptedDriver, ERROR_ROWS};

const WAIT: Duration = Duration::from_secs(10);

fn lifecycle() -> Lifecycle {
    Lifecycle::new(
        "resources: {vm: server}",
        "TOSCA",
        DeploymentLocation::new("dl"),
    )
    .instance_name("web")
}

fn create_request(template: &str) -> CreateInfrastructureRequest {
    let mut system_properties = PropValueMap::new();
    system_properties.insert("resourceName", "web");
    CreateInfrastructureRequest {
        template: template.into(),
        template_type: "TOSCA".into(),
        system_properties,
        properties: PropValueMap::new(),
        deployment_location: DeploymentLocation::new("dl"),
    }
}

#[tokio::test]
async fn a_driver_that_keeps_its_promises_passes_the_lifecycle() {
    let app = TestApp::start(StackDriver::new(Quirk::None, 2))
        .await
        .unwrap();
    let report = lifecycle()
        .run(&app)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let steps: Vec<Step> = report.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [
            Step::Create,
            Step::CreateCompletes,
            Step::Query,
            Step::Find,
            Step::Delete,
            Step::DeleteCompletes,
            Step::FindDeleted
        ]
    );
    assert_eq!(report.instance_name, "web");
    assert_eq!(report.infrastructure_id, "stack-1");
    assert_eq!(report.outputs["ip"], "10.0.0.1");
    let text = report.to_string();
    assert!(
        text.contains("`web`") && text.contains("find after delete"),
        "{text}"
    );
    // two polls IN_PROGRESS, the third COMPLETE; the run's own query is not a poll
    assert_eq!(
        app.poll_count("stack-1", &report.create_request_id),
        Some(3)
    );
    assert_eq!(
        app.poll_count("stack-1", &report.delete_request_id),
        Some(3)
    );
    assert_eq!(app.events_of(&report.create_request_id).unwrap().len(), 1);
    app.shutdown().await;
}

#[tokio::test]
async fn without_an_instance_name_the_run_makes_one_and_gives_it_as_resource_name() {
    let app = TestApp::start(StackDriver::new(Quirk::None, 0))
        .await
        .unwrap();
    let report = Lifecycle::new("resources: {}", "TOSCA", DeploymentLocation::new("dl"))
        .run(&app)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        report.instance_name.starts_with("ignition-lifecycle-"),
        "{}",
        report.instance_name
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_driver_that_never_completes_fails_at_the_creates_wait_naming_the_step() {
    let app = TestApp::start(StackDriver::new(Quirk::NeverCompletes, 0))
        .await
        .unwrap();
    let err = lifecycle()
        .timeout(Duration::from_millis(500))
        .run(&app)
        .await
        .unwrap_err();
    assert_eq!(err.step(), Step::CreateCompletes);
    let message = err.to_string();
    assert!(
        message.starts_with("lifecycle step `create: wait for COMPLETE` failed: no task event for request id `create-1` within 500ms"),
        "{message}"
    );
    assert!(
        message.contains("clean-up: delete of `stack-1` accepted"),
        "{message}"
    );
    assert!(message.contains("passed before it: create ("), "{message}");
    assert!(matches!(
        err.test_error(),
        Some(TestError::EventTimeout { .. })
    ));
    assert_eq!(err.infrastructure_id(), Some("stack-1"));
    // it was polled, IN_PROGRESS every time
    assert!(app.poll_count("stack-1", "create-1").unwrap() >= 1);
    app.shutdown().await;
}

#[tokio::test]
async fn a_failed_create_fails_the_run_with_its_failure_details() {
    let app = TestApp::start(StackDriver::new(Quirk::CreateFails, 1))
        .await
        .unwrap();
    let err = lifecycle().run(&app).await.unwrap_err();
    assert_eq!(err.step(), Step::CreateCompletes);
    assert_eq!(
        err.reason(),
        "the task of request id `create-1` FAILED: INSUFFICIENT_CAPACITY: no room for 3 servers"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_find_answering_another_id_fails_at_find() {
    let app = TestApp::start(StackDriver::new(Quirk::FindsAnotherId, 0))
        .await
        .unwrap();
    let err = lifecycle().run(&app).await.unwrap_err();
    assert_eq!(err.step(), Step::Find);
    let message = err.to_string();
    assert!(
        message.starts_with("lifecycle step `find` failed: instance name `web` found infrastructure id `stack-1-other`, but the create answered `stack-1`"),
        "{message}"
    );
    assert_eq!(err.passed().len(), 3, "{message}");
    app.shutdown().await;
}

#[tokio::test]
async fn a_deleted_instance_that_is_still_found_fails_at_find_after_delete() {
    let app = TestApp::start(StackDriver::new(Quirk::StillFoundAfterDelete, 0))
        .await
        .unwrap();
    let err = lifecycle().run(&app).await.unwrap_err();
    assert_eq!(err.step(), Step::FindDeleted);
    assert!(
        err.reason()
            .contains("still finds infrastructure id `stack-1`"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("clean-up"),
        "deleted already: {err}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_refused_create_fails_at_create_with_the_status_and_body() {
    let app = TestApp::start(StackDriver::new(Quirk::None, 0))
        .await
        .unwrap();
    let err = Lifecycle::new(" ", "TOSCA", DeploymentLocation::new("dl"))
        .run(&app)
        .await
        .unwrap_err();
    assert_eq!(err.step(), Step::Create);
    let body = err.test_error().and_then(TestError::error_body).unwrap();
    assert_eq!(body.status, 400);
    assert_eq!(
        err.reason(),
        r#"create answered 400: the template is empty; body: {"localizedMessage":"the template is empty","status":400}"#
    );
    app.shutdown().await;
}

#[tokio::test]
async fn every_error_status_comes_back_as_the_contracts_error_body() {
    let (driver, _) = ScriptedDriver::new();
    let app = TestApp::start(driver).await.unwrap();
    for (name, status) in ERROR_ROWS {
        let err = app
            .create(create_request(&format!("error:{name}")))
            .await
            .unwrap_err();
        let body = err.error_body().unwrap_or_else(|| panic!("{err}"));
        assert_eq!(body.status, status, "{name}");
        assert_eq!(body.localized_message, format!("{name} error"));
        assert_eq!(err.status(), Some(status));
        assert!(
            err.to_string()
                .starts_with(&format!("create answered {status}: {name} error; body: ")),
            "{err}"
        );
    }
    let err = app
        .find(FindInfrastructureRequest {
            template: "t".into(),
            template_type: "TOSCA".into(),
            instance_name: "error:NotFound".into(),
            deployment_location: DeploymentLocation::new("dl"),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            TestError::Status {
                operation: "find",
                ..
            }
        ),
        "{err:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn the_typed_client_answers_each_operation() {
    let (driver, _) = ScriptedDriver::new();
    let app = TestApp::start(driver).await.unwrap();
    let created = app
        .create(create_request("IN_PROGRESS,COMPLETE"))
        .await
        .unwrap();
    assert_eq!(
        created,
        CreateInfrastructureResponse::new("inf-0", "create-0")
    );
    let event = app.wait_for_event("create-0", WAIT).await.unwrap();
    assert_eq!(event.status, TaskStatus::Complete);
    assert_eq!(app.poll_count("inf-0", "create-0"), Some(2));
    let task = app
        .query(InfrastructureTaskQuery {
            infrastructure_id: "inf-0".into(),
            request_id: "create-0".into(),
            deployment_location: DeploymentLocation::new("dl"),
        })
        .await
        .unwrap();
    assert_eq!(task.status, TaskStatus::Complete);
    assert_eq!(
        app.poll_count("inf-0", "create-0"),
        Some(2),
        "a query is no poll"
    );
    let deleting = app
        .delete(DeleteInfrastructureRequest {
            infrastructure_id: "inf-0".into(),
            deployment_location: DeploymentLocation::new("dl"),
        })
        .await
        .unwrap();
    assert_eq!(deleting.infrastructure_id, "inf-0");
    app.wait_for_event(&deleting.request_id, WAIT)
        .await
        .unwrap();
    let found = app
        .find(FindInfrastructureRequest {
            template: "t".into(),
            template_type: "TOSCA".into(),
            instance_name: "found".into(),
            deployment_location: DeploymentLocation::new("dl"),
        })
        .await
        .unwrap();
    assert_eq!(found.result.unwrap().infrastructure_id, "inf-found");
    assert!(app.url().starts_with("http://127.0.0.1:"), "{}", app.url());
    app.shutdown().await;
}

#[tokio::test]
async fn events_are_kept_from_the_start_however_late_the_test_waits() {
    let (driver, _) = ScriptedDriver::new();
    let app = TestApp::start(driver).await.unwrap();
    let first = app.create(create_request("COMPLETE")).await.unwrap();
    let second = app.create(create_request("FAILED")).await.unwrap();
    // both events have arrived long before anybody waits for them
    tokio::time::sleep(Duration::from_millis(500)).await;
    let failed = app.wait_for_event(&second.request_id, WAIT).await.unwrap();
    assert_eq!(failed.status, TaskStatus::Failed);
    let complete = app.wait_for_event(&first.request_id, WAIT).await.unwrap();
    assert_eq!(complete.status, TaskStatus::Complete);
    assert_eq!(app.envelopes().unwrap().len(), 2);
    let next = app.next_envelope(WAIT).await.unwrap();
    assert!(next.payload.contains(&first.request_id) || next.payload.contains(&second.request_id));
    app.next_envelope(WAIT).await.unwrap();
    let err = app
        .next_envelope(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            TestError::EventTimeout {
                request_id: None,
                ..
            }
        ),
        "{err}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_wait_that_times_out_names_the_request_id_and_what_arrived() {
    let (driver, _) = ScriptedDriver::new();
    let app = TestApp::start(driver).await.unwrap();
    let created = app.create(create_request("COMPLETE")).await.unwrap();
    app.wait_for_event(&created.request_id, WAIT).await.unwrap();
    let err = app
        .wait_for_event("no-such-request", Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no task event for request id `no-such-request` within 200ms; 1 event(s) arrived, for request ids `create-0`"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn with_keeps_the_apps_configuration_but_always_takes_a_free_port() {
    let (driver, _) = ScriptedDriver::new();
    // port 1 would need privileges: TestApp::with replaces it with 0
    let app = App::new("Configured Test Driver")
        .property("application.port", 1)
        .property("job_queue.poll_interval", "20ms")
        .driver(driver);
    let app = TestApp::with(app).await.unwrap();
    assert_ne!(app.local_addr().port(), 1);
    let created = app.create(create_request("COMPLETE")).await.unwrap();
    app.wait_for_event(&created.request_id, WAIT).await.unwrap();
    assert_eq!(
        app.poll_count(&created.infrastructure_id, &created.request_id),
        Some(1),
        "polls are counted inside the monitor, whoever built the app"
    );
    app.shutdown().await;

    let (driver, _) = ScriptedDriver::new();
    let app = TestApp::with_driver(App::new("Counted Test Driver"), driver)
        .await
        .unwrap();
    let created = app.create(create_request("COMPLETE")).await.unwrap();
    app.wait_for_event(&created.request_id, WAIT).await.unwrap();
    assert_eq!(
        app.poll_count(&created.infrastructure_id, &created.request_id),
        Some(1)
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_misconfigured_app_fails_to_start_with_the_boot_error() {
    let (driver, _) = ScriptedDriver::new();
    let app = App::new("x")
        .property("job_queue.poll_interval", "soon")
        .driver(driver);
    let err = TestApp::with(app).await.unwrap_err();
    assert!(matches!(err, TestError::Start(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("the app did not start: ") && message.contains("poll_interval"),
        "{message}"
    );
}

/// A delivery that drops every message (the app's own, instead of the embedded bus).
struct Nowhere;

impl ignition::messaging::Delivery for Nowhere {
    fn deliver(
        &self,
        _: ignition::messaging::Envelope,
    ) -> ignition::jobqueue::BoxFuture<'_, Result<(), ignition::messaging::DeliveryError>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn an_app_with_a_supplied_delivery_serves_the_client_but_has_no_events() {
    // As on Kafka: the events do not go through the embedded bus, so TestApp sees none.
    let (driver, _) = ScriptedDriver::new();
    let app = App::new("x").delivery(Nowhere).driver(driver);
    let app = TestApp::with(app).await.unwrap();
    let created = app.create(create_request("COMPLETE")).await.unwrap();
    let err = app
        .wait_for_event(&created.request_id, Duration::from_millis(10))
        .await
        .unwrap_err();
    assert!(matches!(err, TestError::NoEvents { .. }), "{err:?}");
    assert!(err.to_string().contains("embedded default"), "{err}");
    app.shutdown().await;
}
