//! Deployed next to a real LM: a Python driver's configuration file, the driver's own
//! section through `driver_with`, bounded bodies, time limits on driver calls, task
//! deadlines, vitals, the Swagger UI switch and the bind address.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ignition::prelude::*;
use ignition_tests::{create_body, location, scripted_app, ScriptedDriver, TestServer};
use serde_json::{json, Value};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/python-openstack-driver.yml"
);

/// Log lines at WARN and above, captured on this thread while `f` runs.
async fn warnings_of<T>(f: impl Future<Output = T>) -> (T, Vec<String>) {
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let out = f.await;
    drop(guard);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    (out, text.lines().map(str::to_string).collect())
}

/// What the openstack section of the Python fixture holds.
#[derive(Debug, serde::Deserialize)]
struct OpenstackProperties {
    default_timeout: u64,
    stack_name_creator: StackNames,
}

#[derive(Debug, serde::Deserialize)]
struct StackNames {
    limit: u32,
}

#[tokio::test]
async fn a_python_drivers_configuration_boots_with_a_warning_per_ignored_key() {
    let seen = Arc::new(Mutex::new(None));
    let seen_in_driver = seen.clone();
    let app = App::new("Openstack VIM Driver")
        .config_file(FIXTURE)
        .property("messaging.connection_address", Value::Null)
        .property("application.port", 0)
        .driver_with(move |ctx: DriverContext| async move {
            let props: OpenstackProperties = ctx.properties("openstack")?;
            *seen_in_driver.lock().unwrap() =
                Some((props.default_timeout, props.stack_name_creator.limit));
            Ok(ScriptedDriver::new().0)
        });
    let config = app.config().expect("the Python configuration is accepted");
    assert!(config.infrastructure.async_messaging_enabled);
    assert_eq!(config.messaging.topics.job_queue.name, "ovd_job_queue");
    assert_eq!(config.job_queue.consumer_group_id, "ovd_job_queue_consumer");
    let (running, warnings) = warnings_of(app.start()).await;
    let running = running.expect("starts");
    assert_eq!(
        *seen.lock().unwrap(),
        Some((30, 45)),
        "the driver read its section"
    );
    for key in [
        "application.connexion_init_props",
        "application.connexion_runtime_props",
        "api",
        "bootstrap.management",
        "bootstrap.request_queue",
        "bootstrap.messaging.inbox_enabled",
        "infrastructure.request_queue",
    ] {
        let lines: Vec<&String> = warnings
            .iter()
            .filter(|line| line.contains(&format!("`{key}`")))
            .collect();
        assert_eq!(lines.len(), 1, "one WARN for {key}: {warnings:#?}");
        assert!(
            lines[0].contains("python-openstack-driver.yml"),
            "names the file: {}",
            lines[0]
        );
    }
    assert!(
        !warnings.iter().any(|line| line.contains("`openstack")),
        "the driver's section is not the framework's business: {warnings:#?}"
    );
    running.shutdown().await;
}

