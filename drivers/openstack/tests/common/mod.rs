//! What the Heat tests share: the Heat engine's endpoint (and Keystone's), deployment
//! locations, requests, templates of `OS::Heat::*` resources, a driver served on the
//! embedded default, Heat's own view of a stack, and timing lines for the report.
#![allow(dead_code)] // each test binary uses its part

use std::time::{Duration, Instant};

use ignition::prelude::*;
use ignition::testing::TestApp;
use ignition::Driver;
use openstack_driver::{OpenStackConfig, OpenStackVimDriver};
use serde_json::{json, Value};

/// How long a Heat task may take in these tests (TestResource waits a few seconds at most).
pub(crate) const TASK_WAIT: Duration = Duration::from_secs(90);

/// Heat's v1 endpoint with its project (`OS_HEAT_API`, e.g. `http://127.0.0.1:8004/v1/admin`),
/// which `scripts/test` exports after starting Heat with `scripts/heat start`.
pub(crate) fn heat_api() -> String {
    std::env::var("OS_HEAT_API").unwrap_or_else(|_| {
        panic!(
            "the Heat tests need a running OpenStack Heat: run them with scripts/test \
             (which starts one), or start one with `eval \"$(scripts/heat start)\"` \
             (it exports OS_HEAT_API) and stop it with `scripts/heat stop`"
        )
    })
}

/// A variable `scripts/heat start` exports for Keystone (`OS_KEYSTONE_URL`,
/// `OS_KEYSTONE_PASSWORD`, `KEYSTONE_ACCESS_LOG`).
pub(crate) fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "the Keystone tests need {name}: run them with scripts/test, or eval the output \
             of `scripts/heat start` (which starts Keystone unless HEAT_KEYSTONE=0)"
        )
    })
}

/// The admin's location through Keystone: no `os_heat_api`, Heat comes from the catalog.
pub(crate) fn keystone_location(password: &str) -> DeploymentLocation {
    location_with(
        "keystone-local",
        json!({
            "os_api_url": env("OS_KEYSTONE_URL"),
            "os_auth_api": "v3",
            "os_auth_username": "admin",
            "os_auth_password": password,
            "os_auth_user_domain_name": "Default",
            "os_auth_project_name": "admin",
            "os_auth_project_domain_name": "Default",
        }),
    )
}

/// A location with these properties.
pub(crate) fn location_with(name: &str, properties: Value) -> DeploymentLocation {
    let mut location = DeploymentLocation::new(name);
    location.location_type = Some("Openstack".into());
    location.properties = properties.as_object().expect("an object").clone();
    location
}

/// The local Heat, without Keystone (its API runs with noauth).
pub(crate) fn location() -> DeploymentLocation {
    location_with(
        "heat-local",
        json!({"os_auth_enabled": false, "os_heat_api": heat_api()}),
    )
}

/// A property map from JSON.
pub(crate) fn props(value: Value) -> PropValueMap {
    serde_json::from_value(value).expect("a property map")
}

/// A fresh resource id, so that stack names never collide between runs.
pub(crate) fn fresh_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// A create of `template` (HEAT) named `name`.`id`, with these properties.
pub(crate) fn create_request(
    template: &str,
    name: &str,
    id: &str,
    properties: Value,
) -> CreateInfrastructureRequest {
    CreateInfrastructureRequest {
        template: template.into(),
        template_type: "HEAT".into(),
        system_properties: props(json!({"resourceName": name, "resourceId": id})),
        properties: props(properties),
        deployment_location: location(),
    }
}

/// `driver` (either kind) on the embedded default, polling every 250 ms.
pub(crate) async fn serve<D: Driver>(driver: D) -> TestApp {
    let app = App::new("OpenStack Heat Test").property("job_queue.poll_interval", "250ms");
    TestApp::with_driver(app, driver)
        .await
        .expect("the app starts")
}

/// The VIM driver with these settings, on the embedded default, polling every 250 ms.
pub(crate) async fn start_with(config: OpenStackConfig) -> TestApp {
    serve(OpenStackVimDriver::new(&config).expect("the driver")).await
}

/// The driver with the default settings.
pub(crate) async fn start() -> TestApp {
    start_with(OpenStackConfig::default()).await
}

/// One `OS::Heat::TestResource` that takes `seconds` to create, whose value is the
/// parameter `greeting`; outputs `greeting` and `resource_id` (the `system_resourceId`
/// parameter).
pub(crate) fn slow_template(seconds: u32) -> String {
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
outputs:
  greeting: {{value: {{get_attr: [slow, output]}}}}
  resource_id: {{value: {{get_param: system_resourceId}}}}
"
    )
}

/// A stack whose one resource fails to create after a second.
pub(crate) const FAILING_TEMPLATE: &str = "heat_template_version: 2021-04-16
resources:
  ok:
    type: OS::Heat::RandomString
  broken:
    type: OS::Heat::TestResource
    depends_on: ok
    properties:
      fail: true
      action_wait_secs: {create: 1}
";

/// A stack with nested stacks: a ResourceGroup of three random strings.
pub(crate) const GROUP_TEMPLATE: &str = "heat_template_version: 2021-04-16
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: 3
      resource_def:
        type: OS::Heat::RandomString
        properties: {length: 8}
outputs:
  strings: {value: {get_attr: [group, value]}}
";

/// The stack's status as Heat itself reports it (`None`: Heat does not know it).
pub(crate) async fn heat_status(stack_id: &str) -> Option<String> {
    let response = reqwest::get(format!("{}/stacks/{stack_id}", heat_api()))
        .await
        .expect("Heat answers");
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return None;
    }
    let stack: Value = response.json().await.expect("a stack");
    stack["stack"]["stack_status"].as_str().map(str::to_string)
}

/// Prints `heat-timing <scenario>: <seconds>` (run with `--nocapture` to see it).
#[allow(clippy::print_stdout)] // the tests' timing report
pub(crate) fn report(scenario: &str, started: Instant) {
    println!(
        "heat-timing {scenario}: {:.2}s",
        started.elapsed().as_secs_f64()
    );
}
