//! Support for the integration tests: a driver whose behaviour each test scripts, a
//! server started on 127.0.0.1 (an [`ignition::testing::TestApp`]) with a raw JSON client
//! for it, a driver for the conformance run ([`stack_driver`]), and the Kafka harness
//! ([`kafka`], shared with the bench).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignition::prelude::*;
use ignition::testing::{TestApp, TestError};
use serde_json::{json, Value};

pub mod clock_driver;
pub mod kafka;
pub mod kafka_security;
pub mod stack_driver;

/// One scripted answer of `get_infrastructure_task`.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll {
    /// IN_PROGRESS
    InProgress,
    /// COMPLETE with outputs `{"ip": "10.0.0.1"}`
    Complete,
    /// FAILED with INSUFFICIENT_CAPACITY
    Failed,
    /// An error
    Error(InfrastructureError),
    /// The driver panics
    Panic,
}

impl Poll {
    /// Parses one step of a script: `IN_PROGRESS`, `COMPLETE`, `FAILED`, `PANIC`, or an
    /// error name (`Temporary`, `Unreachable`, `NotFound`, `RequestNotFound`, `Internal`,
    /// `InvalidTemplate`).
    pub fn parse(step: &str) -> Poll {
        match step {
            "IN_PROGRESS" => Poll::InProgress,
            "COMPLETE" => Poll::Complete,
            "FAILED" => Poll::Failed,
            "PANIC" => Poll::Panic,
            error => Poll::Error(error_named(error)),
        }
    }
}

/// The InfrastructureError called `name`, with the message `"<name> error"`.
pub fn error_named(name: &str) -> InfrastructureError {
    let message = format!("{name} error");
    match name {
        "InvalidTemplate" => InfrastructureError::InvalidTemplate(message),
        "NotFound" => InfrastructureError::NotFound(message),
        "RequestNotFound" => InfrastructureError::RequestNotFound(message),
        "Unreachable" => InfrastructureError::UnreachableDeploymentLocation(message),
        "Temporary" => InfrastructureError::Temporary(message),
        "Internal" => InfrastructureError::Internal(message),
        other => panic!("unknown scripted step `{other}`"),
    }
}

/// Every error row of the contract: (name for [`error_named`], status).
pub const ERROR_ROWS: [(&str, u16); 6] = [
    ("InvalidTemplate", 400),
    ("NotFound", 400),
    ("RequestNotFound", 400),
    ("Unreachable", 400),
    ("Temporary", 503),
    ("Internal", 500),
];

/// A driver whose behaviour the request scripts:
/// - create: template `error:<Name>` answers that error, `panic` panics; otherwise the
///   template is the poll script, comma-separated (e.g. `IN_PROGRESS,COMPLETE`), whose
///   last step repeats forever. Answers `inf-N` / `create-N`.
/// - delete: infrastructure id `error:<Name>` answers that error; otherwise the delete's
///   task completes at its first poll. Answers `delete-N`.
/// - query: the next scripted step of the task.
/// - find: instance name `error:<Name>` / `panic`; `found` finds `inf-found`; else nothing.
#[derive(Default)]
pub struct ScriptedDriver {
    state: Arc<Scripts>,
}

/// What the scripted driver saw; shared with the test.
#[derive(Default)]
pub struct Scripts {
    next: AtomicU64,
    scripts: Mutex<HashMap<String, VecDeque<Poll>>>,
    polls: Mutex<HashMap<String, Vec<(Instant, String)>>>,
}

impl Scripts {
    /// Instants and deployment location names of the polls of one task (`iid/rid`).
    pub fn polls_of(&self, infrastructure_id: &str, request_id: &str) -> Vec<(Instant, String)> {
        let key = format!("{infrastructure_id}/{request_id}");
        self.polls
            .lock()
            .unwrap()
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    fn script(&self, key: String, script: VecDeque<Poll>) {
        self.scripts.lock().unwrap().insert(key, script);
    }
}

impl ScriptedDriver {
    /// The driver and a handle on what it sees.
    pub fn new() -> (Self, Arc<Scripts>) {
        let driver = Self::default();
        let scripts = driver.state.clone();
        (driver, scripts)
    }

