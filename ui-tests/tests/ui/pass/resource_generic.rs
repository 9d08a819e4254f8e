// A resource driver generic over its script runner: the impl's generics and where clause
// carry over.
use ignition::prelude::*;

pub trait Runner {
    fn run(&self, script: &str) -> String;
}

pub struct ScriptDriver<R, const N: usize> {
    runner: R,
}

#[resource_driver]
impl<R: Runner + Send + Sync + 'static, const N: usize> ScriptDriver<R, N>
where
    R: Default,
{
    async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        _driver_files: DriverFiles,
        _system_properties: PropValueMap,
        _resource_properties: PropValueMap,
        _request_properties: PropValueMap,
        _associated_topology: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        Ok(LifecycleExecuteResponse::new(self.runner.run(&lifecycle_name)))
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        let _ = R::default().run(&N.to_string());
        Ok(LifecycleExecution::in_progress(request_id))
    }

    async fn find_reference(
        &self,
        _instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        Ok(FindReferenceResponse::not_found())
    }
}

#[derive(Default)]
struct Shell;

impl Runner for Shell {
    fn run(&self, script: &str) -> String {
        script.to_owned()
    }
}

fn assert_driver<D: ignition::Driver + ignition::__private::ResourceDriver>() {}

fn main() {
    assert_driver::<ScriptDriver<Shell, 3>>();
}
