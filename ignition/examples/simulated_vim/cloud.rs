//! A pretend cloud: stacks built from small JSON templates, in memory.
//!
//! Every status check advances a stack's build (or teardown) by one step, the way a real
//! VIM makes progress between two polls. Servers draw on a fixed capacity; a template
//! asking for more fails the build with INSUFFICIENT_CAPACITY, and a stack name already
//! in use fails it with RESOURCE_ALREADY_EXISTS.

use std::collections::HashMap;
use std::sync::Mutex;

use ignition::prelude::*;
use ignition::serde_json::{json, Map, Value};

/// Template type this cloud understands.
pub const TEMPLATE_TYPE: &str = "SimStack";

/// What a template declares: resources by name, and outputs naming a resource attribute.
#[derive(Debug, Clone)]
pub struct Template {
    resources: Vec<(String, ResourceKind)>,
    outputs: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ResourceKind {
    Server,
    Network,
    Volume,
}

impl Template {
    /// Parses and validates a template: `{"resources": {"vm": {"type": "server"}},
    /// "outputs": {"ip": "vm.ip"}}`. Errors say what is wrong, for a 400.
    pub fn parse(template: &str, template_type: &str) -> Result<Self, String> {
        if template_type != TEMPLATE_TYPE {
            return Err(format!(
                "template type `{template_type}` is not supported; use `{TEMPLATE_TYPE}`"
            ));
        }
        let doc: Value = ignition::serde_json::from_str(template)
            .map_err(|err| format!("template is not valid JSON: {err}"))?;
        let resources = doc
            .get("resources")
            .and_then(Value::as_object)
            .filter(|r| !r.is_empty())
            .ok_or("template must declare at least one resource under `resources`")?;
        let mut parsed = Vec::new();
        for (name, resource) in resources {
            let kind = match resource.get("type").and_then(Value::as_str) {
                Some("server") => ResourceKind::Server,
                Some("network") => ResourceKind::Network,
                Some("volume") => ResourceKind::Volume,
                Some(other) => {
                    return Err(format!(
                        "resource `{name}` has unknown type `{other}` (server, network, volume)"
                    ))
                }
                None => return Err(format!("resource `{name}` has no `type`")),
            };
            parsed.push((name.clone(), kind));
        }
        let mut outputs = Vec::new();
        if let Some(declared) = doc.get("outputs").and_then(Value::as_object) {
            for (output, reference) in declared {
                let reference = reference.as_str().unwrap_or_default();
                let (resource, attribute) = reference.split_once('.').ok_or_else(|| {
                    format!("output `{output}` must look like `resource.attribute`")
                })?;
                if !parsed.iter().any(|(name, _)| name == resource) {
                    return Err(format!(
                        "output `{output}` refers to unknown resource `{resource}`"
                    ));
                }
                outputs.push((output.clone(), resource.to_string(), attribute.to_string()));
            }
        }
        Ok(Self {
            resources: parsed,
            outputs,
        })
    }

