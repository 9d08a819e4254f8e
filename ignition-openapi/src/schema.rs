//! The OpenAPI schemas of the wire types, as poem-openapi [`Type`]s.
//!
//! Only [`Type`] is implemented (it is what puts a schema into the generated document);
//! the types are read and written with serde. Every type is a named component whose
//! name and shape are those of `components.schemas` in its contract: the Infrastructure
//! API's ([`crate::CONTRACT_YAML`]) here, the Resource Driver API's
//! ([`crate::RESOURCE_DRIVER_CONTRACT_YAML`]) in [`resource_driver`].
//! `tests/schemas.rs` and `tests/resource_driver.rs` check them with
//! [`crate::compat::check_components`].
//!
//! Infrastructure API:
//!
//! | Rust type | component |
//! | --- | --- |
//! | [`PropValue`] | `PropertyValue` |
//! | [`PropValueMap`] | `Properties` |
//! | [`DeploymentLocation`] | `DeploymentLocation` |
//! | [`CreateInfrastructureRequest`] | `CreateInfrastructureRequest` |
//! | [`CreateInfrastructureResponse`] | `CreateInfrastructureResponse` |
//! | [`DeleteInfrastructureRequest`] | `DeleteInfrastructureRequest` |
//! | [`DeleteInfrastructureResponse`] | `DeleteInfrastructureResponse` |
//! | [`InfrastructureTaskQuery`] | `InfrastructureTaskQuery` |
//! | [`FindInfrastructureRequest`] | `FindInfrastructureRequest` |
//! | [`FindInfrastructureResponse`] | `FindInfrastructureResponse` (its `result` inline) |
//! | [`InfrastructureTask`] | `InfrastructureTask` |
//! | [`TaskStatus`] | `InfrastructureTaskStatus` |
//! | [`FailureDetails`] | `FailureDetails` |
//! | [`FailureCode`] | `FailureCode` |
//! | [`ErrorResponse`] | `ErrorResponse` |

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::Serialize;

use crate::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, DeploymentLocation, ErrorResponse, FailureCode, FailureDetails,
    FindInfrastructureRequest, FindInfrastructureResponse, InfrastructureTask,
    InfrastructureTaskQuery, PropValue, PropValueMap, TaskStatus,
};

/// The schema of every error body (`{"localizedMessage", "status", ...}`), component
/// `ErrorResponse`: [`ErrorResponse`]'s own [`Type`], under the name the API glue has
/// always used (`ErrorResponseSchema::register(registry)`, then
/// `ErrorResponseSchema::schema_ref()`).
pub type ErrorResponseSchema = ErrorResponse;

