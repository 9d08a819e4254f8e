// Other methods stay as written; operations may be `pub`, return a `Result` alias, and
// take `_`-prefixed (or `_`) parameters.
use ignition::prelude::*;

pub struct EchoDriver {
    prefix: String,
}

type OpResult<T> = Result<T, InfrastructureError>;

#[vim_driver]
impl EchoDriver {
    pub fn new() -> Self {
        Self { prefix: "echo".into() }
    }

    fn id(&self, n: u32) -> String {
        format!("{}-{n}", self.prefix)
    }

    async fn lookup(&self, id: &str) -> Option<String> {
        Some(id.to_owned())
    }

    pub async fn create_infrastructure(
        &self,
        _template: String,
        _: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> OpResult<CreateInfrastructureResponse> {
        Ok(CreateInfrastructureResponse::new(self.id(1), self.id(2)))
    }

    pub async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> OpResult<InfrastructureTask> {
        let id = self.lookup(&infrastructure_id).await.unwrap_or_default();
        Ok(InfrastructureTask::in_progress(id, self.id(2)))
    }

    pub(crate) async fn delete_infrastructure(
        &self,
        _infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Err(InfrastructureError::NotFound("nothing here".into()))
    }

    pub async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(FindInfrastructureResponse::not_found())
    }
}

fn assert_driver<D: ignition::Driver + ignition::__private::VimDriver>() {}

fn main() {
    assert_driver::<EchoDriver>();
    let _ = EchoDriver::new();
}
