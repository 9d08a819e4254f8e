// A driver generic over its VIM client: the impl's generics and where clause carry over.
use ignition::prelude::*;

pub trait Cloud {
    fn name(&self) -> String;
}

pub struct CloudDriver<C, const N: usize> {
    cloud: C,
}

#[vim_driver]
impl<C: Cloud + Send + Sync + 'static, const N: usize> CloudDriver<C, N>
where
    C: Default,
{
    async fn create_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        Ok(CreateInfrastructureResponse::new(self.cloud.name(), N.to_string()))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        Ok(InfrastructureTask::complete(infrastructure_id, request_id))
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Ok(DeleteInfrastructureResponse::new(infrastructure_id, C::default().name()))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(FindInfrastructureResponse::not_found())
    }
}

#[derive(Default)]
struct Local;

impl Cloud for Local {
    fn name(&self) -> String {
        "local".into()
    }
}

fn assert_driver<D: ignition::Driver + ignition::__private::VimDriver>() {}

fn main() {
    assert_driver::<CloudDriver<Local, 3>>();
}