/// Implements [`Type`] for `$ty` as the component `$name`, whose schema `$schema` is
/// built with `$registry` in scope (to register the components it refers to).
macro_rules! component {
    ($ty:ty, $name:literal, |$registry:ident| $schema:expr) => {
        impl Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Reference($name.to_owned())
            }

            fn register(registry: &mut Registry) {
                registry.create_schema::<Self, _>($name.to_owned(), |$registry| $schema);
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}

// The Resource Driver API's components: built with the macro and helpers above.
pub mod resource_driver;

/// Every [`TaskStatus`], in the contracts' order.
const TASK_STATUSES: [TaskStatus; 3] = [
    TaskStatus::InProgress,
    TaskStatus::Complete,
    TaskStatus::Failed,
];

/// Every [`FailureCode`], in the contracts' order.
const FAILURE_CODES: [FailureCode; 5] = [
    FailureCode::ResourceAlreadyExists,
    FailureCode::ResourceNotFound,
    FailureCode::InfrastructureError,
    FailureCode::InsufficientCapacity,
    FailureCode::InternalError,
];

/// A reference to `T`'s component, registering it.
fn reference<T: Type>(registry: &mut Registry) -> MetaSchemaRef {
    T::register(registry);
    T::schema_ref()
}

/// An inline schema.
fn inline(schema: MetaSchema) -> MetaSchemaRef {
    MetaSchemaRef::Inline(Box::new(schema))
}

/// `{type: string}`.
fn string() -> MetaSchemaRef {
    inline(MetaSchema::new("string"))
}

/// `{}`: any JSON value (also how `additionalProperties: true` is written).
fn any() -> MetaSchemaRef {
    inline(MetaSchema::ANY)
}

/// `{type: object, additionalProperties: {}}`: any JSON object.
fn any_object() -> MetaSchemaRef {
    inline(open(MetaSchema::new("object")))
}

/// `schema` with `additionalProperties: {}` (any extra field allowed).
fn open(schema: MetaSchema) -> MetaSchema {
    MetaSchema {
        additional_properties: Some(Box::new(any())),
        ..schema
    }
}

/// `{type: object, required, properties}`.
fn object(required: &[&'static str], properties: Vec<(&'static str, MetaSchemaRef)>) -> MetaSchema {
    MetaSchema {
        required: required.to_vec(),
        properties,
        ..MetaSchema::new("object")
    }
}

/// `{type: string, enum}`, the values being the serde names of `variants`.
fn string_enum<T: Serialize>(variants: &[T]) -> MetaSchema {
    MetaSchema {
        enum_items: variants
            .iter()
            .map(|v| serde_json::to_value(v).expect("an enum variant serialises"))
            .collect(),
        ..MetaSchema::new("string")
    }
}

component!(PropValue, "PropertyValue", |_registry| MetaSchema {
    description: Some(
        "a plain string, or a typed value such as {\"type\":\"string\",\"value\":\"x\"} or \
         {\"type\":\"key\",\"privateKey\":\"...\",\"publicKey\":\"...\",\"keyName\":\"...\"}"
    ),
    one_of: vec![
        string(),
        inline(open(object(
            &["type"],
            vec![
                ("type", string()),
                ("value", any()),
                ("privateKey", string()),
                ("publicKey", string()),
                ("keyName", string()),
            ],
        ))),
    ],
    ..MetaSchema::ANY
});

component!(PropValueMap, "Properties", |registry| MetaSchema {
    additional_properties: Some(Box::new(reference::<PropValue>(registry))),
    ..MetaSchema::new("object")
});

component!(DeploymentLocation, "DeploymentLocation", |_registry| open(
    object(
        &["name"],
        vec![
            ("name", string()),
            ("type", string()),
            ("properties", any_object()),
        ],
    )
));

component!(
    CreateInfrastructureRequest,
    "CreateInfrastructureRequest",
    |registry| object(
        &["template", "templateType", "deploymentLocation"],
        vec![
            ("template", string()),
            ("templateType", string()),
            ("systemProperties", reference::<PropValueMap>(registry)),
            ("properties", reference::<PropValueMap>(registry)),
            (
                "deploymentLocation",
                reference::<DeploymentLocation>(registry)
            ),
        ],
    )
);

component!(
    CreateInfrastructureResponse,
    "CreateInfrastructureResponse",
    |_registry| object(
        &["infrastructureId", "requestId"],
        vec![("infrastructureId", string()), ("requestId", string())],
    )
);

component!(
    DeleteInfrastructureRequest,
    "DeleteInfrastructureRequest",
    |registry| object(
        &["infrastructureId", "deploymentLocation"],
        vec![
            ("infrastructureId", string()),
            (
                "deploymentLocation",
                reference::<DeploymentLocation>(registry)
            ),
        ],
    )
);

component!(
    DeleteInfrastructureResponse,
    "DeleteInfrastructureResponse",
    |_registry| object(
        &["infrastructureId", "requestId"],
        vec![("infrastructureId", string()), ("requestId", string())],
    )
);

component!(
    InfrastructureTaskQuery,
    "InfrastructureTaskQuery",
    |registry| object(
        &["infrastructureId", "requestId", "deploymentLocation"],
        vec![
            ("infrastructureId", string()),
            ("requestId", string()),
            (
                "deploymentLocation",
                reference::<DeploymentLocation>(registry)
            ),
        ],
    )
);

component!(
    FindInfrastructureRequest,
    "FindInfrastructureRequest",
    |registry| object(
        &[
            "template",
            "templateType",
            "instanceName",
            "deploymentLocation"
        ],
        vec![
            ("template", string()),
            ("templateType", string()),
            ("instanceName", string()),
            (
                "deploymentLocation",
                reference::<DeploymentLocation>(registry)
            ),
        ],
    )
);

component!(
    FindInfrastructureResponse,
    "FindInfrastructureResponse",
    |_registry| object(
        &[],
        vec![(
            "result",
            inline(MetaSchema {
                nullable: true,
                ..object(
                    &["infrastructureId"],
                    vec![("infrastructureId", string()), ("outputs", any_object())],
                )
            }),
        )],
    )
);

component!(InfrastructureTask, "InfrastructureTask", |registry| {
    MetaSchema {
        description: Some(
            "also the JSON value of every event on the infrastructure task events topic",
        ),
        ..object(
            &["infrastructureId", "requestId", "status"],
            vec![
                ("infrastructureId", string()),
                ("requestId", string()),
                ("status", reference::<TaskStatus>(registry)),
                ("failureDetails", reference::<FailureDetails>(registry)),
                ("outputs", any_object()),
            ],
        )
    }
});

component!(TaskStatus, "InfrastructureTaskStatus", |_registry| {
    string_enum(&TASK_STATUSES)
});

component!(FailureDetails, "FailureDetails", |registry| object(
    &["failureCode"],
    vec![
        ("failureCode", reference::<FailureCode>(registry)),
        ("description", string()),
    ],
));

component!(FailureCode, "FailureCode", |_registry| string_enum(
    &FAILURE_CODES
));

component!(ErrorResponse, "ErrorResponse", |_registry| open(object(
    &["localizedMessage", "status"],
    vec![
        ("localizedMessage", string()),
        ("status", inline(MetaSchema::new("integer"))),
    ],
)));

/// Registers every component of the Infrastructure API contract into `registry`.
pub fn register_all(registry: &mut Registry) {
    // The four requests and four responses reach every other component.
    CreateInfrastructureRequest::register(registry);
    CreateInfrastructureResponse::register(registry);
    DeleteInfrastructureRequest::register(registry);
    DeleteInfrastructureResponse::register(registry);
    InfrastructureTaskQuery::register(registry);
    InfrastructureTask::register(registry);
    FindInfrastructureRequest::register(registry);
    FindInfrastructureResponse::register(registry);
    ErrorResponse::register(registry);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_components() {
        assert_eq!(
            TaskStatus::schema_ref(),
            MetaSchemaRef::Reference("InfrastructureTaskStatus".into())
        );
        assert_eq!(PropValueMap::name(), "Properties");
        let mut registry = Registry::new();
        PropValueMap::register(&mut registry);
        let names: Vec<_> = registry.schemas.keys().map(String::as_str).collect();
        assert_eq!(names, ["Properties", "PropertyValue"]);
    }

    #[test]
    fn enum_values_are_the_serde_names() {
        let mut registry = Registry::new();
        FailureCode::register(&mut registry);
        let values = &registry.schemas["FailureCode"].enum_items;
        assert_eq!(values[0], "RESOURCE_ALREADY_EXISTS");
        assert_eq!(values.len(), 5);
    }
}
