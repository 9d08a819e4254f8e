//! The Resource Driver API's requests, answers and event (LM 2.x/3.x), as a driver sees
//! them.
//!
//! The contract is `contract/resource-driver-api.yaml`
//! ([`crate::RESOURCE_DRIVER_CONTRACT_YAML`]); the JSON written is that of the Python
//! framework's dict functions (Ignition 3.6, `ignition/model/lifecycle.py` and
//! `references.py`): the same keys, in the same order, `outputs` and
//! `associatedTopology` always present. Types shared with the Infrastructure API
//! ([`TaskStatus`], [`FailureDetails`], [`Outputs`], [`PropValueMap`],
//! [`DeploymentLocation`]) are reused; their schemas under this contract's component
//! names are in [`crate::schema::resource_driver`].

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{DeploymentLocation, FailureDetails, Outputs, PropValueMap, TaskStatus};

/// The `version` of the execute answer and of every execution event: the Python
/// framework's `LIFECYCLE_MESSAGE_VERSION` (sent since Ignition 3.2). The contract lists
/// the field; LMs of that generation read it, older ones ignore it.
const LIFECYCLE_MESSAGE_VERSION: &str = "1.0.0";

/// An external element tied to a Resource: its id and type in the VIM (JSON
/// `{"id": ..., "type": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AssociatedTopologyEntry {
    /// The element's id, e.g. an OpenStack stack id.
    pub id: String,
    /// The element's type (JSON `type`), e.g. `Openstack`.
    #[serde(rename = "type")]
    pub element_type: String,
}

/// The external elements tied to a Resource, by name (JSON
/// `{"name": {"id": ..., "type": ...}}`), in the order they were added (or arrived in).
///
/// LM sends what earlier transitions returned; a driver answers what it created (on the
/// execute answer, or on the execution event).
///
/// ```
/// # use ignition_openapi::AssociatedTopology;
/// let topology = AssociatedTopology::new().with("InfrastructureStack", "6f1c", "Openstack");
/// assert_eq!(topology.get("InfrastructureStack").unwrap().id, "6f1c");
/// assert_eq!(
///     serde_json::to_string(&topology).unwrap(),
///     r#"{"InfrastructureStack":{"id":"6f1c","type":"Openstack"}}"#
/// );
/// // A `null` entry (the Python framework's "removed" entry) is read as absent.
/// let read: AssociatedTopology =
///     serde_json::from_str(r#"{"gone": null, "kept": {"id": "1", "type": "T"}}"#).unwrap();
/// assert_eq!(read, AssociatedTopology::new().with("kept", "1", "T"));
/// ```
///
/// Reading is lenient where the Python framework was, so that nothing LM sent to a Python
/// driver is refused: a `null` topology is empty, and a `null` entry is left out (Python
/// kept it as a "removed" entry, which has neither id nor type; the contract has no
/// `null` entries, so none is ever written). Two topologies are equal when they hold the
/// same entries, in any order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct AssociatedTopology {
    /// Insertion-ordered (the JSON is written in the order entries were added), with
    /// lookups and a hostile body's many keys in linear time.
    entries: IndexMap<String, AssociatedTopologyEntry>,
}

impl AssociatedTopology {
    /// An empty topology.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same topology with the element `name` (replacing an entry of that name, in its
    /// place).
    #[must_use]
    pub fn with(
        mut self,
        name: impl Into<String>,
        id: impl Into<String>,
        element_type: impl Into<String>,
    ) -> Self {
        let entry = AssociatedTopologyEntry {
            id: id.into(),
            element_type: element_type.into(),
        };
        self.entries.insert(name.into(), entry);
        self
    }

    /// The element called `name`.
    pub fn get(&self, name: &str) -> Option<&AssociatedTopologyEntry> {
        self.entries.get(name)
    }

    /// The elements and their names, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &AssociatedTopologyEntry)> + '_ {
        self.entries
            .iter()
            .map(|(name, entry)| (name.as_str(), entry))
    }

    /// How many elements there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'de> Deserialize<'de> for AssociatedTopology {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `null` for the whole topology or for an entry: see the type's documentation.
        // A name given twice keeps its last value, as Python's `json` does.
        let raw =
            Option::<IndexMap<String, Option<AssociatedTopologyEntry>>>::deserialize(deserializer)?;
        let entries = raw
            .into_iter()
            .flatten()
            .filter_map(|(name, entry)| Some((name, entry?)))
            .collect();
        Ok(Self { entries })
    }
}

