//! Configuration: defaults, file, env var, properties, and every way to get it wrong.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use ignition::config::IgnitionConfig;
use ignition::prelude::*;
use ignition_tests::{scripted_app, ScriptedDriver};
use serde::de::DeserializeOwned;

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
    for key in ["retention.ms", "file.delete.delay.ms"] {
        assert_eq!(
            jobs.config.get(key).map(String::as_str),
            Some("60000"),
            "{key}"
        );
    }
    assert!(
        !jobs
            .config
            .contains_key("message.timestamp.difference.max.ms"),
        "Kafka 4 has no such setting: a broker refuses to create a topic with it"
    );
    for topic in [events, jobs] {
        assert_eq!(
            topic.replication_factor, -1,
            "{}: the broker's default.replication.factor, not a silent 1",
            topic.name
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

// --- The Resource Driver API's keys, the shutdown grace, the job-queue key ---

#[test]
fn the_resource_driver_keys_have_python_s_names_and_read_from_a_file() {
    let config = App::new("Script Driver").config().unwrap();
    let lifecycle = &config.messaging.topics.lifecycle_execution_events;
    assert_eq!(lifecycle.name, "lm_vnfc_lifecycle_execution_events");
    assert!(!lifecycle.auto_create);
    assert!(config.resource_driver.async_messaging_enabled);
    assert_eq!(config.resource_driver.driver_files.max_entries, 10_000);
    assert_eq!(
        config.resource_driver.driver_files.max_size.bytes(),
        256 * 1024 * 1024
    );
    assert!(
        config
            .bootstrap
            .resource_driver
            .lifecycle_monitoring_service_enabled
    );
    assert_eq!(config.application.shutdown_grace, Duration::from_secs(5));
    assert_eq!(config.driver.timeout_of("execute"), Duration::from_secs(30));

    // A Python 3.x resource driver's file, with the keys that do not apply here.
    let file = yaml_file(
        "application:\n  shutdown_grace: 0s\nresource_driver:\n  async_messaging_enabled: false\n  api_spec: openapi/resource-driver.yaml\n  scripts_workspace: ./scripts_workspace\n  lifecycle_request_queue:\n    enabled: false\n  driver_files:\n    max_entries: 50\n    max_size: 1MiB\nbootstrap:\n  resource_driver:\n    api_enabled: true\n    lifecycle_messaging_service_enabled: false\n    driver_files_manager_service_enabled: true\n    service_driver: osvimdriver.ResourceDriver\nmessaging:\n  api_version_auto_timeout_ms: 5000\n  topics:\n    lifecycle_execution_events:\n      name: my_lifecycle_events\ndriver:\n  timeouts:\n    execute: 2m\n    find_reference: 5s\n",
    );
    let config = App::new("Script Driver")
        .config_file(&file)
        .config()
        .unwrap();
    assert_eq!(config.application.shutdown_grace, Duration::ZERO);
    assert!(!config.resource_driver.async_messaging_enabled);
    assert_eq!(config.resource_driver.driver_files.max_entries, 50);
    assert_eq!(
        config.resource_driver.driver_files.max_size.bytes(),
        1024 * 1024
    );
    assert!(
        !config
            .bootstrap
            .resource_driver
            .lifecycle_messaging_service_enabled
    );
    assert_eq!(
        config.messaging.topics.lifecycle_execution_events.name,
        "my_lifecycle_events"
    );
    assert_eq!(
        config.driver.timeout_of("execute"),
        Duration::from_secs(120)
    );
    assert_eq!(
        config.driver.timeout_of("find_reference"),
        Duration::from_secs(5)
    );
    assert_eq!(
        config.driver.timeout_of("query"),
        Duration::from_secs(30),
        "the resource driver's polls use driver.timeouts.query, unset here"
    );

    let message = boot_error(
        App::new("x")
            .property("resource_driver.driver_files.max_entrys", 5)
            .config(),
    );
    assert!(
        message.contains("resource_driver.driver_files.max_entrys")
            && message.contains("did you mean `max_entries`?"),
        "{message}"
    );
}

#[test]
fn the_job_queue_key_is_read_at_start_and_a_bad_one_names_the_key_and_both_files() {
    let hex = "00112233445566778899aabbccddeeffFFEEDDCCBBAA99887766554433221100";
    let config_with = |key_file: &std::path::Path| {
        yaml_file(&format!(
            "job_queue:\n  encryption_key_file: {}\n",
            key_file.display()
        ))
    };
    for good in [format!("{hex}\n").into_bytes(), vec![0x5a; 32]] {
        let key = yaml_file("");
        std::fs::write(&key, &good).unwrap();
        let file = config_with(&key);
        let config = App::new("x").config_file(&file).config().unwrap();
        let debug = format!("{config:?}");
        assert!(debug.contains("EncryptionKey(<redacted>)"), "read: {debug}");
        assert!(!debug.contains(hex) && !debug.contains("90, 90"), "{debug}");
    }
    for (contents, why) in [
        (vec![1; 31], "holds 31 bytes"),
        (format!("{}xy\n", &hex[..62]).into_bytes(), "is not hex"),
        (format!("{hex}{hex}").into_bytes(), "holds 128 bytes"),
    ] {
        let key = yaml_file("");
        std::fs::write(&key, &contents).unwrap();
        let file = config_with(&key);
        let message = boot_error(App::new("x").config_file(&file).config());
        assert!(
            message.contains("job_queue.encryption_key_file"),
            "{message}"
        );
        assert!(message.contains(why), "{message}");
        assert!(
            message.contains(key.to_str().unwrap()),
            "the key file: {message}"
        );
        assert!(
            message.contains(file.to_str().unwrap()),
            "the config file: {message}"
        );
        assert!(!message.contains(&hex[..16]), "{message}");
    }
    let file = config_with("/no/such/ignition.key".as_ref());
    let message = boot_error(App::new("x").config_file(&file).config());
    assert!(
        message.contains("cannot read the key file /no/such/ignition.key"),
        "{message}"
    );
}

// --- Secrets out of the ConfigMap: `${env:NAME}`, `${file:PATH}`, `IGNITION__...` ---

/// What `DriverContext::properties(section)` gives the driver of `app` (which is stopped
/// by its driver before it serves).
async fn driver_section<T: DeserializeOwned + Send + 'static>(
    app: App,
    section: &'static str,
) -> Result<T, BootError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let stopped = app
        .property("application.port", 0)
        .driver_with(move |ctx: DriverContext| async move {
            tx.send(ctx.properties::<T>(section)).unwrap();
            Err::<ScriptedDriver, _>(BootError::driver("the section was read"))
        })
        .start()
        .await
        .expect_err("stopped by its driver");
    assert!(matches!(stopped, BootError::Driver(_)), "{stopped:?}");
    rx.recv().unwrap()
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct CloudSecrets {
    user: String,
    password: String,
    #[serde(default)]
    replicas: u32,
}

#[tokio::test]
async fn references_are_resolved_in_the_frameworks_and_the_drivers_sections() {
    let var = "IGNITION_TEST_CONFIG_REF_USER";
    std::env::set_var(var, "lm-from-env");
    let secret = yaml_file("s3cret-from-file\n");
    let file = yaml_file(&format!(
        "messaging:\n  config:\n    sasl.username: ${{env:{var}}}\n    sasl.password: ${{file:{path}}}\ncloud_secrets:\n  user: ${{env:{var}}}\n  password: ${{file:{path}}}\n",
        path = secret.display()
    ));
    let app = || App::new("x").config_file(&file);
    let config = app().config().unwrap();
    assert_eq!(config.messaging.config["sasl.username"], "lm-from-env");
    assert_eq!(
        config.messaging.config["sasl.password"], "s3cret-from-file",
        "the file's trailing newline trimmed"
    );
    let section: CloudSecrets = driver_section(app(), "cloud_secrets").await.unwrap();
    assert_eq!(
        section,
        CloudSecrets {
            user: "lm-from-env".into(),
            password: "s3cret-from-file".into(),
            replicas: 0
        }
    );
}

#[test]
fn an_unset_variable_or_an_unreadable_file_stops_start_up_naming_the_key_and_the_file() {
    let file = yaml_file("application:\n  host: ${env:IGNITION_TEST_CONFIG_REF_NEVER_SET}\n");
    let message = boot_error(App::new("x").config_file(&file).config());
    assert!(message.contains("application.host"), "{message}");
    assert!(message.contains(file.to_str().unwrap()), "{message}");
    assert!(
        message.contains("the environment variable IGNITION_TEST_CONFIG_REF_NEVER_SET is not set"),
        "{message}"
    );
    // In the driver's section too: the configuration is resolved whole, at start.
    let file = yaml_file("cloud_secrets:\n  password: ${file:/no/such/dir/password}\n");
    let message = boot_error(App::new("x").config_file(&file).config());
    assert!(message.contains("cloud_secrets.password"), "{message}");
    assert!(message.contains(file.to_str().unwrap()), "{message}");
    assert!(
        message.contains("cannot read /no/such/dir/password"),
        "{message}"
    );
}

#[tokio::test]
async fn the_environment_wins_over_the_files_and_app_property_over_the_environment() {
    // Variables are process-wide: a section of this test's own, which no other test reads.
    let file =
        yaml_file("config_test_order:\n  user: from-file\n  password: from-file\n  replicas: 1\n");
    let env_file = yaml_file("config_test_order:\n  user: from-env-file\n");
    let env_file_var = "IGNITION_TEST_CONFIG_ORDER_FILE";
    std::env::set_var(env_file_var, &*env_file);
    std::env::set_var("IGNITION__CONFIG_TEST_ORDER__USER", "from-env");
    std::env::set_var("IGNITION__CONFIG_TEST_ORDER__PASSWORD", "from-env");
    std::env::set_var("IGNITION__CONFIG_TEST_ORDER__REPLICAS", "0042");
    let app = App::new("x")
        .config_file(&file)
        .config_env(env_file_var)
        .property("config_test_order.password", "from-property");
    let section: Result<CloudSecrets, _> = driver_section(app, "config_test_order").await;
    for var in [
        "IGNITION__CONFIG_TEST_ORDER__USER",
        "IGNITION__CONFIG_TEST_ORDER__PASSWORD",
        "IGNITION__CONFIG_TEST_ORDER__REPLICAS",
    ] {
        std::env::remove_var(var);
    }
    assert_eq!(
        section.unwrap(),
        CloudSecrets {
            user: "from-env".into(),
            password: "from-property".into(),
            replicas: 42,
        },
        "a string from the environment read as the number the key needs"
    );
}

#[tokio::test]
async fn an_unknown_key_of_a_strict_driver_section_is_quoted_once() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        label: String,
        #[serde(default)]
        event_delay_ms: u64,
    }
    let file = yaml_file("strict_section:\n  label: a\n  event_delay: 5\n");
    let err = driver_section::<Strict>(App::new("x").config_file(&file), "strict_section")
        .await
        .expect_err("refused");
    let message = err.to_string();
    assert!(
        message.contains("`strict_section.event_delay`"),
        "{message}"
    );
    assert!(message.contains(file.to_str().unwrap()), "{message}");
    assert!(
        message.contains("did you mean `event_delay_ms`?; expected one of: label, event_delay_ms"),
        "{message}"
    );
    assert!(!message.contains("``"), "quoted once: {message}");
}

