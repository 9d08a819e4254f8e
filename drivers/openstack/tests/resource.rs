//! The resource driver (`OpenStackResourceDriver`, the Resource Driver API) against the
//! real OpenStack Heat engine (`scripts/heat start`; `scripts/test` starts one and exports
//! `OS_HEAT_API`), served by the framework on the embedded default; and the
//! `openstack-resource-driver` binary as a process. Each test prints `heat-timing
//! <scenario>: <seconds>` (see with `--nocapture`).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use ignition::prelude::*;
use ignition::testing::{DriverFilesBuilder, TestApp};
use ignition_tests::process::{kill_with_this_process, signal};
use ignition_tests::RawClient;
use openstack_driver::{OpenStackConfig, OpenStackResourceDriver};
use serde_json::{json, Value};

/// The associatedTopology entry of a Resource's stack.
const STACK: &str = "InfrastructureStack";

/// A Create's template: a resource that takes `seconds`, a file read with `get_file`
/// and a nested template as a resource type (both from the driver files' `files/`).
fn create_template(seconds: u32) -> String {
    format!(
        "heat_template_version: 2021-04-16
parameters:
  greeting: {{type: string}}
  system_resourceId: {{type: string}}
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      value: {{get_param: greeting}}
      action_wait_secs: {{create: {seconds}}}
  motd:
    type: OS::Heat::Value
    properties:
      value: {{get_file: motd.txt}}
  inner:
    type: nested/inner.yaml
    properties:
      word: {{get_param: greeting}}
outputs:
  greeting: {{value: {{get_attr: [slow, output]}}}}
  resource_id: {{value: {{get_param: system_resourceId}}}}
  motd: {{value: {{get_attr: [motd, value]}}}}
  shout: {{value: {{get_attr: [inner, shout]}}}}
"
    )
}

const INNER_TEMPLATE: &str = "heat_template_version: 2021-04-16
parameters:
  word: {type: string}
resources:
  echo:
    type: OS::Heat::Value
    properties:
      value: {list_join: ['', [{get_param: word}, '!']]}
outputs:
  shout: {value: {get_attr: [echo, value]}}
";

/// Driver files holding `template` as `heat.yaml`.
fn heat_yaml(template: &str) -> DriverFilesBuilder {
    DriverFilesBuilder::new().file("heat.yaml", template)
}

/// A `lifecycle_name` request for the Resource `name`.`id` with these driver files and
/// resource properties, on the local Heat.
fn request(
    lifecycle_name: &str,
    files: &DriverFilesBuilder,
    name: &str,
    id: &str,
    resource_properties: Value,
) -> LifecycleExecutionRequest {
    let mut request = LifecycleExecutionRequest::new(lifecycle_name, files.to_base64(), location());
    request.system_properties = props(json!({"resourceName": name, "resourceId": id}));
    request.resource_properties = props(resource_properties);
    request
}

/// A Delete of the stack in `associated_topology`.
fn delete_request(associated_topology: AssociatedTopology) -> LifecycleExecutionRequest {
    let mut request = request(
        "Delete",
        &DriverFilesBuilder::new(),
        "gone",
        &fresh_id(),
        json!({}),
    );
    request.associated_topology = associated_topology;
    request
}

/// Runs `request` to its event.
async fn run(
    app: &TestApp,
    request: LifecycleExecutionRequest,
) -> (LifecycleExecuteResponse, LifecycleExecution) {
    let accepted = app.execute(request).await.expect("execute accepted");
    let execution = app
        .wait_for_execution(&accepted.request_id, TASK_WAIT)
        .await
        .expect("the execution's event");
    (accepted, execution)
}

/// The stack's id in `topology`.
fn stack_id(topology: &AssociatedTopology) -> String {
    let entry = topology
        .get(STACK)
        .expect("the stack in associatedTopology");
    assert_eq!(entry.element_type, "Openstack");
    entry.id.clone()
}

/// The resource driver with the default settings, on the embedded default.
async fn start_resource() -> TestApp {
    serve(OpenStackResourceDriver::new(&OpenStackConfig::default()).expect("the driver")).await
}

