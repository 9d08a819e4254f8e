//! What the schema tests of both contracts share: a generated document, component
//! names, and whether a serde value fits a schema.

use poem_openapi::registry::Registry;
use serde::Serialize;
use serde_json::{json, Value};

/// A contract (YAML) as JSON.
pub(crate) fn parse(contract_yaml: &str) -> Value {
    serde_yaml::from_str(contract_yaml).unwrap()
}

/// A document holding only the components `register` puts into a poem-openapi registry.
pub(crate) fn generated(register: fn(&mut Registry)) -> Value {
    let mut registry = Registry::new();
    register(&mut registry);
    json!({ "components": { "schemas": registry.schemas } })
}

/// The names of a document's `components.schemas`, sorted.
pub(crate) fn component_names(doc: &Value) -> Vec<String> {
    let mut names: Vec<_> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

/// Whether `value` fits `schema` (the subset of OpenAPI the contracts use), following
/// `$ref`s within `doc`; the error names the JSON path of the value. Stricter than
/// OpenAPI in one way: an object schema without `additionalProperties` allows no other
/// field, so a stray field is caught. `{}` allows anything.
pub(crate) fn fits(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if schema.as_object().is_some_and(|schema| schema.is_empty()) {
        return Ok(());
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let target = doc.pointer(&reference[1..]).expect("a resolvable $ref");
        return fits(doc, target, value, at);
    }
    if let Some(one_of) = schema["oneOf"].as_array() {
        let matches = one_of.iter().filter(|s| fits(doc, s, value, at).is_ok());
        return match matches.count() {
            1 => Ok(()),
            n => Err(format!("{at}: {value} fits {n} of oneOf")),
        };
    }
    if value.is_null() && schema["nullable"] == true {
        return Ok(());
    }
    let kind = match value {
        Value::String(_) => "string",
        Value::Object(_) => "object",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        _ => "other",
    };
    if let Some(ty) = schema["type"].as_str() {
        if ty != kind {
            return Err(format!("{at}: {value} is not a {ty}"));
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        if !values.contains(value) {
            return Err(format!("{at}: {value} is not one of {values:?}"));
        }
    }
    let Value::Object(object) = value else {
        return Ok(());
    };
    for name in schema["required"].as_array().into_iter().flatten() {
        if !object.contains_key(name.as_str().unwrap()) {
            return Err(format!("{at}: {name} is missing"));
        }
    }
    for (name, item) in object {
        let at = format!("{at}.{name}");
        match (
            schema["properties"].get(name),
            &schema["additionalProperties"],
        ) {
            (Some(property), _) => fits(doc, property, item, &at)?,
            (None, Value::Bool(true)) => {}
            (None, Value::Object(extra)) => fits(doc, &Value::Object(extra.clone()), item, &at)?,
            (None, _) => return Err(format!("{at}: not a property of the schema")),
        }
    }
    Ok(())
}

/// Asserts that the serde JSON of `value` fits the component named `T::name()` in each
/// of `docs`.
pub(crate) fn assert_fits<T: Serialize + poem_openapi::types::Type>(value: &T, docs: &[&Value]) {
    let json = serde_json::to_value(value).unwrap();
    let name = T::name();
    for doc in docs {
        let schema = &doc["components"]["schemas"][name.as_ref()];
        assert!(schema.is_object(), "no component {name}");
        if let Err(e) = fits(doc, schema, &json, &name) {
            panic!("{e}\n{json:#}");
        }
    }
}
