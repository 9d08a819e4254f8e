// The smallest resource driver: the three operations, as in the guide.
use ignition::prelude::*;

pub struct ScriptDriver;

#[resource_driver]
impl ScriptDriver {
    async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        driver_files: DriverFiles,
        system_properties: PropValueMap,
        resource_properties: PropValueMap,
        request_properties: PropValueMap,
        associated_topology: AssociatedTopology,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        let _ = (system_properties, resource_properties, request_properties);
        let _ = (driver_files, deployment_location);
        Ok(LifecycleExecuteResponse::new(lifecycle_name).with_associated_topology(associated_topology))
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        let _ = deployment_location;
        Ok(LifecycleExecution::complete(request_id))
    }

    async fn find_reference(
        &self,
        instance_name: String,
        driver_files: DriverFiles,
        deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        let _ = (instance_name, driver_files, deployment_location);
        Ok(FindReferenceResponse::not_found())
    }
}

fn assert_driver<D: ignition::Driver + ignition::__private::ResourceDriver>() {}

fn main() {
    assert_driver::<ScriptDriver>();
    let _ = App::new("Script Driver").driver(ScriptDriver);
}
