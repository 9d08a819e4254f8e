//! The Resource Driver API (LM 2.x/3.x) end to end on the embedded default: real HTTP to
//! a running [`ResourceClockDriver`](ignition_tests::resource_driver::ResourceClockDriver)
//! (in this process, or as the `resource_replica` binary when a test needs a process of its
//! own: its `TMPDIR`, its logs), its real job queue and bus. The Kafka tier is
//! `kafka::resource`.

mod api;
mod archives;
mod boot;
mod driver_files;
mod monitoring;
mod process;
mod tracectx;

use std::sync::Arc;
use std::time::Duration;

use ignition::testing::{DriverFilesBuilder, TestApp, TestError};
use ignition::App;
use ignition_tests::resource_driver::{resource_app, ResourceLog};
use ignition_tests::RawClient;
use serde_json::{json, Value};

/// How long a test waits for an event that must come.
const WAIT: Duration = Duration::from_secs(10);

/// The lifecycle execution events topic's default name (Python 3.x's).
const EVENTS_TOPIC: &str = "lm_vnfc_lifecycle_execution_events";

/// A resource driver started in process ([`TestApp`]), the raw client on it, and what its
/// driver saw.
struct ResourceServer {
    app: TestApp,
    client: RawClient,
    log: Arc<ResourceLog>,
}

impl ResourceServer {
    /// [`resource_app`] started.
    async fn start() -> Self {
        let (app, log) = resource_app();
        Self::start_app(app, log).await
    }

    /// `app` (around the driver whose log is `log`) started.
    async fn start_app(app: App, log: Arc<ResourceLog>) -> Self {
        let app = TestApp::with(app)
            .await
            .expect("the resource driver starts");
        let client = RawClient::new(app.url());
        Self { app, client, log }
    }

    /// POSTs `body` to `path` (`/api/driver/...`); status and body.
    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.client.post(path, body).await.expect("an answer")
    }

    /// Executes `lifecycle` (the driver's plan) with [`execute_body`]; asserts 202;
    /// returns the answer.
    async fn execute(&self, lifecycle: &str) -> Value {
        let (status, body) = self
            .post("/api/driver/lifecycle/execute", &execute_body(lifecycle))
            .await;
        assert_eq!(status, 202, "execute {lifecycle}: {body}");
        body
    }

    /// Executes `lifecycle`; the request id answered.
    async fn execute_id(&self, lifecycle: &str) -> String {
        request_id(&self.execute(lifecycle).await)
    }

    /// The next message of the embedded bus as JSON, or `None` if none comes within
    /// `within`. Checks its topic, and that it is keyed by its request id.
    async fn next_event(&self, within: Duration) -> Option<Value> {
        match self.app.next_envelope(within).await {
            Ok(envelope) => {
                assert_eq!(envelope.topic, EVENTS_TOPIC);
                let event: Value = serde_json::from_str(&envelope.payload).expect("JSON");
                assert_eq!(
                    envelope.key.as_deref(),
                    event["requestId"].as_str(),
                    "keyed by request id: {event}"
                );
                Some(event)
            }
            Err(TestError::EventTimeout { .. }) => None,
            Err(err) => panic!("the event stream broke: {err}"),
        }
    }

    /// Every message of the embedded bus about `request_id`, as JSON.
    fn events_of(&self, request_id: &str) -> Vec<Value> {
        self.app
            .envelopes()
            .expect("the embedded bus")
            .into_iter()
            .filter(|envelope| envelope.key.as_deref() == Some(request_id))
            .map(|envelope| serde_json::from_str(&envelope.payload).expect("JSON"))
            .collect()
    }

    /// How many times the monitor polled the execution `request_id`.
    fn polls(&self, request_id: &str) -> usize {
        // An execution's job has no infrastructure id.
        self.app.poll_count("", request_id).unwrap_or(0)
    }

    async fn shutdown(self) {
        self.app.shutdown().await;
    }
}

/// The request id of an execute's answer.
pub(crate) fn request_id(answer: &Value) -> String {
    answer["requestId"]
        .as_str()
        .unwrap_or_else(|| panic!("no requestId in {answer}"))
        .to_string()
}

/// The driver files every request of these tests carries.
fn driver_files() -> DriverFilesBuilder {
    DriverFilesBuilder::new()
        .executable("scripts/Install.sh", "#!/bin/sh\necho installed\n")
        .file("meta/info.yaml", "name: test\n")
}

/// A deployment location as LM sends it.
fn location() -> Value {
    json!({"name": "core", "type": "Openstack", "properties": {"os_auth_url": "http://keystone"}})
}

/// An execute of `lifecycle` as LM sends it: every field of the contract, a key property
/// among the resource properties, an associated topology.
pub(crate) fn execute_body(lifecycle: &str) -> Value {
    execute_body_with(lifecycle, &driver_files().to_base64())
}

/// [`execute_body`] with these `driverFiles`.
fn execute_body_with(lifecycle: &str, driver_files: &str) -> Value {
    json!({
        "lifecycleName": lifecycle,
        "driverFiles": driver_files,
        "systemProperties": {"resourceId": "r-1", "resourceName": {"type": "string", "value": "web"}},
        "resourceProperties": {
            "cidr": {"type": "string", "value": "10.0.0.0/24"},
            "key": {"type": "key", "privateKey": "PRIVATE", "publicKey": "PUBLIC", "keyName": "k"},
        },
        "requestProperties": {"reason": "test"},
        "associatedTopology": {"stack": {"id": "st-1", "type": "Openstack"}},
        "deploymentLocation": location(),
    })
}

/// A find of `instance_name` as LM sends it.
fn find_body(instance_name: &str) -> Value {
    json!({
        "instanceName": instance_name,
        "driverFiles": driver_files().to_base64(),
        "deploymentLocation": location(),
    })
}
