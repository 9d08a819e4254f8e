//! Stack logic that needs no network: the stack's name, the parameters Heat is given, and
//! what a stack's status means for a create, a delete or an adopt. Shared by both APIs
//! (the Infrastructure API's `vim` and the Resource Driver API's `resource`).

use ignition::prelude::*;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::HeatError;

/// Heat's longest stack name.
const MAX_NAME_LEN: usize = 255;

/// The stack name for a create, as the Python driver made it: `{resourceName}.{resourceId}`
/// from the system properties, reduced to `[A-Za-z0-9_.-]` (the longest tail that fits
/// Heat's 255 characters, so the id survives), with an `s` in front when it does not
/// start with a letter; `s` + a uuid when either property is missing or no letter or digit is left.
pub(crate) fn stack_name(system_properties: &PropValueMap) -> String {
    let given = system_properties
        .get("resourceName")
        .zip(system_properties.get("resourceId"))
        .map(|(name, id)| format!("{name}.{id}"));
    let reduced: String = given
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect();
    if !reduced.chars().any(|c| c.is_ascii_alphanumeric()) {
        return format!("s{}", uuid_v4());
    }
    let starts_with_letter = reduced.starts_with(|c: char| c.is_ascii_alphabetic());
    let room = if starts_with_letter {
        MAX_NAME_LEN
    } else {
        MAX_NAME_LEN - 1
    };
    // ASCII only after the filter: byte offsets are character offsets.
    let tail = &reduced[reduced.len().saturating_sub(room)..];
    if tail.starts_with(|c: char| c.is_ascii_alphabetic()) {
        tail.to_string()
    } else {
        format!("s{tail}")
    }
}

/// A random (version 4) uuid, e.g. `0b5f8e2c-1d3a-4f6b-9c8d-7e6f5a4b3c2d`.
pub(crate) fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The parameters Heat is given: of the properties, plus the system properties as
/// `system_<name>`, only those the template declares under `parameters:` (Heat refuses
/// others). As in the Python driver, a `key` property `k` gives its `keyName` to `k`,
/// its public key to `k_public` and its private key to `k_private`.
///
/// A template that is not a YAML (or JSON) mapping is a 400.
pub(crate) fn parameters(
    template: &str,
    properties: &PropValueMap,
    system_properties: &PropValueMap,
) -> Result<Map<String, Value>, HeatError> {
    let declared = declared_parameters(template)?;
    let lookup = |name: &str| {
        properties.get_value(name).or_else(|| {
            name.strip_prefix("system_")
                .and_then(|n| system_properties.get_value(n))
        })
    };
    let mut chosen = Map::new();
    for name in declared {
        let value = match lookup(&name) {
            Some(PropValue::Key { key_name, .. }) => key_name.clone().map(Value::from),
            Some(PropValue::Plain(value)) => Some(value.clone()),
            Some(PropValue::Typed { value, .. }) => value.clone(),
            None => key_part(&name, &lookup),
        };
        if let Some(value) = value {
            chosen.insert(name, value);
        }
    }
    Ok(chosen)
}

/// `k_public` / `k_private` of a key property `k`.
fn key_part<'a>(name: &str, lookup: &impl Fn(&str) -> Option<&'a PropValue>) -> Option<Value> {
    if let Some(Some(PropValue::Key { public_key, .. })) = name.strip_suffix("_public").map(lookup)
    {
        return public_key.clone().map(Value::from);
    }
    if let Some(Some(PropValue::Key { private_key, .. })) =
        name.strip_suffix("_private").map(lookup)
    {
        return Some(Value::from(private_key.clone()));
    }
    None
}

