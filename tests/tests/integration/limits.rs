//! Limits on what one request or task may cost: a body over
//! `application.max_body_size` is a 413 (with a Content-Length or chunked), a driver call
//! past its `driver.timeouts.*` is a 503 naming the operation, a hung poll is cut at its
//! limit without delaying the other tasks, and a task past `job_queue.task_timeout`
//! fails. (Slow clients and the connection bound: `hostile.rs`.)

use std::time::Duration;

use ignition::prelude::*;
use ignition_tests::{create_body, scripted_app, ScriptedDriver, TestServer};
use serde_json::{json, Value};

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_the_contract_json() {
    let (app, scripts) = scripted_app();
    let app = app.property("application.max_body_size", "64KiB");
    let server = TestServer::start_app(app, scripts).await;
    let mut body = create_body("COMPLETE");
    body["template"] = json!("x".repeat(100 * 1024));
    let (status, answer) = server.post("/api/infrastructure/create", &body).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["status"], 413);
    assert!(
        answer["localizedMessage"]
            .as_str()
            .unwrap()
            .contains("application.max_body_size"),
        "{answer}"
    );
    // A chunked body (no Content-Length) is cut too, once past the limit.
    let answer = chunked_post(
        server.app.local_addr().port(),
        "/api/infrastructure/create",
        &serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application.max_body_size"), "{answer}");
    // Below the limit all is as before.
    let (status, _) = server
        .post("/api/infrastructure/create", &create_body("COMPLETE"))
        .await;
    assert_eq!(status, 202);
    server.shutdown().await;
}

/// POSTs `body` as JSON in 8 KiB chunks (`Transfer-Encoding: chunked`, no
/// Content-Length) over a raw connection; returns what the server answered.
async fn chunked_post(port: u16, path: &str, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(8 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer (and close) before the whole body is sent.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A driver whose create and polls hang for `template == "hang"`.
struct Hanging;

#[vim_driver]
impl Hanging {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        if template == "hang" {
            std::future::pending::<()>().await;
        }
        Ok(CreateInfrastructureResponse::new(template, "req"))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        match infrastructure_id.as_str() {
            "slow-poll" => std::future::pending().await,
            "forever" => Ok(InfrastructureTask::in_progress(
                infrastructure_id,
                request_id,
            )),
            _ => Ok(InfrastructureTask::complete(infrastructure_id, request_id)),
        }
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        Ok(DeleteInfrastructureResponse::new(infrastructure_id, "del"))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(FindInfrastructureResponse::not_found())
    }
}

fn hanging_app() -> App {
    App::new("Hanging Driver")
        .property("application.port", 0)
        .property("job_queue.poll_interval", "50ms")
        .property("job_queue.max_poll_interval", "100ms")
        .driver(Hanging)
}

#[tokio::test]
async fn a_driver_call_past_its_limit_answers_503_naming_the_operation() {
    let app = hanging_app().property("driver.timeouts.create", "300ms");
    let server = TestServer::start_app(app, ScriptedDriver::new().1).await;
    let (status, body) = server
        .post("/api/infrastructure/create", &create_body("hang"))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], 503);
    let message = body["localizedMessage"].as_str().unwrap();
    assert!(
        message.contains("create_infrastructure") && message.contains("300ms"),
        "{message}"
    );
    // The server is not stuck: another create goes through.
    let (status, _) = server
        .post("/api/infrastructure/create", &create_body("ok"))
        .await;
    assert_eq!(status, 202);
    server.shutdown().await;
}

#[tokio::test]
async fn hung_polls_do_not_delay_a_healthy_task_and_a_deadline_fails_a_task() {
    let app = hanging_app()
        .property("driver.timeouts.query", "200ms")
        .property("job_queue.max_concurrent_polls", 2)
        .property("job_queue.task_timeout", "1500ms");
    let mut server = TestServer::start_app(app, ScriptedDriver::new().1).await;
    // More hung polls than permits: each is cut at its limit and frees its permit.
    for _ in 0..4 {
        server.create("slow-poll").await;
    }
    server.create("healthy").await;
    server.create("forever").await;
    let mut events = Vec::new();
    while let Some(event) = server.next_event(Duration::from_secs(10)).await {
        let done = event["infrastructureId"] == "forever";
        events.push(event);
        if done {
            break;
        }
    }
    let healthy: Vec<&Value> = events
        .iter()
        .filter(|e| e["infrastructureId"] == "healthy")
        .collect();
    assert_eq!(healthy.len(), 1, "{events:#?}");
    assert_eq!(healthy[0]["status"], "COMPLETE");
    let forever = events.last().expect("events");
    assert_eq!(forever["infrastructureId"], "forever", "{events:#?}");
    assert_eq!(forever["status"], "FAILED");
    assert_eq!(forever["failureDetails"]["failureCode"], "INTERNAL_ERROR");
    let description = forever["failureDetails"]["description"].as_str().unwrap();
    assert!(
        description.contains("job_queue.task_timeout"),
        "{description}"
    );
    server.shutdown().await;
}