fn find_request(instance_name: &str) -> FindReferenceRequest {
    FindReferenceRequest::new(
        instance_name,
        DriverFilesBuilder::new().to_base64(),
        location(),
    )
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn create_runs_to_complete_with_outputs_and_delete_removes_the_stack() {
    let app = start_resource().await;
    let started = Instant::now();
    let id = fresh_id();
    let files = heat_yaml(&create_template(3))
        .file("files/motd.txt", "welcome")
        .file("files/nested/inner.yaml", INNER_TEMPLATE);
    let create = request(
        "Create",
        &files,
        "web",
        &id,
        json!({"greeting": "hello", "not_a_parameter": "left out"}),
    );
    let accepted = app.execute(create).await.expect("execute accepted");
    let stack = stack_id(&accepted.associated_topology);
    assert!(
        accepted
            .request_id
            .starts_with(&format!("Create::{stack}::")),
        "{accepted:?}"
    );
    // What a poll sees while the resource waits: asked of the driver itself.
    let driver = OpenStackResourceDriver::new(&OpenStackConfig::default()).expect("the driver");
    let now = driver
        .get_lifecycle_execution(accepted.request_id.clone(), location())
        .await
        .expect("a poll");
    assert_eq!(now.status, TaskStatus::InProgress, "{now:?}");

    let execution = app
        .wait_for_execution(&accepted.request_id, TASK_WAIT)
        .await
        .expect("the create's event");
    assert_eq!(execution.status, TaskStatus::Complete, "{execution:?}");
    assert_eq!(
        Value::Object(execution.outputs.clone()),
        json!({"greeting": "hello", "resource_id": id, "motd": "welcome", "shout": "hello!"})
    );
    assert_eq!(execution.associated_topology, accepted.associated_topology);
    let polls = app
        .poll_count("", &accepted.request_id)
        .expect("polls counted");
    assert!(polls >= 3, "IN_PROGRESS polls before COMPLETE: {polls}");
    assert_eq!(
        heat_status(&stack).await.as_deref(),
        Some("CREATE_COMPLETE")
    );
    report(
        "resource: Create → IN_PROGRESS polls → COMPLETE (3 s resource, files/)",
        started,
    );

    let started = Instant::now();
    let (deleting, deleted) = run(&app, delete_request(accepted.associated_topology.clone())).await;
    assert!(
        deleting
            .request_id
            .starts_with(&format!("Delete::{stack}::")),
        "{deleting:?}"
    );
    assert!(deleting.associated_topology.is_empty(), "{deleting:?}");
    assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    assert!(deleted.outputs.is_empty() && deleted.associated_topology.is_empty());
    let status = heat_status(&stack).await;
    assert!(
        matches!(status.as_deref(), None | Some("DELETE_COMPLETE")),
        "{status:?}"
    );
    report(
        "resource: Delete via associatedTopology → COMPLETE",
        started,
    );

    let started = Instant::now();
    let (_, again) = run(&app, delete_request(accepted.associated_topology)).await;
    assert_eq!(again.status, TaskStatus::Complete, "{again:?}");
    let (no_stack, nothing) = run(&app, delete_request(AssociatedTopology::new())).await;
    assert!(no_stack.request_id.starts_with("Delete::no-stack::"));
    assert_eq!(nothing.status, TaskStatus::Complete, "{nothing:?}");
    report(
        "resource: Delete of a gone stack / of no stack → COMPLETE",
        started,
    );
    app.shutdown().await;
}

/// The reason of an execution that failed with `INFRASTRUCTURE_ERROR` (what Heat said).
fn infrastructure_error(execution: &LifecycleExecution) -> String {
    assert_eq!(execution.status, TaskStatus::Failed, "{execution:?}");
    let details = execution.failure_details.as_ref().expect("failure details");
    assert_eq!(details.failure_code, FailureCode::InfrastructureError);
    details.description.clone().unwrap_or_default()
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn a_failing_resource_fails_the_execution_with_heats_reason() {
    let app = start_resource().await;
    let started = Instant::now();
    let create = request(
        "create",
        &heat_yaml(FAILING_TEMPLATE),
        "broken",
        &fresh_id(),
        json!({}),
    );
    let (accepted, execution) = run(&app, create).await;
    let reason = infrastructure_error(&execution);
    assert!(
        reason.contains("Resource CREATE failed") && reason.contains("broken"),
        "Heat's reason: {reason}"
    );
    // The failed stack stays the Resource's, for its Delete.
    assert_eq!(execution.associated_topology, accepted.associated_topology);
    report("resource: failing resource → FAILED", started);
    let (_, deleted) = run(&app, delete_request(accepted.associated_topology)).await;
    assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn a_create_rolled_back_fails_with_the_resources_reason() {
    let config = OpenStackConfig {
        disable_rollback: false,
        ..OpenStackConfig::default()
    };
    let app = serve(OpenStackResourceDriver::new(&config).expect("the driver")).await;
    let started = Instant::now();
    let create = request(
        "Create",
        &heat_yaml(FAILING_TEMPLATE),
        "rolled",
        &fresh_id(),
        json!({}),
    );
    let (accepted, execution) = run(&app, create).await;
    let reason = infrastructure_error(&execution);
    // The resource's failure, not the stack's own "Stack ROLLBACK started".
    assert!(
        reason.contains("broken") && !reason.contains("ROLLBACK"),
        "Heat's reason: {reason}"
    );
    report("resource: rolled-back Create → FAILED", started);
    let (_, deleted) = run(&app, delete_request(accepted.associated_topology)).await;
    assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn find_reference_and_adopt_take_an_existing_stack() {
    let app = start_resource().await;
    let id = fresh_id();
    let create = request(
        "Create",
        &heat_yaml(&slow_template(0)),
        "findme",
        &id,
        json!({"greeting": "hi"}),
    );
    let (accepted, created) = run(&app, create).await;
    assert_eq!(created.status, TaskStatus::Complete, "{created:?}");
    let stack = stack_id(&accepted.associated_topology);

    let started = Instant::now();
    let found = app
        .find_reference(find_request(&format!("findme.{id}")))
        .await
        .expect("find answered")
        .result
        .expect("found");
    assert_eq!(found.resource_id.as_deref(), Some(stack.as_str()));
    assert_eq!(found.associated_topology, accepted.associated_topology);
    assert_eq!(found.outputs["greeting"], "hi");
    for missing in [format!("missing.{id}"), "not a stack name/..".to_string()] {
        let answer = app.find_reference(find_request(&missing)).await;
        assert_eq!(answer.expect("find answered").result, None, "{missing}");
    }
    report("resource: find_reference found / not found", started);

    let started = Instant::now();
    let mut adopt = request(
        "Adopt",
        &DriverFilesBuilder::new(),
        "findme",
        &id,
        json!({}),
    );
    adopt.associated_topology = AssociatedTopology::new().with("anything", &stack, "Openstack");
    let (adopting, adopted) = run(&app, adopt.clone()).await;
    assert!(adopting
        .request_id
        .starts_with(&format!("Adopt::{stack}::")));
    assert_eq!(adopted.status, TaskStatus::Complete, "{adopted:?}");
    assert_eq!(adopted.outputs["greeting"], "hi");
    assert_eq!(adopted.associated_topology, accepted.associated_topology);
    adopt.associated_topology =
        AssociatedTopology::new().with(STACK, "00000000-0000-4000-8000-000000000000", "Openstack");
    let err = app.execute(adopt).await.expect_err("no such stack");
    assert_eq!(err.status(), Some(400), "{err}");
    report(
        "resource: Adopt → COMPLETE; of a missing stack → 400",
        started,
    );

    let (_, deleted) = run(&app, delete_request(accepted.associated_topology)).await;
    assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    let answer = app
        .find_reference(find_request(&format!("findme.{id}")))
        .await;
    assert_eq!(answer.expect("find answered").result, None, "deleted");
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn bad_requests_are_400s_naming_the_cause() {
    let app = start_resource().await;
    let started = Instant::now();
    let unknown_type = "heat_template_version: 2021-04-16\nresources:\n  r: {type: OS::No::Such}\n";
    let tosca = {
        let mut request = request(
            "Create",
            &heat_yaml(&slow_template(0)),
            "t",
            &fresh_id(),
            json!({}),
        );
        request.request_properties = props(json!({"template-type": "TOSCA"}));
        request
    };
    let cases = [
        (
            request("Create", &heat_yaml(unknown_type), "bad", &fresh_id(), json!({})),
            "OS::No::Such",
        ),
        (
            request("Create", &heat_yaml("resources: [not, a, mapping"), "bad", &fresh_id(), json!({})),
            "driverFiles: `heat.yaml`: the Heat template is not valid YAML",
        ),
        (
            request(
                "Create",
                &DriverFilesBuilder::new().file("templates/stack.yaml", unknown_type),
                "bad",
                &fresh_id(),
                json!({}),
            ),
            "missing 'heat.yaml' or 'heat.yml' at the top of the driver files (or one 'heat/*.yaml') (found: 'templates/stack.yaml')",
        ),
        (tosca, "does not translate TOSCA"),
        (
            request("Install", &heat_yaml(unknown_type), "bad", &fresh_id(), json!({})),
            "runs the Create, Adopt and Delete lifecycles, not 'Install'",
        ),
        (
            request("Adopt", &DriverFilesBuilder::new(), "bad", &fresh_id(), json!({})),
            "Adopt takes exactly one stack in associatedTopology, not 0",
        ),
    ];
    for (request, says) in cases {
        let err = app.execute(request).await.expect_err("a bad request");
        let body = err.error_body().expect("the error JSON");
        assert_eq!(body.status, 400, "{body:?}");
        assert!(body.localized_message.contains(says), "{says}: {body:?}");
    }
    report(
        "resource: bad template / no heat.yaml / bad names → 400 (×6)",
        started,
    );
    app.shutdown().await;
}

/// A process's output lines, as they come.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    /// Collects the lines of `stream` on a thread of its own.
    fn collect(stream: impl std::io::Read + Send + 'static) -> Self {
        let lines = Self::default();
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                kept.0.lock().expect("lines").push(line);
            }
        });
        lines
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().expect("lines").clone()
    }

    /// The first line `pick` takes, waiting up to `within`.
    async fn wait_for<T>(&self, within: Duration, pick: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + within;
        loop {
            if let Some(found) = self.all().iter().find_map(|line| pick(line)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "not seen within {within:?}:\n{}",
                self.all().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The execution event of `request_id` printed on stdout.
    async fn execution(&self, request_id: &str) -> Value {
        self.wait_for(TASK_WAIT, |line| {
            let event: Value = serde_json::from_str(line).ok()?;
            (event["requestId"] == request_id).then_some(event)
        })
        .await
    }
}

/// The binary, its stdout (events) and stderr (logs) collected; killed with this process.
struct Process {
    child: Child,
    stdout: Lines,
    stderr: Lines,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn the_binary_prints_each_execution_and_no_credential() {
    let password = env("OS_KEYSTONE_PASSWORD");
    let config = tempfile::NamedTempFile::new().expect("a config file");
    std::fs::write(
        config.path(),
        "application:\n  port: 0\njob_queue:\n  poll_interval: 500ms\nopenstack:\n  request_timeout: 20s\n",
    )
    .expect("written");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_openstack-resource-driver"))
        .arg(config.path())
        .env("RUST_LOG", "debug")
        .env_remove("OPENSTACK_RESOURCE_DRIVER_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    kill_with_this_process(child.id());
    let process = Process {
        stdout: Lines::collect(child.stdout.take().expect("stdout")),
        stderr: Lines::collect(child.stderr.take().expect("stderr")),
        child,
    };
    let port: u16 = process
        .stderr
        .wait_for(Duration::from_secs(60), |line| {
            let rest = line.split("started on port ").nth(1)?;
            rest.split(' ').next()?.parse().ok()
        })
        .await;
    let api = RawClient::on_port(port);

    let keystone = serde_json::to_value(keystone_location(&password)).expect("JSON");
    let files = heat_yaml(&slow_template(1)).to_base64();
    let create = json!({
        "lifecycleName": "Create", "driverFiles": files,
        "systemProperties": {"resourceName": "process", "resourceId": fresh_id()},
        "resourceProperties": {"greeting": "from a process"},
        "deploymentLocation": keystone,
    });
    let (status, accepted) = api
        .post("/api/driver/lifecycle/execute", &create)
        .await
        .expect("execute answered");
    assert_eq!(status, 202, "{accepted}");
    let request_id = accepted["requestId"].as_str().expect("a request id");
    let created = process.stdout.execution(request_id).await;
    assert_eq!(created["status"], "COMPLETE", "{created}");
    assert_eq!(created["outputs"]["greeting"], "from a process");
    assert_eq!(
        created["associatedTopology"],
        accepted["associatedTopology"]
    );

    let delete = json!({
        "lifecycleName": "Delete", "driverFiles": DriverFilesBuilder::new().to_base64(),
        "systemProperties": {}, "associatedTopology": accepted["associatedTopology"],
        "deploymentLocation": keystone,
    });
    let (status, deleting) = api
        .post("/api/driver/lifecycle/execute", &delete)
        .await
        .expect("execute answered");
    assert_eq!(status, 202, "{deleting}");
    let deleted = process
        .stdout
        .execution(deleting["requestId"].as_str().expect("a request id"))
        .await;
    assert_eq!(deleted["status"], "COMPLETE", "{deleted}");

    let wrong = "Wr0ng-pa55word-for-the-resource-logs";
    let mut refused = create.clone();
    refused["deploymentLocation"] = serde_json::to_value(keystone_location(wrong)).expect("JSON");
    let (status, answer) = api
        .post("/api/driver/lifecycle/execute", &refused)
        .await
        .expect("execute answered");
    assert_eq!(status, 400, "{answer}");
    report(
        "resource binary: start → Create → COMPLETE → Delete → COMPLETE (Keystone), events on stdout",
        started,
    );

    signal(process.child.id(), "-TERM");
    let logs = process.stderr.all();
    assert!(logs.len() > 10, "debug logs were written: {}", logs.len());
    let seen = [
        ("logs", logs.join("\n")),
        ("events", process.stdout.all().join("\n")),
        ("error answer", answer.to_string()),
    ];
    for (what, text) in &seen {
        // the password, a wrong one, and any Keystone (Fernet) token
        for secret in [password.as_str(), wrong, "gAAAAA"] {
            assert!(!text.contains(secret), "a credential in the {what}: {text}");
        }
    }
}
