// Input of the expansion snapshot `vim_driver.expanded.rs` (see `src/snapshots.rs`): a
// driver generic over its cloud client, with a helper method, its own error type, and an
// operation returning through an alias.

pub struct CloudDriver<C> {
    cloud: C,
}

#[vim_driver]
impl<C: Cloud + Send + Sync + 'static> CloudDriver<C>
where
    C::Handle: Send,
{
    fn region(&self) -> &str {
        self.cloud.region()
    }

    pub async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        system_properties: PropValueMap,
        _: PropValueMap,
        deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, QuotaError> {
        todo!()
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> CloudResult<InfrastructureTask> {
        todo!()
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        todo!()
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> ::std::result::Result<FindInfrastructureResponse, InfrastructureError> {
        todo!()
    }
}
