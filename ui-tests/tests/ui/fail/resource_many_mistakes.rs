// Several mistakes at once: every one is reported, each on its own tokens, and nothing
// else (no error from the expansion, none from using the driver).
use ignition::prelude::*;

pub struct ScriptDriver;

#[resource_driver]
impl ScriptDriver {
    fn execute_lifecycle(self, _lifecycle_name: String)
        -> Result<LifecycleExecuteResponse, ResourceDriverError> { todo!() }

    async fn get_lifecycle_execution(&mut self, _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> { todo!() }

    async fn find_refrence(&self, _instance_name: String, _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> { todo!() }
}

fn main() {
    let _ = App::new("Script").driver(ScriptDriver);
}
