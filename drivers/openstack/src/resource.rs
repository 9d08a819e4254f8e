//! The Resource Driver API (LM 2.x/3.x): a Resource's `Create` builds a Heat stack from the
//! template in its driver files, `Delete` removes it, `Adopt` takes over an existing one;
//! the stack travels in `associatedTopology` as `InfrastructureStack`, as with the Python
//! driver.

use ignition::prelude::*;

use crate::config::OpenStackConfig;
use crate::error::HeatError;
use crate::heat::HeatClient;
use crate::location::HeatTarget;
use crate::package::HeatPackage;
use crate::request_id::ExecutionId;
use crate::stack::{self, StackAction, StackState};

/// The associatedTopology entry of a Resource's stack, and its type (the Python driver's).
const STACK_ENTRY: &str = "InfrastructureStack";
const STACK_TYPE: &str = "Openstack";

/// A Create's resource property naming an existing stack to use instead of creating one
/// (as in the Python driver; blank or `0`: create one).
const EXISTING_STACK: &str = "stack_id";

/// The OpenStack Heat resource driver: runs the `Create`, `Delete` and `Adopt` lifecycles
/// of a Resource on Heat stacks, and finds stacks by name.
#[derive(Debug)]
pub struct OpenStackResourceDriver {
    heat: HeatClient,
}

impl OpenStackResourceDriver {
    /// A driver with the `openstack:` section's settings.
    pub fn new(config: &OpenStackConfig) -> Result<Self, String> {
        Ok(Self {
            heat: HeatClient::new(config)?,
        })
    }

    /// `heat.yaml` of the driver files as a new stack, or the stack the `stack_id`
    /// property names: its id.
    async fn create(
        &self,
        target: &HeatTarget,
        driver_files: DriverFiles,
        system_properties: &PropValueMap,
        resource_properties: &PropValueMap,
        request_properties: &PropValueMap,
    ) -> Result<String, ResourceDriverError> {
        if let Some(existing) = given_stack_id(resource_properties) {
            let stack = self.heat.get_stack(target, &existing).await?;
            return stack.map(|s| s.id).ok_or_else(|| {
                ResourceDriverError::InfrastructureNotFound(format!(
                    "deployment location '{}': no stack '{existing}' (resource property \
                     {EXISTING_STACK})",
                    target.location
                ))
            });
        }
        let package = HeatPackage::read(&driver_files, request_properties)?;
        // Everything is read: the files go (off this thread) while Heat works.
        drop(driver_files);
        let parameters =
            stack::parameters(&package.template, resource_properties, system_properties).map_err(
                |err| match err {
                    HeatError::BadRequest(why) => ResourceDriverError::InvalidDriverFiles(format!(
                        "driverFiles: `{}`: {why}",
                        package.template_path
                    )),
                    other => other.into(),
                },
            )?;
        let name = stack::stack_name(system_properties);
        Ok(self
            .heat
            .create_stack(target, &name, &package.template, parameters, package.files)
            .await?)
    }

    /// The one stack of `associated_topology`, checked: its id.
    async fn adopt(
        &self,
        target: &HeatTarget,
        associated_topology: &AssociatedTopology,
    ) -> Result<String, ResourceDriverError> {
        let mut entries = associated_topology.iter();
        let (Some((_, entry)), None) = (entries.next(), entries.next()) else {
            return Err(ResourceDriverError::InvalidRequest(format!(
                "Adopt takes exactly one stack in associatedTopology, not {}",
                associated_topology.len()
            )));
        };
        let id = entry.id.trim();
        if id.is_empty() || id == "0" {
            return Err(ResourceDriverError::InvalidRequest(
                "Adopt: the stack in associatedTopology has no id".into(),
            ));
        }
        let Some(stack) = self.heat.get_stack(target, id).await? else {
            return Err(ResourceDriverError::InfrastructureNotFound(format!(
                "deployment location '{}': no stack '{id}' to adopt",
                target.location
            )));
        };
        if stack.stack_status.starts_with("DELETE_") {
            return Err(ResourceDriverError::InvalidRequest(format!(
                "deployment location '{}': stack '{id}' has been deleted ({})",
                target.location, stack.stack_status
            )));
        }
        Ok(stack.id)
    }
}