/// The names under the template's `parameters:`.
fn declared_parameters(template: &str) -> Result<Vec<String>, HeatError> {
    let parsed: serde_yaml::Value = serde_yaml::from_str(template).map_err(|err| {
        HeatError::BadRequest(format!("the Heat template is not valid YAML: {err}"))
    })?;
    let serde_yaml::Value::Mapping(top) = parsed else {
        return Err(HeatError::BadRequest(
            "the Heat template is not a YAML mapping".into(),
        ));
    };
    Ok(match top.get("parameters") {
        Some(serde_yaml::Value::Mapping(parameters)) => parameters
            .keys()
            .filter_map(|key| key.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

/// A stack as Heat's `GET /stacks/{name}/{id}` describes it (the fields the driver reads).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Stack {
    /// The stack id (a uuid).
    pub(crate) id: String,
    /// Its name.
    pub(crate) stack_name: String,
    /// `{ACTION}_{STATE}`, e.g. `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `ROLLBACK_FAILED`.
    pub(crate) stack_status: String,
    /// Heat's explanation of the status (a failed resource's error, say).
    #[serde(default)]
    pub(crate) stack_status_reason: Option<String>,
    /// The template's outputs, once created.
    #[serde(default)]
    pub(crate) outputs: Option<Vec<StackOutput>>,
}

/// One output of a stack.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StackOutput {
    pub(crate) output_key: String,
    #[serde(default)]
    pub(crate) output_value: Value,
}

/// What was asked of a stack, which decides what its status means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StackAction {
    /// The stack was created for the request.
    Create,
    /// The stack is being deleted.
    Delete,
    /// An existing stack was taken over (the Resource Driver API's `Adopt`).
    Adopt,
}

/// The statuses in which a stack can be adopted, as the Python driver's default
/// (`adopt.adoptable_status_values`).
const ADOPTABLE: [&str; 6] = [
    "CREATE_COMPLETE",
    "ADOPT_COMPLETE",
    "RESUME_COMPLETE",
    "CHECK_COMPLETE",
    "UPDATE_COMPLETE",
    "SNAPSHOT_COMPLETE",
];

/// The statuses in which an adopt waits, as in the Python driver.
const ADOPT_WAITS: [&str; 4] = [
    "CREATE_IN_PROGRESS",
    "ADOPT_IN_PROGRESS",
    "RESUME_IN_PROGRESS",
    "CHECK_IN_PROGRESS",
];

/// Where a create, a delete or an adopt stands, from its stack's status.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StackState {
    /// Heat is still working on it.
    InProgress,
    /// Done; the stack's outputs (empty for a delete).
    Complete(Outputs),
    /// Failed, with Heat's reason.
    Failed(String),
}

impl Stack {
    /// `output_key` → `output_value`.
    pub(crate) fn outputs(&self) -> Outputs {
        self.outputs
            .iter()
            .flatten()
            .map(|o| (o.output_key.clone(), o.output_value.clone()))
            .collect()
    }

    fn reason(&self) -> String {
        self.stack_status_reason
            .clone()
            .unwrap_or_else(|| format!("stack {} is {}", self.stack_name, self.stack_status))
    }

    /// What the stack's status means for `action`.
    pub(crate) fn state(&self, action: StackAction) -> StackState {
        match action {
            StackAction::Create => self.create_state(),
            StackAction::Delete => self.delete_state(),
            StackAction::Adopt => self.adopt_state(),
        }
    }

    /// What the stack's status means for the request that created it.
    ///
    /// A rollback means the create failed: `ROLLBACK_IN_PROGRESS` is reported FAILED at
    /// once (the stack's own reason then only says that it rolls back: the caller asks
    /// Heat's events for the failure, see [`Stack::is_rolled_back`]). A stack being deleted will
    /// never complete its create: FAILED too. Otherwise the state's suffix decides
    /// (`*_IN_PROGRESS`, `*_COMPLETE`, `*_FAILED`), so an update or a check done on the
    /// stack meanwhile reads naturally.
    pub(crate) fn create_state(&self) -> StackState {
        let status = self.stack_status.as_str();
        if status.starts_with("ROLLBACK_") {
            StackState::Failed(self.reason())
        } else if status.starts_with("DELETE_") {
            StackState::Failed(format!(
                "stack {} is {}: {}",
                self.stack_name,
                status,
                self.reason()
            ))
        } else if status.ends_with("_COMPLETE") {
            StackState::Complete(self.outputs())
        } else if status.ends_with("_FAILED") {
            StackState::Failed(self.reason())
        } else {
            // `*_IN_PROGRESS`, and a status this driver does not know: ask again later
            // (`job_queue.task_timeout` bounds the wait).
            StackState::InProgress
        }
    }

    /// What the stack's status means for a delete request: `DELETE_COMPLETE` → done,
    /// `DELETE_FAILED` → failed, anything else (the delete not started yet) → in progress.
    pub(crate) fn delete_state(&self) -> StackState {
        match self.stack_status.as_str() {
            "DELETE_COMPLETE" => StackState::Complete(Outputs::new()),
            "DELETE_FAILED" => StackState::Failed(self.reason()),
            _ => StackState::InProgress,
        }
    }

