//! A driver that logs what it is given, for the log tests: `App::run` in its own process,
//! configured by the YAML file named by `LOGGING_DRIVER_CONFIG`, logs on stderr.
//!
//! - create: logs the template three ways (a Display field, a Debug field, inside the
//!   message), inside a span with the field `traceCtx.test` = `span-value`; answers
//!   `inf-N` / `create-N` (N counts the creates).
//! - get_infrastructure_task: logs `logging driver polled` (INFO, field
//!   `infrastructure_id`); IN_PROGRESS at a task's first poll, COMPLETE after.
//! - find: instance name `panic` panics; anything else finds nothing.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ignition::prelude::*;

#[derive(Default)]
struct LoggingDriver {
    creates: AtomicUsize,
    /// Tasks polled at least once.
    polled: Mutex<HashSet<String>>,
}

#[vim_driver]
impl LoggingDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        tracing::info_span!("driver_call", "traceCtx.test" = "span-value").in_scope(|| {
            tracing::info!(template = %template, "creating (Display field)");
            tracing::info!(?template, "creating (Debug field)");
            tracing::warn!("creating from this template: {template}");
        });
        let n = self.creates.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(CreateInfrastructureResponse::new(
            format!("inf-{n}"),
            format!("create-{n}"),
        ))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        tracing::info!(%infrastructure_id, "logging driver polled");
        let first = self
            .polled
            .lock()
            .unwrap()
            .insert(infrastructure_id.clone());
        Ok(if first {
            InfrastructureTask::in_progress(infrastructure_id, request_id)
        } else {
            InfrastructureTask::complete(infrastructure_id, request_id)
        })
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Ok(DeleteInfrastructureResponse::new(
            infrastructure_id,
            "delete-1",
        ))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        if instance_name == "panic" {
            panic!("the logging driver was asked to panic");
        }
        Ok(FindInfrastructureResponse::not_found())
    }
}

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    App::new("Logging Test Driver")
        .config_env("LOGGING_DRIVER_CONFIG")
        .driver(LoggingDriver::default())
        .run()
        .await
}
