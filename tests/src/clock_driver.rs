//! A driver whose tasks keep their whole state in their ids, so that any replica can poll
//! a task another replica created (the Kafka tests run several processes).
//!
//! - create: the template is a plan. `complete_after:MS` (IN_PROGRESS until MS after the
//!   create, then COMPLETE), `fail_after:MS` (then FAILED with INSUFFICIENT_CAPACITY),
//!   `temporary_until:MS` (a `Temporary` error until then, then COMPLETE), `slow_poll:MS`
//!   (each poll takes MS, logged when it starts, then COMPLETE with the polling process's
//!   `pid` in the outputs too: a test tells an event sent again from a spool from one
//!   polled again by the next process), `not_found`
//!   (`NotFound` at every poll: the task is forgotten, no event), or `error:<Name>` (the
//!   create itself fails with that error, see [`error_named`](crate::error_named)). The
//!   infrastructure id is `inf-<random>-<created ms since the epoch>-<plan>`, the request
//!   id `create-<random>`.
//! - get_infrastructure_task: the state computed from the ids and the clock. COMPLETE
//!   carries outputs `{"polledBy": <replica>, "ip": "10.0.0.1"}`, so a test sees which
//!   replica finished it; a delete's task (request id `delete-complete-<random>`) is
//!   COMPLETE (no outputs) at its first poll.
//! - delete: answers `delete-complete-<random>`.
//! - find: instance name `found` finds `inf-found` with outputs `{"ip": "10.0.0.9"}`;
//!   anything else finds nothing.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ignition::prelude::*;
use serde_json::json;

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// A random lowercase alphanumeric string of `len` characters.
pub fn random_suffix(len: usize) -> String {
    std::iter::repeat_with(|| {
        let c = fastrand::alphanumeric();
        c.to_ascii_lowercase()
    })
    .take(len)
    .collect()
}

/// What a task's plan says it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// IN_PROGRESS until this many ms after the create, then COMPLETE.
    CompleteAfter(u64),
    /// IN_PROGRESS until this many ms after the create, then FAILED.
    FailAfter(u64),
    /// `Temporary` errors until this many ms after the create, then COMPLETE.
    TemporaryUntil(u64),
    /// Each poll takes this many ms, then COMPLETE (with `pid` in the outputs).
    SlowPoll(u64),
    /// `NotFound` at every poll.
    NotFound,
}

impl Plan {
    /// Parses a plan as written in a template or an id (`complete_after:2000`, ...).
    pub fn parse(text: &str) -> Option<Plan> {
        let (name, ms) = match text.split_once(':') {
            Some((name, ms)) => (name, Some(ms.parse::<u64>().ok()?)),
            None => (text, None),
        };
        match (name, ms) {
            ("complete_after", Some(ms)) => Some(Plan::CompleteAfter(ms)),
            ("fail_after", Some(ms)) => Some(Plan::FailAfter(ms)),
            ("temporary_until", Some(ms)) => Some(Plan::TemporaryUntil(ms)),
            ("slow_poll", Some(ms)) => Some(Plan::SlowPoll(ms)),
            ("not_found", None) => Some(Plan::NotFound),
            _ => None,
        }
    }
}

/// The parts of an infrastructure id made by [`ClockDriver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskId {
    /// When the create happened, in ms since the epoch.
    pub created_ms: u64,
    /// What the task does.
    pub plan: Plan,
}

impl TaskId {
    /// Reads `inf-<random>-<created_ms>-<plan>`.
    pub fn parse(infrastructure_id: &str) -> Option<TaskId> {
        let mut parts = infrastructure_id.splitn(4, '-');
        if parts.next()? != "inf" {
            return None;
        }
        let _random = parts.next()?;
        let created_ms = parts.next()?.parse().ok()?;
        let plan = Plan::parse(parts.next()?)?;
        Some(TaskId { created_ms, plan })
    }
}

/// The outcome of one poll, as recorded in a [`PollLog`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// IN_PROGRESS
    InProgress,
    /// COMPLETE
    Complete,
    /// FAILED
    Failed,
    /// An error (its name: `Temporary`, `NotFound`, ...).
    Error(&'static str),
}

/// One poll seen by a driver.
#[derive(Debug, Clone)]
pub struct PollRecord {
    /// The task's infrastructure id.
    pub infrastructure_id: String,
    /// The task's request id.
    pub request_id: String,
    /// When it was polled.
    pub at: Instant,
    /// What the poll answered.
    pub outcome: PollOutcome,
}

/// Every poll one [`ClockDriver`] answered (observation only: task state is in the ids).
#[derive(Debug, Default)]
pub struct PollLog(Mutex<Vec<PollRecord>>);

impl PollLog {
    /// The polls of one task, in order.
    pub fn of(&self, infrastructure_id: &str) -> Vec<PollRecord> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.infrastructure_id == infrastructure_id)
            .cloned()
            .collect()
    }

    /// Every poll so far.
    pub fn all(&self) -> Vec<PollRecord> {
        self.0.lock().unwrap().clone()
    }

    /// How many polls so far.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether nothing was polled yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn record(&self, infrastructure_id: &str, request_id: &str, outcome: PollOutcome) {
        self.0.lock().unwrap().push(PollRecord {
            infrastructure_id: infrastructure_id.to_string(),
            request_id: request_id.to_string(),
            at: Instant::now(),
            outcome,
        });
    }
}

/// The stateless driver (see the module docs).
pub struct ClockDriver {
    /// Put in the outputs of every COMPLETE task as `polledBy`.
    pub replica: String,
    /// Every poll this instance answered.
    pub polls: Arc<PollLog>,
    /// Also write each poll to stderr as `clock-driver polled <infrastructure id>
    /// <outcome>` (the replica binary does, so tests see which process polls what), and
    /// log each create and poll (`tracing::info!`, field `infrastructure_id`).
    pub log_polls: bool,
}