    fn scripted_error(value: &str) -> Result<(), InfrastructureError> {
        if value == "panic" {
            panic!("scripted panic");
        }
        match value.strip_prefix("error:") {
            Some(name) => Err(error_named(name)),
            None => Ok(()),
        }
    }
}

#[vim_driver]
impl ScriptedDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        Self::scripted_error(&template)?;
        let n = self.state.next.fetch_add(1, Ordering::SeqCst);
        let (iid, rid) = (format!("inf-{n}"), format!("create-{n}"));
        let script = template.split(',').map(|s| Poll::parse(s.trim())).collect();
        self.state.script(format!("{iid}/{rid}"), script);
        Ok(CreateInfrastructureResponse::new(iid, rid))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        let key = format!("{infrastructure_id}/{request_id}");
        self.state
            .polls
            .lock()
            .unwrap()
            .entry(key.clone())
            .or_default()
            .push((Instant::now(), deployment_location.name.clone()));
        let step = {
            let mut scripts = self.state.scripts.lock().unwrap();
            let script = scripts
                .get_mut(&key)
                .ok_or_else(|| InfrastructureError::NotFound(format!("no task {key}")))?;
            if script.len() > 1 {
                script.pop_front().unwrap()
            } else {
                script.front().cloned().unwrap_or(Poll::Complete)
            }
        };
        match step {
            Poll::InProgress => Ok(InfrastructureTask::in_progress(
                infrastructure_id,
                request_id,
            )),
            Poll::Complete => {
                let outputs = json!({"ip": "10.0.0.1"}).as_object().unwrap().clone();
                Ok(InfrastructureTask::complete(infrastructure_id, request_id)
                    .with_outputs(outputs))
            }
            Poll::Failed => Ok(InfrastructureTask::failed(
                infrastructure_id,
                request_id,
                FailureDetails::new(FailureCode::InsufficientCapacity, "no room"),
            )),
            Poll::Error(err) => Err(err),
            Poll::Panic => panic!("scripted panic while polling"),
        }
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Self::scripted_error(&infrastructure_id)?;
        let n = self.state.next.fetch_add(1, Ordering::SeqCst);
        let rid = format!("delete-{n}");
        self.state.script(
            format!("{infrastructure_id}/{rid}"),
            VecDeque::from([Poll::Complete]),
        );
        Ok(DeleteInfrastructureResponse::new(infrastructure_id, rid))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Self::scripted_error(&instance_name)?;
        Ok(if instance_name == "found" {
            let outputs = json!({"ip": "10.0.0.9"}).as_object().unwrap().clone();
            FindInfrastructureResponse::found("inf-found", outputs)
        } else {
            FindInfrastructureResponse::not_found()
        })
    }
}

/// A started app ([`TestApp`]) with a raw JSON client for black-box requests (bodies
/// the typed client cannot send: malformed, missing fields, wrong methods).
pub struct TestServer {
    /// The running app (shut it down with [`TestServer::shutdown`]).
    pub app: TestApp,
    /// Base URL, `http://127.0.0.1:PORT`.
    pub base: String,
    /// What the scripted driver saw.
    pub scripts: Arc<Scripts>,
    client: reqwest::Client,
}

/// An app around a fresh [`ScriptedDriver`] on any free port, monitoring every 50 ms.
pub fn scripted_app() -> (App, Arc<Scripts>) {
    let (driver, scripts) = ScriptedDriver::new();
    let app = App::new("Scripted Test Driver")
        .property("application.port", 0)
        .property("job_queue.poll_interval", "50ms")
        .property("job_queue.max_poll_interval", "400ms")
        .driver(driver);
    (app, scripts)
}

impl TestServer {
    /// Starts [`scripted_app`].
    pub async fn start() -> Self {
        let (app, scripts) = scripted_app();
        Self::start_app(app, scripts).await
    }

    /// Starts `app` (with [`TestApp::with`]), which must run on the embedded default.
    pub async fn start_app(app: App, scripts: Arc<Scripts>) -> Self {
        let app = TestApp::with(app).await.expect("app starts");
        let base = app.url().to_string();
        Self {
            app,
            base,
            scripts,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs JSON to `path`; returns status and body as JSON (`Value::Null` if not JSON).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.client.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    /// Sends a request; returns status and body as JSON (`Value::String` if not JSON).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// A request builder on this server.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// The next task event as its raw JSON, or `None` if none arrives within `within`.
    /// Checks the topic and that the event is keyed by its infrastructure id.
    pub async fn next_event(&mut self, within: Duration) -> Option<Value> {
        match self.app.next_envelope(within).await {
            Ok(envelope) => {
                assert_eq!(envelope.topic, "lm_vim_infrastructure_task_events");
                let event: Value = serde_json::from_str(&envelope.payload).expect("event is JSON");
                assert_eq!(
                    envelope.key.as_deref(),
                    event["infrastructureId"].as_str(),
                    "keyed by infrastructure id"
                );
                Some(event)
            }
            Err(TestError::EventTimeout { .. }) => None,
            Err(err) => panic!("event stream broken: {err}"),
        }
    }

    /// Creates with this poll script; returns the create's response body.
    pub async fn create(&self, script: &str) -> Value {
        let (status, body) = self
            .post("/api/infrastructure/create", &create_body(script))
            .await;
        assert_eq!(status, 202, "{body}");
        body
    }

    /// Shuts the app down.
    pub async fn shutdown(self) {
        self.app.shutdown().await;
    }
}

/// A deployment location named `dl`.
pub fn location() -> Value {
    json!({"name": "dl", "type": "Openstack", "properties": {"os_auth_url": "http://keystone"}})
}

/// A create request whose template is `template`.
pub fn create_body(template: &str) -> Value {
    json!({
        "template": template,
        "templateType": "TOSCA",
        "systemProperties": {"resourceId": "r-1", "resourceName": {"type": "string", "value": "vm"}},
        "properties": {"key": {"type": "key", "privateKey": "SECRET", "publicKey": "PUB"}},
        "deploymentLocation": location(),
    })
}
