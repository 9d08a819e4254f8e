//! Logs as an operator's log shipper reads them: real driver processes (`App::run`),
//! their whole stderr after a SIGTERM, in both formats, at the configured level, with
//! private keys obfuscated.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ignition_tests::process::{self, free_port};
use ignition_tests::RawClient;
use reqwest::Method;
use serde_json::{json, Map, Value};

/// The example binary, built by `cargo test` beside this test binary.
fn example_binary() -> PathBuf {
    process::example_binary("simulated_vim")
}

/// The tests crate's driver that logs a private key (tests/src/bin/logging_driver.rs).
fn logging_driver_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_logging_driver"))
}

/// A driver process: its task events (stdout) and, once stopped, its stderr lines.
struct Driver {
    child: Child,
    stderr: Option<JoinHandle<Vec<String>>>,
    stdout: mpsc::Receiver<String>,
    client: RawClient,
    _config: TempFile,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Driver {
    /// Starts `binary` with this YAML configuration (in the file named by `config_var`)
    /// and environment (RUST_LOG, LOG_TYPE and LOG_LEVEL of the test's own environment
    /// removed), and waits until it answers on its port.
    async fn start(binary: PathBuf, config_var: &str, yaml: &str, env: &[(&str, &str)]) -> Self {
        // A port chosen here: a driver whose level hides the line naming its port.
        let port = free_port();
        let config = TempFile(std::env::temp_dir().join(format!(
            "ignition-logs-{}-{}.yml",
            std::process::id(),
            fastrand::u64(..)
        )));
        std::fs::write(&config.0, format!("application:\n  port: {port}\n{yaml}")).unwrap();
        let mut command = Command::new(binary);
        command
            .env(config_var, &config.0)
            .env_remove("RUST_LOG")
            .env_remove("LOG_TYPE")
            .env_remove("LOG_LEVEL")
            .env_remove("RUST_BACKTRACE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let stderr = std::thread::spawn(move || {
            let mut all = Vec::new();
            for line in stderr.lines().map_while(Result::ok) {
                eprintln!("[driver] {line}");
                all.push(line);
            }
            all
        });
        let (stdout_tx, stdout) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = stdout_tx.send(line);
            }
        });
        let driver = Driver {
            child,
            stderr: Some(stderr),
            stdout,
            client: RawClient::on_port(port),
            _config: config,
        };
        driver.wait_until_serving().await;
        driver
    }

    async fn wait_until_serving(&self) {
        for _ in 0..300 {
            if let Ok((200..=299, _)) = self.client.get("/management/health").await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the driver does not answer at {}", self.client.base);
    }

    async fn post(&self, operation: &str, body: Value) -> (u16, Value) {
        let (status, body, _) = self.post_with(operation, body, &[]).await;
        (status, body)
    }

    /// POSTs with these extra request headers; status, body and the response's
    /// `X-Tracectx-TransactionId` (if any).
    async fn post_with(
        &self,
        operation: &str,
        body: Value,
        headers: &[(String, String)],
    ) -> (u16, Value, Option<String>) {
        let mut request = self
            .client
            .request(Method::POST, &format!("/api/infrastructure/{operation}"))
            .json(&body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let answer = self.client.exchange(request).await.unwrap();
        let transaction_id = answer
            .header("X-Tracectx-TransactionId")
            .map(str::to_string);
        (answer.status, answer.body, transaction_id)
    }

    /// The next task event on stdout.
    fn next_event(&self) -> Value {
        let line = self
            .stdout
            .recv_timeout(Duration::from_secs(20))
            .expect("an event on stdout");
        serde_json::from_str(&line).unwrap()
    }

    /// SIGTERM, then every line the process wrote on stderr; it must exit 0.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the driver did not exit within 30 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "exit status");
        self.stderr.take().unwrap().join().unwrap()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Parses a logstash line and checks its fixed fields: present, in order, of the right
/// type and form.
fn logstash_line(line: &str) -> Map<String, Value> {
    let parsed: Map<String, Value> = serde_json::from_str(line)
        .unwrap_or_else(|err| panic!("a stderr line is not one JSON object: {err}: {line}"));
    let keys: Vec<&str> = parsed.keys().map(String::as_str).take(10).collect();
    assert_eq!(
        keys,
        [
            "@timestamp",
            "@version",
            "message",
            "host",
            "path",
            "tags",
            "type",
            "thread_name",
            "level",
            "logger_name"
        ],
        "{line}"
    );
    let timestamp = parsed["@timestamp"].as_str().expect("@timestamp");
    // 2026-12-01T20:58:08.123Z: UTC, milliseconds.
    let shape: String = timestamp
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:dd.dddZ", "{line}");
    assert_eq!(parsed["@version"], "1", "{line}");
    assert!(parsed["message"].is_string(), "{line}");
    assert!(!parsed["host"].as_str().expect("host").is_empty(), "{line}");
    assert!(parsed["path"].is_string(), "{line}");
    assert_eq!(parsed["tags"], json!([]), "{line}");
    assert_eq!(parsed["type"], "logstash", "{line}");
    assert!(
        !parsed["thread_name"]
            .as_str()
            .expect("thread_name")
            .is_empty(),
        "{line}"
    );
    let level = parsed["level"].as_str().expect("level");
    assert!(
        ["DEBUG", "INFO", "WARNING", "ERROR"].contains(&level),
        "{line}"
    );
    assert!(
        !parsed["logger_name"]
            .as_str()
            .expect("logger_name")
            .is_empty(),
        "{line}"
    );
    parsed
}

fn location() -> Value {
    json!({"name": "region-1", "type": "SimCloud"})
}

fn example_create() -> Value {
    let template = json!({"resources": {"net": {"type": "network"}, "vm0": {"type": "server"}}, "outputs": {"ip": "vm0.ip"}}).to_string();
    json!({"template": template, "templateType": "SimStack",
           "systemProperties": {"resourceName": "web"}, "deploymentLocation": location()})
}

const EXAMPLE_CONFIG: &str = "SIMULATED_VIM_CONFIG";
const DRIVER_CONFIG: &str = "LOGGING_DRIVER_CONFIG";

#[tokio::test]
async fn under_log_type_logstash_every_stderr_line_is_one_json_object_with_the_fixed_fields() {
    // DEBUG: the most lines, from the framework and from the libraries under it.
    let example = Driver::start(
        example_binary(),
        EXAMPLE_CONFIG,
        "job_queue:\n  poll_interval: 100ms\n",
        &[("LOG_TYPE", "logstash"), ("LOG_LEVEL", "DEBUG")],
    )
    .await;
    let (status, created) = example.post("create", example_create()).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(example.next_event()["status"], "COMPLETE");
    let lines = example.stop();

    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();
    let started = parsed
        .iter()
        .find(|line| {
            line["message"]
                .as_str()
                .unwrap()
                .starts_with("Simulated VIM Driver started on port")
        })
        .expect("the start line");
    assert_eq!(started["level"], "INFO");
    assert_eq!(started["logger_name"], "ignition::boot::start");
    assert_eq!(started["path"], "ignition/src/boot/start.rs");
    assert_eq!(started["thread_name"], "main");
    assert!(
        parsed.iter().any(|line| line["level"] == "DEBUG"),
        "LOG_LEVEL=DEBUG writes DEBUG lines"
    );
    // An event's own fields are further keys: `app` on the last line.
    let stopped = parsed.last().unwrap();
    assert_eq!(stopped["message"], "stopped");
    assert_eq!(stopped["app"], "Simulated VIM Driver");
}

#[tokio::test]
async fn log_level_warning_hides_info_lines_in_both_formats() {
    // A Python-era key (under the `application:` that `Driver::start` writes): one WARN
    // line at start.
    let yaml = "  connexion_runtime_props: {}\n";
    for log_type in ["logstash", "flat"] {
        let example = Driver::start(
            example_binary(),
            EXAMPLE_CONFIG,
            yaml,
            &[("LOG_TYPE", log_type), ("LOG_LEVEL", "WARNING")],
        )
        .await;
        let (status, _) = example.post("create", example_create()).await;
        assert_eq!(status, 202);
        assert_eq!(example.next_event()["status"], "COMPLETE");
        let lines = example.stop();
        assert!(!lines.is_empty(), "{log_type}: the WARN line");
        for line in &lines {
            let level = match log_type {
                "logstash" => logstash_line(line)["level"].as_str().unwrap().to_string(),
                _ => line.split_whitespace().nth(1).unwrap_or("").to_string(),
            };
            assert!(
                ["WARNING", "WARN", "ERROR"].contains(&level.as_str()),
                "{log_type}: {line}"
            );
        }
        assert!(
            lines
                .iter()
                .any(|line| line.contains("connexion_runtime_props")),
            "{log_type}: {lines:?}"
        );
    }
}

#[tokio::test]
async fn the_yaml_logging_section_wins_over_the_env_and_rust_log_over_both() {
    // YAML type and level over LOG_TYPE / LOG_LEVEL.
    let example = Driver::start(
        example_binary(),
        EXAMPLE_CONFIG,
        "logging:\n  type: logstash\n  level: info\n",
        &[("LOG_TYPE", "flat"), ("LOG_LEVEL", "ERROR")],
    )
    .await;
    let lines = example.stop();
    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();
    assert!(
        parsed.iter().any(|line| line["level"] == "INFO"),
        "{lines:?}"
    );

    // RUST_LOG over the level, the type still from the env.
    let example = Driver::start(
        example_binary(),
        EXAMPLE_CONFIG,
        "",
        &[
            ("LOG_TYPE", "logstash"),
            ("LOG_LEVEL", "ERROR"),
            ("RUST_LOG", "ignition=info"),
        ],
    )
    .await;
    let lines = example.stop();
    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();
    assert!(
        parsed
            .iter()
            .any(|line| line["level"] == "INFO" && line["logger_name"] == "ignition::app"),
        "{lines:?}"
    );
    assert!(
        parsed.iter().all(|line| line["logger_name"]
            .as_str()
            .unwrap()
            .starts_with("ignition")),
        "RUST_LOG=ignition=info leaves poem's lines out: {lines:?}"
    );
}

const KEY_BODY: &str = "MIIEowIBAAKCAQEAwJ0bLvVrNa4dN9Q7Zm3bqZqgYwzSmQzIcAo7f2HdpY0zKxFt";

fn private_key() -> String {
    format!("-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\nQ5N1pF8vX2wD9cR3sT6yU0iO4pL7kJ1hG5fE8dC2bA==\n-----END RSA PRIVATE KEY-----\n")
}

#[tokio::test]
async fn a_private_key_logged_by_the_driver_is_obfuscated_in_both_formats() {
    for log_type in ["logstash", "flat"] {
        let driver = Driver::start(
            logging_driver_binary(),
            DRIVER_CONFIG,
            "",
            &[("LOG_TYPE", log_type)],
        )
        .await;
        let create = json!({"template": format!("key: {}", private_key()), "templateType": "TOSCA",
                            "deploymentLocation": location()});
        let (status, body) = driver.post("create", create).await;
        assert_eq!(status, 202, "{body}");
        let lines = driver.stop();
        let with_key: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("creating"))
            .collect();
        assert_eq!(with_key.len(), 3, "{log_type}: {lines:?}");
        for line in &with_key {
            assert!(
                line.contains("***obfuscated private key***"),
                "{log_type}: {line}"
            );
        }
        for line in &lines {
            assert!(!line.contains(KEY_BODY), "{log_type}: key leaked: {line}");
            assert!(
                !line.contains("PRIVATE KEY-----"),
                "{log_type}: key leaked: {line}"
            );
        }
        if log_type == "logstash" {
            for line in &lines {
                logstash_line(line);
            }
            let line: Value = serde_json::from_str(with_key[0]).unwrap();
            assert_eq!(line["template"], "key: ***obfuscated private key***\n");
            // The span the driver logged in: its fields are keys of the line.
            assert_eq!(line["traceCtx.test"], "span-value", "{line}");
        }
    }
}

#[tokio::test]
async fn a_panic_is_one_error_line_with_its_stack_trace() {
    let driver = Driver::start(
        logging_driver_binary(),
        DRIVER_CONFIG,
        "",
        &[("LOG_TYPE", "logstash"), ("RUST_BACKTRACE", "1")],
    )
    .await;
    let find = json!({"template": "t", "templateType": "TOSCA", "instanceName": "panic",
                      "deploymentLocation": location()});
    let (status, _) = driver.post("find", find).await;
    assert_eq!(status, 500);
    let lines = driver.stop();
    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();
    let panic = parsed
        .iter()
        .find(|line| line["logger_name"] == "panic")
        .expect("the panic line");
    assert_eq!(panic["level"], "ERROR");
    assert!(
        panic["traceCtx.transactionid"].is_string(),
        "logged while serving the find: {panic:?}"
    );
    let message = panic["message"].as_str().unwrap();
    assert!(
        message.contains("panicked at")
            && message.contains("the logging driver was asked to panic"),
        "{message}"
    );
    let stack_trace = panic["stack_trace"].as_str().expect("stack_trace");
    assert!(
        stack_trace.contains("logging_driver.rs") && stack_trace.contains("find_infrastructure"),
        "{stack_trace}"
    );
}

/// LM's headers of one transaction.
fn trace_headers(transaction_id: &str, process_id: &str) -> Vec<(String, String)> {
    vec![
        ("X-Tracectx-TransactionId".into(), transaction_id.into()),
        ("X-Tracectx-ProcessId".into(), process_id.into()),
    ]
}

fn driver_create() -> Value {
    json!({"template": "t", "templateType": "TOSCA", "deploymentLocation": location()})
}

/// Asserts the line has `traceCtx.transactionid` and (if given) `traceCtx.processid`.
fn assert_traced(line: &Map<String, Value>, transaction_id: &str, process_id: Option<&str>) {
    assert_eq!(line["traceCtx.transactionid"], transaction_id, "{line:?}");
    if let Some(process_id) = process_id {
        assert_eq!(line["traceCtx.processid"], process_id, "{line:?}");
    }
}

/// The lines about `infrastructure_id` (its field), and how many of them the driver and
/// the framework's monitor logged.
fn lines_of<'a>(
    parsed: &'a [Map<String, Value>],
    infrastructure_id: &str,
) -> Vec<&'a Map<String, Value>> {
    parsed
        .iter()
        .filter(|line| {
            line.get("infrastructure_id").and_then(Value::as_str) == Some(infrastructure_id)
        })
        .collect()
}

