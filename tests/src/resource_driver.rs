//! [`ResourceClockDriver`]: a resource driver whose executions keep their whole state in
//! their request ids (as [`ClockDriver`](crate::clock_driver::ClockDriver)'s tasks do), so
//! that any replica can poll an execution another one started, and whose every behaviour
//! the request names: the tests of the Resource Driver API, in process and as the
//! `resource_replica` binary, on the embedded default and on Kafka.
//!
//! - execute: the lifecycle name is the plan.
//!   - `complete_after:MS`: IN_PROGRESS until MS after the execute, then COMPLETE with
//!     outputs `{"polledBy": <replica>, "lifecycle": "complete_after:MS"}` and the
//!     associated topology `{"server": {"id": "srv-<request id>", "type": "Test"}}`;
//!   - `fail_after:MS`: then FAILED (`INSUFFICIENT_CAPACITY`, `no room`);
//!   - `temporary_until:MS`: `Temporary` errors until then, then COMPLETE;
//!   - `poll_error:<Name>`: every poll answers that error ([`resource_error_named`]);
//!   - `poll_panic`: every poll panics;
//!   - `hold:MS`: the execute itself takes MS, then answers as `complete_after:0` (for call
//!     time limits, clients that go away, and the files seen on disk during a call);
//!   - `keep:MS`: the driver keeps its [`DriverFiles`] in a task of its own for MS after
//!     answering (a driver may: the framework does not wait for them), then COMPLETE;
//!   - `error:<Name>` answers that error, `panic` panics.
//!
//!   The answer is 202 with request id `exec-<random>-<ms since the epoch>-<plan>` and the
//!   request's associated topology plus `{"request": {"id": <request id>, "type":
//!   "Request"}}`.
//! - find_reference: instance name `found` finds `res-found` (associated topology
//!   `{"server": {"id": "srv-1", "type": "Openstack"}}`, outputs `{"ip": "10.0.0.9",
//!   "files": [<the request's driver files>]}`); `error:<Name>`, `panic` and `hold:MS` as
//!   above; anything else finds nothing.
//!
//! Every call records what it saw ([`Seen`]: the driver files' directory, whether it
//! existed during the call, the files and properties) in the driver's [`ResourceLog`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignition::prelude::*;
use serde_json::json;

use crate::clock_driver::{now_ms, random_suffix};

/// Every error of the contract's `ResourceDriverError` table: (name for
/// [`resource_error_named`], status).
pub const RESOURCE_ERROR_ROWS: [(&str, u16); 8] = [
    ("InvalidDriverFiles", 400),
    ("InvalidLifecycleName", 400),
    ("InvalidRequest", 400),
    ("RequestNotFound", 400),
    ("InfrastructureNotFound", 400),
    ("UnreachableDeploymentLocation", 400),
    ("Temporary", 503),
    ("Internal", 500),
];

/// The `ResourceDriverError` called `name`, with the message `"<name> error"`.
pub fn resource_error_named(name: &str) -> ResourceDriverError {
    let message = format!("{name} error");
    match name {
        "InvalidDriverFiles" => ResourceDriverError::InvalidDriverFiles(message),
        "InvalidLifecycleName" => ResourceDriverError::InvalidLifecycleName(message),
        "InvalidRequest" => ResourceDriverError::InvalidRequest(message),
        "RequestNotFound" => ResourceDriverError::RequestNotFound(message),
        "InfrastructureNotFound" => ResourceDriverError::InfrastructureNotFound(message),
        "UnreachableDeploymentLocation" => {
            ResourceDriverError::UnreachableDeploymentLocation(message)
        }
        "Temporary" => ResourceDriverError::Temporary(message),
        "Internal" => ResourceDriverError::Internal(message),
        other => panic!("unknown ResourceDriverError `{other}`"),
    }
}

/// What an execution's plan says it does (the lifecycle name of its execute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePlan {
    /// IN_PROGRESS until this many ms after the execute, then COMPLETE.
    CompleteAfter(u64),
    /// IN_PROGRESS until this many ms after the execute, then FAILED.
    FailAfter(u64),
    /// `Temporary` errors until this many ms after the execute, then COMPLETE.
    TemporaryUntil(u64),
    /// Every poll answers the error of this name.
    PollError(String),
    /// Every poll panics.
    PollPanic,
    /// The execute takes this many ms; then as `CompleteAfter(0)`.
    Hold(u64),
    /// The driver keeps its files this many ms after answering; COMPLETE.
    Keep(u64),
}

