// The smallest driver: the four operations, as in the guide.
use ignition::prelude::*;

pub struct EchoDriver;

#[vim_driver]
impl EchoDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        template_type: String,
        system_properties: PropValueMap,
        properties: PropValueMap,
        deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        let _ = (template, template_type, system_properties, properties);
        Ok(CreateInfrastructureResponse::new(deployment_location.name, "1"))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        let _ = deployment_location;
        Ok(InfrastructureTask::complete(infrastructure_id, request_id))
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        let _ = (infrastructure_id, deployment_location);
        todo!()
    }

    async fn find_infrastructure(
        &self,
        template: String,
        template_type: String,
        instance_name: String,
        deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        let _ = (template, template_type, instance_name, deployment_location);
        Ok(FindInfrastructureResponse::not_found())
    }
}

fn assert_driver<D: ignition::Driver + ignition::__private::VimDriver>() {}

fn main() {
    assert_driver::<EchoDriver>();
}