/// The `stack_id` resource property, when it names a stack.
fn given_stack_id(resource_properties: &PropValueMap) -> Option<String> {
    let given = resource_properties.get(EXISTING_STACK)?;
    let given = given.trim();
    (!given.is_empty() && given != "0").then(|| given.to_string())
}

/// The stack as a Resource's associated topology.
fn stack_topology(stack_id: &str) -> AssociatedTopology {
    AssociatedTopology::new().with(STACK_ENTRY, stack_id, STACK_TYPE)
}

/// The lifecycle `lifecycle_name` (any case) runs, if this driver runs it.
fn lifecycle(lifecycle_name: &str) -> Result<StackAction, ResourceDriverError> {
    [
        ("Create", StackAction::Create),
        ("Delete", StackAction::Delete),
        ("Adopt", StackAction::Adopt),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(lifecycle_name))
    .map(|(_, action)| action)
    .ok_or_else(|| {
        ResourceDriverError::InvalidLifecycleName(format!(
            "the OpenStack driver runs the Create, Adopt and Delete lifecycles, not \
             '{lifecycle_name}'"
        ))
    })
}

/// What `state` of `action` on `stack_id` is as an execution.
fn execution(
    request_id: String,
    action: StackAction,
    stack_id: &str,
    state: StackState,
) -> LifecycleExecution {
    let execution = match state {
        StackState::InProgress => LifecycleExecution::in_progress(request_id),
        StackState::Complete(outputs) => {
            LifecycleExecution::complete(request_id).with_outputs(outputs)
        }
        StackState::Failed(reason) => LifecycleExecution::failed(
            request_id,
            FailureDetails::new(FailureCode::InfrastructureError, reason),
        ),
    };
    match action {
        // The stack stays the Resource's whatever the outcome (a failed create keeps it
        // unless Heat rolled it back): LM deletes it with the Resource.
        StackAction::Create | StackAction::Adopt => {
            execution.with_associated_topology(stack_topology(stack_id))
        }
        StackAction::Delete => execution,
    }
}

