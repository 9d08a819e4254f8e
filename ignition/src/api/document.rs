//! An API kind's OpenAPI document, as served and as `App::openapi_*` give it: poem-openapi's,
//! with every component the API registers.
//!
//! poem-openapi leaves out of its document every schema that no operation reaches
//! (`Document::remove_unused_schemas`). An API may register more on purpose: the Resource
//! Driver API registers its event, `LifecycleExecution` (with `ExecutionStatus` and
//! `FailureDetails`), which is a message on Kafka and no operation's answer, yet a
//! component of its contract. Those are put back here, in poem's (alphabetical) order.

use std::collections::BTreeMap;

use poem::endpoint::make_sync;
use poem::{Endpoint, Response};
use poem_openapi::registry::Registry;
use poem_openapi::{OpenApi, OpenApiService};
use serde_json::Value;

/// The document of `docs`, as JSON and as YAML.
pub(super) struct Document {
    pub(super) json: String,
    pub(super) yaml: String,
}

impl Document {
    /// poem-openapi's document of `docs` with every schema `A` registers.
    pub(super) fn of<A: OpenApi>(docs: &OpenApiService<A, ()>) -> Self {
        let json = docs.spec();
        let mut registry = Registry::new();
        A::register(&mut registry);
        match with_schemas(&json, registry) {
            Some(document) => Self {
                // Written as poem-openapi writes its own (`spec`, `spec_yaml`); a
                // document of JSON values always serialises.
                json: serde_json::to_string_pretty(&document).unwrap_or(json),
                yaml: serde_yaml::to_string(&document).unwrap_or_else(|_| docs.spec_yaml()),
            },
            None => Self {
                json,
                yaml: docs.spec_yaml(),
            },
        }
    }

    /// The JSON document as poem-openapi's `spec_endpoint` serves it.
    pub(super) fn json_endpoint(&self) -> impl Endpoint + 'static {
        let json = self.json.clone();
        make_sync(move |_| {
            Response::builder()
                .content_type("application/json")
                .body(json.clone())
        })
    }

    /// The YAML document as poem-openapi's `spec_endpoint_yaml` serves it.
    pub(super) fn yaml_endpoint(&self) -> impl Endpoint + 'static {
        let yaml = self.yaml.clone();
        make_sync(move |_| {
            Response::builder()
                .content_type("application/x-yaml")
                .header("Content-Disposition", "inline; filename=\"spec.yaml\"")
                .body(yaml.clone())
        })
    }
}

/// The document `json` with the schemas of `registry` it lacks; `None` when it lacks none
/// (or is not the document poem-openapi writes), so that it is kept byte for byte.
fn with_schemas(json: &str, registry: Registry) -> Option<Value> {
    let mut document: Value = serde_json::from_str(json).ok()?;
    let schemas = document
        .as_object_mut()?
        .entry("components")
        .or_insert_with(|| Value::Object(Default::default()))
        .as_object_mut()?
        .entry("schemas")
        .or_insert_with(|| Value::Object(Default::default()))
        .as_object_mut()?;
    let missing: Vec<(String, Value)> = registry
        .schemas
        .into_iter()
        .filter(|(name, _)| !schemas.contains_key(name))
        .filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let sorted: BTreeMap<String, Value> =
        std::mem::take(schemas).into_iter().chain(missing).collect();
    schemas.extend(sorted);
    Some(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_schemas_are_added_in_order_and_a_complete_document_is_kept() {
        let json = r#"{"openapi":"3.0.0","components":{"schemas":{"B":{"type":"string"}}}}"#;
        assert_eq!(with_schemas(json, Registry::new()), None);
        let mut registry = Registry::new();
        registry.schemas.insert(
            "C".into(),
            poem_openapi::registry::MetaSchema::new("integer"),
        );
        registry.schemas.insert(
            "A".into(),
            poem_openapi::registry::MetaSchema::new("string"),
        );
        registry.schemas.insert(
            "B".into(),
            poem_openapi::registry::MetaSchema::new("number"),
        );
        let document = with_schemas(json, registry).expect("A and C added");
        let names: Vec<&String> = document["components"]["schemas"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
        assert_eq!(
            document["components"]["schemas"]["B"]["type"], "string",
            "a schema of the document is kept"
        );
        assert_eq!(document["components"]["schemas"]["C"]["type"], "integer");
    }
}
