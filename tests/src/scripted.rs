//! [`ScriptedDriver`]: a driver whose every answer the request scripts, and
//! [`scripted_app`], an app around one.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ignition::prelude::*;
use serde_json::json;

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
        // `slow:<ms>`: answers not found after that long.
        if let Some(ms) = instance_name.strip_prefix("slow:") {
            let ms = ms.parse().expect("slow:<milliseconds>");
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        }
        Ok(if instance_name == "found" {
            let outputs = json!({"ip": "10.0.0.9"}).as_object().unwrap().clone();
            FindInfrastructureResponse::found("inf-found", outputs)
        } else {
            FindInfrastructureResponse::not_found()
        })
    }
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