#[tokio::test]
async fn the_trace_context_of_a_create_is_on_its_lines_the_drivers_and_every_poll_of_its_task() {
    let driver = Driver::start(
        logging_driver_binary(),
        DRIVER_CONFIG,
        "job_queue:\n  poll_interval: 100ms\n",
        &[("LOG_TYPE", "logstash"), ("LOG_LEVEL", "DEBUG")],
    )
    .await;
    let (status, body, answered) = driver
        .post_with("create", driver_create(), &trace_headers("t-1", "p-1"))
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        answered.as_deref(),
        Some("t-1"),
        "the given transaction id is answered"
    );
    assert_eq!(body["infrastructureId"], "inf-1");
    assert_eq!(driver.next_event()["status"], "COMPLETE");
    let lines = driver.stop();
    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();

    // The create's lines: the framework's and the driver's.
    let create: Vec<_> = parsed
        .iter()
        .filter(|line| {
            let message = line["message"].as_str().unwrap();
            message.starts_with("creating")
                || message == "create accepted"
                || message == "monitoring task"
                || (message == "request" && line["fields.path"] == "/api/infrastructure/create")
        })
        .collect();
    assert_eq!(
        create.len(),
        6,
        "3 of the driver, 3 of the framework: {lines:?}"
    );
    for line in &create {
        assert_traced(line, "t-1", Some("p-1"));
        // the fixed fields, then the trace context
        let keys: Vec<&str> = line.keys().map(String::as_str).skip(10).take(2).collect();
        assert_eq!(
            keys,
            ["traceCtx.transactionid", "traceCtx.processid"],
            "{line:?}"
        );
    }
    // Every line of the task's polls: the driver's (IN_PROGRESS, then COMPLETE) and the
    // monitor's.
    let polls = lines_of(&parsed, "inf-1");
    let by_driver = polls
        .iter()
        .filter(|line| line["message"] == "logging driver polled")
        .count();
    assert!(by_driver >= 2, "two polls at least: {polls:?}");
    assert!(
        polls
            .iter()
            .any(|line| line["message"] == "task finished; event sent"),
        "{polls:?}"
    );
    for line in &polls {
        assert_traced(line, "t-1", Some("p-1"));
    }
    // Lines outside any request carry no trace context.
    let started = parsed
        .iter()
        .find(|line| line["logger_name"] == "ignition::app")
        .unwrap();
    assert!(
        !started.contains_key("traceCtx.transactionid"),
        "{started:?}"
    );
}