impl ResourcePlan {
    /// Parses a plan as written in a lifecycle name or a request id.
    pub fn parse(text: &str) -> Option<ResourcePlan> {
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let ms = || arg.and_then(|ms| ms.parse::<u64>().ok());
        match (name, arg) {
            ("complete_after", _) => ms().map(ResourcePlan::CompleteAfter),
            ("fail_after", _) => ms().map(ResourcePlan::FailAfter),
            ("temporary_until", _) => ms().map(ResourcePlan::TemporaryUntil),
            ("hold", _) => ms().map(ResourcePlan::Hold),
            ("keep", _) => ms().map(ResourcePlan::Keep),
            ("poll_error", Some(error)) if RESOURCE_ERROR_ROWS.iter().any(|r| r.0 == error) => {
                Some(ResourcePlan::PollError(error.to_string()))
            }
            ("poll_panic", None) => Some(ResourcePlan::PollPanic),
            _ => None,
        }
    }
}

/// The parts of a request id made by [`ResourceClockDriver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionId {
    /// When the execute happened, in ms since the epoch.
    pub created_ms: u64,
    /// What the execution does.
    pub plan: ResourcePlan,
}

impl ExecutionId {
    /// Reads `exec-<random>-<created_ms>-<plan>`.
    pub fn parse(request_id: &str) -> Option<ExecutionId> {
        let mut parts = request_id.splitn(4, '-');
        if parts.next()? != "exec" {
            return None;
        }
        let _random = parts.next()?;
        let created_ms = parts.next()?.parse().ok()?;
        let plan = ResourcePlan::parse(parts.next()?)?;
        Some(ExecutionId { created_ms, plan })
    }
}

/// What one call of the driver was given.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `execute_lifecycle` or `find_reference`.
    pub operation: &'static str,
    /// The lifecycle name or the instance name.
    pub name: String,
    /// The request id answered (an execute that answered).
    pub request_id: Option<String>,
    /// The driver files' directory.
    pub root: PathBuf,
    /// Whether it was a directory when the call began.
    pub root_existed: bool,
    /// [`DriverFiles::files`].
    pub files: Vec<String>,
    /// The system, resource and request properties (an execute), each as
    /// name → value (`get`).
    pub properties: [Vec<(String, String)>; 3],
    /// The associated topology (an execute) as (name, id, type).
    pub associated_topology: Vec<(String, String, String)>,
    /// The deployment location's name.
    pub location: String,
}

/// One poll the driver answered.
#[derive(Debug, Clone)]
pub struct ResourcePoll {
    /// The request polled.
    pub request_id: String,
    /// When.
    pub at: Instant,
    /// `IN_PROGRESS`, `COMPLETE`, `FAILED`, `panic` or the error's name.
    pub outcome: String,
}

/// What a [`ResourceClockDriver`] saw (observations only: executions keep their state in
/// their ids). Shared with the test.
#[derive(Debug, Default)]
pub struct ResourceLog {
    seen: Mutex<Vec<Seen>>,
    polls: Mutex<Vec<ResourcePoll>>,
}

impl ResourceLog {
    /// Every call seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The last call whose lifecycle or instance name is `name`.
    pub fn last_named(&self, name: &str) -> Option<Seen> {
        self.seen().into_iter().rev().find(|seen| seen.name == name)
    }

    /// The polls of `request_id`, in order.
    pub fn polls_of(&self, request_id: &str) -> Vec<ResourcePoll> {
        self.polls
            .lock()
            .unwrap()
            .iter()
            .filter(|poll| poll.request_id == request_id)
            .cloned()
            .collect()
    }

    fn record(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
    }

    fn poll(&self, request_id: &str, outcome: &str) {
        self.polls.lock().unwrap().push(ResourcePoll {
            request_id: request_id.to_string(),
            at: Instant::now(),
            outcome: outcome.to_string(),
        });
    }
}

