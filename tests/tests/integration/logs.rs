//! Logs as an operator's log shipper reads them: real driver processes (`App::run`),
//! their whole stderr after a SIGTERM, in both formats, at the configured level, with
//! private keys obfuscated.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Map, Value};

/// The example binary, built by `cargo test` beside this test binary.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir
        .join("examples")
        .join(format!("simulated_vim{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built: run the tests with `cargo test --workspace` (which builds examples) or `cargo build --example simulated_vim` first",
        path.display()
    );
    path
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
    port: u16,
    _config: TempFile,
}

struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A free port on 127.0.0.1 (for a driver whose level hides the line naming its port).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Driver {
    /// Starts `binary` with this YAML configuration (in the file named by `config_var`)
    /// and environment (RUST_LOG, LOG_TYPE and LOG_LEVEL of the test's own environment
    /// removed), and waits until it answers on its port.
    async fn start(binary: PathBuf, config_var: &str, yaml: &str, env: &[(&str, &str)]) -> Self {
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
            port,
            _config: config,
        };
        driver.wait_until_serving().await;
        driver
    }

    async fn wait_until_serving(&self) {
        let url = format!("http://127.0.0.1:{}/management/health", self.port);
        for _ in 0..300 {
            if let Ok(response) = reqwest::get(&url).await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the driver does not answer on port {}", self.port);
    }

    async fn post(&self, operation: &str, body: Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/api/infrastructure/{operation}",
                self.port
            ))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
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
        let status = self.child.wait().unwrap();
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
    assert_eq!(started["logger_name"], "ignition::app");
    assert_eq!(started["path"], "ignition/src/app.rs");
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
