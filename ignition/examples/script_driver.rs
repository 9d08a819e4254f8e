//! A resource driver (the Resource Driver API of LM 2.x/3.x) that runs the shell script of
//! each lifecycle from the request's driver files, on the embedded default.
//!
//! ```text
//! cargo run --example script_driver                 # serve on port 7777
//! cargo run --example script_driver -- --openapi    # print the OpenAPI document (YAML)
//! ```
//!
//! Configuration: the YAML file named by `SCRIPT_DRIVER_CONFIG`, if set.
//!
//! A lifecycle `Name` runs `scripts/Name.sh` of the driver files with `sh`, in the
//! background: the execution is `IN_PROGRESS` while it runs, `COMPLETE` when it exits 0
//! (each `output NAME=VALUE` line it prints becomes an output), `FAILED` otherwise (its
//! last line on stderr is the reason). The request's resource properties are in the
//! script's environment as `PROP_<name>`. A completed `Create` of a resource is what
//! `find_reference` finds by the resource's name. The README's "Resource drivers" section
//! runs it with curl.

// An example binary: its items are `pub` as a driver crate's would be, and it prints the
// OpenAPI document on stdout when asked to.
#![allow(unreachable_pub, missing_debug_implementations, clippy::print_stdout)]

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ignition::prelude::*;
use tokio::io::AsyncWriteExt;

/// Where each execution stands, by request id.
type Executions = Arc<Mutex<HashMap<String, LifecycleExecution>>>;

/// The driver: runs lifecycle scripts and remembers what they did.
#[derive(Default)]
pub struct ScriptDriver {
    executions: Executions,
    /// Resources whose `Create` completed, by resource name: their request id.
    created: Arc<Mutex<HashMap<String, String>>>,
    next_id: AtomicU64,
}

#[resource_driver]
impl ScriptDriver {
    #[allow(clippy::too_many_arguments)] // the Resource Driver API's request, field by field
    async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        driver_files: DriverFiles,
        system_properties: PropValueMap,
        resource_properties: PropValueMap,
        _request_properties: PropValueMap,
        _associated_topology: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        let path = format!("scripts/{lifecycle_name}.sh");
        let files = driver_files.files();
        if !files.contains(&path) {
            return Err(ResourceDriverError::InvalidLifecycleName(format!(
                "no script for lifecycle '{lifecycle_name}': the driver files have {files:?}, \
                 not '{path}'"
            )));
        }
        // The driver files are removed when this call returns: the script is read now.
        let script = driver_files.read_to_string(&path)?;
        let mut command = tokio::process::Command::new("sh");
        command
            .arg("-s")
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (name, value) in resource_properties.iter() {
            if let Some(value) = value.as_str() {
                command.env(format!("PROP_{name}"), value.as_ref());
            }
        }
        let mut child = command.spawn().map_err(|err| {
            ResourceDriverError::Internal(format!("cannot start sh for '{path}': {err}"))
        })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(script.as_bytes()).await.map_err(|err| {
                ResourceDriverError::Internal(format!("cannot hand '{path}' to sh: {err}"))
            })?;
        }

        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("{lifecycle_name}-{}-{n}", std::process::id());
        self.set(LifecycleExecution::in_progress(&request_id));
        let (executions, created) = (self.executions.clone(), self.created.clone());
        let resource_name = system_properties
            .get("resourceName")
            .map(|n| n.into_owned());
        let id = request_id.clone();
        tokio::spawn(async move {
            let execution = match child.wait_with_output().await {
                Ok(out) if out.status.success() => {
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    LifecycleExecution::complete(&id).with_outputs(outputs_of(&stdout))
                }
                Ok(out) => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let reason = stderr.lines().last().unwrap_or("no message").to_string();
                    LifecycleExecution::failed(
                        &id,
                        FailureDetails::new(
                            FailureCode::InfrastructureError,
                            format!("'{path}' exited with {}: {reason}", out.status),
                        ),
                    )
                }
                Err(err) => LifecycleExecution::failed(
                    &id,
                    FailureDetails::new(FailureCode::InternalError, err.to_string()),
                ),
            };
            if lifecycle_name == "Create" && execution.status == TaskStatus::Complete {
                if let Some(name) = resource_name {
                    lock(&created).insert(name, id.clone());
                }
            }
            lock(&executions).insert(id, execution);
        });
        Ok(LifecycleExecuteResponse::new(request_id))
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        lock(&self.executions)
            .get(&request_id)
            .cloned()
            .ok_or_else(|| {
                ResourceDriverError::RequestNotFound(format!("no execution '{request_id}'"))
            })
    }

    async fn find_reference(
        &self,
        instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        let Some(request_id) = lock(&self.created).get(&instance_name).cloned() else {
            return Ok(FindReferenceResponse::not_found());
        };
        let outputs = lock(&self.executions)
            .get(&request_id)
            .map(|execution| execution.outputs.clone())
            .unwrap_or_default();
        let topology = AssociatedTopology::new().with(&instance_name, &request_id, "Script");
        Ok(FindReferenceResponse::found(topology, outputs))
    }
}

impl ScriptDriver {
    fn set(&self, execution: LifecycleExecution) {
        lock(&self.executions).insert(execution.request_id.clone(), execution);
    }
}

/// The `output NAME=VALUE` lines of a script's stdout.
fn outputs_of(stdout: &str) -> Outputs {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("output ")?.split_once('='))
        .map(|(name, value)| (name.trim().to_string(), value.trim().into()))
        .collect()
}

/// The map, also after a panic while it was held (each insert leaves it whole).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[tokio::main]
async fn main() -> Result<(), ignition::BootError> {
    let app = App::new("Script Driver")
        .config_env("SCRIPT_DRIVER_CONFIG")
        .driver(ScriptDriver::default());
    match std::env::args().nth(1).as_deref() {
        Some("--openapi") => print!("{}", app.openapi_yaml()),
        Some(other) => {
            eprintln!("unknown argument `{other}`; usage: script_driver [--openapi]");
            std::process::exit(2);
        }
        None => app.run().await?,
    }
    Ok(())
}
