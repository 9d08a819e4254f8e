// Every mistake is reported at once, each on its own tokens; the other methods are left
// alone, and the driver can still be used (no "`Driver` is not implemented" on top).
use ignition::prelude::*;

pub struct EchoDriver;

#[vim_driver]
impl EchoDriver {
    fn helper(&self) -> u32 { 7 }

    fn create_infrastructure(self, _template: String, _template_type: String,
        _system_properties: PropValueMap, _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }

    async fn get_infrastructure_task(&mut self, _infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> { todo!() }

    async fn delete_infrastructure(&self, _infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }
}

fn main() {
    let _ = EchoDriver.helper();
    let _ = App::new("Echo").driver(EchoDriver);
}
