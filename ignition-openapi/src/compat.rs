//! Whether a generated OpenAPI document still agrees with the contract.
//!
//! The generated document may add things (paths, methods, response statuses, content
//! types, properties), never remove or rename them:
//!
//! - the contract's `servers[0].url` is one of the generated `servers`;
//! - every contract path and method exists, with the same `operationId`;
//! - a contract `requestBody` exists, equally `required`, with every contract content
//!   type and a compatible schema;
//! - every contract response status exists, with every contract content type and a
//!   compatible schema.
//!
//! Two schemas are compatible when, after following `$ref`s on both sides (local
//! references of any kind: `#/components/schemas/..`, `#/components/responses/..`):
//! their `type` is the same; a contract `format` (e.g. `byte`: base64 text) is the
//! generated one's too; every contract property exists and is compatible;
//! `required` and `enum` are equal as sets; `nullable` is equal; `oneOf`, `anyOf` and
//! `allOf` are compatible position by position; `items` are compatible; and
//! `additionalProperties` are equivalent, where absent, `true` and `{}` all mean "any".
//!
//! [`check`] compares operations; [`check_components`] compares `components.schemas`
//! by name. Nothing here knows either contract: both the Infrastructure API's
//! ([`crate::CONTRACT_YAML`]) and the Resource Driver API's
//! ([`crate::RESOURCE_DRIVER_CONTRACT_YAML`]) are checked the same way.

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

/// One way in which a generated document differs from the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Where, as dot-separated keys of the contract, e.g. `paths./create.post.responses.503`.
    /// Inside a schema reached through a contract `$ref`, the path starts at the
    /// referenced component, e.g. `components.schemas.FailureCode.enum`.
    pub path: String,
    /// What is wrong there, e.g. `missing`.
    pub message: String,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Compares the servers and operations of `generated` with those of `contract` (both
/// whole OpenAPI 3 documents); empty when compatible.
pub fn check(contract: &Value, generated: &Value) -> Vec<Incompatibility> {
    let mut checker = Checker::new(contract, generated);
    checker.servers();
    checker.paths();
    checker.found
}

/// Compares every schema of the contract's `components.schemas` with the generated
/// schema of the same name; empty when compatible.
pub fn check_components(contract: &Value, generated: &Value) -> Vec<Incompatibility> {
    let mut checker = Checker::new(contract, generated);
    let generated_schemas = &generated["components"]["schemas"];
    for (name, schema) in entries(&contract["components"]["schemas"]) {
        let path = format!("components.schemas.{name}");
        match generated_schemas.get(name) {
            Some(generated) => checker.schema(path, schema, generated),
            None => checker.report(path, "missing"),
        }
    }
    checker.found
}

/// [`check`] for documents in YAML (or JSON, which is YAML too).
///
/// # Errors
///
/// A message naming the document that is not valid YAML.
pub fn check_yaml(
    contract_yaml: &str,
    generated_yaml_or_json: &str,
) -> Result<Vec<Incompatibility>, String> {
    let contract = parse_yaml(contract_yaml).map_err(|e| format!("contract: {e}"))?;
    let generated =
        parse_yaml(generated_yaml_or_json).map_err(|e| format!("generated document: {e}"))?;
    Ok(check(&contract, &generated))
}

/// A YAML document as JSON (non-string keys, such as unquoted statuses, become strings).
fn parse_yaml(text: &str) -> Result<Value, String> {
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    serde_json::to_value(yaml).map_err(|e| e.to_string())
}

/// The entries of a JSON object (none for anything else).
fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

/// A JSON value for messages; `none` when absent.
fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "none".to_owned(), Value::to_string)
}

/// The HTTP methods of an OpenAPI path item.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// How many `$ref`s in a row are followed before giving up.
const MAX_REF_CHAIN: usize = 32;

/// A node after following its `$ref`s, and the last reference followed.
struct Resolved<'a> {
    node: &'a Value,
    reference: Option<&'a str>,
}

/// The state of one comparison.
struct Checker<'a> {
    contract: &'a Value,
    generated: &'a Value,
    found: Vec<Incompatibility>,
    /// Pairs (contract node, generated node) of schemas already compared: a schema
    /// reached twice (through `$ref`s) is reported once, and recursive schemas end.
    compared: HashSet<(*const Value, *const Value)>,
}

impl<'a> Checker<'a> {
    fn new(contract: &'a Value, generated: &'a Value) -> Self {
        Self {
            contract,
            generated,
            found: Vec::new(),
            compared: HashSet::new(),
        }
    }