/// The tests crate's driver that logs (tests/src/bin/logging_driver.rs): `App::run` in a
/// process of its own, configured by the file `LOGGING_DRIVER_CONFIG` names.
fn logging_driver(config: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_logging_driver"));
    command
        .env("LOGGING_DRIVER_CONFIG", config)
        .env_remove("RUST_LOG")
        .env_remove("LOG_TYPE")
        .env_remove("LOG_LEVEL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_secret_from_a_file_is_never_printed_in_a_config_error_or_a_warn() {
    let secret_text = "Hunter2-from-a-secret-file";
    let secret = yaml_file(&format!("{secret_text}\n"));

    // A Python-era key (one WARN) and a framework key set from the environment over the
    // file's (a port no test can bind): the driver starts on the variable's port.
    let port = free_port();
    let file = yaml_file(&format!(
        "application:\n  port: 1\n  connexion_runtime_props:\n    password: ${{file:{}}}\n",
        secret.display()
    ));
    let mut child = logging_driver(&file)
        .env("IGNITION__APPLICATION__PORT", port.to_string())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let lines =
        std::thread::spawn(move || stderr.lines().map_while(Result::ok).collect::<Vec<_>>());
    let health = format!("http://127.0.0.1:{port}/management/health");
    let mut serving = false;
    for _ in 0..300 {
        if reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            serving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let lines = lines.join().unwrap();
    assert!(serving, "serves on IGNITION__APPLICATION__PORT: {lines:#?}");
    assert!(status.success(), "{status}: {lines:#?}");
    let warns: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("application.connexion_runtime_props"))
        .collect();
    assert_eq!(warns.len(), 1, "one WARN: {lines:#?}");
    assert!(warns[0].contains("WARN"), "{}", warns[0]);
    assert!(
        lines.iter().all(|line| !line.contains(secret_text)),
        "{lines:#?}"
    );

    // The secret on a key that takes a number: start-up stops, naming the key and the
    // file, and the message says where the value came from without showing it.
    let file = yaml_file(&format!(
        "job_queue:\n  max_concurrent_polls: ${{file:{}}}\n",
        secret.display()
    ));
    let output = logging_driver(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("job_queue.max_concurrent_polls"),
        "{stderr}"
    );
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the value of `${{file:{}}}` is not shown",
            secret.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(secret_text), "{stderr}");
    // The same through `App::config`, and its Debug.
    let err = App::new("x").config_file(&file).config().unwrap_err();
    assert!(!err.to_string().contains(secret_text), "{err}");
    assert!(!format!("{err:?}").contains(secret_text), "{err:?}");
}
