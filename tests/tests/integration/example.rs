//! The example drivers as a user meets them: their own process, configured by env var,
//! events on stdout, logs on stderr, stopped by SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ignition_tests::{process, RawClient};
use serde_json::{json, Value};

/// The example binary, built by `cargo test` beside this test binary.
fn example_binary() -> PathBuf {
    process::example_binary("simulated_vim")
}

/// The resource driver example's binary.
fn script_driver_binary() -> PathBuf {
    process::example_binary("script_driver")
}

struct Example {
    child: Child,
    events: mpsc::Receiver<String>,
    client: RawClient,
    /// Its configuration file, deleted with it.
    _config: tempfile::TempPath,
}

impl Example {
    fn start() -> Self {
        Self::start_binary(example_binary(), "SIMULATED_VIM_CONFIG")
    }

    /// The example `binary`, its configuration file named by the env var `config_env`.
    fn start_binary(binary: PathBuf, config_env: &str) -> Self {
        let mut config = tempfile::Builder::new()
            .prefix("example-")
            .suffix(".yml")
            .tempfile()
            .unwrap();
        config
            .write_all(b"application:\n  port: 0\njob_queue:\n  poll_interval: 100ms\n")
            .unwrap();
        let config = config.into_temp_path();
        let mut child = Command::new(binary)
            .env(config_env, &*config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (port_tx, port_rx) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                eprintln!("[example] {line}");
                if let Some(rest) = line.split("started on port ").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = port_tx.send(port);
                }
            }
        });
        let (events_tx, events) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let _ = events_tx.send(line);
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the example logs its port");
        Example {
            child,
            events,
            client: RawClient::new(format!("http://127.0.0.1:{port}")),
            _config: config,
        }
    }

    async fn post(&self, operation: &str, body: Value) -> (u16, Value) {
        self.client
            .post(&format!("/api/infrastructure/{operation}"), &body)
            .await
            .unwrap()
    }

    /// A POST below the Resource Driver API's `/api/driver`.
    async fn post_driver(&self, path: &str, body: Value) -> (u16, Value) {
        self.client
            .post(&format!("/api/driver/{path}"), &body)
            .await
            .unwrap()
    }

    fn next_event(&self) -> Value {
        let line = self
            .events
            .recv_timeout(Duration::from_secs(10))
            .expect("an event on stdout");
        serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("stdout line is not an event: {line}: {err}"))
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn location() -> Value {
    json!({"name": "region-1", "type": "SimCloud"})
}

fn template(servers: usize) -> String {
    let mut resources = serde_json::Map::new();
    resources.insert("net".into(), json!({"type": "network"}));
    for i in 0..servers {
        resources.insert(format!("vm{i}"), json!({"type": "server"}));
    }
    json!({"resources": resources, "outputs": {"ip": "vm0.ip", "cidr": "net.cidr"}}).to_string()
}

fn create(name: &str, servers: usize) -> Value {
    json!({"template": template(servers), "templateType": "SimStack",
           "systemProperties": {"resourceName": name}, "deploymentLocation": location()})
}

