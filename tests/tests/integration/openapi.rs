//! The generated OpenAPI document: compatible with the contract, and equal to the copy
//! checked into the repo (regenerate with `UPDATE_OPENAPI=1 cargo test -p ignition-tests`).

use ignition::prelude::*;
use ignition_openapi::{compat, CONTRACT_YAML};

const CHECKED_IN: &str = "../ignition-openapi/openapi/infrastructure-api.generated.yaml";

fn checked_in_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CHECKED_IN)
}

#[test]
fn the_generated_spec_is_compatible_with_the_contract() {
    let (app, _) = ignition_tests::scripted_app();
    for spec in [
        app.openapi_yaml(),
        app.openapi_json(),
        App::new("x").openapi_yaml(),
    ] {
        let problems = compat::check_yaml(CONTRACT_YAML, &spec).expect("both parse");
        assert!(
            problems.is_empty(),
            "incompatible with the contract:\n{}",
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        let contract: serde_json::Value = serde_yaml_value(CONTRACT_YAML);
        let generated: serde_json::Value = serde_yaml_value(&spec);
        let problems = compat::check_components(&contract, &generated);
        assert!(problems.is_empty(), "components differ:\n{problems:?}");
    }
}

fn serde_yaml_value(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).expect("YAML or JSON")
}

#[test]
fn the_checked_in_spec_has_not_drifted() {
    let (app, _) = ignition_tests::scripted_app();
    let generated = app.openapi_yaml();
    let path = checked_in_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
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
fn every_operation_lists_the_statuses_its_errors_produce() {
    let (app, _) = ignition_tests::scripted_app();
    let spec: serde_json::Value = serde_json::from_str(&app.openapi_json()).unwrap();
    for (path, success) in [
        ("/create", "202"),
        ("/delete", "202"),
        ("/query", "200"),
        ("/find", "200"),
    ] {
        let responses = spec["paths"][path]["post"]["responses"]
            .as_object()
            .unwrap();
        for status in [success, "400", "500", "503"] {
            assert!(responses.contains_key(status), "{path} lacks {status}");
        }
    }
}