/// Body of `POST /api/driver/lifecycle/execute`: run a transition or operation of a
/// Resource.
///
/// ```
/// # use ignition_openapi::{DeploymentLocation, LifecycleExecutionRequest};
/// let request: LifecycleExecutionRequest = serde_json::from_str(r#"{
///     "lifecycleName": "Create",
///     "driverFiles": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==",
///     "systemProperties": {"resourceId": "be38", "resourceName": "net-a"},
///     "resourceProperties": {"cidr": {"type": "string", "value": "10.0.0.0/24"}},
///     "associatedTopology": {"InfrastructureStack": {"id": "6f1c", "type": "Openstack"}},
///     "deploymentLocation": {"name": "Core", "type": "Openstack", "properties": {}}
/// }"#).unwrap();
/// assert_eq!(request.lifecycle_name, "Create");
/// assert_eq!(request.resource_properties.get("cidr").as_deref(), Some("10.0.0.0/24"));
/// assert!(request.request_properties.is_empty(), "absent: empty");
/// assert_eq!(request.associated_topology.get("InfrastructureStack").unwrap().id, "6f1c");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleExecutionRequest {
    /// The transition or operation, e.g. `Create`, `Install`, `Start`, `Delete`.
    pub lifecycle_name: String,
    /// The base64 text of a zip: this driver's directory of the Resource package. The
    /// runtime unpacks it before calling the driver.
    pub driver_files: String,
    /// Properties LM generated for the Resource (`resourceId`, `resourceName`, ...).
    pub system_properties: PropValueMap,
    /// Property values of the Resource (outputs of earlier transitions included).
    #[serde(default, deserialize_with = "null_as_default")]
    pub resource_properties: PropValueMap,
    /// Properties of this request.
    #[serde(default, deserialize_with = "null_as_default")]
    pub request_properties: PropValueMap,
    /// External elements tied to the Resource by earlier transitions.
    #[serde(default)]
    pub associated_topology: AssociatedTopology,
    /// Where the Resource lives.
    pub deployment_location: DeploymentLocation,
}

impl LifecycleExecutionRequest {
    /// A request to run `lifecycle_name` with these driver files (base64 of a zip) at
    /// `deployment_location`, with no properties and no associated topology.
    pub fn new(
        lifecycle_name: impl Into<String>,
        driver_files: impl Into<String>,
        deployment_location: DeploymentLocation,
    ) -> Self {
        Self {
            lifecycle_name: lifecycle_name.into(),
            driver_files: driver_files.into(),
            system_properties: PropValueMap::new(),
            resource_properties: PropValueMap::new(),
            request_properties: PropValueMap::new(),
            associated_topology: AssociatedTopology::new(),
            deployment_location,
        }
    }
}

/// `null` read as the default, as an absent field is. (Python read an absent optional map
/// as `{}` and failed on `null`; accepting it too refuses nothing Python took.)
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Answer to an execute (202): the request under which its outcome will be reported.
///
/// ```
/// # use ignition_openapi::{AssociatedTopology, LifecycleExecuteResponse};
/// let answer = LifecycleExecuteResponse::new("req-1")
///     .with_associated_topology(AssociatedTopology::new().with("stack", "6f1c", "Openstack"));
/// assert_eq!(
///     serde_json::to_string(&answer).unwrap(),
///     r#"{"requestId":"req-1","version":"1.0.0","associatedTopology":{"stack":{"id":"6f1c","type":"Openstack"}}}"#
/// );
/// ```
///
/// The JSON is the Python framework's: `requestId`, `version` (always `"1.0.0"`, not a
/// field: it is the version of the message format this crate writes) and
/// `associatedTopology` (`{}` when empty). A `version` read is ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleExecuteResponse {
    /// Id of this request; its outcome comes as a [`LifecycleExecution`] with this id.
    pub request_id: String,
    /// External elements tied to the Resource as the request was accepted.
    #[serde(default)]
    pub associated_topology: AssociatedTopology,
}

impl LifecycleExecuteResponse {
    /// An answer naming the request, with no associated topology.
    pub fn new(request_id: impl Into<String>) -> Self {
        Self {
            request_id: request_id.into(),
            associated_topology: AssociatedTopology::new(),
        }
    }

    /// The same answer with this associated topology.
    #[must_use]
    pub fn with_associated_topology(mut self, associated_topology: AssociatedTopology) -> Self {
        self.associated_topology = associated_topology;
        self
    }
}

/// How a [`LifecycleExecuteResponse`] is written: Python's keys, in Python's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecuteResponseWire<'a> {
    request_id: &'a str,
    version: &'static str,
    associated_topology: &'a AssociatedTopology,
}

impl Serialize for LifecycleExecuteResponse {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ExecuteResponseWire {
            request_id: &self.request_id,
            version: LIFECYCLE_MESSAGE_VERSION,
            associated_topology: &self.associated_topology,
        }
        .serialize(serializer)
    }
}