    fn report(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.found.push(Incompatibility {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Follows the `$ref`s of `node` within `doc`.
    fn resolve(doc: &'a Value, mut node: &'a Value) -> Result<Resolved<'a>, String> {
        let mut reference = None;
        for _ in 0..MAX_REF_CHAIN {
            let Some(target) = node.get("$ref").and_then(Value::as_str) else {
                return Ok(Resolved { node, reference });
            };
            node = target
                .strip_prefix('#')
                .and_then(|pointer| doc.pointer(pointer))
                .ok_or_else(|| format!("unresolvable $ref {target:?}"))?;
            reference = Some(target);
        }
        Err(format!("more than {MAX_REF_CHAIN} $refs in a row"))
    }

    /// Resolves a contract node and a generated node; reports at `path` and gives `None`
    /// when either cannot be resolved.
    fn resolve_pair(
        &mut self,
        path: &str,
        contract: &'a Value,
        generated: &'a Value,
    ) -> Option<(Resolved<'a>, Resolved<'a>)> {
        let resolved = Self::resolve(self.contract, contract)
            .map_err(|e| format!("in the contract: {e}"))
            .and_then(|c| {
                let g = Self::resolve(self.generated, generated)
                    .map_err(|e| format!("in the generated document: {e}"))?;
                Ok((c, g))
            });
        match resolved {
            Ok(pair) => Some(pair),
            Err(e) => {
                self.report(path, e);
                None
            }
        }
    }

    /// Reports `contract` and `generated` as different at `path`.
    fn mismatch(&mut self, path: String, contract: Option<&Value>, generated: Option<&Value>) {
        self.report(
            path,
            format!(
                "contract says {}, generated says {}",
                show(contract),
                show(generated)
            ),
        );
    }

    fn servers(&mut self) {
        let Some(url) = self.contract["servers"][0]["url"].as_str() else {
            return;
        };
        let generated = self.generated["servers"].as_array().into_iter().flatten();
        if !generated.clone().any(|server| server["url"] == url) {
            self.report(
                "servers",
                format!("no generated server has the url {url:?}"),
            );
        }
    }

    fn paths(&mut self) {
        for (name, item) in entries(&self.contract["paths"]) {
            let path = format!("paths.{name}");
            let Some(generated_item) = self.generated["paths"].get(name) else {
                self.report(path, "missing");
                continue;
            };
            for method in METHODS {
                let Some(operation) = item.get(method) else {
                    continue;
                };
                let path = format!("{path}.{method}");
                match generated_item.get(method) {
                    Some(generated) => self.operation(&path, operation, generated),
                    None => self.report(path, "missing"),
                }
            }
        }
    }

    fn operation(&mut self, path: &str, contract: &'a Value, generated: &'a Value) {
        let id = contract.get("operationId");
        if id.is_some() && id != generated.get("operationId") {
            self.mismatch(
                format!("{path}.operationId"),
                id,
                generated.get("operationId"),
            );
        }

        if let Some(body) = contract.get("requestBody") {
            let path = format!("{path}.requestBody");
            match generated.get("requestBody") {
                Some(generated) => self.request_body(path, body, generated),
                None => self.report(path, "missing"),
            }
        }

        for (status, response) in entries(&contract["responses"]) {
            let path = format!("{path}.responses.{status}");
            match generated["responses"].get(status) {
                Some(generated) => {
                    if let Some((c, g)) = self.resolve_pair(&path, response, generated) {
                        self.content(&path, c.node, g.node);
                    }
                }
                None => self.report(path, "missing"),
            }
        }
    }

    fn request_body(&mut self, path: String, contract: &'a Value, generated: &'a Value) {
        let Some((c, g)) = self.resolve_pair(&path, contract, generated) else {
            return;
        };
        let required = |body: &Value| Value::Bool(body["required"].as_bool().unwrap_or(false));
        let (c_required, g_required) = (required(c.node), required(g.node));
        if c_required != g_required {
            self.mismatch(
                format!("{path}.required"),
                Some(&c_required),
                Some(&g_required),
            );
        }
        self.content(&path, c.node, g.node);
    }

    /// Compares the `content` of a request body or response.
    fn content(&mut self, path: &str, contract: &'a Value, generated: &'a Value) {
        for (media_type, media) in entries(&contract["content"]) {
            let path = format!("{path}.content.{media_type}");
            let Some(generated) = generated["content"].get(media_type) else {
                self.report(path, "missing");
                continue;
            };
            if let Some(schema) = media.get("schema") {
                let path = format!("{path}.schema");
                match generated.get("schema") {
                    Some(generated) => self.schema(path, schema, generated),
                    None => self.report(path, "missing"),
                }
            }
        }
    }

    /// Compares two schemas (see the module documentation). Below a contract `$ref`,
    /// the path starts at the referenced component.
    fn schema(&mut self, path: String, contract: &'a Value, generated: &'a Value) {
        let Some((c, g)) = self.resolve_pair(&path, contract, generated) else {
            return;
        };
        let path = match c.reference {
            Some(reference) => reference.trim_start_matches("#/").replace('/', "."),
            None => path,
        };
        if !self.compared.insert((c.node, g.node)) {
            return;
        }
        let (c, g) = (c.node, g.node);

        if c.get("type") != g.get("type") {
            self.mismatch(format!("{path}.type"), c.get("type"), g.get("type"));
        }
        if c.get("format").is_some() && c.get("format") != g.get("format") {
            self.mismatch(format!("{path}.format"), c.get("format"), g.get("format"));
        }
        let nullable = |schema: &Value| schema["nullable"].as_bool().unwrap_or(false);
        if nullable(c) != nullable(g) {
            self.mismatch(
                format!("{path}.nullable"),
                c.get("nullable"),
                g.get("nullable"),
            );
        }

        for key in ["required", "enum"] {
            let set = |schema: &'a Value| -> Vec<&'a Value> {
                schema[key].as_array().into_iter().flatten().collect()
            };
            let (c_set, g_set) = (set(c), set(g));
            let only = |a: &[&'a Value], b: &[&'a Value]| -> Vec<String> {
                a.iter()
                    .filter(|v| !b.contains(v))
                    .map(|v| v.to_string())
                    .collect()
            };
            let (missing, added) = (only(&c_set, &g_set), only(&g_set, &c_set));
            if !missing.is_empty() || !added.is_empty() {
                self.report(
                    format!("{path}.{key}"),
                    format!(
                        "missing [{}], added [{}]",
                        missing.join(", "),
                        added.join(", ")
                    ),
                );
            }
        }

        for (name, property) in entries(&c["properties"]) {
            let path = format!("{path}.properties.{name}");
            match g["properties"].get(name) {
                Some(generated) => self.schema(path, property, generated),
                None => self.report(path, "missing"),
            }
        }

        if let Some(items) = c.get("items") {
            let path = format!("{path}.items");
            match g.get("items") {
                Some(generated) => self.schema(path, items, generated),
                None => self.report(path, "missing"),
            }
        }

        for key in ["oneOf", "anyOf", "allOf"] {
            let (c_list, g_list) = (&c[key], &g[key]);
            let (c_len, g_len) = (len(c_list), len(g_list));
            if c_len != g_len {
                self.report(
                    format!("{path}.{key}"),
                    format!("contract has {c_len} schemas, generated has {g_len}"),
                );
            }
            let pairs = c_list.as_array().into_iter().flatten();
            for (i, (c_item, g_item)) in pairs
                .zip(g_list.as_array().into_iter().flatten())
                .enumerate()
            {
                self.schema(format!("{path}.{key}.{i}"), c_item, g_item);
            }
        }

        self.additional_properties(
            format!("{path}.additionalProperties"),
            c.get("additionalProperties"),
            g.get("additionalProperties"),
        );
    }

    fn additional_properties(
        &mut self,
        path: String,
        contract: Option<&'a Value>,
        generated: Option<&'a Value>,
    ) {
        match (Extra::of(contract), Extra::of(generated)) {
            (Extra::Any, Extra::Any) | (Extra::None, Extra::None) => {}
            (Extra::Schema(c), Extra::Schema(g)) => self.schema(path, c, g),
            _ => self.mismatch(path, contract, generated),
        }
    }
}

/// The length of a JSON array (0 for anything else).
fn len(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// What `additionalProperties` allows.
enum Extra<'a> {
    /// Anything: absent, `true` or `{}`.
    Any,
    /// Nothing: `false`.
    None,
    /// Values of this schema.
    Schema(&'a Value),
}

impl<'a> Extra<'a> {
    fn of(value: Option<&'a Value>) -> Self {
        match value {
            None | Some(Value::Bool(true)) => Self::Any,
            Some(Value::Bool(false)) => Self::None,
            Some(Value::Object(o)) if o.is_empty() => Self::Any,
            Some(schema) => Self::Schema(schema),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contract() -> Value {
        parse_yaml(crate::CONTRACT_YAML).unwrap()
    }

    /// The incompatibilities of a copy of the Infrastructure API contract changed by
    /// `mutate`, as text.
    fn after(mutate: impl FnOnce(&mut Value)) -> Vec<String> {
        after_in(crate::CONTRACT_YAML, mutate)
    }

    /// The incompatibilities of a copy of `contract_yaml` changed by `mutate`, as text.
    fn after_in(contract_yaml: &str, mutate: impl FnOnce(&mut Value)) -> Vec<String> {
        let contract = parse_yaml(contract_yaml).unwrap();
        let mut generated = contract.clone();
        mutate(&mut generated);
        let mut found = check(&contract, &generated);
        found.extend(check_components(&contract, &generated));
        found.iter().map(ToString::to_string).collect()
    }

    /// Asserts that some incompatibility starts with `expected`.
    fn assert_found(found: &[String], expected: &str) {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "expected {expected:?} in {found:#?}"
        );
    }

    fn schemas(doc: &mut Value) -> &mut Value {
        &mut doc["components"]["schemas"]
    }

    #[test]
    fn the_contract_is_compatible_with_itself() {
        assert_eq!(after(|_| {}), Vec::<String>::new());
        let json = serde_json::to_string(&contract()).unwrap();
        assert_eq!(check_yaml(crate::CONTRACT_YAML, &json).unwrap(), vec![]);
    }

    #[test]
    fn the_resource_driver_contract_is_compatible_with_itself() {
        let yaml = crate::RESOURCE_DRIVER_CONTRACT_YAML;
        assert_eq!(after_in(yaml, |_| {}), Vec::<String>::new());
        let json = serde_json::to_string(&parse_yaml(yaml).unwrap()).unwrap();
        assert_eq!(check_yaml(yaml, &json).unwrap(), vec![]);
    }

    #[test]
    fn resource_driver_changes_are_found() {
        let yaml = crate::RESOURCE_DRIVER_CONTRACT_YAML;
        let found = after_in(yaml, |g| {
            g["servers"] = json!([{"url": "/api/infrastructure"}])
        });
        assert_eq!(
            found,
            [r#"servers: no generated server has the url "/api/driver""#]
        );
        let found = after_in(yaml, |g| {
            let paths = g["paths"].as_object_mut().unwrap();
            let find = paths.remove("/references/find").unwrap();
            paths.insert("/references/search".into(), find);
        });
        assert_eq!(found, ["paths./references/find: missing"]);
        let found = after_in(yaml, |g| {
            let result = &mut schemas(g)["FindReferenceResponse"]["properties"]["result"];
            result["nullable"] = json!(false);
        });
        assert_found(
            &found,
            "components.schemas.FindReferenceResponse.properties.result.nullable: contract says true, generated says false",
        );
        let found = after_in(yaml, |g| {
            let entry = &mut schemas(g)["AssociatedTopology"]["additionalProperties"];
            entry["properties"]["type"] = json!({"type": "integer"});
        });
        assert_found(
            &found,
            r#"components.schemas.AssociatedTopology.additionalProperties.properties.type.type: contract says "string", generated says "integer""#,
        );
    }

    #[test]
    fn a_dropped_or_changed_format_is_found() {
        let yaml = crate::RESOURCE_DRIVER_CONTRACT_YAML;
        let driver_files = |g: &mut Value| -> Value {
            schemas(g)["FindReferenceRequest"]["properties"]["driverFiles"].take()
        };
        let found = after_in(yaml, |g| {
            let mut schema = driver_files(g);
            schema.as_object_mut().unwrap().remove("format");
            schemas(g)["FindReferenceRequest"]["properties"]["driverFiles"] = schema;
        });
        assert_found(
            &found,
            r#"components.schemas.FindReferenceRequest.properties.driverFiles.format: contract says "byte", generated says none"#,
        );
        let found = after_in(yaml, |g| {
            let mut schema = driver_files(g);
            schema["format"] = json!("binary");
            schemas(g)["FindReferenceRequest"]["properties"]["driverFiles"] = schema;
        });
        assert_found(
            &found,
            r#"components.schemas.FindReferenceRequest.properties.driverFiles.format: contract says "byte", generated says "binary""#,
        );
        // A format where the contract has none is an addition.
        let found = after_in(yaml, |g| {
            schemas(g)["ErrorResponse"]["properties"]["status"]["format"] = json!("int32");
        });
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn additions_are_compatible() {
        let found = after(|g| {
            g["paths"]["/extra"] = json!({"get": {"responses": {}}});
            g["paths"]["/create"]["post"]["responses"]["404"] = json!({"description": "x"});
            g["servers"] = json!([{"url": "/other"}, {"url": "/api/infrastructure"}]);
            let request = &mut schemas(g)["CreateInfrastructureRequest"];
            request["properties"]["extra"] = json!({"type": "string"});
            request["description"] = json!("more words");
        });
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn additional_properties_true_absent_and_empty_schema_are_equal() {
        let found = after(|g| {
            schemas(g)["ErrorResponse"]["additionalProperties"] = json!({});
            schemas(g)["CreateInfrastructureResponse"]["additionalProperties"] = json!(true);
        });
        assert_eq!(found, Vec::<String>::new());
        let found = after(|g| schemas(g)["ErrorResponse"]["additionalProperties"] = json!(false));
        assert_found(&found, "components.schemas.ErrorResponse.additionalProperties: contract says true, generated says false");
        let found = after(|g| {
            schemas(g)["Properties"]["additionalProperties"] = json!({"type": "string"});
        });
        // The path of a schema reached through a contract `$ref` starts at the component.
        assert_found(
            &found,
            r#"components.schemas.PropertyValue.type: contract says none, generated says "string""#,
        );
    }

    #[test]
    fn a_deleted_path_is_found() {
        let found = after(|g| {
            g["paths"].as_object_mut().unwrap().remove("/find");
        });
        assert_eq!(found, ["paths./find: missing"]);
        let found = after(|g| {
            let item = g["paths"]["/delete"].as_object_mut().unwrap();
            let operation = item.remove("post").unwrap();
            item.insert("put".into(), operation);
        });
        assert_eq!(found, ["paths./delete.post: missing"]);
    }

    #[test]
    fn a_changed_enum_value_is_found() {
        let found = after(|g| schemas(g)["FailureCode"]["enum"][4] = json!("INTERNAL"));
        assert_found(
            &found,
            r#"components.schemas.FailureCode.enum: missing ["INTERNAL_ERROR"], added ["INTERNAL"]"#,
        );
    }

    #[test]
    fn a_dropped_required_field_is_found() {
        let found = after(|g| {
            let required = schemas(g)["CreateInfrastructureRequest"]["required"].as_array_mut();
            required.unwrap().retain(|name| name != "templateType");
        });
        assert_found(
            &found,
            r#"components.schemas.CreateInfrastructureRequest.required: missing ["templateType"]"#,
        );
    }

    #[test]
    fn a_renamed_property_is_found() {
        let found = after(|g| {
            let properties = &mut schemas(g)["CreateInfrastructureResponse"]["properties"];
            let properties = properties.as_object_mut().unwrap();
            let id = properties.remove("requestId").unwrap();
            properties.insert("requestID".into(), id);
        });
        assert_found(
            &found,
            "components.schemas.CreateInfrastructureResponse.properties.requestId: missing",
        );
    }

    #[test]
    fn a_changed_property_type_is_found() {
        let found = after(|g| {
            schemas(g)["ErrorResponse"]["properties"]["status"]["type"] = json!("string");
        });
        assert_found(
            &found,
            r#"components.schemas.ErrorResponse.properties.status.type: contract says "integer", generated says "string""#,
        );
    }

    #[test]
    fn a_removed_status_is_found() {
        let found = after(|g| {
            let responses = &mut g["paths"]["/create"]["post"]["responses"];
            responses.as_object_mut().unwrap().remove("503");
        });
        assert_eq!(found, ["paths./create.post.responses.503: missing"]);
    }

    #[test]
    fn a_response_without_json_content_is_found() {
        let found = after(|g| {
            g["paths"]["/find"]["post"]["responses"]["400"] = json!({"description": "x"})
        });
        assert_eq!(
            found,
            ["paths./find.post.responses.400.content.application/json: missing"]
        );
    }

    #[test]
    fn a_changed_operation_id_is_found() {
        let found = after(|g| g["paths"]["/query"]["post"]["operationId"] = json!("queryTask"));
        assert_eq!(
            found,
            [r#"paths./query.post.operationId: contract says "query", generated says "queryTask""#]
        );
    }

    #[test]
    fn request_body_changes_are_found() {
        let found =
            after(|g| g["paths"]["/create"]["post"]["requestBody"]["required"] = json!(false));
        assert_eq!(
            found,
            ["paths./create.post.requestBody.required: contract says true, generated says false"]
        );
        let found = after(|g| {
            let content = &mut g["paths"]["/create"]["post"]["requestBody"]["content"];
            content["text/plain"] = content["application/json"].take();
            content.as_object_mut().unwrap().remove("application/json");
        });
        assert_eq!(
            found,
            ["paths./create.post.requestBody.content.application/json: missing"]
        );
    }

    #[test]
    fn schemas_are_followed_through_refs_on_both_sides() {
        // The generated document inlines what the contract refers to: still compatible.
        let found = after(|g| {
            let location = schemas(g)["DeploymentLocation"].clone();
            schemas(g)["FindInfrastructureRequest"]["properties"]["deploymentLocation"] = location;
            let error = g["components"]["responses"]["Error"].clone();
            g["paths"]["/find"]["post"]["responses"]["500"] = error;
        });
        assert_eq!(found, Vec::<String>::new());
        // A change in a component used by several operations is reported once.
        let mut contract = contract();
        let mut generated = contract.clone();
        schemas(&mut generated)["DeploymentLocation"]["properties"]["name"]["type"] = json!(1);
        let found = check(&contract, &generated);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].path,
            "components.schemas.DeploymentLocation.properties.name.type"
        );
        // The error responses are reached through `#/components/responses/Error`.
        schemas(&mut contract)["ErrorResponse"]["required"] = json!(["status"]);
        let found = check(&contract, &generated);
        assert_found(
            &found.iter().map(ToString::to_string).collect::<Vec<_>>(),
            r#"components.schemas.ErrorResponse.required: missing [], added ["localizedMessage"]"#,
        );
    }

    #[test]
    fn nullable_and_one_of_changes_are_found() {
        let found = after(|g| {
            let result = &mut schemas(g)["FindInfrastructureResponse"]["properties"]["result"];
            result.as_object_mut().unwrap().remove("nullable");
        });
        assert_found(
            &found,
            "components.schemas.FindInfrastructureResponse.properties.result.nullable",
        );
        let found = after(|g| {
            let one_of = schemas(g)["PropertyValue"]["oneOf"].as_array_mut().unwrap();
            one_of.reverse();
        });
        assert_found(&found, "components.schemas.PropertyValue.oneOf.0.type");
        let found = after(|g| {
            schemas(g)["PropertyValue"]["oneOf"]
                .as_array_mut()
                .unwrap()
                .pop();
        });
        assert_found(
            &found,
            "components.schemas.PropertyValue.oneOf: contract has 2 schemas, generated has 1",
        );
    }

    #[test]
    fn servers_must_include_the_contract_url() {
        let found = after(|g| g["servers"] = json!([{"url": "/api"}]));
        assert_eq!(
            found,
            [r#"servers: no generated server has the url "/api/infrastructure""#]
        );
    }

    #[test]
    fn recursive_and_broken_refs_end() {
        let recursive = json!({
            "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Tree"}}}}}}},
            "components": {"schemas": {"Tree": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}
            }}}
        });
        assert_eq!(check(&recursive, &recursive), vec![]);
        let mut broken = recursive.clone();
        broken["components"]["schemas"]["Tree"]["properties"]["children"]["items"] =
            json!({"$ref": "#/components/schemas/Nope"});
        let found = check(&recursive, &broken);
        assert_eq!(
            found.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                r##"components.schemas.Tree.properties.children.items: in the generated document: unresolvable $ref "#/components/schemas/Nope""##
            ]
        );
    }

    #[test]
    fn check_yaml_reports_bad_documents() {
        let err = check_yaml(crate::CONTRACT_YAML, "{").unwrap_err();
        assert!(err.starts_with("generated document: "), "{err}");
        let err = check_yaml(": :\n  - [", "{}").unwrap_err();
        assert!(err.starts_with("contract: "), "{err}");
        // Unquoted statuses are keys like any other.
        let found = check_yaml(
            "paths: {/a: {get: {responses: {200: {description: x}}}}}",
            "paths: {/a: {get: {responses: {'200': {description: y}}}}}",
        );
        assert_eq!(found.unwrap(), vec![]);
    }
}
