// Input of the expansion snapshot `resource_driver.expanded.rs` (see `src/snapshots.rs`): a
// resource driver generic over its script runner, with a helper method, a private error
// type, and an operation returning through an alias.

pub struct ScriptDriver<R> {
    runner: R,
}

#[derive(Debug, thiserror::Error, ApiError)]
enum ScriptError {
    #[error("the script failed: {0}")]
    #[api_error(status = 400)]
    Failed(String),
}

type ScriptResult<T> = Result<T, ScriptError>;

#[resource_driver]
impl<R: Runner + Send + Sync + 'static> ScriptDriver<R>
where
    R::Output: Send,
{
    fn script(&self, driver_files: &DriverFiles, lifecycle_name: &str) -> Result<String, ResourceDriverError> {
        driver_files.read_to_string(&format!("scripts/{lifecycle_name}.sh"))
    }

    pub async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        driver_files: DriverFiles,
        _system_properties: PropValueMap,
        resource_properties: PropValueMap,
        _: PropValueMap,
        associated_topology: AssociatedTopology,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ScriptError> {
        todo!()
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> ScriptResult<LifecycleExecution> {
        todo!()
    }

    async fn find_reference(
        &self,
        instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> ::std::result::Result<FindReferenceResponse, ResourceDriverError> {
        todo!()
    }
}
