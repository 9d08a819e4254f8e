// A public driver whose operations return a crate-private error type, as authors write
// it: the generated `Driver` impl names the error only inside method bodies, so this
// compiles (it was E0446 "private type in public interface" when the error type was an
// associated type of the impl).
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
enum CloudError {
    #[error("the cloud refused the template: {0}")]
    #[api_error(status = 400)]
    Refused(String),
    #[error("the cloud is busy")]
    #[api_error(status = 503, retry)]
    Busy,
}

pub struct CloudDriver;

#[vim_driver]
impl CloudDriver {
    pub async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, CloudError> {
        if template.is_empty() {
            return Err(CloudError::Refused("empty".into()));
        }
        Ok(CreateInfrastructureResponse::new("i", "r"))
    }

    pub async fn get_infrastructure_task(
        &self,
        _infrastructure_id: String,
        _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, CloudError> {
        Err(CloudError::Busy)
    }

    pub async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, CloudError> {
        Ok(DeleteInfrastructureResponse::new(infrastructure_id, "r2"))
    }

    pub async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, CloudError> {
        Ok(FindInfrastructureResponse::not_found())
    }
}

fn main() {
    let _ = App::new("Cloud VIM Driver").driver(CloudDriver);
}
