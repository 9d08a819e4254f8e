//! The driver against a real OpenStack Heat engine (`scripts/heat start`; `scripts/test`
//! starts one and exports `OS_HEAT_API`), served by the framework on the embedded default.
//! Each test prints `heat-timing <scenario>: <seconds>` (see with `--nocapture`).

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use futures_util::future::join_all;
use ignition::prelude::*;
use ignition::testing::{Lifecycle, TestApp};
use openstack_driver::OpenStackConfig;
use serde_json::json;

async fn query(app: &TestApp, created: &CreateInfrastructureResponse) -> InfrastructureTask {
    app.query(InfrastructureTaskQuery {
        infrastructure_id: created.infrastructure_id.clone(),
        request_id: created.request_id.clone(),
        deployment_location: location(),
    })
    .await
    .expect("query answered")
}

/// The event of the task `request_id` names (its create or delete).
async fn event_of(app: &TestApp, request_id: &str) -> InfrastructureTask {
    app.wait_for_event(request_id, TASK_WAIT)
        .await
        .expect("the task's event")
}

/// The reason of a task that failed with `INFRASTRUCTURE_ERROR` (what Heat said).
fn infrastructure_error(event: InfrastructureTask) -> String {
    assert_eq!(event.status, TaskStatus::Failed, "{event:?}");
    let details = event.failure_details.expect("failure details");
    assert_eq!(details.failure_code, FailureCode::InfrastructureError);
    details.description.unwrap_or_default()
}

/// Deletes the stack at the local Heat; its delete's event.
async fn delete_and_wait(app: &TestApp, infrastructure_id: &str) -> InfrastructureTask {
    delete_at_and_wait(app, infrastructure_id, location()).await
}

/// Deletes the stack at `deployment_location`; its delete's event.
async fn delete_at_and_wait(
    app: &TestApp,
    infrastructure_id: &str,
    deployment_location: DeploymentLocation,
) -> InfrastructureTask {
    let deleting = app
        .delete(DeleteInfrastructureRequest {
            infrastructure_id: infrastructure_id.into(),
            deployment_location,
        })
        .await
        .expect("delete accepted");
    assert_eq!(deleting.infrastructure_id, infrastructure_id);
    assert_eq!(deleting.request_id, format!("Del-{infrastructure_id}"));
    event_of(app, &deleting.request_id).await
}

