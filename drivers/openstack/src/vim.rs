//! The Infrastructure API (LM 1.x): each infrastructure is a Heat stack.

use ignition::prelude::*;

use serde_json::Map;

use crate::config::OpenStackConfig;
use crate::heat::HeatClient;
use crate::location::HeatTarget;
use crate::stack::{self, StackAction, StackState};

/// The `templateType` this driver creates and finds (any case).
const HEAT: &str = "HEAT";

/// A delete's request id is its stack id behind this prefix, as in the Python driver:
/// a poll tells a delete from a create by it.
const DELETE_PREFIX: &str = "Del-";

/// The OpenStack Heat VIM driver: create, query, delete and find Heat stacks.
#[derive(Debug)]
pub struct OpenStackVimDriver {
    heat: HeatClient,
}

impl OpenStackVimDriver {
    /// A driver with the `openstack:` section's settings.
    pub fn new(config: &OpenStackConfig) -> Result<Self, String> {
        Ok(Self {
            heat: HeatClient::new(config)?,
        })
    }
}

fn check_template_type(template_type: &str, doing: &str) -> Result<(), InfrastructureError> {
    if template_type.eq_ignore_ascii_case(HEAT) {
        Ok(())
    } else {
        Err(InfrastructureError::InvalidTemplate(format!(
            "cannot {doing} a template of type '{template_type}': this driver takes '{HEAT}'"
        )))
    }
}

#[vim_driver]
impl OpenStackVimDriver {
    /// `POST /stacks`: the stack id is both the infrastructure id and the request id.
    pub async fn create_infrastructure(
        &self,
        template: String,
        template_type: String,
        system_properties: PropValueMap,
        properties: PropValueMap,
        deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        check_template_type(&template_type, "create")?;
        let target = HeatTarget::of(&deployment_location)?;
        let parameters = stack::parameters(&template, &properties, &system_properties)?;
        let name = stack::stack_name(&system_properties);
        let id = self
            .heat
            .create_stack(&target, &name, &template, parameters, Map::new())
            .await?;
        Ok(CreateInfrastructureResponse::new(id.clone(), id))
    }

    /// Reads the stack: what its status means for the create or the delete asked about.
    pub async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        let target = HeatTarget::of(&deployment_location)?;
        let action = if request_id.starts_with(DELETE_PREFIX) {
            StackAction::Delete
        } else {
            StackAction::Create
        };
        let state = self
            .heat
            .progress(&target, &infrastructure_id, action)
            .await?;
        Ok(match state {
            StackState::InProgress => {
                InfrastructureTask::in_progress(infrastructure_id, request_id)
            }
            StackState::Complete(outputs) if outputs.is_empty() => {
                InfrastructureTask::complete(infrastructure_id, request_id)
            }
            StackState::Complete(outputs) => {
                InfrastructureTask::complete(infrastructure_id, request_id).with_outputs(outputs)
            }
            StackState::Failed(reason) => InfrastructureTask::failed(
                infrastructure_id,
                request_id,
                FailureDetails::new(FailureCode::InfrastructureError, reason),
            ),
        })
    }

    /// Starts deleting the stack; a stack already gone is accepted too (its task
    /// completes at its first poll).
    pub async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        let target = HeatTarget::of(&deployment_location)?;
        self.heat.delete_stack(&target, &infrastructure_id).await?;
        let request_id = format!("{DELETE_PREFIX}{infrastructure_id}");
        Ok(DeleteInfrastructureResponse::new(
            infrastructure_id,
            request_id,
        ))
    }

    /// The stack named `instance_name`, when it is done (`*_COMPLETE`) and not deleted.
    pub async fn find_infrastructure(
        &self,
        _template: String,
        template_type: String,
        instance_name: String,
        deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        check_template_type(&template_type, "find")?;
        let target = HeatTarget::of(&deployment_location)?;
        Ok(match self.heat.get_stack(&target, &instance_name).await? {
            Some(stack) if stack.is_found() => {
                let outputs = stack.outputs();
                FindInfrastructureResponse::found(stack.id, outputs)
            }
            _ => FindInfrastructureResponse::not_found(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_in_any_case_is_the_only_template_type() {
        for ok in ["HEAT", "heat", "Heat"] {
            assert!(check_template_type(ok, "create").is_ok());
        }
        let err = check_template_type("TOSCA", "create").unwrap_err();
        assert_eq!(
            err,
            InfrastructureError::InvalidTemplate(
                "cannot create a template of type 'TOSCA': this driver takes 'HEAT'".into()
            )
        );
    }
}
