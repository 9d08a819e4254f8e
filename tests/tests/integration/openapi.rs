//! The generated OpenAPI documents of both API kinds: compatible with their contracts, and
//! equal to the copies checked into the repo (regenerate with
//! `UPDATE_OPENAPI=1 cargo test -p ignition-tests openapi`).

use ignition::prelude::*;
use ignition_openapi::{compat, CONTRACT_YAML, RESOURCE_DRIVER_CONTRACT_YAML};

/// The checked-in document of a VIM driver (the Infrastructure API).
const CHECKED_IN: &str = "../ignition-openapi/openapi/infrastructure-api.generated.yaml";

/// The checked-in document of a resource driver (the Resource Driver API).
const RESOURCE_CHECKED_IN: &str = "../ignition-openapi/openapi/resource-driver-api.generated.yaml";

fn checked_in_path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Asserts `spec` (YAML or JSON) keeps `contract`: its operations and every component.
fn assert_compatible(contract_yaml: &str, spec: &str) {
    let problems = compat::check_yaml(contract_yaml, spec).expect("both parse");
    assert!(
        problems.is_empty(),
        "incompatible with the contract:\n{}",
        problems
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    let contract: serde_json::Value = serde_yaml_value(contract_yaml);
    let generated: serde_json::Value = serde_yaml_value(spec);
    let problems = compat::check_components(&contract, &generated);
    assert!(problems.is_empty(), "components differ:\n{problems:?}");
}

/// Asserts the copy at `relative` is `generated`; writes it first under `UPDATE_OPENAPI`.
fn assert_no_drift(relative: &str, generated: &str) {
    let path = checked_in_path(relative);
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} differs from the generated spec; review the change and regenerate with \
         `UPDATE_OPENAPI=1 cargo test -p ignition-tests openapi`",
        path.display()
    );
}

#[test]
fn the_generated_spec_is_compatible_with_the_contract() {
    let (app, _) = ignition_tests::scripted_app();
    for spec in [
        app.openapi_yaml(),
        app.openapi_json(),
        App::new("x").openapi_yaml(),
    ] {
        assert_compatible(CONTRACT_YAML, &spec);
    }
}

fn serde_yaml_value(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).expect("YAML or JSON")
}

#[test]
fn the_checked_in_spec_has_not_drifted() {
    let (app, _) = ignition_tests::scripted_app();
    assert_no_drift(CHECKED_IN, &app.openapi_yaml());
}

#[test]
fn every_operation_lists_the_statuses_its_errors_produce() {
    let (app, _) = ignition_tests::scripted_app();
    assert_statuses(
        &app.openapi_json(),
        &[
            ("/create", "202"),
            ("/delete", "202"),
            ("/query", "200"),
            ("/find", "200"),
        ],
    );
}

/// Asserts each `(path, success)` of `spec` lists its success and the contract's errors.
fn assert_statuses(spec: &str, operations: &[(&str, &str)]) {
    let spec: serde_json::Value = serde_json::from_str(spec).unwrap();
    for (path, success) in operations {
        let responses = spec["paths"][path]["post"]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("no POST {path}"));
        for status in [success, &"400", &"500", &"503"] {
            assert!(responses.contains_key(*status), "{path} lacks {status}");
        }
    }
}

#[test]
fn the_generated_resource_driver_spec_is_compatible_with_its_contract() {
    let (app, _) = ignition_tests::resource_driver::resource_app();
    for spec in [app.openapi_yaml(), app.openapi_json()] {
        assert_compatible(RESOURCE_DRIVER_CONTRACT_YAML, &spec);
    }
    // Not the other contract: a resource driver's document has none of its paths.
    let problems = compat::check_yaml(CONTRACT_YAML, &app.openapi_yaml()).unwrap();
    assert!(!problems.is_empty());
}

#[test]
fn the_checked_in_resource_driver_spec_has_not_drifted() {
    let (app, _) = ignition_tests::resource_driver::resource_app();
    assert_no_drift(RESOURCE_CHECKED_IN, &app.openapi_yaml());
}

#[test]
fn every_resource_driver_operation_lists_the_statuses_its_errors_produce() {
    let (app, _) = ignition_tests::resource_driver::resource_app();
    assert_statuses(
        &app.openapi_json(),
        &[("/lifecycle/execute", "202"), ("/references/find", "200")],
    );
}