    fn servers(&self) -> usize {
        self.resources
            .iter()
            .filter(|(_, kind)| *kind == ResourceKind::Server)
            .count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Building { steps_left: u32 },
    Ready,
    Failed,
    Deleting { steps_left: u32 },
    Deleted,
}

#[derive(Debug)]
struct Stack {
    name: String,
    template: Template,
    phase: Phase,
    create_request: String,
    delete_request: Option<String>,
    failure: Option<FailureDetails>,
    attributes: Map<String, Value>,
}

/// The cloud.
pub struct Cloud {
    state: Mutex<State>,
    build_steps: u32,
    server_capacity: usize,
}

struct State {
    stacks: HashMap<String, Stack>,
    next_id: u64,
    servers_in_use: usize,
}

impl Cloud {
    /// A cloud whose stacks take `build_steps` polls to build or delete.
    pub fn new(build_steps: u32, server_capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                stacks: HashMap::new(),
                next_id: 1,
                servers_in_use: 0,
            }),
            build_steps,
            server_capacity,
        }
    }

    /// Starts building a stack; returns `(stack id, request id)`.
    pub fn create_stack(&self, name: &str, template: Template) -> (String, String) {
        let mut state = self.state.lock().unwrap();
        let n = state.next_id;
        state.next_id += 1;
        let id = format!("stack-{n:04}");
        let request = format!("req-create-{n:04}");
        let stack = Stack {
            name: name.to_string(),
            template,
            phase: Phase::Building {
                steps_left: self.build_steps,
            },
            create_request: request.clone(),
            delete_request: None,
            failure: None,
            attributes: Map::new(),
        };
        state.stacks.insert(id.clone(), stack);
        (id, request)
    }

    /// Starts deleting a stack; returns the delete request id.
    pub fn delete_stack(&self, id: &str) -> Option<String> {
        let mut state = self.state.lock().unwrap();
        let n = state.next_id;
        state.next_id += 1;
        let stack = state
            .stacks
            .get_mut(id)
            .filter(|s| s.phase != Phase::Deleted)?;
        let request = format!("req-delete-{n:04}");
        stack.delete_request = Some(request.clone());
        stack.phase = Phase::Deleting {
            steps_left: self.build_steps,
        };
        Some(request)
    }

    /// The state of a request on a stack, advancing its build by one step.
    pub fn check(
        &self,
        id: &str,
        request: &str,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        let mut state = self.state.lock().unwrap();
        let State {
            stacks,
            servers_in_use,
            ..
        } = &mut *state;
        let Some(stack) = stacks.get(id) else {
            return Err(InfrastructureError::NotFound(format!(
                "no stack with id `{id}`"
            )));
        };
        let is_create = stack.create_request == request;
        let is_delete = stack.delete_request.as_deref() == Some(request);
        if !is_create && !is_delete {
            return Err(InfrastructureError::RequestNotFound(format!(
                "stack `{id}` has no request `{request}`"
            )));
        }
        let name_taken = stacks.iter().any(|(other_id, other)| {
            other_id != id && other.name == stack.name && other.phase == Phase::Ready
        });
        let stack = stacks.get_mut(id).expect("looked up above");
        stack.phase = match stack.phase {
            Phase::Building { steps_left } if steps_left > 1 => Phase::Building {
                steps_left: steps_left - 1,
            },
            Phase::Building { .. } => {
                let servers = stack.template.servers();
                if name_taken {
                    stack.failure = Some(FailureDetails::new(
                        FailureCode::ResourceAlreadyExists,
                        format!("a stack named `{}` already exists", stack.name),
                    ));
                    Phase::Failed
                } else if *servers_in_use + servers > self.server_capacity {
                    stack.failure = Some(FailureDetails::new(
                        FailureCode::InsufficientCapacity,
                        format!(
                            "{servers} servers requested, {} of {} free",
                            self.server_capacity - *servers_in_use,
                            self.server_capacity
                        ),
                    ));
                    Phase::Failed
                } else {
                    *servers_in_use += servers;
                    stack.attributes = allocate(&stack.template, id);
                    Phase::Ready
                }
            }
            Phase::Deleting { steps_left } if steps_left > 1 => Phase::Deleting {
                steps_left: steps_left - 1,
            },
            Phase::Deleting { .. } => {
                if stack.failure.is_none() {
                    *servers_in_use -= stack.template.servers();
                }
                Phase::Deleted
            }
            phase => phase,
        };
        let task = match (is_delete, stack.phase) {
            (false, Phase::Building { .. }) | (true, Phase::Deleting { .. }) => {
                InfrastructureTask::in_progress(id, request)
            }
            (false, Phase::Failed) => InfrastructureTask::failed(
                id,
                request,
                stack
                    .failure
                    .clone()
                    .expect("a failed stack has failure details"),
            ),
            (true, Phase::Deleted) => InfrastructureTask::complete(id, request),
            // A create asked about after the stack was built (or later deleted).
            (false, _) => InfrastructureTask::complete(id, request).with_outputs(outputs(stack)),
            (true, _) => InfrastructureTask::in_progress(id, request),
        };
        Ok(task)
    }

    /// The id and outputs of the ready stack with this name.
    pub fn find(&self, name: &str) -> Option<(String, Map<String, Value>)> {
        let state = self.state.lock().unwrap();
        state
            .stacks
            .iter()
            .find(|(_, stack)| stack.name == name && stack.phase == Phase::Ready)
            .map(|(id, stack)| (id.clone(), outputs(stack)))
    }
}

/// Gives each resource its attributes (ids, addresses).
fn allocate(template: &Template, stack_id: &str) -> Map<String, Value> {
    let mut attributes = Map::new();
    for (i, (name, kind)) in template.resources.iter().enumerate() {
        let value = match kind {
            ResourceKind::Server => {
                json!({"id": format!("{stack_id}-{name}"), "ip": format!("10.0.{}.{}", i / 250, i % 250 + 2)})
            }
            ResourceKind::Network => {
                json!({"id": format!("{stack_id}-{name}"), "cidr": format!("10.{}.0.0/24", i + 1)})
            }
            ResourceKind::Volume => json!({"id": format!("{stack_id}-{name}"), "size": "10GiB"}),
        };
        attributes.insert(name.clone(), value);
    }
    attributes
}

fn outputs(stack: &Stack) -> Map<String, Value> {
    stack
        .template
        .outputs
        .iter()
        .filter_map(|(output, resource, attribute)| {
            let value = stack.attributes.get(resource)?.get(attribute)?.clone();
            Some((output.clone(), value))
        })
        .collect()
}
