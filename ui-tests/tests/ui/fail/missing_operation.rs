// `find_infrastructure` is not written.
use ignition::prelude::*;

pub struct EchoDriver;

#[vim_driver]
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
}

fn main() {
    let _ = App::new("Echo").driver(EchoDriver);
}
