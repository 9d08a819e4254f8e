//! A VIM driver over a simulated cloud, on the embedded default.
//!
//! ```text
//! cargo run --example simulated_vim                 # serve on port 7777
//! cargo run --example simulated_vim -- --openapi    # print the OpenAPI document (YAML)
//! ```
//!
//! Configuration: the YAML file named by `SIMULATED_VIM_CONFIG`, if set; the driver's own
//! section is `simulated_cloud:` (`build_steps`, `server_capacity`), read through
//! `App::driver_with`.

// An example binary: its items are `pub` as a driver crate's would be, and it prints the
// OpenAPI document on stdout when asked to.
#![allow(unreachable_pub, missing_debug_implementations, clippy::print_stdout)]

mod cloud;

use ignition::prelude::*;

use cloud::{Cloud, Template};

/// The driver's own section of the configuration file (`simulated_cloud:`). serde comes
/// through `ignition`, so the driver crate needs no dependency of its own on it.
#[derive(Debug, ignition::serde::Deserialize)]
#[serde(crate = "ignition::serde", default)]
pub struct CloudProperties {
    /// Polls a stack takes to build or delete.
    pub build_steps: u32,
    /// Servers the cloud has in all.
    pub server_capacity: usize,
}

impl Default for CloudProperties {
    fn default() -> Self {
        Self {
            build_steps: 3,
            server_capacity: 20,
        }
    }
}

/// The driver: translates the four operations into calls on the cloud.
pub struct SimulatedVimDriver {
    cloud: Cloud,
}

impl SimulatedVimDriver {
    /// A driver over a new simulated cloud of these properties.
    pub fn new(props: &CloudProperties) -> Self {
        Self {
            cloud: Cloud::new(props.build_steps, props.server_capacity),
        }
    }

    fn reachable(location: &DeploymentLocation) -> Result<(), InfrastructureError> {
        if location.name.starts_with("unreachable") {
            return Err(InfrastructureError::UnreachableDeploymentLocation(format!(
                "deployment location `{}` cannot be reached",
                location.name
            )));
        }
        Ok(())
    }
}

#[vim_driver]
impl SimulatedVimDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        template_type: String,
        system_properties: PropValueMap,
        _properties: PropValueMap,
        deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        Self::reachable(&deployment_location)?;
        let template = Template::parse(&template, &template_type)
            .map_err(InfrastructureError::InvalidTemplate)?;
        let name = system_properties
            .get("resourceName")
            .map(|name| name.into_owned())
            .unwrap_or_else(|| "unnamed".to_string());
        let (stack_id, request_id) = self.cloud.create_stack(&name, template);
        Ok(CreateInfrastructureResponse::new(stack_id, request_id))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        Self::reachable(&deployment_location)?;
        self.cloud.check(&infrastructure_id, &request_id)
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Self::reachable(&deployment_location)?;
        let request_id = self.cloud.delete_stack(&infrastructure_id).ok_or_else(|| {
            InfrastructureError::NotFound(format!("no stack with id `{infrastructure_id}`"))
        })?;
        Ok(DeleteInfrastructureResponse::new(
            infrastructure_id,
            request_id,
        ))
    }

    async fn find_infrastructure(
        &self,
        template: String,
        template_type: String,
        instance_name: String,
        deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Self::reachable(&deployment_location)?;
        Template::parse(&template, &template_type).map_err(InfrastructureError::InvalidTemplate)?;
        Ok(match self.cloud.find(&instance_name) {
            Some((stack_id, outputs)) => FindInfrastructureResponse::found(stack_id, outputs),
            None => FindInfrastructureResponse::not_found(),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), BootError> {
    let app = App::new("Simulated VIM Driver")
        .config_env("SIMULATED_VIM_CONFIG")
        .driver_with(|ctx: DriverContext| async move {
            // By default stacks take 3 polls to build or delete; 20 servers in all.
            let props: CloudProperties = ctx.properties("simulated_cloud")?;
            if props.build_steps == 0 {
                return Err(BootError::driver(
                    "simulated_cloud.build_steps must be at least 1",
                ));
            }
            Ok(SimulatedVimDriver::new(&props))
        });
    match std::env::args().nth(1).as_deref() {
        Some("--openapi") | Some("--openapi=yaml") => print!("{}", app.openapi_yaml()),
        Some("--openapi=json") => println!("{}", app.openapi_json()),
        Some(other) => {
            eprintln!("unknown argument `{other}`; usage: simulated_vim [--openapi[=yaml|json]]");
            std::process::exit(2);
        }
        None => app.run().await?,
    }
    Ok(())
}