    /// What the stack's status means for an adopt: an adoptable status (done, not
    /// deleted or suspended) → its outputs; a create, adopt, resume or check in progress
    /// → wait; anything else fails, naming the status (as the Python driver's adopt).
    pub(crate) fn adopt_state(&self) -> StackState {
        let status = self.stack_status.as_str();
        if ADOPTABLE.contains(&status) {
            StackState::Complete(self.outputs())
        } else if ADOPT_WAITS.contains(&status) {
            StackState::InProgress
        } else {
            StackState::Failed(format!(
                "Adopt failed: cannot adopt stack {} with status {status}",
                self.stack_name
            ))
        }
    }

    /// Whether the stack is rolling or rolled back: its own reason says so, not why.
    pub(crate) fn is_rolled_back(&self) -> bool {
        self.stack_status.starts_with("ROLLBACK_")
    }

    /// Whether a find should report it: done (`*_COMPLETE`) and not deleted.
    pub(crate) fn is_found(&self) -> bool {
        self.stack_status.ends_with("_COMPLETE") && self.stack_status != "DELETE_COMPLETE"
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn props(value: Value) -> PropValueMap {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_stack_name_is_the_resource_name_and_id_reduced() {
        let name = stack_name(&props(
            json!({"resourceName": "web server/1", "resourceId": "ab:12"}),
        ));
        assert_eq!(name, "webserver1.ab12");
        let name = stack_name(&props(
            json!({"resourceName": {"type": "string", "value": "9lives"},
                                             "resourceId": "x"}),
        ));
        assert_eq!(name, "s9lives.x", "starts with a letter");
        let name = stack_name(&props(
            json!({"resourceName": "ünïcode", "resourceId": "1"}),
        ));
        assert_eq!(name, "ncode.1", "non-ASCII letters are dropped");
    }

    #[test]
    fn a_long_name_keeps_its_tail() {
        let long = "a".repeat(300);
        let name = stack_name(&props(json!({"resourceName": long, "resourceId": "id-1"})));
        assert_eq!(name.len(), 255);
        assert!(name.ends_with(".id-1"));
        let name = stack_name(&props(
            json!({"resourceName": "1".repeat(300), "resourceId": "z"}),
        ));
        assert_eq!(name.len(), 255);
        assert!(name.starts_with("s1") && name.ends_with(".z"));
    }

    #[test]
    fn without_resource_name_and_id_the_name_is_s_and_a_uuid() {
        for system in [
            json!({}),
            json!({"resourceName": "web"}),
            json!({"resourceName": "//", "resourceId": "é"}),
        ] {
            let name = stack_name(&props(system));
            assert_eq!(name.len(), 37, "{name}");
            assert!(name.starts_with('s'));
            assert_eq!(name.as_bytes()[15], b'4', "a v4 uuid: {name}");
        }
        assert_ne!(
            stack_name(&PropValueMap::new()),
            stack_name(&PropValueMap::new())
        );
    }

    const TEMPLATE: &str = "heat_template_version: 2021-04-16
parameters:
  flavor: {type: string}
  count: {type: number}
  system_resourceId: {type: string}
  ssh: {type: string}
  ssh_public: {type: string}
  ssh_private: {type: string}
  absent: {type: string, default: x}
resources: {}
";

    #[test]
    fn only_declared_parameters_are_given() {
        let properties = props(json!({
            "flavor": "m1.small", "count": {"type": "integer", "value": 3}, "unused": "u",
            "ssh": {"type": "key", "keyName": "k1", "publicKey": "PUB", "privateKey": "PRIV"},
        }));
        let system = props(json!({"resourceId": "r-1", "resourceName": "web"}));
        let chosen = parameters(TEMPLATE, &properties, &system).unwrap();
        assert_eq!(
            Value::Object(chosen),
            json!({"flavor": "m1.small", "count": 3, "system_resourceId": "r-1",
                   "ssh": "k1", "ssh_public": "PUB", "ssh_private": "PRIV"})
        );
    }

    #[test]
    fn a_json_template_is_read_too_and_no_parameters_is_fine() {
        let chosen = parameters(
            r#"{"heat_template_version": "2021-04-16", "parameters": {"a": {"type": "string"}}}"#,
            &props(json!({"a": "1", "b": "2"})),
            &PropValueMap::new(),
        )
        .unwrap();
        assert_eq!(Value::Object(chosen), json!({"a": "1"}));
        let chosen = parameters(
            "resources: {}",
            &props(json!({"a": "1"})),
            &PropValueMap::new(),
        );
        assert!(chosen.unwrap().is_empty());
    }

    #[test]
    fn a_template_that_is_not_a_mapping_is_a_bad_request() {
        for template in ["- a list", "key: [unclosed", "just text"] {
            let err = parameters(template, &PropValueMap::new(), &PropValueMap::new()).unwrap_err();
            assert!(
                matches!(err, HeatError::BadRequest(_)),
                "{template}: {err:?}"
            );
        }
    }

    fn stack(status: &str) -> Stack {
        serde_json::from_value(json!({
            "id": "id-1", "stack_name": "web.1", "stack_status": status,
            "stack_status_reason": "Heat says why",
            "outputs": [{"output_key": "ip", "output_value": "10.0.0.1"},
                        {"output_key": "all", "output_value": {"a": [1]}}],
        }))
        .unwrap()
    }

    #[test]
    fn create_states() {
        let complete = StackState::Complete(
            json!({"ip": "10.0.0.1", "all": {"a": [1]}})
                .as_object()
                .unwrap()
                .clone(),
        );
        let failed = StackState::Failed("Heat says why".into());
        for (status, expected) in [
            ("CREATE_IN_PROGRESS", StackState::InProgress),
            ("CREATE_COMPLETE", complete.clone()),
            ("ADOPT_COMPLETE", complete.clone()),
            ("UPDATE_COMPLETE", complete),
            ("CREATE_FAILED", failed.clone()),
            ("ROLLBACK_IN_PROGRESS", failed.clone()),
            ("ROLLBACK_COMPLETE", failed.clone()),
            ("ROLLBACK_FAILED", failed),
            ("UPDATE_IN_PROGRESS", StackState::InProgress),
            ("SOMETHING_NEW", StackState::InProgress),
        ] {
            assert_eq!(stack(status).create_state(), expected, "{status}");
        }
        assert_eq!(
            stack("DELETE_IN_PROGRESS").create_state(),
            StackState::Failed("stack web.1 is DELETE_IN_PROGRESS: Heat says why".into())
        );
    }

    #[test]
    fn delete_states() {
        for (status, expected) in [
            ("DELETE_COMPLETE", StackState::Complete(Outputs::new())),
            ("DELETE_FAILED", StackState::Failed("Heat says why".into())),
            ("DELETE_IN_PROGRESS", StackState::InProgress),
            ("CREATE_COMPLETE", StackState::InProgress),
        ] {
            assert_eq!(stack(status).delete_state(), expected, "{status}");
        }
    }

    #[test]
    fn adopt_states() {
        let outputs = stack("CREATE_COMPLETE").outputs();
        for (status, expected) in [
            ("CREATE_COMPLETE", StackState::Complete(outputs.clone())),
            ("UPDATE_COMPLETE", StackState::Complete(outputs.clone())),
            ("SNAPSHOT_COMPLETE", StackState::Complete(outputs)),
            ("CHECK_IN_PROGRESS", StackState::InProgress),
            ("CREATE_IN_PROGRESS", StackState::InProgress),
        ] {
            assert_eq!(
                stack(status).state(StackAction::Adopt),
                expected,
                "{status}"
            );
        }
        for status in [
            "SUSPEND_COMPLETE",
            "CREATE_FAILED",
            "ROLLBACK_COMPLETE",
            "DELETE_IN_PROGRESS",
        ] {
            assert_eq!(
                stack(status).state(StackAction::Adopt),
                StackState::Failed(format!(
                    "Adopt failed: cannot adopt stack web.1 with status {status}"
                )),
            );
        }
    }

    #[test]
    fn found_only_when_complete_and_not_deleted() {
        assert!(stack("CREATE_COMPLETE").is_found());
        assert!(stack("UPDATE_COMPLETE").is_found());
        assert!(!stack("DELETE_COMPLETE").is_found());
        assert!(!stack("CREATE_IN_PROGRESS").is_found());
        assert!(!stack("CREATE_FAILED").is_found());
    }
}
