// A public resource driver whose operations return a crate-private error type, as authors
// write it: the generated impls name the error only inside method bodies, so this
// compiles.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
enum ScriptError {
    #[error("unknown lifecycle {0}")]
    #[api_error(status = 400)]
    UnknownLifecycle(String),
    #[error("the runner is busy")]
    #[api_error(status = 503, retry)]
    Busy,
}

pub struct ScriptDriver;

#[resource_driver]
impl ScriptDriver {
    pub async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        _driver_files: DriverFiles,
        _system_properties: PropValueMap,
        _resource_properties: PropValueMap,
        _request_properties: PropValueMap,
        _associated_topology: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ScriptError> {
        Err(ScriptError::UnknownLifecycle(lifecycle_name))
    }

    pub async fn get_lifecycle_execution(
        &self,
        _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ScriptError> {
        Err(ScriptError::Busy)
    }

    pub async fn find_reference(
        &self,
        _instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ScriptError> {
        Ok(FindReferenceResponse::not_found())
    }
}

fn main() {
    let _ = App::new("Script Driver").driver(ScriptDriver);
}
