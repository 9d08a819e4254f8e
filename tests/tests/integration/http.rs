//! Black-box HTTP tests: every operation, every error row, every kind of bad input.

use std::time::Duration;

use ignition_tests::{create_body, location, TestServer, ERROR_ROWS};
use reqwest::Method;
use serde_json::{json, Value};

fn error(message: &str, status: u16) -> Value {
    json!({"localizedMessage": message, "status": status})
}

/// Asserts a contract error body with this status whose message contains `needle`.
fn assert_error(status: u16, body: &Value, expected_status: u16, needle: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    let message = body["localizedMessage"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {body}"));
    assert!(
        message.contains(needle),
        "`{message}` should contain `{needle}`"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only the contract's fields: {body}"
    );
}

#[tokio::test]
async fn create_answers_202_with_the_ids() {
    let server = TestServer::start().await;
    let body = server.create("COMPLETE").await;
    assert_eq!(
        body,
        json!({"infrastructureId": "inf-0", "requestId": "create-0"})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn query_answers_the_task() {
    let server = TestServer::start().await;
    server.create("IN_PROGRESS").await;
    let query = json!({"infrastructureId": "inf-0", "requestId": "create-0", "deploymentLocation": location()});
    let (status, body) = server.post("/api/infrastructure/query", &query).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"infrastructureId": "inf-0", "requestId": "create-0", "status": "IN_PROGRESS"})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn delete_answers_202_and_its_task_is_monitored() {
    let mut server = TestServer::start().await;
    let delete = json!({"infrastructureId": "inf-7", "deploymentLocation": location()});
    let (status, body) = server.post("/api/infrastructure/delete", &delete).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        body,
        json!({"infrastructureId": "inf-7", "requestId": "delete-0"})
    );
    let event = server
        .next_event(Duration::from_secs(5))
        .await
        .expect("delete event");
    assert_eq!(event["infrastructureId"], "inf-7");
    assert_eq!(event["requestId"], "delete-0");
    assert_eq!(event["status"], "COMPLETE");
    server.shutdown().await;
}

#[tokio::test]
async fn find_answers_found_and_not_found() {
    let server = TestServer::start().await;
    let find = |name: &str| json!({"template": "t", "templateType": "TOSCA", "instanceName": name, "deploymentLocation": location()});
    let (status, body) = server
        .post("/api/infrastructure/find", &find("found"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"result": {"infrastructureId": "inf-found", "outputs": {"ip": "10.0.0.9"}}})
    );
    let (status, body) = server
        .post("/api/infrastructure/find", &find("nobody"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"result": null}));
    server.shutdown().await;
}