#[tokio::test]
async fn the_example_driver_works_end_to_end() {
    let example = Example::start();

    // create → a few polls → COMPLETE with outputs, on stdout
    let (status, created) = example.post("create", create("web", 2)).await;
    assert_eq!(status, 202, "{created}");
    let event = example.next_event();
    assert_eq!(event["infrastructureId"], created["infrastructureId"]);
    assert_eq!(event["requestId"], created["requestId"]);
    assert_eq!(event["status"], "COMPLETE");
    assert_eq!(event["outputs"]["ip"], "10.0.0.3");
    assert_eq!(event["outputs"]["cidr"], "10.1.0.0/24");

    // find by instance name
    let find = |name: &str| json!({"template": template(1), "templateType": "SimStack", "instanceName": name, "deploymentLocation": location()});
    let (status, found) = example.post("find", find("web")).await;
    assert_eq!(status, 200);
    assert_eq!(
        found["result"]["infrastructureId"],
        created["infrastructureId"]
    );
    assert_eq!(found["result"]["outputs"], event["outputs"]);
    assert_eq!(
        example.post("find", find("nothing")).await,
        (200, json!({"result": null}))
    );

    // a bad template is a 400 that says why
    let mut bad = create("bad", 1);
    bad["template"] = json!(r#"{"resources": {"vm": {"type": "teapot"}}}"#);
    let (status, body) = example.post("create", bad).await;
    assert_eq!(status, 400);
    assert!(
        body["localizedMessage"]
            .as_str()
            .unwrap()
            .contains("teapot"),
        "{body}"
    );

    // too many servers: the build fails with INSUFFICIENT_CAPACITY
    let (status, _) = example.post("create", create("big", 30)).await;
    assert_eq!(status, 202);
    let event = example.next_event();
    assert_eq!(event["status"], "FAILED");
    assert_eq!(
        event["failureDetails"]["failureCode"],
        "INSUFFICIENT_CAPACITY"
    );

    // delete: unknown id → 400; known → COMPLETE event
    let unknown = json!({"infrastructureId": "stack-9999", "deploymentLocation": location()});
    assert_eq!(example.post("delete", unknown).await.0, 400);
    let delete =
        json!({"infrastructureId": created["infrastructureId"], "deploymentLocation": location()});
    let (status, deleted) = example.post("delete", delete).await;
    assert_eq!(status, 202);
    let event = example.next_event();
    assert_eq!(event["requestId"], deleted["requestId"]);
    assert_eq!(event["status"], "COMPLETE");
    assert_eq!(
        example.post("find", find("web")).await,
        (200, json!({"result": null}))
    );

    // SIGTERM: a graceful exit with status 0
    let mut example = example;
    let pid = example.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = wait_with_timeout(&mut example.child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not exit in {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_example_prints_its_openapi_document() {
    let output = Command::new(example_binary())
        .arg("--openapi")
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let checked_in = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ignition-openapi/openapi/infrastructure-api.generated.yaml"),
    )
    .unwrap();
    assert_eq!(printed, checked_in);
    let problems =
        ignition_openapi::compat::check_yaml(ignition_openapi::CONTRACT_YAML, &printed).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

/// An execute request of `lifecycle` for the resource `name`, with these driver files.
fn execution(lifecycle: &str, name: &str, files: &str) -> Value {
    json!({"lifecycleName": lifecycle, "driverFiles": files,
           "systemProperties": {"resourceName": name},
           "resourceProperties": {"size": {"type": "string", "value": "small"}},
           "requestProperties": {}, "associatedTopology": {},
           "deploymentLocation": {"name": "local", "type": "local", "properties": {}}})
}

#[tokio::test]
async fn the_resource_driver_example_runs_each_lifecycle_s_script() {
    let example = Example::start_binary(script_driver_binary(), "SCRIPT_DRIVER_CONFIG");
    let files = ignition::testing::DriverFilesBuilder::new()
        .file(
            "scripts/Create.sh",
            "echo \"output address=10.0.0.7\"\necho \"output size=$PROP_size\"\n",
        )
        .file("scripts/Upgrade.sh", "echo 'disk full' >&2\nexit 3\n")
        .to_base64();

    let (status, created) = example
        .post_driver("lifecycle/execute", execution("Create", "web", &files))
        .await;
    assert_eq!(status, 202, "{created}");
    let event = example.next_event();
    assert_eq!(event["requestId"], created["requestId"]);
    assert_eq!(event["status"], "COMPLETE", "{event}");
    assert_eq!(
        event["outputs"],
        json!({"address": "10.0.0.7", "size": "small"})
    );

    let (status, upgrade) = example
        .post_driver("lifecycle/execute", execution("Upgrade", "web", &files))
        .await;
    assert_eq!(status, 202, "{upgrade}");
    let event = example.next_event();
    assert_eq!(event["status"], "FAILED", "{event}");
    assert_eq!(
        event["failureDetails"]["failureCode"],
        "INFRASTRUCTURE_ERROR"
    );
    assert!(
        event["failureDetails"]["description"]
            .as_str()
            .is_some_and(|reason| reason.ends_with("disk full")),
        "{event}"
    );

    let (status, refused) = example
        .post_driver("lifecycle/execute", execution("Delete", "web", &files))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["localizedMessage"]
            .as_str()
            .is_some_and(|m| m.contains("'scripts/Delete.sh'")),
        "{refused}"
    );

    let find = |name: &str| {
        json!({"instanceName": name, "driverFiles": files,
        "deploymentLocation": {"name": "local", "type": "local", "properties": {}}})
    };
    let (status, found) = example.post_driver("references/find", find("web")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["result"]["associatedTopology"]["web"]["id"],
        created["requestId"]
    );
    assert_eq!(found["result"]["outputs"]["address"], "10.0.0.7");
    assert_eq!(
        example.post_driver("references/find", find("db")).await,
        (200, json!({"result": null}))
    );
}
