//! `infrastructure.async_messaging_enabled: false` and `resource_driver.async_messaging_enabled:
//! false` (as in the Python framework): the framework does not monitor tasks, the driver
//! sends its own events, through the `TaskEvents` of `App::task_events` or of
//! `DriverContext::task_events`.

use std::time::Duration;

use ignition::prelude::*;
use ignition_tests::{scripted_app, ScriptedDriver, TestServer};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn with_async_messaging_the_driver_sends_its_own_events() {
    let (app, scripts) = scripted_app();
    // As in the Python framework: false = the driver sends its own events.
    let app = app.property("infrastructure.async_messaging_enabled", false);
    let events = app.task_events();
    let mut server = TestServer::start_app(app, scripts).await;
    let created = server.create("COMPLETE").await;
    let (iid, rid) = ignition_tests::client::ids(&created);
    assert!(
        server
            .next_event(Duration::from_millis(300))
            .await
            .is_none(),
        "not monitored"
    );
    assert!(
        server.scripts.polls_of(&iid, &rid).is_empty(),
        "never polled"
    );
    events
        .send(&InfrastructureTask::complete(&iid, &rid))
        .await
        .expect("sent");
    let event = server.next_event(WAIT).await.expect("the driver's event");
    assert_eq!(
        event,
        json!({"infrastructureId": iid, "requestId": rid, "status": "COMPLETE"})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn task_events_before_start_is_an_error_not_a_loss() {
    let (app, _) = scripted_app();
    let events = app.task_events();
    let err = events
        .send(&InfrastructureTask::complete("i", "r"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not started"), "{err}");
}

#[tokio::test]
async fn with_async_messaging_disabled_the_driver_sends_its_own_events_from_driver_with() {
    let app = App::new("Self-reporting Driver")
        .property("application.port", 0)
        .property("infrastructure.async_messaging_enabled", false)
        .driver_with(|ctx: DriverContext| async move {
            let events = ctx.task_events();
            Ok(SelfReporting { events })
        });
    let mut server = TestServer::start_app(app, ScriptedDriver::new().1).await;
    server.create("anything").await;
    let event = server
        .next_event(Duration::from_secs(5))
        .await
        .expect("the driver's own event");
    assert_eq!(event["infrastructureId"], "self-1");
    assert_eq!(event["status"], "COMPLETE");
    assert!(
        server
            .next_event(Duration::from_millis(300))
            .await
            .is_none(),
        "no second event from monitoring"
    );
    server.shutdown().await;
}

/// Sends its COMPLETE event itself, from create.
struct SelfReporting {
    events: TaskEvents,
}

#[vim_driver]
impl SelfReporting {
    async fn create_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        let events = self.events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            events
                .send(&InfrastructureTask::complete("self-1", "req-1"))
                .await
                .expect("delivered");
        });
        Ok(CreateInfrastructureResponse::new("self-1", "req-1"))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        Ok(InfrastructureTask::complete(infrastructure_id, request_id))
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Ok(DeleteInfrastructureResponse::new(infrastructure_id, "del"))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(FindInfrastructureResponse::not_found())
    }
}

#[tokio::test]
async fn a_resource_driver_without_async_messaging_sends_its_own_executions() {
    use ignition::models::LifecycleExecutionRequest;
    use ignition::testing::{DriverFilesBuilder, TestApp};

    // As in Python 3.x: `resource_driver.async_messaging_enabled: false` = no monitoring.
    let app = App::new("Self-reporting Resource Driver")
        .property("resource_driver.async_messaging_enabled", false);
    let events = app.task_events();
    let test = TestApp::with_driver(app, NeverPolled)
        .await
        .expect("started");
    let files = DriverFilesBuilder::new().file("a.txt", "a").to_base64();
    let accepted = test
        .execute(LifecycleExecutionRequest::new(
            "Install",
            files,
            DeploymentLocation::new("dl"),
        ))
        .await
        .expect("accepted");
    assert!(
        test.next_envelope(Duration::from_millis(300))
            .await
            .is_err(),
        "not monitored: no event of the framework's"
    );

    // An infrastructure task does not belong on the lifecycle executions' topic.
    let refused = events
        .send(&InfrastructureTask::complete("i", &accepted.request_id))
        .await
        .expect_err("the other kind's event is refused");
    assert!(
        refused.to_string().contains("Resource Driver API"),
        "{refused}"
    );

    let mut outputs = Outputs::new();
    outputs.insert("host".into(), "10.0.0.1".into());
    events
        .send_execution(
            &LifecycleExecution::complete(accepted.request_id.clone()).with_outputs(outputs),
        )
        .await
        .expect("delivered");
    let envelope = test.next_envelope(WAIT).await.expect("the driver's event");
    assert_eq!(envelope.topic, "lm_vnfc_lifecycle_execution_events");
    assert_eq!(envelope.key.as_deref(), Some(accepted.request_id.as_str()));
    let execution = test
        .wait_for_execution(&accepted.request_id, WAIT)
        .await
        .expect("the execution's event");
    assert_eq!(execution.status, TaskStatus::Complete);
    assert_eq!(execution.outputs.get("host"), Some(&json!("10.0.0.1")));
    test.shutdown().await;
}

/// A resource driver whose executions the framework must not poll.
struct NeverPolled;

#[resource_driver]
impl NeverPolled {
    #[allow(clippy::too_many_arguments)] // the Resource Driver API's request, field by field
    async fn execute_lifecycle(
        &self,
        _lifecycle_name: String,
        _driver_files: DriverFiles,
        _system_properties: PropValueMap,
        _resource_properties: PropValueMap,
        _request_properties: PropValueMap,
        _associated_topology: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        Ok(LifecycleExecuteResponse::new("self-reported-1"))
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        panic!("polled {request_id} though async messaging is disabled")
    }

    async fn find_reference(
        &self,
        _instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        Ok(FindReferenceResponse::not_found())
    }
}
