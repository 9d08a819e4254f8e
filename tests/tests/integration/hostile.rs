//! Slow and hostile clients, over real TCP connections: a request header or body trickled
//! one byte at a time is cut off at its deadline while other clients are served, and the
//! connection bound holds new connections back (and says so once).

use std::time::{Duration, Instant};

use ignition::App;
use ignition_tests::log_capture::Logs;
use ignition_tests::{scripted_app, RawClient, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest any single step may take before the test gives up (a hang guard, not a
/// measurement).
const HANG: Duration = Duration::from_secs(60);

/// How long the trickling clients wait between two bytes.
const TRICKLE: Duration = Duration::from_millis(300);

async fn start(configure: impl FnOnce(App) -> App) -> TestServer {
    let (app, scripts) = scripted_app();
    TestServer::start_app(configure(app), scripts).await
}

fn address(server: &TestServer) -> String {
    server.client.base.trim_start_matches("http://").to_string()
}

/// Sends `bytes` one at a time, `TRICKLE` apart, until the server closes the connection;
/// meanwhile reads what the server sends. Returns how many bytes went out, what came back
/// (until the server closed), and when the server closed.
async fn trickle(address: &str, head: &[u8], bytes: &[u8]) -> (usize, Vec<u8>, Instant) {
    let stream = TcpStream::connect(address).await.expect("connects");
    trickle_on(stream, head, bytes).await
}

/// [`trickle`] on a connection already open.
async fn trickle_on(stream: TcpStream, head: &[u8], bytes: &[u8]) -> (usize, Vec<u8>, Instant) {
    stream.set_nodelay(true).unwrap();
    let (mut read, mut write) = stream.into_split();
    write.write_all(head).await.unwrap();
    let reader = tokio::spawn(async move {
        let mut received = Vec::new();
        let _ = read.read_to_end(&mut received).await; // a reset counts as closed
        (received, Instant::now())
    });
    let mut sent = 0;
    for byte in bytes {
        if reader.is_finished() || write.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(TRICKLE).await;
    }
    let (received, closed) = tokio::time::timeout(HANG, reader)
        .await
        .expect("the server closes the connection")
        .unwrap();
    (sent, received, closed)
}

/// Requests the health endpoint on fresh connections while `during` runs; returns how many
/// were answered 200, and `during`'s output.
async fn served_meanwhile<T>(
    server: &TestServer,
    during: impl std::future::Future<Output = T>,
) -> (u32, T) {
    let others = async {
        let mut answered = 0;
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            // A client of its own: a new connection, not one kept alive.
            let client = RawClient::new(&server.client.base);
            let (status, _) = client
                .get("/management/health")
                .await
                .expect("another client is served");
            if status == 200 {
                answered += 1;
            }
        }
        answered
    };
    let (answered, out) = tokio::join!(others, during);
    (answered, out)
}

#[tokio::test]
async fn a_client_trickling_its_header_is_dropped_while_others_are_served() {
    let server = start(|app| app.property("application.header_read_timeout", "1s")).await;
    let address = address(&server);
    let header = b"POST /api/infrastructure/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    let started = Instant::now();
    let (answered, (sent, received, closed)) =
        served_meanwhile(&server, trickle(&address, b"", header)).await;
    assert_eq!(answered, 3, "the other clients were served meanwhile");
    assert!(
        sent < header.len() - 2,
        "dropped before its header was complete ({sent} of {} bytes sent)",
        header.len()
    );
    assert!(
        received.is_empty(),
        "no answer, the connection is closed: {:?}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        closed - started >= Duration::from_secs(1),
        "not before the timeout: {:?}",
        closed - started
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let server = start(|app| app.property("application.header_read_timeout", "1s")).await;
    let started = Instant::now();
    let (sent, received, closed) = trickle(&address(&server), b"", b"").await;
    assert_eq!((sent, received.len()), (0, 0));
    assert!(
        closed - started >= Duration::from_secs(1),
        "{:?}",
        closed - started
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_kept_alive_connection_gets_a_new_header_deadline_per_request() {
    let server = start(|app| app.property("application.header_read_timeout", "1s")).await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    let request = b"GET /management/health HTTP/1.1\r\nHost: x\r\n\r\n";
    for _ in 0..3 {
        // Each request well within its deadline, the connection older than the timeout.
        stream.write_all(request).await.unwrap();
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    drop(stream);
    server.shutdown().await;
}

#[tokio::test]
async fn a_later_request_trickling_its_header_is_cut_a_header_timeout_after_its_first_byte() {
    let server = start(|app| app.property("application.header_read_timeout", "1s")).await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    stream
        .write_all(b"GET /management/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let response = read_response(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    // Idle past the first request's deadline: the next one gets a deadline of its own,
    // counted from its first byte (not the connection's first, nor never).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut bytes = b"GET /management/health HTTP/1.1\r\nHost: x\r\nX-Padding: ".to_vec();
    bytes.resize(bytes.len() + 40, b'a');
    let first_byte = Instant::now();
    let (_, received, closed) = trickle_on(stream, b"", &bytes).await;
    assert!(
        received.is_empty(),
        "answered: {}",
        String::from_utf8_lossy(&received)
    );
    let after = closed - first_byte;
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(5),
        "closed {after:?} after the request's first byte"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_request_still_running_at_the_shutdown_timeout_is_cut_with_503_and_the_shutdown_ends() {
    let server = start(|app| app.property("application.shutdown_timeout", "1s")).await;
    let client = server.client.clone();
    let slow = tokio::spawn(async move {
        let body = serde_json::json!({
            "template": "t", "templateType": "TOSCA", "instanceName": "slow:60000",
            "deploymentLocation": {"name": "dl", "type": "test"},
        });
        let request = client
            .request(reqwest::Method::POST, "/api/infrastructure/find")
            .json(&body);
        client.exchange(request).await.unwrap()
    });
    // The find is running (its driver sleeps a minute) when the shutdown starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    tokio::time::timeout(HANG, server.shutdown())
        .await
        .expect("the shutdown ends");
    let took = started.elapsed();
    let answer = tokio::time::timeout(HANG, slow).await.unwrap().unwrap();
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.header("connection"), Some("close"), "{answer:?}");
    assert!(
        answer.body["localizedMessage"]
            .as_str()
            .unwrap()
            .contains("application.shutdown_timeout"),
        "{answer:?}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "the shutdown took {took:?}"
    );
}

/// Reads one response whose body is JSON or empty (up to its Content-Length).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(HANG, stream.read(&mut chunk))
            .await
            .expect("a response")
            .unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&bytes));
        bytes.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&bytes).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_408_while_others_are_served() {
    let server = start(|app| app.property("application.body_read_timeout", "1s")).await;
    let address = address(&server);
    let body = br#"{"infrastructureId": "inf-0", "requestId": "create-0", "deploymentLocation": {"name": "dl"}}"#;
    let head = format!(
        "POST /api/infrastructure/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let started = Instant::now();
    let (answered, (sent, received, closed)) =
        served_meanwhile(&server, trickle(&address, head.as_bytes(), body)).await;
    assert_eq!(answered, 3, "the other clients were served meanwhile");
    assert!(
        sent < body.len(),
        "cut off before the body was complete ({sent} of {})",
        body.len()
    );
    assert!(
        closed - started >= Duration::from_secs(1),
        "{:?}",
        closed - started
    );
    let text = String::from_utf8_lossy(&received);
    let (head, json) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("a response: {text:?}"));
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let json: Value =
        serde_json::from_str(json).unwrap_or_else(|_| panic!("contract JSON: {json}"));
    assert_eq!(json["status"], 408, "{json}");
    let message = json["localizedMessage"].as_str().unwrap();
    assert!(
        message.contains("`application.body_read_timeout`"),
        "{message}"
    );
    assert_eq!(json.as_object().unwrap().len(), 2, "{json}");
    server.shutdown().await;
}

#[tokio::test]
async fn past_max_connections_a_new_connection_waits_and_the_limit_is_logged_once() {
    let logs = Logs::capture(tracing::Level::WARN);
    let server = start(|app| {
        app.property("application.max_connections", 2)
            .property("application.header_read_timeout", "60s")
    })
    .await;
    let address = address(&server);
    let first = TcpStream::connect(&address).await.unwrap();
    let second = TcpStream::connect(&address).await.unwrap();
    // The third connects (the listen backlog) but is not served while two are open.
    let mut third = TcpStream::connect(&address).await.unwrap();
    third
        .write_all(b"GET /management/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(1500), third.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "the third connection was served while two were open: {early:?}"
    );
    let lines = logs.matching("connection limit reached");
    assert_eq!(lines.len(), 1, "one WARN line: {lines:?}");
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
    assert!(
        lines[0].contains("2 connections open (`application.max_connections`)"),
        "{}",
        lines[0]
    );
    // One closes: the third is served.
    drop(first);
    let response = read_response(&mut third).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    drop((second, third));
    server.shutdown().await;
}