#[tokio::test]
async fn a_request_without_trace_headers_gets_a_generated_transaction_id_on_its_lines_and_its_answer(
) {
    let driver = Driver::start(
        logging_driver_binary(),
        DRIVER_CONFIG,
        "job_queue:\n  poll_interval: 100ms\n",
        &[("LOG_TYPE", "logstash")],
    )
    .await;
    let (status, body, answered) = driver.post_with("create", driver_create(), &[]).await;
    assert_eq!(status, 202, "{body}");
    let generated = answered.expect("X-Tracectx-TransactionId on the create's answer");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    assert_eq!(driver.next_event()["status"], "COMPLETE");
    // Every operation answers with one; each request its own.
    let query = json!({"infrastructureId": "inf-1", "requestId": "create-1",
                       "deploymentLocation": location()});
    let delete = json!({"infrastructureId": "inf-1", "deploymentLocation": location()});
    let find = json!({"template": "t", "templateType": "TOSCA", "instanceName": "x",
                      "deploymentLocation": location()});
    let mut ids = vec![generated.clone()];
    for (operation, body) in [("query", query), ("delete", delete), ("find", find)] {
        let (status, body, answered) = driver.post_with(operation, body, &[]).await;
        assert!(status < 300, "{operation}: {status} {body}");
        ids.push(answered.unwrap_or_else(|| panic!("{operation}: no X-Tracectx-TransactionId")));
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 4, "{ids:?}");
    // A given transaction id comes back on a query too.
    let query = json!({"infrastructureId": "inf-1", "requestId": "create-1",
                       "deploymentLocation": location()});
    let (_, _, answered) = driver
        .post_with("query", query, &trace_headers("t-q", "p-q"))
        .await;
    assert_eq!(answered.as_deref(), Some("t-q"));
    // The management endpoints have no trace context.
    let health = driver
        .client
        .exchange(driver.client.request(Method::GET, "/management/health"))
        .await
        .unwrap();
    assert!(health.header("X-Tracectx-TransactionId").is_none());
    let lines = driver.stop();
    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();

    let creating: Vec<_> = parsed
        .iter()
        .filter(|line| line["message"].as_str().unwrap().starts_with("creating"))
        .collect();
    assert_eq!(creating.len(), 3, "{lines:?}");
    for line in creating {
        assert_traced(line, &generated, None);
        assert!(!line.contains_key("traceCtx.processid"), "{line:?}");
    }
    let create_polls: Vec<_> = lines_of(&parsed, "inf-1")
        .into_iter()
        .filter(|line| line["message"] == "task finished; event sent")
        .filter(|line| line["request_id"] == "create-1")
        .collect();
    assert_eq!(create_polls.len(), 1, "{lines:?}");
    assert_traced(create_polls[0], &generated, None);
}

