// A resource driver with its own error type beside the framework's: each operation may
// return a different one (`get_lifecycle_execution` through an alias), and the spec lists
// the statuses of each. Other methods stay as written; operations may be `pub` and take
// `_` parameters.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum ScriptError {
    #[error("no script for lifecycle {lifecycle}")]
    #[api_error(status = 400)]
    NoScript {
        #[api_error(field)]
        lifecycle: String,
    },
    #[error("the runner is busy")]
    #[api_error(status = 503, retry)]
    Busy,
    #[error(transparent)]
    #[api_error(status = 500)]
    Framework(#[from] ResourceDriverError),
}

type ScriptResult<T> = Result<T, ScriptError>;

pub struct ScriptDriver {
    runner: String,
}

#[resource_driver]
impl ScriptDriver {
    pub fn new() -> Self {
        Self { runner: "sh".into() }
    }

    fn request_id(&self, lifecycle_name: &str) -> String {
        format!("{}-{lifecycle_name}", self.runner)
    }

    pub async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        _driver_files: DriverFiles,
        _: PropValueMap,
        _resource_properties: PropValueMap,
        _: PropValueMap,
        _: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ScriptError> {
        if lifecycle_name == "Upgrade" {
            return Err(ScriptError::NoScript { lifecycle: lifecycle_name });
        }
        Ok(LifecycleExecuteResponse::new(self.request_id(&lifecycle_name)))
    }

    pub async fn get_lifecycle_execution(
        &self,
        _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> ScriptResult<LifecycleExecution> {
        Err(ScriptError::Busy)
    }

    pub(crate) async fn find_reference(
        &self,
        _instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        Ok(FindReferenceResponse::not_found())
    }
}

fn main() {
    use ignition::__private::{Operation, ResourceDriver};
    assert_eq!(
        <ScriptDriver as ResourceDriver>::error_statuses(Operation::Execute),
        <ScriptError as ApiError>::statuses()
    );
    assert_eq!(
        <ScriptDriver as ResourceDriver>::error_statuses(Operation::ExecutionQuery),
        [400, 500, 503]
    );
    assert_eq!(
        <ScriptDriver as ResourceDriver>::error_statuses(Operation::FindReference),
        <ResourceDriverError as ApiError>::statuses()
    );
    assert!(<ScriptDriver as ResourceDriver>::error_statuses(Operation::Create).is_empty());
    let _ = App::new("Script Driver").driver(ScriptDriver::new());
}