/// The state of an execution: the answer of `get_lifecycle_execution`, and, once it has
/// finished, the JSON value of its event on the lifecycle execution events topic.
///
/// ```
/// # use ignition_openapi::*;
/// let mut outputs = Outputs::new();
/// outputs.insert("ip".into(), "10.0.0.7".into());
/// let done = LifecycleExecution::complete("req-1").with_outputs(outputs);
/// assert_eq!(done.status, TaskStatus::Complete);
/// assert_eq!(
///     serde_json::to_string(&done).unwrap(),
///     r#"{"requestId":"req-1","status":"COMPLETE","outputs":{"ip":"10.0.0.7"},"associatedTopology":{},"version":"1.0.0"}"#
/// );
/// let failed = LifecycleExecution::failed(
///     "req-2",
///     FailureDetails::new(FailureCode::InfrastructureError, "stack CREATE_FAILED"),
/// );
/// assert_eq!(
///     serde_json::to_value(&failed).unwrap()["failureDetails"],
///     serde_json::json!({"failureCode": "INFRASTRUCTURE_ERROR", "description": "stack CREATE_FAILED"})
/// );
/// ```
///
/// The JSON is the Python framework's (`lifecycle_execution_dict`): `requestId`,
/// `status`, `failureDetails` (only when set), `outputs` and `associatedTopology` (always,
/// `{}` when empty), `version` (always `"1.0.0"`; a `version` read is ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleExecution {
    /// The request that started the execution.
    pub request_id: String,
    /// Where the execution is.
    pub status: TaskStatus,
    /// Why it failed (set when `status` is `Failed`).
    #[serde(default)]
    pub failure_details: Option<FailureDetails>,
    /// Values for the Resource's properties, usually on `Complete`.
    #[serde(default)]
    pub outputs: Outputs,
    /// External elements tied to the Resource by this execution.
    #[serde(default)]
    pub associated_topology: AssociatedTopology,
}

impl LifecycleExecution {
    fn with_status(request_id: impl Into<String>, status: TaskStatus) -> Self {
        Self {
            request_id: request_id.into(),
            status,
            failure_details: None,
            outputs: Outputs::new(),
            associated_topology: AssociatedTopology::new(),
        }
    }

    /// An execution that is still running.
    pub fn in_progress(request_id: impl Into<String>) -> Self {
        Self::with_status(request_id, TaskStatus::InProgress)
    }

    /// An execution that finished successfully.
    pub fn complete(request_id: impl Into<String>) -> Self {
        Self::with_status(request_id, TaskStatus::Complete)
    }

    /// An execution that failed, and why.
    pub fn failed(request_id: impl Into<String>, failure_details: FailureDetails) -> Self {
        Self {
            failure_details: Some(failure_details),
            ..Self::with_status(request_id, TaskStatus::Failed)
        }
    }

    /// The same execution with these outputs.
    #[must_use]
    pub fn with_outputs(mut self, outputs: Outputs) -> Self {
        self.outputs = outputs;
        self
    }

    /// The same execution with this associated topology.
    #[must_use]
    pub fn with_associated_topology(mut self, associated_topology: AssociatedTopology) -> Self {
        self.associated_topology = associated_topology;
        self
    }
}

/// How a [`LifecycleExecution`] is written: Python's keys, in Python's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionWire<'a> {
    request_id: &'a str,
    status: TaskStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_details: Option<&'a FailureDetails>,
    outputs: &'a Outputs,
    associated_topology: &'a AssociatedTopology,
    version: &'static str,
}

impl Serialize for LifecycleExecution {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ExecutionWire {
            request_id: &self.request_id,
            status: self.status,
            failure_details: self.failure_details.as_ref(),
            outputs: &self.outputs,
            associated_topology: &self.associated_topology,
            version: LIFECYCLE_MESSAGE_VERSION,
        }
        .serialize(serializer)
    }
}

/// Body of `POST /api/driver/references/find`: find an external Resource by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindReferenceRequest {
    /// The name to look for.
    pub instance_name: String,
    /// The base64 text of a zip: this driver's directory of the Resource package. The
    /// runtime unpacks it before calling the driver.
    pub driver_files: String,
    /// Where to look.
    pub deployment_location: DeploymentLocation,
}

impl FindReferenceRequest {
    /// A request to find `instance_name` with these driver files (base64 of a zip) at
    /// `deployment_location`.
    pub fn new(
        instance_name: impl Into<String>,
        driver_files: impl Into<String>,
        deployment_location: DeploymentLocation,
    ) -> Self {
        Self {
            instance_name: instance_name.into(),
            driver_files: driver_files.into(),
            deployment_location,
        }
    }
}

