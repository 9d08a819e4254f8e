//! The schemas of the Resource Driver API's components
//! ([`crate::RESOURCE_DRIVER_CONTRACT_YAML`]).
//!
//! | Rust type | component |
//! | --- | --- |
//! | [`LifecycleExecutionRequest`] | `LifecycleExecutionRequest` |
//! | [`LifecycleExecuteResponse`] | `LifecycleExecuteResponse` |
//! | [`LifecycleExecution`] | `LifecycleExecution` |
//! | [`FindReferenceRequest`] | `FindReferenceRequest` |
//! | [`FindReferenceResponse`] | `FindReferenceResponse` (its `result` inline) |
//! | [`AssociatedTopology`] | `AssociatedTopology` (its entries inline) |
//! | [`DeploymentLocation`] | `DeploymentLocation` (the Infrastructure API's) |
//! | [`ErrorResponse`] | `ErrorResponse` (the Infrastructure API's) |
//! | [`PropValueMap`] | `PropertyMap` |
//! | [`TaskStatus`] | `ExecutionStatus` |
//! | [`FailureDetails`] | `FailureDetails` (its `failureCode` an inline enum) |
//!
//! The last three Rust types have another component in the Infrastructure API
//! (`Properties`, `InfrastructureTaskStatus`, a `FailureDetails` that refers to
//! `FailureCode`), and a Rust type has one [`Type`]: here they are named through private
//! marker types, which the components above refer to. The two APIs are two documents:
//! registering both contracts' components into one [`Registry`] panics, since each has
//! its own `FailureDetails`.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;

use super::{
    any, any_object, inline, object, reference, string, string_enum, FAILURE_CODES, TASK_STATUSES,
};
use crate::{
    AssociatedTopology, DeploymentLocation, ErrorResponse, FindReferenceRequest,
    FindReferenceResponse, LifecycleExecuteResponse, LifecycleExecution, LifecycleExecutionRequest,
};
#[cfg(doc)]
use crate::{FailureDetails, PropValueMap, TaskStatus};

/// [`PropValueMap`] in this contract: component `PropertyMap`.
struct PropertyMapSchema;

/// [`TaskStatus`] in this contract: component `ExecutionStatus`.
struct ExecutionStatusSchema;

/// [`FailureDetails`] in this contract: component `FailureDetails`, its codes inline.
struct FailureDetailsSchema;

/// `{type: string, format: byte}` with a description: base64 text.
fn base64(description: &'static str) -> MetaSchemaRef {
    inline(MetaSchema {
        description: Some(description),
        ..MetaSchema::new_with_format("string", "byte")
    })
}

/// The `driverFiles` of both requests.
fn driver_files() -> MetaSchemaRef {
    base64("base64 of a zip: this driver's directory of the Resource package")
}

component!(PropertyMapSchema, "PropertyMap", |_registry| MetaSchema {
    description: Some(
        "name -> plain value, or {type, value}, or {type: key, privateKey, publicKey, keyName}"
    ),
    additional_properties: Some(Box::new(any())),
    ..MetaSchema::new("object")
});

component!(ExecutionStatusSchema, "ExecutionStatus", |_registry| {
    string_enum(&TASK_STATUSES)
});

component!(FailureDetailsSchema, "FailureDetails", |_registry| object(
    &["failureCode"],
    vec![
        ("failureCode", inline(string_enum(&FAILURE_CODES))),
        ("description", string()),
    ],
));

component!(AssociatedTopology, "AssociatedTopology", |_registry| {
    MetaSchema {
        description: Some("external elements tied to the Resource, by name"),
        additional_properties: Some(Box::new(inline(object(
            &["id", "type"],
            vec![("id", string()), ("type", string())],
        )))),
        ..MetaSchema::new("object")
    }
});

