//! `infrastructure.async_messaging_enabled: false` (as in the Python framework): the
//! framework does not monitor tasks, the driver sends its own events, through the
//! `TaskEvents` of `App::task_events` or of `DriverContext::task_events`.

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