#[resource_driver]
impl OpenStackResourceDriver {
    /// `Create`, `Delete` or `Adopt` (any case); the request id says which stack, and
    /// which lifecycle, for the polls.
    #[allow(clippy::too_many_arguments)] // the Resource Driver API's request, field by field
    pub async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        driver_files: DriverFiles,
        system_properties: PropValueMap,
        resource_properties: PropValueMap,
        request_properties: PropValueMap,
        associated_topology: AssociatedTopology,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        let action = lifecycle(&lifecycle_name)?;
        let target = HeatTarget::of(&deployment_location)?;
        let stack_id = match action {
            StackAction::Create => {
                self.create(
                    &target,
                    driver_files,
                    &system_properties,
                    &resource_properties,
                    &request_properties,
                )
                .await?
            }
            StackAction::Adopt => self.adopt(&target, &associated_topology).await?,
            StackAction::Delete => {
                let stack_id = associated_topology
                    .get(STACK_ENTRY)
                    .map(|entry| entry.id.trim())
                    .filter(|id| !id.is_empty());
                let Some(stack_id) = stack_id else {
                    // Nothing to delete: the execution completes at its first poll.
                    let request_id = ExecutionId::new_request_id(action, None);
                    return Ok(LifecycleExecuteResponse::new(request_id));
                };
                self.heat.delete_stack(&target, stack_id).await?;
                let request_id = ExecutionId::new_request_id(action, Some(stack_id));
                return Ok(LifecycleExecuteResponse::new(request_id));
            }
        };
        let request_id = ExecutionId::new_request_id(action, Some(&stack_id));
        Ok(LifecycleExecuteResponse::new(request_id)
            .with_associated_topology(stack_topology(&stack_id)))
    }

    /// Reads the stack the request id names: what its status means for that lifecycle.
    pub async fn get_lifecycle_execution(
        &self,
        request_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        let Some(ExecutionId { action, stack_id }) = ExecutionId::parse(&request_id) else {
            return Err(ResourceDriverError::RequestNotFound(format!(
                "'{request_id}' is not a request id of the OpenStack driver"
            )));
        };
        let Some(stack_id) = stack_id else {
            return Ok(LifecycleExecution::complete(request_id)); // a Delete of no stack
        };
        let target = HeatTarget::of(&deployment_location)?;
        let state = self.heat.progress(&target, &stack_id, action).await?;
        Ok(execution(request_id, action, &stack_id, state))
    }

    /// The stack named `instance_name`, done (`*_COMPLETE`) and not deleted: its outputs,
    /// and itself as the associated topology. The driver files are not read.
    pub async fn find_reference(
        &self,
        instance_name: String,
        _driver_files: DriverFiles,
        deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        let target = HeatTarget::of(&deployment_location)?;
        Ok(match self.heat.get_stack(&target, &instance_name).await? {
            Some(stack) if stack.is_found() => {
                FindReferenceResponse::found(stack_topology(&stack.id), stack.outputs())
                    .with_resource_id(stack.id)
            }
            _ => FindReferenceResponse::not_found(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map};

    use super::*;

    #[test]
    fn create_delete_and_adopt_in_any_case_are_the_lifecycles() {
        for (name, action) in [
            ("Create", StackAction::Create),
            ("CREATE", StackAction::Create),
            ("delete", StackAction::Delete),
            ("Adopt", StackAction::Adopt),
        ] {
            assert_eq!(lifecycle(name), Ok(action), "{name}");
        }
        assert_eq!(
            lifecycle("Install"),
            Err(ResourceDriverError::InvalidLifecycleName(
                "the OpenStack driver runs the Create, Adopt and Delete lifecycles, not 'Install'"
                    .into()
            ))
        );
    }

    #[test]
    fn a_stack_id_property_names_a_stack_unless_blank_or_zero() {
        let props =
            |value: serde_json::Value| -> PropValueMap { serde_json::from_value(value).unwrap() };
        assert_eq!(
            given_stack_id(&props(json!({"stack_id": " abc "}))),
            Some("abc".into())
        );
        for value in [
            json!({}),
            json!({"stack_id": " "}),
            json!({"stack_id": "0"}),
        ] {
            assert_eq!(given_stack_id(&props(value.clone())), None, "{value}");
        }
    }

    #[test]
    fn executions_of_a_create_carry_the_stack_and_its_outputs() {
        let outputs: Outputs = json!({"ip": "10.0.0.1"}).as_object().unwrap().clone();
        let done = execution(
            "r".into(),
            StackAction::Create,
            "s-1",
            StackState::Complete(outputs.clone()),
        );
        assert_eq!(done.status, TaskStatus::Complete);
        assert_eq!(done.outputs, outputs);
        assert_eq!(done.associated_topology, stack_topology("s-1"));
        let entry = done.associated_topology.get("InfrastructureStack").unwrap();
        assert_eq!(
            (entry.id.as_str(), entry.element_type.as_str()),
            ("s-1", "Openstack")
        );

        let failed = execution(
            "r".into(),
            StackAction::Create,
            "s-1",
            StackState::Failed("Heat's reason".into()),
        );
        let details = failed.failure_details.unwrap();
        assert_eq!(details.failure_code, FailureCode::InfrastructureError);
        assert_eq!(details.description.as_deref(), Some("Heat's reason"));
        assert_eq!(failed.associated_topology, stack_topology("s-1"));

        let deleted = execution(
            "r".into(),
            StackAction::Delete,
            "s-1",
            StackState::Complete(Map::new()),
        );
        assert_eq!(deleted.status, TaskStatus::Complete);
        assert!(deleted.associated_topology.is_empty() && deleted.outputs.is_empty());
        let waiting = execution(
            "r".into(),
            StackAction::Adopt,
            "s-1",
            StackState::InProgress,
        );
        assert_eq!(waiting.status, TaskStatus::InProgress);
    }
}
