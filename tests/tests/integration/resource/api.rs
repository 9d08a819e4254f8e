//! The two operations over HTTP: their answers exactly as the contract's JSON, what the
//! driver is given, every error row, malformed bodies, call time limits, the spec and the
//! Swagger UI, the metrics.

use std::time::Duration;

use ignition::models::{DeploymentLocation, FindReferenceRequest, LifecycleExecutionRequest};
use ignition_tests::resource_driver::{resource_app, RESOURCE_ERROR_ROWS};
use reqwest::Method;
use serde_json::{json, Value};

use super::{driver_files, execute_body, find_body, request_id, ResourceServer, WAIT};
use crate::metrics::{scrape, scrape_until};

const EXECUTE: &str = "/api/driver/lifecycle/execute";
const FIND: &str = "/api/driver/references/find";

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn execute_is_202_with_the_request_id_and_topology_and_the_driver_gets_every_field() {
    let server = ResourceServer::start().await;
    let answer = server.execute("complete_after:0").await;
    let rid = request_id(&answer);
    assert_eq!(
        answer,
        json!({"requestId": rid, "version": "1.0.0", "associatedTopology": {
            "stack": {"id": "st-1", "type": "Openstack"},
            "request": {"id": rid, "type": "Request"},
        }}),
        "the contract's LifecycleExecuteResponse, Python's keys"
    );

    let seen = server.log.last_named("complete_after:0").expect("called");
    assert!(seen.root_existed, "the files are on disk during the call");
    assert_eq!(seen.files, ["meta/info.yaml", "scripts/Install.sh"]);
    assert_eq!(
        seen.properties[0],
        pairs(&[("resourceId", "r-1"), ("resourceName", "web")])
    );
    assert_eq!(
        seen.properties[1],
        pairs(&[("cidr", "10.0.0.0/24"), ("key", "PRIVATE\n---\nPUBLIC")])
    );
    assert_eq!(seen.properties[2], pairs(&[("reason", "test")]));
    assert_eq!(
        seen.associated_topology,
        [(
            "stack".to_string(),
            "st-1".to_string(),
            "Openstack".to_string()
        )]
    );
    assert_eq!(seen.location, "core");
    assert!(
        !seen.root.exists(),
        "the files are removed before the answer: {}",
        seen.root.display()
    );

    // The typed client of the kit: the same call, the same answer's shape.
    let files = driver_files().to_base64();
    let location = DeploymentLocation::new("core");
    let accepted = server
        .app
        .execute(LifecycleExecutionRequest::new(
            "complete_after:0",
            files.clone(),
            location.clone(),
        ))
        .await
        .expect("the kit's execute");
    assert!(accepted.request_id.starts_with("exec-"), "{accepted:?}");
    assert_eq!(
        accepted
            .associated_topology
            .get("request")
            .map(|e| e.id.as_str()),
        Some(accepted.request_id.as_str())
    );
    let done = server
        .app
        .wait_for_execution(&accepted.request_id, WAIT)
        .await
        .expect("the kit sees the execution's event");
    assert_eq!(done.outputs["lifecycle"], "complete_after:0");
    let found = server
        .app
        .find_reference(FindReferenceRequest::new("found", files, location))
        .await
        .expect("the kit's find_reference");
    assert_eq!(
        found.result.and_then(|r| r.resource_id).as_deref(),
        Some("res-found")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn find_reference_answers_what_was_found_or_a_null_result() {
    let server = ResourceServer::start().await;
    let (status, found) = server.post(FIND, &find_body("found")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found,
        json!({"result": {
            "resourceId": "res-found",
            "outputs": {"ip": "10.0.0.9", "files": ["meta/info.yaml", "scripts/Install.sh"]},
            "associatedTopology": {"server": {"id": "srv-1", "type": "Openstack"}},
        }})
    );
    let seen = server.log.last_named("found").expect("called");
    assert!(seen.root_existed);
    assert!(!seen.root.exists(), "removed before the answer");

    assert_eq!(
        server.post(FIND, &find_body("nothing")).await,
        (200, json!({"result": null}))
    );
    server.shutdown().await;
}

#[tokio::test]
async fn every_resource_driver_error_is_its_status_with_the_contract_error_json() {
    let server = ResourceServer::start().await;
    for (name, status) in RESOURCE_ERROR_ROWS {
        let expected = json!({"localizedMessage": format!("{name} error"), "status": status});
        let lifecycle = format!("error:{name}");
        assert_eq!(
            server.post(EXECUTE, &execute_body(&lifecycle)).await,
            (status, expected.clone()),
            "execute {name}"
        );
        assert_eq!(
            server.post(FIND, &find_body(&lifecycle)).await,
            (status, expected),
            "find_reference {name}"
        );
        let seen = server.log.last_named(&lifecycle).expect("called");
        assert!(!seen.root.exists(), "{name}: files removed");
    }
    // No error row starts monitoring.
    assert!(server
        .next_event(Duration::from_millis(300))
        .await
        .is_none());

    // A panicking driver: 500 with the error JSON, and the server goes on.
    for (path, body) in [(EXECUTE, execute_body("panic")), (FIND, find_body("panic"))] {
        let (status, answer) = server.post(path, &body).await;
        assert_eq!(status, 500, "{path}: {answer}");
        assert_eq!(answer["status"], 500, "{answer}");
        assert!(answer["localizedMessage"].is_string(), "{answer}");
        let seen = server.log.last_named("panic").expect("called");
        assert!(!seen.root.exists(), "{path}: files removed after a panic");
    }
    let (status, answer) = server.post(EXECUTE, &execute_body("teapot")).await;
    assert_eq!(
        (status, answer),
        (
            400,
            json!({"localizedMessage": "unknown plan `teapot`", "status": 400})
        )
    );
    server.execute("complete_after:0").await;
    server.shutdown().await;
}

/// `body` without `field`.
fn without(mut body: Value, field: &str) -> Value {
    body.as_object_mut().unwrap().remove(field);
    body
}

/// `body` with `field` set to `value`.
fn with(mut body: Value, field: &str, value: Value) -> Value {
    body[field] = value;
    body
}

#[tokio::test]
async fn malformed_bodies_are_400_naming_the_field_and_the_driver_is_not_called() {
    let server = ResourceServer::start().await;
    let execute = execute_body("complete_after:0");
    let find = find_body("found");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            EXECUTE,
            without(execute.clone(), "lifecycleName"),
            "lifecycleName",
        ),
        (
            EXECUTE,
            without(execute.clone(), "driverFiles"),
            "driverFiles",
        ),
        (
            EXECUTE,
            without(execute.clone(), "systemProperties"),
            "systemProperties",
        ),
        (
            EXECUTE,
            without(execute.clone(), "deploymentLocation"),
            "deploymentLocation",
        ),
        (
            EXECUTE,
            with(execute.clone(), "driverFiles", json!(5)),
            "driverFiles",
        ),
        (
            EXECUTE,
            with(execute.clone(), "lifecycleName", json!(["Install"])),
            "lifecycleName",
        ),
        (
            EXECUTE,
            with(
                execute.clone(),
                "associatedTopology",
                json!({"stack": {"id": "st-1"}}),
            ),
            "associatedTopology",
        ),
        (
            EXECUTE,
            with(
                execute.clone(),
                "deploymentLocation",
                json!({"type": "Openstack"}),
            ),
            "deploymentLocation",
        ),
        (
            EXECUTE,
            with(execute.clone(), "resourceProperties", json!("cidr")),
            "resourceProperties",
        ),
        (FIND, without(find.clone(), "instanceName"), "instanceName"),
        (
            FIND,
            with(find.clone(), "driverFiles", Value::Null),
            "driverFiles",
        ),
        (
            FIND,
            with(find.clone(), "deploymentLocation", json!([])),
            "deploymentLocation",
        ),
    ];
    let calls_before = server.log.seen().len();
    for (path, body, field) in cases {
        let (status, answer) = server.post(path, &body).await;
        assert_eq!(status, 400, "{path} {field}: {answer}");
        assert_eq!(answer["status"], 400, "{answer}");
        let message = answer["localizedMessage"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{path}: names `{field}`: {message}"
        );
    }
    // Not JSON, and not JSON's content type.
    for path in [EXECUTE, FIND] {
        let request = server
            .client
            .request(Method::POST, path)
            .header("content-type", "application/json")
            .body("{\"lifecycleName\": ");
        let (status, answer) = server.client.send(request).await.unwrap();
        assert_eq!((status, &answer["status"]), (400, &json!(400)), "{answer}");
        let request = server
            .client
            .request(Method::POST, path)
            .header("content-type", "text/plain")
            .body(execute.to_string());
        let (status, answer) = server.client.send(request).await.unwrap();
        assert_eq!((status, &answer["status"]), (415, &json!(415)), "{answer}");
    }
    assert_eq!(
        server.log.seen().len(),
        calls_before,
        "the driver was not called"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_driver_call_past_its_time_limit_is_503_and_its_files_are_gone() {
    let (app, log) = resource_app();
    let app = app
        .property("driver.timeouts.execute", "300ms")
        .property("driver.timeouts.find_reference", "300ms");
    let server = ResourceServer::start_app(app, log).await;
    for (path, body, name, key) in [
        (
            EXECUTE,
            execute_body("hold:3000"),
            "execute",
            "driver.timeouts.execute",
        ),
        (
            FIND,
            find_body("hold:3000"),
            "find_reference",
            "driver.timeouts.find_reference",
        ),
    ] {
        let started = std::time::Instant::now();
        let (status, answer) = server.post(path, &body).await;
        assert_eq!(status, 503, "{name}: {answer}");
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{name}: answered at the limit, not when the driver finished"
        );
        assert_eq!(answer["status"], 503);
        let message = answer["localizedMessage"].as_str().unwrap();
        assert!(message.contains(key), "{name}: names `{key}`: {message}");
        let seen = server.log.last_named("hold:3000").expect("called");
        assert!(seen.root_existed);
        assert!(
            !seen.root.exists(),
            "{name}: the cancelled call's files are gone"
        );
    }
    // The cancelled execute answered no request id, so nothing is monitored; a call
    // within the limit still works.
    assert!(server
        .next_event(Duration::from_millis(300))
        .await
        .is_none());
    let rid = server.execute_id("hold:50").await;
    let event = server.next_event(WAIT).await.expect("the event");
    assert_eq!(event["requestId"], rid.as_str());
    server.shutdown().await;
}

#[tokio::test]
async fn the_spec_and_the_swagger_ui_are_served_under_api_driver() {
    let server = ResourceServer::start().await;
    let (status, spec) = server.client.get("/api/driver/openapi.json").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(spec["servers"][0]["url"], "/api/driver");
    assert_eq!(
        spec["paths"]["/lifecycle/execute"]["post"]["operationId"],
        "execute_lifecycle"
    );
    assert_eq!(
        spec["paths"]["/references/find"]["post"]["operationId"],
        "find_reference"
    );
    let problems = ignition_openapi::compat::check_yaml(
        ignition_openapi::RESOURCE_DRIVER_CONTRACT_YAML,
        &spec.to_string(),
    )
    .unwrap();
    assert!(
        problems.is_empty(),
        "the served spec keeps the contract: {problems:?}"
    );
    let (status, yaml) = server.client.get("/api/driver/openapi.yaml").await.unwrap();
    assert_eq!(status, 200);
    let yaml: Value = serde_yaml::from_str(yaml.as_str().expect("text")).expect("YAML");
    assert_eq!(yaml, spec, "the YAML and the JSON are one document");
    let (status, ui) = server.client.get("/api/driver/ui").await.unwrap();
    assert_eq!(status, 200);
    assert!(ui.as_str().unwrap().contains("swagger"), "Swagger UI page");
    // A resource driver serves the Resource Driver API only.
    let (status, answer) = server
        .client
        .get("/api/infrastructure/openapi.json")
        .await
        .unwrap();
    assert_eq!((status, &answer["status"]), (404, &json!(404)), "{answer}");
    let (status, _) = server
        .client
        .post("/api/infrastructure/create", &json!({}))
        .await
        .unwrap();
    assert_eq!(status, 404);
    server.shutdown().await;

    let (app, log) = resource_app();
    let server =
        ResourceServer::start_app(app.property("application.swagger_ui_enabled", false), log).await;
    assert_eq!(server.client.get("/api/driver/ui/").await.unwrap().0, 404);
    assert_eq!(
        server
            .client
            .get("/api/driver/openapi.json")
            .await
            .unwrap()
            .0,
        200
    );
    server.shutdown().await;
}

#[tokio::test]
async fn metrics_count_execute_and_find_reference_by_operation_and_status() {
    let server = ResourceServer::start().await;
    let first = scrape(&server.client).await;
    for (operation, success) in [("execute", "202"), ("find_reference", "200")] {
        for status in [success, "400", "408", "413", "415", "500", "503"] {
            assert_eq!(
                first.get(
                    "ignition_http_requests_total",
                    &[("operation", operation), ("status", status)]
                ),
                Some(0.0),
                "{operation} {status} from the first scrape: {}",
                first.text
            );
        }
    }
    assert!(
        !first.text.contains("operation=\"create\""),
        "a resource driver has no VIM driver series: {}",
        first.text
    );

    for _ in 0..3 {
        server.execute("complete_after:0").await;
    }
    server
        .post(EXECUTE, &execute_body("error:InvalidRequest"))
        .await;
    server.post(FIND, &find_body("found")).await;
    server.post(FIND, &find_body("nothing")).await;
    server.post(FIND, &find_body("error:Internal")).await;
    let failed = server.execute_id("fail_after:0").await;
    server.app.wait_for_execution(&failed, WAIT).await.unwrap();

    let requests = |scraped: &crate::metrics::Scraped, operation: &str, status: &str| {
        scraped.count(
            "ignition_http_requests_total",
            &[("operation", operation), ("status", status)],
        )
    };
    let scraped = scrape_until(&server.client, |s| {
        s.count("ignition_task_events_total", &[("status", "COMPLETE")]) == 3.0
            && s.count("ignition_task_events_total", &[("status", "FAILED")]) == 1.0
    })
    .await;
    assert_eq!(
        requests(&scraped, "execute", "202"),
        4.0,
        "{}",
        scraped.text
    );
    assert_eq!(requests(&scraped, "execute", "400"), 1.0);
    assert_eq!(requests(&scraped, "find_reference", "200"), 2.0);
    assert_eq!(requests(&scraped, "find_reference", "500"), 1.0);
    assert_eq!(
        scraped.count("ignition_task_events_total", &[("status", "COMPLETE")]),
        3.0
    );
    assert_eq!(
        scraped.count("ignition_task_polls_total", &[("outcome", "failed")]),
        1.0
    );
    let histogram = scraped
        .text
        .lines()
        .find(|line| {
            line.starts_with("ignition_http_request_duration_seconds_count")
                && line.contains("operation=\"execute\"")
        })
        .unwrap_or_else(|| panic!("no execute duration: {}", scraped.text));
    assert!(histogram.ends_with(" 5"), "{histogram}");
    server.shutdown().await;
}