async fn find(app: &TestApp, instance_name: &str) -> FindInfrastructureResponse {
    app.find(FindInfrastructureRequest {
        template: String::new(),
        template_type: "heat".into(),
        instance_name: instance_name.into(),
        deployment_location: location(),
    })
    .await
    .expect("find answered")
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn create_is_in_progress_then_complete_with_the_stack_outputs() {
    let app = start().await;
    let started = Instant::now();
    let id = fresh_id();
    let request = create_request(
        &slow_template(3),
        "web",
        &id,
        json!({"greeting": "hello", "not_a_parameter": "left out"}),
    );
    let created = app.create(request).await.expect("create accepted");
    assert_eq!(
        created.infrastructure_id, created.request_id,
        "both are the stack id"
    );
    let now = query(&app, &created).await;
    assert_eq!(now.status, TaskStatus::InProgress, "{now:?}");

    let event = event_of(&app, &created.request_id).await;
    assert_eq!(event.status, TaskStatus::Complete, "{event:?}");
    assert_eq!(event.infrastructure_id, created.infrastructure_id);
    let outputs = event.outputs.expect("outputs");
    assert_eq!(outputs["greeting"], "hello");
    assert_eq!(outputs["resource_id"], id.as_str(), "system_resourceId");
    let polls = app
        .poll_count(&created.infrastructure_id, &created.request_id)
        .expect("polls counted");
    assert!(polls >= 3, "IN_PROGRESS polls before COMPLETE: {polls}");
    report(
        "create → IN_PROGRESS polls → COMPLETE (3 s resource)",
        started,
    );

    delete_and_wait(&app, &created.infrastructure_id).await;
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn a_failing_resource_fails_the_task_with_heats_reason() {
    let app = start().await;
    let started = Instant::now();
    let request = create_request(FAILING_TEMPLATE, "broken", &fresh_id(), json!({}));
    let created = app.create(request).await.expect("create accepted");
    let reason = infrastructure_error(event_of(&app, &created.request_id).await);
    assert!(
        reason.contains("Resource CREATE failed") && reason.contains("broken"),
        "Heat's reason: {reason}"
    );
    report("failing resource → FAILED", started);
    delete_and_wait(&app, &created.infrastructure_id).await;
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn a_create_rolled_back_fails_with_heats_reason() {
    let app = start_with(OpenStackConfig {
        disable_rollback: false,
        ..OpenStackConfig::default()
    })
    .await;
    let started = Instant::now();
    let request = create_request(FAILING_TEMPLATE, "rolled", &fresh_id(), json!({}));
    let created = app.create(request).await.expect("create accepted");
    let reason = infrastructure_error(event_of(&app, &created.request_id).await);
    assert!(reason.contains("broken"), "Heat's reason: {reason}");
    // The rollback goes on after the event; the task stays FAILED, with the resource's
    // failure (not the stack's own "Stack ROLLBACK completed"), until Heat has rolled back.
    let deadline = Instant::now() + TASK_WAIT;
    loop {
        let task = query(&app, &created).await;
        assert_eq!(task.status, TaskStatus::Failed, "{task:?}");
        let description = task.failure_details.and_then(|d| d.description);
        assert_eq!(description.as_deref(), Some(reason.as_str()));
        let status = heat_status(&created.infrastructure_id).await;
        if status.as_deref() == Some("ROLLBACK_COMPLETE") {
            break;
        }
        assert!(Instant::now() < deadline, "no ROLLBACK_COMPLETE");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    report("rollback → FAILED, then ROLLBACK_COMPLETE", started);
    delete_and_wait(&app, &created.infrastructure_id).await;
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn bad_templates_are_400s() {
    let app = start().await;
    let started = Instant::now();
    let cases = [
        (
            "heat_template_version: 2021-04-16\nresources:\n  r: {type: OS::No::Such}\n",
            "HEAT",
            "OS::No::Such",
        ),
        ("resources: [not, a, mapping", "HEAT", "not valid YAML"),
        (
            "heat_template_version: 2021-04-16\n",
            "TOSCA",
            "type 'TOSCA'",
        ),
    ];
    for (template, template_type, says) in cases {
        let mut request = create_request(template, "bad", &fresh_id(), json!({}));
        request.template_type = template_type.into();
        let err = app.create(request).await.expect_err("a bad template");
        let body = err.error_body().expect("the error JSON");
        assert_eq!(body.status, 400, "{body:?}");
        assert!(body.localized_message.contains(says), "{body:?}");
    }
    report("bad template → 400 (×3)", started);
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn a_duplicate_stack_name_is_a_400_naming_the_stack() {
    let app = start().await;
    let started = Instant::now();
    let id = fresh_id();
    let first = app
        .create(create_request(GROUP_TEMPLATE, "twin", &id, json!({})))
        .await
        .expect("the first create");
    let err = app
        .create(create_request(GROUP_TEMPLATE, "twin", &id, json!({})))
        .await
        .expect_err("the same name again");
    let body = err.error_body().expect("the error JSON");
    assert_eq!(body.status, 400, "{body:?}");
    assert!(
        body.localized_message
            .contains(&format!("a stack named 'twin.{id}' already exists")),
        "{body:?}"
    );
    report("duplicate stack name → 400", started);
    app.wait_for_event(&first.request_id, TASK_WAIT)
        .await
        .expect("the first create ends");
    delete_and_wait(&app, &first.infrastructure_id).await;
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn an_unreachable_heat_or_a_bad_location_is_a_400_naming_the_location() {
    let app = start().await;
    let started = Instant::now();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("its address").port()
    }; // closed again: connection refused
    let unreachable = location_with(
        "nowhere",
        json!({"os_auth_enabled": false,
               "os_heat_api": format!("http://127.0.0.1:{closed}/v1/admin")}),
    );
    let mut request = create_request(GROUP_TEMPLATE, "lost", &fresh_id(), json!({}));
    request.deployment_location = unreachable.clone();
    let err = app.create(request).await.expect_err("unreachable");
    let body = err.error_body().expect("the error JSON");
    assert_eq!(body.status, 400, "{body:?}");
    assert!(
        body.localized_message
            .contains("deployment location 'nowhere'")
            && body.localized_message.contains("cannot be reached"),
        "{body:?}"
    );
    let err = app
        .find(FindInfrastructureRequest {
            template: String::new(),
            template_type: "HEAT".into(),
            instance_name: "x".into(),
            deployment_location: unreachable,
        })
        .await
        .expect_err("unreachable");
    assert_eq!(err.status(), Some(400));

    let mut request = create_request(GROUP_TEMPLATE, "lost", &fresh_id(), json!({}));
    request.deployment_location = location_with("half", json!({"os_auth_api": "identity/v3"}));
    let err = app.create(request).await.expect_err("no os_api_url");
    let body = err.error_body().expect("the error JSON");
    assert_eq!(
        (body.status, body.localized_message.as_str()),
        (
            400,
            "deployment location 'half': property 'os_api_url' is missing"
        )
    );
    report("unreachable os_heat_api / missing property → 400", started);
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn delete_completes_and_a_gone_stack_deletes_too() {
    let app = start().await;
    let created = app
        .create(create_request(
            GROUP_TEMPLATE,
            "doomed",
            &fresh_id(),
            json!({}),
        ))
        .await
        .expect("create accepted");
    let event = app.wait_for_event(&created.request_id, TASK_WAIT).await;
    assert_eq!(event.expect("created").status, TaskStatus::Complete);

    let started = Instant::now();
    let deleted = delete_and_wait(&app, &created.infrastructure_id).await;
    assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    report("delete → COMPLETE", started);

    let started = Instant::now();
    let again = delete_and_wait(&app, &created.infrastructure_id).await;
    assert_eq!(again.status, TaskStatus::Complete, "{again:?}");
    let never = delete_and_wait(&app, "00000000-0000-4000-8000-000000000000").await;
    assert_eq!(never.status, TaskStatus::Complete, "{never:?}");
    report("delete of a gone stack → COMPLETE", started);

    let err = app
        .query(InfrastructureTaskQuery {
            infrastructure_id: "00000000-0000-4000-8000-000000000000".into(),
            request_id: "00000000-0000-4000-8000-000000000000".into(),
            deployment_location: location(),
        })
        .await
        .expect_err("a create's unknown stack");
    assert_eq!(err.status(), Some(400));
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn find_by_instance_name_gives_the_outputs_or_nothing() {
    let app = start().await;
    let id = fresh_id();
    let created = app
        .create(create_request(
            &slow_template(0),
            "findme",
            &id,
            json!({"greeting": "hi"}),
        ))
        .await
        .expect("create accepted");
    event_of(&app, &created.request_id).await;

    let started = Instant::now();
    let found = find(&app, &format!("findme.{id}")).await;
    let result = found.result.expect("found");
    assert_eq!(result.infrastructure_id, created.infrastructure_id);
    assert_eq!(result.outputs["greeting"], "hi");
    assert_eq!(find(&app, &format!("missing.{id}")).await.result, None);
    assert_eq!(find(&app, "not a stack name/..").await.result, None);
    report("find found / not found", started);

    delete_and_wait(&app, &created.infrastructure_id).await;
    assert_eq!(
        find(&app, &format!("findme.{id}")).await.result,
        None,
        "deleted"
    );
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn twenty_stacks_of_nested_groups_created_at_once_all_complete() {
    let driver =
        openstack_driver::OpenStackVimDriver::new(&OpenStackConfig::default()).expect("the driver");
    // Slower polls for twenty tasks: Heat is one Python process on two shared cores.
    let app = App::new("OpenStack Heat Test").property("job_queue.poll_interval", "1s");
    let app = TestApp::with_driver(app, driver)
        .await
        .expect("the app starts");
    let started = Instant::now();
    let creates = (0..20).map(|n| {
        let request = create_request(GROUP_TEMPLATE, &format!("many{n}"), &fresh_id(), json!({}));
        app.create(request)
    });
    let created: Vec<_> = join_all(creates).await;
    let ids: HashSet<String> = created
        .iter()
        .map(|c| c.as_ref().expect("create accepted").request_id.clone())
        .collect();
    assert_eq!(ids.len(), 20);
    for id in &ids {
        let event = app
            .wait_for_event(id, Duration::from_secs(240))
            .await
            .expect("every create ends");
        assert_eq!(event.status, TaskStatus::Complete, "{event:?}");
        let strings = event.outputs.expect("outputs")["strings"].clone();
        assert_eq!(strings.as_array().map(Vec::len), Some(3), "{strings}");
    }
    report(
        "20 stacks at once (ResourceGroup of 3) → all COMPLETE",
        started,
    );
    let started = Instant::now();
    let deletes = ids.iter().map(|id| delete_and_wait(&app, id));
    for deleted in join_all(deletes).await {
        assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    }
    report("20 stacks deleted at once → all COMPLETE", started);
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn the_lifecycle_passes_against_heat() {
    let app = start().await;
    let started = Instant::now();
    let id = fresh_id();
    // The driver names the stack `{resourceName}.{resourceId}`, and find looks for the
    // stack by that name: the instance name is the stack's name.
    let report_ = Lifecycle::new(slow_template(1), "HEAT", location())
        .system_properties(props(
            json!({"resourceName": "lifecycle", "resourceId": id}),
        ))
        .properties(props(json!({"greeting": "lifecycle"})))
        .instance_name(format!("lifecycle.{id}"))
        .timeout(TASK_WAIT)
        .run(&app)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    eprintln!("{report_}");
    report("Lifecycle (create → query → find → delete → find)", started);
    app.shutdown().await;
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn heat_over_https_is_trusted_through_the_ca_file_and_refused_without_it() {
    use ignition_tests::kafka_security::{TestCa, TlsProxy};

    let started = Instant::now();
    // The local Heat behind a TLS proxy whose certificate a CA made here signed.
    let plain = heat_api();
    let rest = plain
        .strip_prefix("http://")
        .expect("an http:// OS_HEAT_API");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let upstream = tokio::net::lookup_host(authority)
        .await
        .expect("Heat's address")
        .next()
        .expect("one address");
    let ca = TestCa::new("Heat test CA");
    let proxy = TlsProxy::in_front_of(upstream, &ca);
    let https_location = location_with(
        "heat-https",
        json!({"os_auth_enabled": false, "os_heat_api": format!("https://{}{path}", proxy.bootstrap())}),
    );
    let create = |id: &str| {
        let mut request = create_request(&slow_template(0), "tls", id, json!({"greeting": "hi"}));
        request.deployment_location = https_location.clone();
        request
    };

    // Trusted through `openstack.ca_file`: the create completes, the delete too.
    let trusting = start_with(OpenStackConfig {
        ca_file: Some(ca.ca_pem().to_path_buf()),
        ..OpenStackConfig::default()
    })
    .await;
    let created = trusting
        .create(create(&fresh_id()))
        .await
        .expect("create accepted");
    let event = event_of(&trusting, &created.request_id).await;
    assert_eq!(event.status, TaskStatus::Complete, "{event:?}");
    assert_eq!(event.outputs.expect("outputs")["greeting"], "hi");
    let deleted = delete_at_and_wait(
        &trusting,
        &created.infrastructure_id,
        https_location.clone(),
    )
    .await;
    assert_eq!(deleted.status, TaskStatus::Complete, "{deleted:?}");
    trusting.shutdown().await;

    // The system's roots only: the certificate is not trusted, a 400 naming the location.
    let app = start().await;
    let err = app
        .create(create(&fresh_id()))
        .await
        .expect_err("an untrusted certificate");
    let body = err.error_body().expect("the error JSON");
    assert_eq!(body.status, 400, "{body:?}");
    assert!(
        body.localized_message
            .contains("deployment location 'heat-https'")
            && body.localized_message.contains("certificate"),
        "{body:?}"
    );
    app.shutdown().await;
    report(
        "Heat over HTTPS: trusted via ca_file (create+delete), refused without",
        started,
    );
}
