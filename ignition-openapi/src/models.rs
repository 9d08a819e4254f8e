//! The contract's request, response and event types, as a driver sees them.
//!
//! Field names follow Rust; their JSON names follow the contract (`camelCase`). The
//! OpenAPI schema of each type lives in [`crate::schema`], next to nothing else, so the
//! two can be compared with the contract in one place.

use serde::{Deserialize, Serialize};

use crate::PropValueMap;

/// The `outputs` of a task or a found infrastructure: any JSON object.
pub type Outputs = serde_json::Map<String, serde_json::Value>;

/// Where infrastructure lives: the VIM's name, type and connection properties.
///
/// Its `Debug` names the properties but not their values (they hold credentials), so a
/// request or a location printed with `{:?}` in a log line or a panic message shows none:
///
/// ```
/// # use ignition_openapi::DeploymentLocation;
/// let mut location = DeploymentLocation::new("dl-1");
/// location.properties.insert("os_auth_password".into(), "hunter2".into());
/// let debug = format!("{location:?}");
/// assert!(debug.contains("os_auth_password") && !debug.contains("hunter2"));
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploymentLocation {
    /// Name of the deployment location, as LM knows it.
    pub name: String,
    /// Its type (JSON `type`), e.g. `Openstack`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub location_type: Option<String>,
    /// Connection properties (credentials, endpoints, ...).
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for DeploymentLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// The property names, each with a placeholder for its value.
        struct Redacted<'a>(&'a serde_json::Map<String, serde_json::Value>);
        impl std::fmt::Debug for Redacted<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_map()
                    .entries(self.0.keys().map(|key| (key, format_args!("***"))))
                    .finish()
            }
        }
        f.debug_struct("DeploymentLocation")
            .field("name", &self.name)
            .field("location_type", &self.location_type)
            .field("properties", &Redacted(&self.properties))
            .finish()
    }
}

impl DeploymentLocation {
    /// A location with the given name, no type and no properties.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }
}

/// Body of `POST /create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInfrastructureRequest {
    /// The template of the infrastructure (TOSCA, Heat, ...).
    pub template: String,
    /// Which kind of template `template` is.
    pub template_type: String,
    /// Properties LM generated for this resource (resourceId, resourceName, ...).
    #[serde(default)]
    pub system_properties: PropValueMap,
    /// Property values of the resource.
    #[serde(default)]
    pub properties: PropValueMap,
    /// Where to create it.
    pub deployment_location: DeploymentLocation,
}

/// Body of `POST /delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteInfrastructureRequest {
    /// The infrastructure to remove.
    pub infrastructure_id: String,
    /// Where it lives.
    pub deployment_location: DeploymentLocation,
}

/// Body of `POST /query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureTaskQuery {
    /// The infrastructure the task works on.
    pub infrastructure_id: String,
    /// The request (create or delete) whose task is asked about.
    pub request_id: String,
    /// Where the infrastructure lives.
    pub deployment_location: DeploymentLocation,
}

/// Body of `POST /find`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindInfrastructureRequest {
    /// Template describing the infrastructure to find.
    pub template: String,
    /// Which kind of template `template` is.
    pub template_type: String,
    /// Name to search for.
    pub instance_name: String,
    /// Where to search.
    pub deployment_location: DeploymentLocation,
}

/// Answer to a create: the ids under which its task can be queried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInfrastructureResponse {
    /// Id of the infrastructure being created (e.g. an OpenStack stack id).
    pub infrastructure_id: String,
    /// Id of this request; monitoring polls `(infrastructure_id, request_id)`.
    pub request_id: String,
}

impl CreateInfrastructureResponse {
    /// A response naming the infrastructure and the request that creates it.
    pub fn new(infrastructure_id: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self {
            infrastructure_id: infrastructure_id.into(),
            request_id: request_id.into(),
        }
    }
}

/// Answer to a delete: the ids under which its task can be queried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteInfrastructureResponse {
    /// Id of the infrastructure being deleted.
    pub infrastructure_id: String,
    /// Id of this request; monitoring polls `(infrastructure_id, request_id)`.
    pub request_id: String,
}

impl DeleteInfrastructureResponse {
    /// A response naming the infrastructure and the request that deletes it.
    pub fn new(infrastructure_id: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self {
            infrastructure_id: infrastructure_id.into(),
            request_id: request_id.into(),
        }
    }
}

/// State of a create or delete task (JSON `IN_PROGRESS`, `COMPLETE`, `FAILED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    /// Still running: monitoring polls again later.
    InProgress,
    /// Finished successfully: monitoring sends the event.
    Complete,
    /// Finished unsuccessfully: monitoring sends the event, with failure details.
    Failed,
}