#[tokio::test]
async fn every_error_row_of_every_operation_has_its_status_and_body() {
    let server = TestServer::start().await;
    for (name, status) in ERROR_ROWS {
        let scripted = format!("error:{name}");
        let message = format!("{name} error");
        let requests = [
            ("create", create_body(&scripted)),
            (
                "delete",
                json!({"infrastructureId": scripted, "deploymentLocation": location()}),
            ),
            (
                "find",
                json!({"template": "t", "templateType": "T", "instanceName": scripted, "deploymentLocation": location()}),
            ),
        ];
        for (operation, body) in requests {
            let (got, answer) = server
                .post(&format!("/api/infrastructure/{operation}"), &body)
                .await;
            assert_eq!(
                (got, answer.clone()),
                (status, error(&message, status)),
                "{operation} {name}"
            );
        }
        // query: a task whose script is this error
        let created = server.create(name).await;
        let query = json!({"infrastructureId": created["infrastructureId"], "requestId": created["requestId"], "deploymentLocation": location()});
        let (got, answer) = server.post("/api/infrastructure/query", &query).await;
        assert_eq!(
            (got, answer),
            (status, error(&message, status)),
            "query {name}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn malformed_json_is_400() {
    let server = TestServer::start().await;
    let request = server
        .request(Method::POST, "/api/infrastructure/create")
        .header("content-type", "application/json")
        .body("{\"template\": ");
    let (status, body) = server.send(request).await;
    assert_error(status, &body, 400, "malformed JSON");
    server.shutdown().await;
}

#[tokio::test]
async fn an_empty_body_is_400() {
    let server = TestServer::start().await;
    for operation in ["create", "delete", "query", "find"] {
        let request = server
            .request(Method::POST, &format!("/api/infrastructure/{operation}"))
            .header("content-type", "application/json");
        let (status, body) = server.send(request).await;
        assert_error(status, &body, 400, "empty");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_missing_required_field_is_400_naming_it() {
    let server = TestServer::start().await;
    let cases = [
        (
            "create",
            json!({"template": "t", "deploymentLocation": location()}),
            "templateType",
        ),
        (
            "create",
            json!({"template": "t", "templateType": "x"}),
            "deploymentLocation",
        ),
        (
            "create",
            json!({"template": "t", "templateType": "x", "deploymentLocation": {"type": "x"}}),
            "`name`",
        ),
        (
            "delete",
            json!({"deploymentLocation": location()}),
            "infrastructureId",
        ),
        (
            "query",
            json!({"infrastructureId": "i", "deploymentLocation": location()}),
            "requestId",
        ),
        (
            "find",
            json!({"template": "t", "templateType": "x", "deploymentLocation": location()}),
            "instanceName",
        ),
    ];
    for (operation, request, field) in cases {
        let (status, body) = server
            .post(&format!("/api/infrastructure/{operation}"), &request)
            .await;
        assert_error(status, &body, 400, field);
        assert!(
            body["localizedMessage"]
                .as_str()
                .unwrap()
                .contains("missing field"),
            "{body}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_json_type_is_400_naming_the_field() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"template": 5, "templateType": "x", "deploymentLocation": location()}),
            "`template`",
        ),
        (
            json!({"template": "t", "templateType": "x", "deploymentLocation": "dl"}),
            "`deploymentLocation`",
        ),
        (
            json!({"template": "t", "templateType": "x", "properties": [1], "deploymentLocation": location()}),
            "`properties`",
        ),
        (
            json!({"template": "t", "templateType": "x", "properties": {"k": {"type": "key"}}, "deploymentLocation": location()}),
            "privateKey",
        ),
        (
            json!(["not", "an", "object"]),
            "CreateInfrastructureRequest",
        ),
    ];
    for (request, needle) in cases {
        let (status, body) = server.post("/api/infrastructure/create", &request).await;
        assert_error(status, &body, 400, needle);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_415_with_the_contract_body() {
    let server = TestServer::start().await;
    let body = serde_json::to_string(&create_body("COMPLETE")).unwrap();
    let wrong = server
        .request(Method::POST, "/api/infrastructure/create")
        .header("content-type", "text/plain")
        .body(body.clone());
    let (status, answer) = server.send(wrong).await;
    assert_error(status, &answer, 415, "text/plain");
    let missing = server
        .request(Method::POST, "/api/infrastructure/create")
        .body(body.clone());
    let (status, answer) = server.send(missing).await;
    assert_error(status, &answer, 415, "Content-Type");
    // charset and +json variants are accepted
    let charset = server
        .request(Method::POST, "/api/infrastructure/create")
        .header("content-type", "application/json; charset=utf-8")
        .body(body);
    assert_eq!(server.send(charset).await.0, 202);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_have_the_contract_body() {
    let server = TestServer::start().await;
    for path in [
        "/nowhere",
        "/api/infrastructure/explode",
        "/api/other/create",
    ] {
        let (status, body) = server.send(server.request(Method::POST, path)).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["status"], 404, "{path}: {body}");
        assert!(body["localizedMessage"].is_string(), "{path}: {body}");
    }
    // A wrong method: 405 with the contract body, and `Allow` names the right ones.
    for (method, path, allow) in [
        (Method::GET, "/api/infrastructure/create", "POST"),
        (Method::PUT, "/api/infrastructure/delete", "POST"),
        (Method::GET, "/api/infrastructure/query", "POST"),
        (Method::DELETE, "/api/infrastructure/find", "POST"),
        (Method::POST, "/management/health", "GET, HEAD"),
    ] {
        let answer = server
            .client
            .exchange(server.request(method.clone(), path))
            .await
            .unwrap();
        let body = &answer.body;
        assert_eq!(answer.status, 405, "{method} {path}: {body}");
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(body["status"], 405, "{body}");
        assert!(body["localizedMessage"].is_string(), "{body}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_panicking_driver_is_500_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    for _ in 0..3 {
        let (status, body) = server
            .post("/api/infrastructure/create", &create_body("panic"))
            .await;
        assert_error(status, &body, 500, "internal error");
    }
    let find = json!({"template": "t", "templateType": "T", "instanceName": "panic", "deploymentLocation": location()});
    let (status, body) = server.post("/api/infrastructure/find", &find).await;
    assert_error(status, &body, 500, "internal error");
    // still serving
    server.create("COMPLETE").await;
    server.shutdown().await;
}

#[tokio::test]
async fn concurrent_requests_are_all_answered() {
    let server = std::sync::Arc::new(TestServer::start().await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move { server.create("COMPLETE").await }));
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        ids.insert(
            task.await.unwrap()["infrastructureId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(ids.len(), 50);
}