#[test]
fn a_misspelt_framework_key_still_fails_with_a_suggestion() {
    let dir = tempdir();
    let file = dir.join("config.yml");
    std::fs::write(
        &file,
        "application:\n  prot: 8080\nopenstack:\n  anything: 1\n",
    )
    .unwrap();
    let message = App::new("x")
        .config_file(&file)
        .config()
        .unwrap_err()
        .to_string();
    assert!(message.contains("application.prot"), "{message}");
    assert!(message.contains("did you mean `port`?"), "{message}");
    assert!(message.contains(file.to_str().unwrap()), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct CloudProperties {
    endpoint: String,
    #[serde(default)]
    build_seconds: u64,
}

#[tokio::test]
async fn a_bad_value_or_unknown_key_in_the_drivers_section_names_it_and_the_file() {
    let dir = tempdir();
    for (yaml, property) in [
        (
            "cloud:\n  endpoint: e\n  build_seconds: soon\n",
            "cloud.build_seconds",
        ),
        (
            "cloud:\n  endpoint: e\n  bild_seconds: 3\n",
            "cloud.bild_seconds",
        ),
        ("cloud:\n  build_seconds: 3\n", "cloud"),
    ] {
        let file = dir.join("config.yml");
        std::fs::write(&file, yaml).unwrap();
        let err = App::new("Cloud VIM Driver")
            .config_file(&file)
            .property("application.port", 0)
            .driver_with(|ctx: DriverContext| async move {
                let _props: CloudProperties = ctx.properties("cloud")?;
                Ok(ScriptedDriver::new().0)
            })
            .start()
            .await
            .expect_err("refused");
        let message = err.to_string();
        assert!(matches!(err, BootError::Config(_)), "{err:?}");
        assert!(message.contains(property), "{yaml}: {message}");
        assert!(
            message.contains(file.to_str().unwrap()),
            "{yaml}: {message}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_absent_section_reads_as_empty_and_a_driver_error_stops_start_up() {
    #[derive(serde::Deserialize, Default)]
    struct Optional {
        #[serde(default)]
        capacity: u32,
    }
    let app = App::new("x").property("application.port", 0).driver_with(
        |ctx: DriverContext| async move {
            let props: Optional = ctx.properties("nothing_here")?;
            assert_eq!(props.capacity, 0);
            assert_eq!(ctx.app_name(), "x");
            Err::<ScriptedDriver, _>(BootError::driver(
                "cannot reach the VIM at https://vim:5000",
            ))
        },
    );
    let err = app
        .start()
        .await
        .expect_err("the driver's error stops start-up");
    assert!(matches!(err, BootError::Driver(_)), "{err:?}");
    assert!(err.to_string().contains("cannot reach the VIM"), "{err}");
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

#[derive(Clone)]
struct Flaky {
    answer: Arc<Mutex<VitalStatus>>,
}

impl Vital for Flaky {
    fn name(&self) -> &str {
        "vim"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = VitalStatus> + Send + '_>> {
        Box::pin(async move { self.answer.lock().unwrap().clone() })
    }
}

struct Stuck;

impl Vital for Stuck {
    fn name(&self) -> &str {
        "stuck"
    }
    fn check(&self) -> Pin<Box<dyn Future<Output = VitalStatus> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn driver_vitals_show_in_health_and_a_hanging_one_is_unhealthy() {
    let flaky = Flaky {
        answer: Arc::new(Mutex::new(VitalStatus::Ok)),
    };
    let (app, scripts) = scripted_app();
    let server = TestServer::start_app(app.vital(flaky.clone()), scripts).await;
    let health = || async {
        let response = reqwest::get(format!("{}/management/health", server.base))
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    let (status, body) = health().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["vitals"]["vim"]["status"], "OK", "{body}");
    *flaky.answer.lock().unwrap() = VitalStatus::Unhealthy {
        reason: "keystone unreachable".into(),
    };
    let (status, body) = health().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["vitals"]["vim"]["status"], "UNHEALTHY");
    assert_eq!(body["vitals"]["vim"]["reason"], "keystone unreachable");
    assert_eq!(body["vitals"]["app"]["status"], "OK");
    server.shutdown().await;

    let (app, scripts) = scripted_app();
    let server = TestServer::start_app(app.vital(Stuck), scripts).await;
    let response = reqwest::get(format!("{}/management/health", server.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["vitals"]["stuck"]["status"], "UNHEALTHY", "{body}");
    assert!(body["vitals"]["stuck"]["reason"]
        .as_str()
        .unwrap()
        .contains("no answer"));
    server.shutdown().await;
}

#[tokio::test]
async fn swagger_ui_can_be_switched_off_while_the_spec_stays() {
    for (enabled, ui_status) in [(true, 200), (false, 404)] {
        let (app, scripts) = scripted_app();
        let app = app.property("application.swagger_ui_enabled", enabled);
        let server = TestServer::start_app(app, scripts).await;
        let ui = reqwest::get(format!("{}/api/infrastructure/ui/", server.base))
            .await
            .unwrap();
        assert_eq!(ui.status().as_u16(), ui_status, "enabled: {enabled}");
        let spec = reqwest::get(format!("{}/api/infrastructure/openapi.json", server.base))
            .await
            .unwrap();
        assert_eq!(spec.status(), 200, "the spec stays (enabled: {enabled})");
        server.shutdown().await;
    }
}

#[tokio::test]
async fn by_default_the_api_answers_on_ipv4_and_ipv6_loopback() {
    let (app, scripts) = scripted_app();
    let server = TestServer::start_app(app, scripts).await;
    let port = server.app.local_addr().port();
    let has_ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    let mut bases = vec![format!("http://127.0.0.1:{port}")];
    if has_ipv6 {
        bases.push(format!("http://[::1]:{port}"));
    }
    for base in bases {
        let response = reqwest::get(format!("{base}/management/health")).await;
        let response = response.unwrap_or_else(|err| panic!("{base}: {err}"));
        assert_eq!(response.status(), 200, "{base}");
    }
    server.shutdown().await;
    let (app, scripts) = scripted_app();
    let server =
        TestServer::start_app(app.property("application.host", "127.0.0.1"), scripts).await;
    assert_eq!(server.app.local_addr().ip().to_string(), "127.0.0.1");
    server.shutdown().await;
    let _ = location();
}

#[tokio::test]
async fn with_async_messaging_disabled_the_driver_sends_its_own_events_from_driver_with() {
    let app = App::new("Self-reporting Driver")
        .property("application.port", 0)
        .property("infrastructure.async_messaging_enabled", false)
        .driver_with(|ctx: DriverContext| async move {
            let events = ctx.task_events();
            Ok(SelfReporting { events })
        });
    let mut server = TestServer::start_app(app, ScriptedDriver::new().1).await;
    server.create("anything").await;
    let event = server
        .next_event(Duration::from_secs(5))
        .await
        .expect("the driver's own event");
    assert_eq!(event["infrastructureId"], "self-1");
    assert_eq!(event["status"], "COMPLETE");
    assert!(
        server
            .next_event(Duration::from_millis(300))
            .await
            .is_none(),
        "no second event from monitoring"
    );
    server.shutdown().await;
}

/// Sends its COMPLETE event itself, from create.
struct SelfReporting {
    events: TaskEvents,
}

#[vim_driver]
impl SelfReporting {
    async fn create_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        let events = self.events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            events
                .send(&InfrastructureTask::complete("self-1", "req-1"))
                .await
                .expect("delivered");
        });
        Ok(CreateInfrastructureResponse::new("self-1", "req-1"))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        Ok(InfrastructureTask::complete(infrastructure_id, request_id))
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

/// A fresh directory under the temp dir (removed by the test).
fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ignition-deployment-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
