//! A small VIM driver of its own: an in-memory "cloud" of named stacks, each create or
//! delete taking `build_polls` polls to finish.

use std::collections::HashMap;
use std::sync::Mutex;

use ignition::prelude::*;

/// The driver: stacks by id, named by the create's `resourceName`.
pub struct MemoryCloudDriver {
    build_polls: u32,
    state: Mutex<Cloud>,
}

#[derive(Default)]
struct Cloud {
    next: u64,
    stacks: HashMap<String, Stack>,
}

struct Stack {
    name: String,
    /// Polls left before the running task (create or delete) is done.
    polls_left: u32,
    /// The running task's request id, and whether it is a delete.
    task: (String, bool),
}

impl MemoryCloudDriver {
    /// A cloud whose tasks are IN_PROGRESS for `build_polls` polls.
    pub fn new(build_polls: u32) -> Self {
        Self {
            build_polls,
            state: Mutex::new(Cloud::default()),
        }
    }
}

#[vim_driver]
impl MemoryCloudDriver {
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
                "empty template".into(),
            ));
        }
        let name = system_properties
            .get("resourceName")
            .map(|name| name.into_owned())
            .ok_or_else(|| InfrastructureError::InvalidTemplate("no resourceName".into()))?;
        let mut cloud = self.state.lock().unwrap();
        cloud.next += 1;
        let (id, request) = (format!("mem-{}", cloud.next), format!("req-{}", cloud.next));
        let stack = Stack {
            name,
            polls_left: self.build_polls,
            task: (request.clone(), false),
        };
        cloud.stacks.insert(id.clone(), stack);
        Ok(CreateInfrastructureResponse::new(id, request))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        let mut cloud = self.state.lock().unwrap();
        let Some(stack) = cloud.stacks.get_mut(&infrastructure_id) else {
            // a finished delete removed it
            return Ok(InfrastructureTask::complete(infrastructure_id, request_id));
        };
        if stack.task.0 != request_id {
            return Err(InfrastructureError::RequestNotFound(format!(
                "no request `{request_id}` on `{infrastructure_id}`"
            )));
        }
        if stack.polls_left > 0 {
            stack.polls_left -= 1;
            return Ok(InfrastructureTask::in_progress(
                infrastructure_id,
                request_id,
            ));
        }
        if stack.task.1 {
            cloud.stacks.remove(&infrastructure_id);
            return Ok(InfrastructureTask::complete(infrastructure_id, request_id));
        }
        let mut outputs = Outputs::new();
        outputs.insert("name".into(), stack.name.clone().into());
        Ok(InfrastructureTask::complete(infrastructure_id, request_id).with_outputs(outputs))
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        let mut cloud = self.state.lock().unwrap();
        cloud.next += 1;
        let request = format!("req-{}", cloud.next);
        let stack = cloud.stacks.get_mut(&infrastructure_id).ok_or_else(|| {
            InfrastructureError::NotFound(format!("no stack `{infrastructure_id}`"))
        })?;
        stack.polls_left = self.build_polls;
        stack.task = (request.clone(), true);
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
        let cloud = self.state.lock().unwrap();
        Ok(
            match cloud.stacks.iter().find(|(_, s)| s.name == instance_name) {
                Some((id, stack)) => {
                    let mut outputs = Outputs::new();
                    outputs.insert("name".into(), stack.name.clone().into());
                    FindInfrastructureResponse::found(id.clone(), outputs)
                }
                None => FindInfrastructureResponse::not_found(),
            },
        )
    }
}
