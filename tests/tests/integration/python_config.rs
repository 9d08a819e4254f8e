//! A Python driver's configuration file, as deployed next to a real LM: it boots, with
//! one WARN per key the framework ignores (naming the file), while a misspelt key of the
//! framework's own still stops start-up.

use std::sync::{Arc, Mutex};

use ignition::prelude::*;
use ignition_tests::log_capture::Logs;
use ignition_tests::ScriptedDriver;
use serde_json::Value;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/python-openstack-driver.yml"
);

/// What the openstack section of the Python fixture holds.
#[derive(Debug, serde::Deserialize)]
struct OpenstackProperties {
    default_timeout: u64,
    stack_name_creator: StackNames,
}

#[derive(Debug, serde::Deserialize)]
struct StackNames {
    limit: u32,
}

#[tokio::test]
async fn a_python_drivers_configuration_boots_with_a_warning_per_ignored_key() {
    let seen = Arc::new(Mutex::new(None));
    let seen_in_driver = seen.clone();
    let app = App::new("Openstack VIM Driver")
        .config_file(FIXTURE)
        .property("messaging.connection_address", Value::Null)
        .property("application.port", 0)
        .driver_with(move |ctx: DriverContext| async move {
            let props: OpenstackProperties = ctx.properties("openstack")?;
            *seen_in_driver.lock().unwrap() =
                Some((props.default_timeout, props.stack_name_creator.limit));
            Ok(ScriptedDriver::new().0)
        });
    let config = app.config().expect("the Python configuration is accepted");
    assert!(config.infrastructure.async_messaging_enabled);
    assert_eq!(config.messaging.topics.job_queue.name, "ovd_job_queue");
    assert_eq!(config.job_queue.consumer_group_id, "ovd_job_queue_consumer");
    let logs = Logs::capture(tracing::Level::WARN);
    let running = app.start().await.expect("starts");
    let warnings = logs.lines();
    drop(logs);
    assert_eq!(
        *seen.lock().unwrap(),
        Some((30, 45)),
        "the driver read its section"
    );
    for key in [
        "application.connexion_init_props",
        "application.connexion_runtime_props",
        "api",
        "bootstrap.management",
        "bootstrap.request_queue",
        "bootstrap.messaging.inbox_enabled",
        "infrastructure.request_queue",
    ] {
        let lines: Vec<&String> = warnings
            .iter()
            .filter(|line| line.contains(&format!("`{key}`")))
            .collect();
        assert_eq!(lines.len(), 1, "one WARN for {key}: {warnings:#?}");
        assert!(
            lines[0].contains("python-openstack-driver.yml"),
            "names the file: {}",
            lines[0]
        );
    }
    assert!(
        !warnings.iter().any(|line| line.contains("`openstack")),
        "the driver's section is not the framework's business: {warnings:#?}"
    );
    running.shutdown().await;
}

#[test]
fn a_misspelt_framework_key_still_fails_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.yml");
    std::fs::write(
        &file,
        "application:\n  prot: 8080\nopenstack:\n  anything: 1\n",
    )
    .unwrap();
    let message = App::new("x")
        .config_file(&file)
        .config()
        .unwrap_err()
        .to_string();
    assert!(message.contains("application.prot"), "{message}");
    assert!(message.contains("did you mean `port`?"), "{message}");
    assert!(message.contains(file.to_str().unwrap()), "{message}");
}
