//! [`StackDriver`]: a small in-memory VIM that keeps the seed's promises, or breaks one
//! of them on purpose ([`Quirk`]), for the conformance run
//! ([`ignition::testing::Lifecycle`]).
//!
//! Stacks are named by the create's `resourceName`; each task (a create or a delete) is
//! IN_PROGRESS for the first `in_progress_polls` polls, then COMPLETE (a delete's
//! completion removes the stack). An empty template is an `InvalidTemplate` error (400).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use ignition::prelude::*;
use serde_json::json;

/// The promise a [`StackDriver`] breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// None: it passes the conformance run.
    None,
    /// Its tasks stay IN_PROGRESS forever.
    NeverCompletes,
    /// Its create tasks end FAILED (INSUFFICIENT_CAPACITY).
    CreateFails,
    /// Its find answers another infrastructure id than the create did.
    FindsAnotherId,
    /// A deleted stack is still found.
    StillFoundAfterDelete,
}

/// An in-memory VIM driver (see the module docs).
pub struct StackDriver {
    quirk: Quirk,
    in_progress_polls: u32,
    next: AtomicU64,
    stacks: Mutex<HashMap<String, Stack>>,
}

struct Stack {
    name: String,
    ip: String,
    /// Polls so far of each of its tasks (by request id).
    tasks: HashMap<String, u32>,
    /// The request id of its delete, once asked.
    delete_request: Option<String>,
    /// Its delete completed.
    gone: bool,
}

impl StackDriver {
    /// A driver whose tasks are IN_PROGRESS for `in_progress_polls` polls, with `quirk`.
    pub fn new(quirk: Quirk, in_progress_polls: u32) -> Self {
        Self {
            quirk,
            in_progress_polls,
            next: AtomicU64::new(1),
            stacks: Mutex::new(HashMap::new()),
        }
    }

    fn outputs(ip: &str) -> Outputs {
        json!({"ip": ip}).as_object().cloned().unwrap_or_default()
    }
}

#[vim_driver]
impl StackDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        if template.trim().is_empty() {
            return Err(InfrastructureError::InvalidTemplate(
                "the template is empty".into(),
            ));
        }
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let (id, request) = (format!("stack-{n}"), format!("create-{n}"));
        let name = system_properties
            .get("resourceName")
            .map(|name| name.into_owned())
            .unwrap_or_else(|| "unnamed".into());
        let stack = Stack {
            name,
            ip: format!("10.0.0.{n}"),
            tasks: HashMap::from([(request.clone(), 0)]),
            delete_request: None,
            gone: false,
        };
        self.stacks.lock().unwrap().insert(id.clone(), stack);
        Ok(CreateInfrastructureResponse::new(id, request))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        let mut stacks = self.stacks.lock().unwrap();
        let stack = stacks.get_mut(&infrastructure_id).ok_or_else(|| {
            InfrastructureError::NotFound(format!("no stack `{infrastructure_id}`"))
        })?;
        let polls = stack.tasks.get_mut(&request_id).ok_or_else(|| {
            InfrastructureError::RequestNotFound(format!("no request `{request_id}`"))
        })?;
        *polls += 1;
        if *polls <= self.in_progress_polls || self.quirk == Quirk::NeverCompletes {
            return Ok(InfrastructureTask::in_progress(
                infrastructure_id,
                request_id,
            ));
        }
        let deleting = stack.delete_request.as_deref() == Some(request_id.as_str());
        if !deleting && self.quirk == Quirk::CreateFails {
            return Ok(InfrastructureTask::failed(
                infrastructure_id,
                request_id,
                FailureDetails::new(FailureCode::InsufficientCapacity, "no room for 3 servers"),
            ));
        }
        if deleting {
            stack.gone = self.quirk != Quirk::StillFoundAfterDelete;
            return Ok(InfrastructureTask::complete(infrastructure_id, request_id));
        }
        let outputs = Self::outputs(&stack.ip);
        Ok(InfrastructureTask::complete(infrastructure_id, request_id).with_outputs(outputs))
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        let mut stacks = self.stacks.lock().unwrap();
        let stack = stacks
            .get_mut(&infrastructure_id)
            .filter(|stack| !stack.gone)
            .ok_or_else(|| {
                InfrastructureError::NotFound(format!("no stack `{infrastructure_id}`"))
            })?;
        let request = format!("delete-{}", self.next.fetch_add(1, Ordering::SeqCst));
        stack.tasks.insert(request.clone(), 0);
        stack.delete_request = Some(request.clone());
        Ok(DeleteInfrastructureResponse::new(
            infrastructure_id,
            request,
        ))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        let stacks = self.stacks.lock().unwrap();
        let found = stacks
            .iter()
            .find(|(_, stack)| stack.name == instance_name && !stack.gone);
        Ok(match found {
            None => FindInfrastructureResponse::not_found(),
            Some((id, stack)) => {
                let id = match self.quirk {
                    Quirk::FindsAnotherId => format!("{id}-other"),
                    _ => id.clone(),
                };
                FindInfrastructureResponse::found(id, Self::outputs(&stack.ip))
            }
        })
    }
}