impl TaskStatus {
    /// Whether the task has finished (complete or failed).
    pub fn is_finished(self) -> bool {
        !matches!(self, TaskStatus::InProgress)
    }
}

/// Why a task failed, in LM's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailureCode {
    /// An element of the infrastructure already exists.
    ResourceAlreadyExists,
    /// The infrastructure (or part of it) was not found.
    ResourceNotFound,
    /// The VIM reported an error creating or deleting the infrastructure.
    InfrastructureError,
    /// Not enough capacity in the VIM.
    InsufficientCapacity,
    /// Any other error.
    InternalError,
}

/// The failure of a task: a code and a description for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureDetails {
    /// The kind of failure.
    pub failure_code: FailureCode,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl FailureDetails {
    /// Failure details with a code and a description.
    pub fn new(failure_code: FailureCode, description: impl Into<String>) -> Self {
        Self {
            failure_code,
            description: Some(description.into()),
        }
    }
}

/// The state of a create or delete task: the answer to a query, and the JSON value of
/// every event on the infrastructure task events topic.
///
/// ```
/// # use ignition_openapi::{FailureCode, FailureDetails, InfrastructureTask, Outputs, TaskStatus};
/// let mut outputs = Outputs::new();
/// outputs.insert("ip".into(), "10.0.0.7".into());
/// let done = InfrastructureTask::complete("stack-1", "req-1").with_outputs(outputs);
/// assert_eq!(done.status, TaskStatus::Complete);
/// assert_eq!(
///     serde_json::to_value(&done).unwrap(),
///     serde_json::json!({"infrastructureId": "stack-1", "requestId": "req-1",
///                        "status": "COMPLETE", "outputs": {"ip": "10.0.0.7"}})
/// );
/// let failed = InfrastructureTask::failed(
///     "stack-1",
///     "req-2",
///     FailureDetails::new(FailureCode::InsufficientCapacity, "no room for 4 servers"),
/// );
/// assert_eq!(serde_json::to_value(&failed).unwrap()["failureDetails"]["failureCode"], "INSUFFICIENT_CAPACITY");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureTask {
    /// The infrastructure the task works on.
    pub infrastructure_id: String,
    /// The request that started the task.
    pub request_id: String,
    /// Where the task is.
    pub status: TaskStatus,
    /// Why it failed (set when `status` is `Failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_details: Option<FailureDetails>,
    /// Values the infrastructure produced (IPs, ids, ...), usually on `Complete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Outputs>,
}

impl InfrastructureTask {
    fn with_status(
        infrastructure_id: impl Into<String>,
        request_id: impl Into<String>,
        status: TaskStatus,
    ) -> Self {
        Self {
            infrastructure_id: infrastructure_id.into(),
            request_id: request_id.into(),
            status,
            failure_details: None,
            outputs: None,
        }
    }

    /// A task that is still running.
    pub fn in_progress(
        infrastructure_id: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Self {
        Self::with_status(infrastructure_id, request_id, TaskStatus::InProgress)
    }

    /// A task that finished successfully.
    pub fn complete(infrastructure_id: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self::with_status(infrastructure_id, request_id, TaskStatus::Complete)
    }

    /// A task that failed, and why.
    pub fn failed(
        infrastructure_id: impl Into<String>,
        request_id: impl Into<String>,
        failure_details: FailureDetails,
    ) -> Self {
        Self {
            failure_details: Some(failure_details),
            ..Self::with_status(infrastructure_id, request_id, TaskStatus::Failed)
        }
    }

    /// The same task with these outputs.
    #[must_use]
    pub fn with_outputs(mut self, outputs: Outputs) -> Self {
        self.outputs = Some(outputs);
        self
    }
}

/// Answer to a find: the infrastructure found, or `{"result": null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindInfrastructureResponse {
    /// What was found; `None` (JSON `null`) when nothing matched.
    pub result: Option<FindInfrastructureResult>,
}

impl FindInfrastructureResponse {
    /// Infrastructure was found, with these outputs.
    pub fn found(infrastructure_id: impl Into<String>, outputs: Outputs) -> Self {
        Self {
            result: Some(FindInfrastructureResult {
                infrastructure_id: infrastructure_id.into(),
                outputs,
            }),
        }
    }

    /// Nothing matched.
    pub fn not_found() -> Self {
        Self { result: None }
    }
}

/// Infrastructure that a find matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindInfrastructureResult {
    /// Its id.
    pub infrastructure_id: String,
    /// Its output values.
    #[serde(default)]
    pub outputs: Outputs,
}