/// The stateless resource driver (see the module docs).
pub struct ResourceClockDriver {
    /// Put in the outputs of every COMPLETE execution as `polledBy`.
    pub replica: String,
    /// What it saw.
    pub log: Arc<ResourceLog>,
    /// Also write each poll to stderr as `clock-driver polled <request id> <outcome>` (the
    /// line [`Replica::polls`](crate::kafka::Replica::polls) counts) and the driver files
    /// each call finds (`resource-driver files <root> <file>,<file>`), and log each call
    /// (`tracing::info!`, field `request_id`): the `resource_replica` binary does.
    pub log_calls: bool,
}

impl ResourceClockDriver {
    /// A driver named `replica` and a handle on what it sees.
    pub fn new(replica: impl Into<String>) -> (Self, Arc<ResourceLog>) {
        let log = Arc::<ResourceLog>::default();
        let driver = Self {
            replica: replica.into(),
            log: log.clone(),
            log_calls: false,
        };
        (driver, log)
    }

    fn scripted(&self, name: &str) -> Result<(), ResourceDriverError> {
        if name == "panic" {
            panic!("scripted panic in {name}");
        }
        match name.strip_prefix("error:") {
            Some(error) => Err(resource_error_named(error)),
            None => Ok(()),
        }
    }

    fn polled(&self, request_id: &str, outcome: &str) {
        if self.log_calls {
            eprintln!("clock-driver polled {request_id} {outcome}");
            tracing::info!(request_id, outcome, "resource-driver poll");
        }
        self.log.poll(request_id, outcome);
    }

    fn complete(&self, request_id: String, plan: &str) -> LifecycleExecution {
        let outputs = json!({"polledBy": self.replica, "lifecycle": plan});
        let topology =
            AssociatedTopology::new().with("server", format!("srv-{request_id}"), "Test");
        LifecycleExecution::complete(request_id)
            .with_outputs(outputs.as_object().cloned().unwrap_or_default())
            .with_associated_topology(topology)
    }
}

/// name → value of each property.
fn listed(properties: &PropValueMap) -> Vec<(String, String)> {
    properties
        .iter()
        .map(|(name, _)| {
            let value = properties.get(name).map(|v| v.into_owned());
            (name.to_string(), value.unwrap_or_default())
        })
        .collect()
}