impl ClockDriver {
    /// A driver named `replica`.
    pub fn new(replica: impl Into<String>) -> Self {
        Self {
            replica: replica.into(),
            polls: Arc::default(),
            log_polls: false,
        }
    }

    /// A driver named `replica` and a handle on the polls it answers.
    pub fn with_log(replica: impl Into<String>) -> (Self, Arc<PollLog>) {
        let driver = Self::new(replica);
        let polls = driver.polls.clone();
        (driver, polls)
    }

    fn record(&self, infrastructure_id: &str, request_id: &str, outcome: PollOutcome) {
        if self.log_polls {
            eprintln!("clock-driver polled {infrastructure_id} {outcome:?}");
            tracing::info!(infrastructure_id, outcome = ?outcome, "clock-driver poll");
        }
        self.polls.record(infrastructure_id, request_id, outcome);
    }

    fn complete(&self, infrastructure_id: String, request_id: String) -> InfrastructureTask {
        let outputs = json!({"polledBy": self.replica, "ip": "10.0.0.1"});
        InfrastructureTask::complete(infrastructure_id, request_id)
            .with_outputs(outputs.as_object().unwrap().clone())
    }
}

#[vim_driver]
impl ClockDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        if let Some(name) = template.strip_prefix("error:") {
            return Err(crate::error_named(name));
        }
        if Plan::parse(&template).is_none() {
            return Err(InfrastructureError::InvalidTemplate(format!(
                "unknown plan `{template}`"
            )));
        }
        let infrastructure_id = format!("inf-{}-{}-{template}", random_suffix(10), now_ms());
        let request_id = format!("create-{}", random_suffix(10));
        if self.log_polls {
            tracing::info!(%infrastructure_id, "clock-driver create");
        }
        Ok(CreateInfrastructureResponse::new(
            infrastructure_id,
            request_id,
        ))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        if request_id.starts_with("delete-complete-") {
            self.record(&infrastructure_id, &request_id, PollOutcome::Complete);
            return Ok(InfrastructureTask::complete(infrastructure_id, request_id));
        }
        let Some(task) = TaskId::parse(&infrastructure_id) else {
            self.record(
                &infrastructure_id,
                &request_id,
                PollOutcome::Error("NotFound"),
            );
            return Err(InfrastructureError::NotFound(format!(
                "no infrastructure {infrastructure_id}"
            )));
        };
        if let Plan::SlowPoll(ms) = task.plan {
            if self.log_polls {
                eprintln!("clock-driver polling {infrastructure_id}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            let mut task = self.complete(infrastructure_id.clone(), request_id.clone());
            if let Some(outputs) = task.outputs.as_mut() {
                outputs.insert("pid".into(), json!(std::process::id()));
            }
            self.record(&infrastructure_id, &request_id, PollOutcome::Complete);
            return Ok(task);
        }
        let elapsed = now_ms().saturating_sub(task.created_ms);
        let (outcome, answer) = match task.plan {
            Plan::CompleteAfter(ms) | Plan::TemporaryUntil(ms) if elapsed >= ms => (
                PollOutcome::Complete,
                Ok(self.complete(infrastructure_id.clone(), request_id.clone())),
            ),
            Plan::FailAfter(ms) if elapsed >= ms => (
                PollOutcome::Failed,
                Ok(InfrastructureTask::failed(
                    infrastructure_id.clone(),
                    request_id.clone(),
                    FailureDetails::new(FailureCode::InsufficientCapacity, "no room"),
                )),
            ),
            Plan::CompleteAfter(_) | Plan::FailAfter(_) => (
                PollOutcome::InProgress,
                Ok(InfrastructureTask::in_progress(
                    infrastructure_id.clone(),
                    request_id.clone(),
                )),
            ),
            Plan::TemporaryUntil(_) => (
                PollOutcome::Error("Temporary"),
                Err(InfrastructureError::Temporary(format!(
                    "{infrastructure_id} is not ready to be asked"
                ))),
            ),
            Plan::SlowPoll(_) => unreachable!("answered above"),
            Plan::NotFound => (
                PollOutcome::Error("NotFound"),
                Err(InfrastructureError::NotFound(format!(
                    "no infrastructure {infrastructure_id}"
                ))),
            ),
        };
        self.record(&infrastructure_id, &request_id, outcome);
        answer
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Ok(DeleteInfrastructureResponse::new(
            infrastructure_id,
            format!("delete-complete-{}", random_suffix(10)),
        ))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(if instance_name == "found" {
            let outputs = json!({"ip": "10.0.0.9"}).as_object().unwrap().clone();
            FindInfrastructureResponse::found("inf-found", outputs)
        } else {
            FindInfrastructureResponse::not_found()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_the_plan_and_the_creation_time() {
        assert_eq!(
            TaskId::parse("inf-abc123-1700000000000-complete_after:2000"),
            Some(TaskId {
                created_ms: 1_700_000_000_000,
                plan: Plan::CompleteAfter(2000)
            })
        );
        assert_eq!(
            TaskId::parse("inf-x-5-not_found").map(|t| t.plan),
            Some(Plan::NotFound)
        );
        assert_eq!(TaskId::parse("inf-x-5-teapot"), None);
        assert_eq!(TaskId::parse("stack-1"), None);
        assert_eq!(Plan::parse("complete_after:x"), None);
        assert_eq!(Plan::parse("not_found:1"), None);
    }
}