#[tokio::test]
async fn at_log_level_warning_the_warn_lines_of_a_request_have_its_trace_context_in_both_formats() {
    for log_type in ["logstash", "flat"] {
        let driver = Driver::start(
            logging_driver_binary(),
            DRIVER_CONFIG,
            "",
            &[("LOG_TYPE", log_type), ("LOG_LEVEL", "WARNING")],
        )
        .await;
        let (status, body, _) = driver
            .post_with("create", driver_create(), &trace_headers("t-1", "p 1"))
            .await;
        assert_eq!(status, 202, "{body}");
        let lines = driver.stop();
        let warned: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains("creating from this template"))
            .collect();
        assert_eq!(warned.len(), 1, "{log_type}: {lines:?}");
        let line = warned[0];
        if log_type == "logstash" {
            assert_traced(&logstash_line(line), "t-1", Some("p 1"));
        } else {
            // flat: the context's fields, the value that is not plain quoted
            assert!(
                line.contains(r#"traceCtx.transactionid=t-1 traceCtx.processid="p 1""#),
                "{line}"
            );
        }
    }
}

#[tokio::test]
async fn too_many_and_oversized_trace_headers_are_served_within_bounds() {
    let driver = Driver::start(
        logging_driver_binary(),
        DRIVER_CONFIG,
        "",
        &[("LOG_TYPE", "logstash")],
    )
    .await;
    let huge = "x".repeat(10_000);
    let mut headers = vec![
        ("X-Tracectx-TransactionId".to_string(), huge.clone()),
        // a format string is logged as it is
        (
            "X-Tracectx-ProcessId".to_string(),
            "{} %s {0:?} {{".to_string(),
        ),
        ("X-Tracectx-Bad.Name".to_string(), "dropped".to_string()),
    ];
    for i in 0..40 {
        headers.push((format!("X-Tracectx-H{i}"), format!("v{i}")));
    }
    let (status, body, answered) = driver.post_with("create", driver_create(), &headers).await;
    assert_eq!(status, 202, "{body}");
    let answered = answered.expect("X-Tracectx-TransactionId");
    assert_eq!(
        answered,
        "x".repeat(256),
        "the value truncated to 256 bytes"
    );
    let lines = driver.stop();
    let parsed: Vec<_> = lines.iter().map(|line| logstash_line(line)).collect();
    let creating = parsed
        .iter()
        .find(|line| line["message"].as_str().unwrap().starts_with("creating"))
        .expect("the driver's line");
    let traced: Vec<&String> = creating
        .keys()
        .filter(|key| key.starts_with("traceCtx."))
        .collect();
    // 16 headers: the transaction and process ids, then H0..H13 (the span of the
    // driver adds traceCtx.test).
    assert_eq!(traced.len(), 16 + 1, "{traced:?}");
    assert_eq!(creating["traceCtx.transactionid"], "x".repeat(256));
    assert_eq!(creating["traceCtx.processid"], "{} %s {0:?} {{");
    assert_eq!(creating["traceCtx.h13"], "v13");
    assert!(!creating.contains_key("traceCtx.h14"), "{creating:?}");
    assert!(!creating.contains_key("traceCtx.bad.name"), "{creating:?}");
    for line in &lines {
        assert!(
            !line.contains(&huge[..257]),
            "an oversized value was logged: {line}"
        );
    }
}