/// Answer to a find (200): the Resource found, or `{"result": null}`.
///
/// ```
/// # use ignition_openapi::{AssociatedTopology, FindReferenceResponse, Outputs};
/// let topology = AssociatedTopology::new().with("stack", "6f1c", "Openstack");
/// let found = FindReferenceResponse::found(topology, Outputs::new()).with_resource_id("6f1c");
/// assert_eq!(
///     serde_json::to_string(&found).unwrap(),
///     r#"{"result":{"resourceId":"6f1c","outputs":{},"associatedTopology":{"stack":{"id":"6f1c","type":"Openstack"}}}}"#
/// );
/// assert_eq!(serde_json::to_string(&FindReferenceResponse::not_found()).unwrap(), r#"{"result":null}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindReferenceResponse {
    /// What was found; `None` (JSON `null`) when nothing matched.
    pub result: Option<FindReferenceResult>,
}

impl FindReferenceResponse {
    /// A Resource was found: the elements tied to it and its outputs. Without
    /// [`with_resource_id`](Self::with_resource_id) no `resourceId` is sent, and LM
    /// gives the Resource an id of its own.
    pub fn found(associated_topology: AssociatedTopology, outputs: Outputs) -> Self {
        Self {
            result: Some(FindReferenceResult {
                resource_id: None,
                outputs,
                associated_topology,
            }),
        }
    }

    /// Nothing matched.
    pub fn not_found() -> Self {
        Self { result: None }
    }

    /// The same answer with the id LM should give the Resource found (`resourceId`).
    /// Nothing was found in a [`not_found`](Self::not_found) answer, so it stays as it
    /// is.
    #[must_use]
    pub fn with_resource_id(mut self, resource_id: impl Into<String>) -> Self {
        if let Some(result) = &mut self.result {
            result.resource_id = Some(resource_id.into());
        }
        self
    }
}

/// A Resource that a find matched. Written as the Python framework does: `resourceId`
/// (only when set: the contract's `resourceId` is a string), `outputs`,
/// `associatedTopology` (`{}` when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindReferenceResult {
    /// The id LM should give the Resource; `None`: LM chooses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// Values for the Resource's properties.
    #[serde(default)]
    pub outputs: Outputs,
    /// External elements tied to the Resource.
    #[serde(default)]
    pub associated_topology: AssociatedTopology,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(id: &str, element_type: &str) -> AssociatedTopologyEntry {
        AssociatedTopologyEntry {
            id: id.into(),
            element_type: element_type.into(),
        }
    }

    #[test]
    fn with_adds_in_order_and_replaces_in_place() {
        let topology = AssociatedTopology::new()
            .with("b", "1", "T")
            .with("a", "2", "T")
            .with("b", "3", "U");
        assert_eq!(topology.len(), 2);
        assert!(!topology.is_empty());
        let listed: Vec<_> = topology.iter().collect();
        assert_eq!(listed, [("b", &entry("3", "U")), ("a", &entry("2", "T"))]);
        assert_eq!(topology.get("a"), Some(&entry("2", "T")));
        assert_eq!(topology.get("c"), None);
        assert!(AssociatedTopology::new().is_empty());
    }

    #[test]
    fn equality_ignores_order() {
        let ab = AssociatedTopology::new()
            .with("a", "1", "T")
            .with("b", "2", "T");
        let ba = AssociatedTopology::new()
            .with("b", "2", "T")
            .with("a", "1", "T");
        assert_eq!(ab, ba);
        assert_ne!(ab, AssociatedTopology::new().with("a", "1", "T"));
        assert_ne!(ab, ba.with("a", "1", "U"));
    }

    #[test]
    fn a_name_given_twice_keeps_its_last_value() {
        let read: AssociatedTopology = serde_json::from_str(
            r#"{"a": {"id": "1", "type": "T"}, "a": {"id": "2", "type": "T"}}"#,
        )
        .unwrap();
        assert_eq!(read, AssociatedTopology::new().with("a", "2", "T"));
        let read: AssociatedTopology =
            serde_json::from_str(r#"{"a": {"id": "1", "type": "T"}, "a": null}"#).unwrap();
        assert!(read.is_empty(), "{read:?}");
        let read: AssociatedTopology = serde_json::from_value(json!(null)).unwrap();
        assert!(read.is_empty());
    }

    #[test]
    fn extra_fields_of_an_entry_are_ignored() {
        let read: AssociatedTopology =
            serde_json::from_value(json!({"a": {"id": "1", "type": "T", "note": 3}})).unwrap();
        assert_eq!(read.get("a"), Some(&entry("1", "T")));
    }
}