component!(
    LifecycleExecutionRequest,
    "LifecycleExecutionRequest",
    |registry| object(
        &[
            "lifecycleName",
            "driverFiles",
            "systemProperties",
            "deploymentLocation"
        ],
        vec![
            (
                "lifecycleName",
                inline(MetaSchema {
                    description: Some(
                        "transition or operation, e.g. Create, Install, Start, Delete"
                    ),
                    ..MetaSchema::new("string")
                })
            ),
            ("driverFiles", driver_files()),
            ("systemProperties", reference::<PropertyMapSchema>(registry)),
            (
                "resourceProperties",
                reference::<PropertyMapSchema>(registry)
            ),
            (
                "requestProperties",
                reference::<PropertyMapSchema>(registry)
            ),
            (
                "associatedTopology",
                reference::<AssociatedTopology>(registry)
            ),
            (
                "deploymentLocation",
                reference::<DeploymentLocation>(registry)
            ),
        ],
    )
);

component!(
    LifecycleExecuteResponse,
    "LifecycleExecuteResponse",
    |registry| object(
        &["requestId"],
        vec![
            ("requestId", string()),
            (
                "associatedTopology",
                reference::<AssociatedTopology>(registry)
            ),
            ("version", string()),
        ],
    )
);

component!(LifecycleExecution, "LifecycleExecution", |registry| {
    MetaSchema {
        description: Some("the event that ends an execution"),
        ..object(
            &["requestId", "status"],
            vec![
                ("requestId", string()),
                ("status", reference::<ExecutionStatusSchema>(registry)),
                (
                    "failureDetails",
                    reference::<FailureDetailsSchema>(registry),
                ),
                ("outputs", any_object()),
                (
                    "associatedTopology",
                    reference::<AssociatedTopology>(registry),
                ),
                ("version", string()),
            ],
        )
    }
});

component!(FindReferenceRequest, "FindReferenceRequest", |registry| {
    object(
        &["instanceName", "driverFiles", "deploymentLocation"],
        vec![
            ("instanceName", string()),
            ("driverFiles", driver_files()),
            (
                "deploymentLocation",
                reference::<DeploymentLocation>(registry),
            ),
        ],
    )
});

component!(FindReferenceResponse, "FindReferenceResponse", |registry| {
    object(
        &["result"],
        vec![(
            "result",
            inline(MetaSchema {
                nullable: true,
                ..object(
                    &[],
                    vec![
                        ("resourceId", string()),
                        (
                            "associatedTopology",
                            reference::<AssociatedTopology>(registry),
                        ),
                        ("outputs", any_object()),
                    ],
                )
            }),
        )],
    )
});

/// Registers every component of the Resource Driver API contract into `registry` (the
/// event's [`LifecycleExecution`] included, which no operation answers).
pub fn register_all(registry: &mut Registry) {
    // The two requests, their answers and the event reach every other component.
    LifecycleExecutionRequest::register(registry);
    LifecycleExecuteResponse::register(registry);
    LifecycleExecution::register(registry);
    FindReferenceRequest::register(registry);
    FindReferenceResponse::register(registry);
    ErrorResponse::register(registry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_types_are_named_as_this_contract_names_them() {
        let mut registry = Registry::new();
        LifecycleExecution::register(&mut registry);
        let names: Vec<_> = registry.schemas.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "AssociatedTopology",
                "ExecutionStatus",
                "FailureDetails",
                "LifecycleExecution"
            ]
        );
        let failure_code = &registry.schemas["FailureDetails"].properties[0].1;
        let MetaSchemaRef::Inline(failure_code) = failure_code else {
            panic!("{failure_code:?}");
        };
        assert_eq!(failure_code.enum_items.len(), 5);
    }

    #[test]
    #[should_panic(expected = "have the same OpenAPI name `FailureDetails`")]
    fn both_contracts_in_one_registry_is_a_bug_caught_at_once() {
        let mut registry = Registry::new();
        super::super::register_all(&mut registry);
        register_all(&mut registry);
    }
}
