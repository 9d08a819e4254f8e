//! Configuration: defaults, file, env var, properties, and every way to get it wrong.

use std::io::Write;
use std::time::Duration;

use ignition::config::IgnitionConfig;
use ignition::prelude::*;
use ignition_tests::{scripted_app, ScriptedDriver};

/// Writes `yaml` to a fresh file `ignition-config-*.yml` under the temp dir, deleted when
/// the returned path is dropped (pass it by reference so that it outlives the call).
fn yaml_file(yaml: &str) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .prefix("ignition-config-")
        .suffix(".yml")
        .tempfile()
        .unwrap();
    file.write_all(yaml.as_bytes()).unwrap();
    file.into_temp_path()
}

fn boot_error(result: Result<IgnitionConfig, BootError>) -> String {
    result
        .expect_err("configuration must be refused")
        .to_string()
}

#[test]
fn defaults_match_the_seed() {
    let config = App::new("Echo VIM Driver").config().unwrap();
    assert_eq!(config.application.port, 7777);
    assert_eq!(config.messaging.connection_address, None);
    let events = &config.messaging.topics.infrastructure_task_events;
    assert_eq!(events.name, "lm_vim_infrastructure_task_events");
    assert!(!events.auto_create);
    assert!(events.config.is_empty());
    let jobs = &config.messaging.topics.job_queue;
    assert_eq!(jobs.name, "Echo_VIM_Driver");
    assert!(jobs.auto_create);
    for key in [
        "retention.ms",
        "message.timestamp.difference.max.ms",
        "file.delete.delay.ms",
    ] {
        assert_eq!(
            jobs.config.get(key).map(String::as_str),
            Some("60000"),
            "{key}"
        );
    }
    assert_eq!(config.job_queue.consumer_group_id, "job_queue_consumer");
    assert_eq!(config.job_queue.poll_interval, Duration::from_secs(1));
    let boot = &config.bootstrap;
    assert!(boot.infrastructure.api_enabled && boot.infrastructure.api_service_enabled);
    assert!(boot.infrastructure.service_enabled && boot.infrastructure.monitoring_service_enabled);
    assert!(boot.infrastructure.messaging_service_enabled && boot.job_queue.service_enabled);
    assert!(boot.messaging.postal_enabled && boot.messaging.delivery_enabled);
    assert!(
        config.infrastructure.async_messaging_enabled,
        "as in Python: the framework monitors tasks by default"
    );
}

#[test]
fn the_job_queue_topic_drops_special_characters() {
    let name = |app: &str| {
        App::new(app)
            .config()
            .unwrap()
            .messaging
            .topics
            .job_queue
            .name
    };
    assert_eq!(name("Echo VIM Driver"), "Echo_VIM_Driver");
    assert_eq!(name("Open$tack (v2) driver!"), "Opentack_v2_driver");
    assert_eq!(name("k8s-driver.v1"), "k8s-driver.v1");
}

#[test]
fn a_file_overrides_defaults() {
    let file = yaml_file(
        "application:\n  port: 8123\nmessaging:\n  topics:\n    infrastructure_task_events:\n      name: my_events\n    job_queue:\n      config:\n        retention.ms: 120000\njob_queue:\n  poll_interval: 250ms\n  consumer_group_id: g1\n",
    );
    let config = App::new("x").config_file(&file).config().unwrap();
    assert_eq!(config.application.port, 8123);
    assert_eq!(
        config.messaging.topics.infrastructure_task_events.name,
        "my_events"
    );
    assert_eq!(
        config.messaging.topics.job_queue.config["retention.ms"],
        "120000"
    );
    assert_eq!(
        config.messaging.topics.job_queue.name, "x",
        "untouched keys keep their defaults"
    );
    assert_eq!(config.job_queue.poll_interval, Duration::from_millis(250));
    assert_eq!(config.job_queue.consumer_group_id, "g1");
}

#[test]
fn the_env_file_wins_over_the_config_file_and_properties_over_both() {
    let file =
        yaml_file("application:\n  port: 1111\njob_queue:\n  consumer_group_id: from_file\n");
    let env_file = yaml_file("application:\n  port: 2222\n");
    let var = "IGNITION_TEST_CONFIG_LAYERS";
    std::env::set_var(var, &*env_file);
    let app = || App::new("x").config_file(&file).config_env(var);
    let config = app().config().unwrap();
    assert_eq!(config.application.port, 2222);
    assert_eq!(config.job_queue.consumer_group_id, "from_file");
    let config = app().property("application.port", 3333).config().unwrap();
    assert_eq!(config.application.port, 3333);
}

#[test]
fn an_unset_env_var_is_ignored() {
    let config = App::new("x")
        .config_env("IGNITION_TEST_CONFIG_NEVER_SET")
        .config()
        .unwrap();
    assert_eq!(config.application.port, 7777);
}

#[test]
fn an_empty_file_is_all_defaults() {
    let file = yaml_file("");
    let config = App::new("x").config_file(&file).config().unwrap();
    drop(file); // read by `config()`: it must live until then
    assert_eq!(config, App::new("x").config().unwrap());
}

#[test]
fn a_missing_file_names_the_file() {
    let message = boot_error(App::new("x").config_file("/no/such/ignition.yml").config());
    assert!(message.contains("/no/such/ignition.yml"), "{message}");
    assert!(message.contains("does not exist"), "{message}");
}

