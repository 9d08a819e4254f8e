// A VIM driver's block under `#[resource_driver]`: one error naming the right attribute,
// rather than one per missing operation.
use ignition::prelude::*;

pub struct EchoDriver;

#[resource_driver]
impl EchoDriver {
    async fn create_infrastructure(&self, _template: String, _template_type: String,
        _system_properties: PropValueMap, _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }

    async fn get_infrastructure_task(&self, _infrastructure_id: String, _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> { todo!() }

    async fn delete_infrastructure(&self, _infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }

    async fn find_infrastructure(&self, _template: String, _template_type: String,
        _instance_name: String, _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> { todo!() }
}

fn main() {
    let _ = App::new("Echo").driver(EchoDriver);
}
