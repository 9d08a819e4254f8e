// `get_lifecycle_execution` is not written; using the driver adds no error of its own.
use ignition::prelude::*;

pub struct ScriptDriver;

#[resource_driver]
impl ScriptDriver {
    async fn execute_lifecycle(&self, _lifecycle_name: String, _driver_files: DriverFiles,
        _system_properties: PropValueMap, _resource_properties: PropValueMap,
        _request_properties: PropValueMap, _associated_topology: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> { todo!() }

    async fn find_reference(&self, _instance_name: String, _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> { todo!() }
}

fn main() {
    let _ = App::new("Script").driver(ScriptDriver);
}