#[test]
fn an_env_var_naming_a_missing_file_names_the_var_and_the_file() {
    let var = "IGNITION_TEST_CONFIG_MISSING";
    std::env::set_var(var, "/no/such/env.yml");
    let message = boot_error(App::new("x").config_env(var).config());
    assert!(
        message.contains("/no/such/env.yml") && message.contains(var),
        "{message}"
    );
}

#[test]
fn an_unknown_key_names_the_property_and_the_file() {
    let file = yaml_file("job_queue:\n  pol_interval: 2s\n");
    let message = boot_error(App::new("x").config_file(&file).config());
    assert!(message.contains("job_queue.pol_interval"), "{message}");
    assert!(message.contains(file.to_str().unwrap()), "{message}");
    assert!(
        message.contains("poll_interval"),
        "lists what is expected: {message}"
    );
}

#[test]
fn an_ill_typed_value_names_the_property() {
    for (yaml, property) in [
        ("application:\n  port: seventy\n", "application.port"),
        ("application:\n  port: 70000\n", "application.port"),
        (
            "job_queue:\n  poll_interval: often\n",
            "job_queue.poll_interval",
        ),
        (
            "bootstrap:\n  infrastructure:\n    api_enabled: maybe\n",
            "bootstrap.infrastructure.api_enabled",
        ),
        ("messaging:\n  topics: [1, 2]\n", "messaging.topics"),
    ] {
        let file = yaml_file(yaml);
        let message = boot_error(App::new("x").config_file(&file).config());
        drop(file); // read by `config()`: it must live until then
        assert!(message.contains(property), "{yaml}: {message}");
    }
}

#[test]
fn invalid_values_are_refused_with_their_property() {
    for (key, value, needle) in [
        ("job_queue.poll_interval", "0s", "job_queue.poll_interval"),
        (
            "job_queue.max_poll_interval",
            "1ms",
            "job_queue.max_poll_interval",
        ),
        (
            "messaging.topics.job_queue.name",
            "bad topic!",
            "messaging.topics.job_queue.name",
        ),
        (
            "messaging.connection_address",
            " ",
            "messaging.connection_address",
        ),
    ] {
        let message = boot_error(App::new("x").property(key, value).config());
        assert!(message.contains(needle), "{key}: {message}");
    }
    for key in [
        "messaging.topics.job_queue.num_partitions",
        "messaging.topics.infrastructure_task_events.replication_factor",
    ] {
        let message = boot_error(App::new("x").property(key, 0).config());
        assert!(
            message.contains(key) && message.contains("at least 1"),
            "{message}"
        );
    }
    let message = boot_error(App::new("!!!").config());
    assert!(
        message.contains("messaging.topics.job_queue.name"),
        "{message}"
    );
}

#[tokio::test]
async fn a_disabled_service_that_another_needs_stops_start_up_naming_both() {
    let cases = [
        (
            "bootstrap.infrastructure.monitoring_service_enabled",
            "InfrastructureTaskMonitoringService",
        ),
        (
            "bootstrap.infrastructure.messaging_service_enabled",
            "InfrastructureMessagingService",
        ),
        ("bootstrap.job_queue.service_enabled", "job queue"),
        ("bootstrap.messaging.delivery_enabled", "delivery"),
        ("bootstrap.messaging.postal_enabled", "postal"),
        (
            "bootstrap.infrastructure.service_enabled",
            "InfrastructureService",
        ),
        (
            "bootstrap.infrastructure.api_service_enabled",
            "InfrastructureApiService",
        ),
    ];
    for (flag, service) in cases {
        let (app, _) = scripted_app();
        let err = app
            .property(flag, false)
            .start()
            .await
            .expect_err("refused");
        let message = err.to_string();
        assert!(message.contains(flag), "{flag}: {message}");
        assert!(message.contains(service), "{flag}: {message}");
    }
}

#[tokio::test]
async fn a_service_nobody_needs_may_be_disabled() {
    let (app, _) = scripted_app();
    let app = app
        .property("bootstrap.infrastructure.api_enabled", false)
        .property("bootstrap.infrastructure.api_service_enabled", false);
    let running = app.start().await.expect("starts without the API");
    let base = format!("http://127.0.0.1:{}", running.local_addr().port());
    let response = reqwest::Client::new()
        .post(format!("{base}/api/infrastructure/create"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no API");
    let health = reqwest::get(format!("{base}/management/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "management still served");
    running.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_kafka_stops_start_up_naming_the_address() {
    // A port nothing listens on: start-up gives up after its connect timeout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let (app, _) = scripted_app();
    let err = app
        .property("messaging.connection_address", &address)
        .property("messaging.connect_timeout", "2s")
        .start()
        .await
        .expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains("messaging.connection_address") && message.contains(&address),
        "{message}"
    );
}

#[tokio::test]
async fn no_driver_and_a_busy_port_are_boot_errors() {
    let err = App::new("x")
        .property("application.port", 0)
        .start()
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("no driver"), "{err}");
    let holder = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let (driver, _) = ScriptedDriver::new();
    let err = App::new("x")
        .property("application.port", port)
        .driver(driver)
        .start()
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("application.port") && err.to_string().contains(&port.to_string()),
        "{err}"
    );
}