#[resource_driver]
impl ResourceClockDriver {
    #[allow(clippy::too_many_arguments)] // the Resource Driver API's request, field by field
    async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        driver_files: DriverFiles,
        system_properties: PropValueMap,
        resource_properties: PropValueMap,
        request_properties: PropValueMap,
        associated_topology: AssociatedTopology,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        let mut seen = Seen {
            operation: "execute_lifecycle",
            name: lifecycle_name.clone(),
            request_id: None,
            root: driver_files.root().to_path_buf(),
            root_existed: driver_files.root().is_dir(),
            files: driver_files.files(),
            properties: [
                listed(&system_properties),
                listed(&resource_properties),
                listed(&request_properties),
            ],
            associated_topology: associated_topology
                .iter()
                .map(|(name, e)| (name.to_string(), e.id.clone(), e.element_type.clone()))
                .collect(),
            location: deployment_location.name.clone(),
        };
        if self.log_calls {
            eprintln!(
                "resource-driver files {} {}",
                seen.root.display(),
                seen.files.join(",")
            );
        }
        self.log.record(seen.clone());
        self.scripted(&lifecycle_name)?;
        let plan = ResourcePlan::parse(&lifecycle_name).ok_or_else(|| {
            ResourceDriverError::InvalidLifecycleName(format!("unknown plan `{lifecycle_name}`"))
        })?;
        match plan {
            ResourcePlan::Hold(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
            ResourcePlan::Keep(ms) => {
                // The ownership rule: the files live as long as the value does.
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    drop(driver_files);
                });
            }
            _ => {}
        }
        let request_id = format!("exec-{}-{}-{lifecycle_name}", random_suffix(10), now_ms());
        if self.log_calls {
            tracing::info!(%request_id, "resource-driver execute");
        }
        seen.request_id = Some(request_id.clone());
        self.log.record(seen);
        let topology = associated_topology.with("request", request_id.clone(), "Request");
        Ok(LifecycleExecuteResponse::new(request_id).with_associated_topology(topology))
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        let Some(execution) = ExecutionId::parse(&request_id) else {
            self.polled(&request_id, "RequestNotFound");
            return Err(ResourceDriverError::RequestNotFound(format!(
                "no request {request_id}"
            )));
        };
        let elapsed = now_ms().saturating_sub(execution.created_ms);
        let plan = request_id
            .splitn(4, '-')
            .nth(3)
            .unwrap_or_default()
            .to_string();
        let (outcome, answer) = match &execution.plan {
            ResourcePlan::CompleteAfter(ms) | ResourcePlan::TemporaryUntil(ms)
                if elapsed >= *ms =>
            {
                ("COMPLETE", Ok(self.complete(request_id.clone(), &plan)))
            }
            ResourcePlan::Hold(_) | ResourcePlan::Keep(_) => {
                ("COMPLETE", Ok(self.complete(request_id.clone(), &plan)))
            }
            ResourcePlan::FailAfter(ms) if elapsed >= *ms => (
                "FAILED",
                Ok(LifecycleExecution::failed(
                    request_id.clone(),
                    FailureDetails::new(FailureCode::InsufficientCapacity, "no room"),
                )),
            ),
            ResourcePlan::CompleteAfter(_) | ResourcePlan::FailAfter(_) => (
                "IN_PROGRESS",
                Ok(LifecycleExecution::in_progress(request_id.clone())),
            ),
            ResourcePlan::TemporaryUntil(_) => (
                "Temporary",
                Err(ResourceDriverError::Temporary(format!(
                    "{request_id} is not ready to be asked"
                ))),
            ),
            ResourcePlan::PollError(name) => (name.as_str(), Err(resource_error_named(name))),
            ResourcePlan::PollPanic => {
                self.polled(&request_id, "panic");
                panic!("scripted panic while polling {request_id}");
            }
        };
        self.polled(&request_id, outcome);
        answer
    }

    async fn find_reference(
        &self,
        instance_name: String,
        driver_files: DriverFiles,
        deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        let files = driver_files.files();
        if self.log_calls {
            let root = driver_files.root().display();
            eprintln!("resource-driver files {root} {}", files.join(","));
        }
        self.log.record(Seen {
            operation: "find_reference",
            name: instance_name.clone(),
            request_id: None,
            root: driver_files.root().to_path_buf(),
            root_existed: driver_files.root().is_dir(),
            files: files.clone(),
            properties: Default::default(),
            associated_topology: Vec::new(),
            location: deployment_location.name.clone(),
        });
        self.scripted(&instance_name)?;
        if let Some(ResourcePlan::Hold(ms)) = ResourcePlan::parse(&instance_name) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        Ok(if instance_name == "found" {
            let outputs = json!({"ip": "10.0.0.9", "files": files});
            FindReferenceResponse::found(
                AssociatedTopology::new().with("server", "srv-1", "Openstack"),
                outputs.as_object().cloned().unwrap_or_default(),
            )
            .with_resource_id("res-found")
        } else {
            FindReferenceResponse::not_found()
        })
    }
}

/// An app around a fresh [`ResourceClockDriver`] named `in-process` on any free port,
/// monitoring every 50 ms (backoff up to 400 ms); and what the driver sees.
pub fn resource_app() -> (App, Arc<ResourceLog>) {
    let (driver, log) = ResourceClockDriver::new("in-process");
    let app = App::new("Resource Test Driver")
        .property("application.port", 0)
        .property("job_queue.poll_interval", "50ms")
        .property("job_queue.max_poll_interval", "400ms")
        .driver(driver);
    (app, log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_carry_the_plan_and_the_time_of_the_execute() {
        assert_eq!(
            ExecutionId::parse("exec-abc-1700000000000-complete_after:2000"),
            Some(ExecutionId {
                created_ms: 1_700_000_000_000,
                plan: ResourcePlan::CompleteAfter(2000)
            })
        );
        assert_eq!(
            ExecutionId::parse("exec-x-5-poll_error:RequestNotFound").map(|e| e.plan),
            Some(ResourcePlan::PollError("RequestNotFound".into()))
        );
        assert_eq!(ExecutionId::parse("exec-x-5-poll_error:Teapot"), None);
        assert_eq!(ExecutionId::parse("exec-x-5-poll_panic:1"), None);
        assert_eq!(ExecutionId::parse("inf-x-5-complete_after:1"), None);
    }
}
