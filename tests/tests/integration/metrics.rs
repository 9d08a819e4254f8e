//! `GET /management/metrics` end to end on the embedded default: real requests, polls
//! and events, then a real scrape over HTTP, parsed with a Prometheus text parser of its
//! own (prometheus-parse), and each figure checked against what the test drove.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ignition::jobqueue::BoxFuture;
use ignition::messaging::{Delivery, DeliveryError, Envelope};
use ignition_tests::{create_body, location, scripted_app, RawClient, TestServer};
use reqwest::Method;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

/// One parsed scrape.
pub(crate) struct Scraped {
    samples: Vec<prometheus_parse::Sample>,
    pub(crate) text: String,
}

impl Scraped {
    /// The value of `metric` with exactly these labels; `None` when absent.
    pub(crate) fn get(&self, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.metric == metric
                    && s.labels.len() == labels.len()
                    && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
            })
            .map(|s| match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => *v,
                other => panic!("{metric} is not a single value: {other:?}"),
            })
    }

    /// As [`get`](Self::get), absent counting as 0 (a counter never touched).
    pub(crate) fn count(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(metric, labels).unwrap_or(0.0)
    }

    /// Every series of `metric` as (labels, value).
    pub(crate) fn series(&self, metric: &str) -> Vec<(HashMap<String, String>, f64)> {
        self.samples
            .iter()
            .filter(|s| s.metric == metric)
            .filter_map(|s| match &s.value {
                prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Untyped(v) => Some(((*s.labels).clone(), *v)),
                _ => None,
            })
            .collect()
    }
}

/// Scrapes `/management/metrics` over HTTP; checks status and content type.
pub(crate) async fn scrape(client: &RawClient) -> Scraped {
    let answer = client
        .exchange(client.request(Method::GET, "/management/metrics"))
        .await
        .expect("scrape");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type").unwrap_or_default(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = answer
        .body
        .as_str()
        .unwrap_or_else(|| panic!("the scrape is text, not JSON: {}", answer.body))
        .to_string();
    let parsed = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("the scrape parses as Prometheus text");
    Scraped {
        samples: parsed.samples,
        text,
    }
}

/// Scrapes until `done` holds (the job queue finishes a job just after its event).
pub(crate) async fn scrape_until(client: &RawClient, done: impl Fn(&Scraped) -> bool) -> Scraped {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let scraped = scrape(client).await;
        if done(&scraped) || tokio::time::Instant::now() >= deadline {
            return scraped;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn find_body(instance_name: &str) -> serde_json::Value {
    json!({"template": "t", "templateType": "TOSCA", "instanceName": instance_name, "deploymentLocation": location()})
}

fn requests(scraped: &Scraped, operation: &str, status: &str) -> f64 {
    scraped.count(
        "ignition_http_requests_total",
        &[("operation", operation), ("status", status)],
    )
}

fn polls(scraped: &Scraped, outcome: &str) -> f64 {
    scraped.count("ignition_task_polls_total", &[("outcome", outcome)])
}

#[tokio::test]
async fn every_counter_moves_by_what_was_driven() {
    let mut server = TestServer::start().await;
    let client = server.client.clone();
    let before = scrape(&client).await;
    assert_eq!(
        before.get(
            "ignition_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0),
        "{}",
        before.text
    );
    assert_eq!(before.get("ignition_tasks_monitored", &[]), Some(0.0));
    assert_eq!(
        before.get("ignition_job_queue_lag", &[("partition", "embedded")]),
        Some(0.0)
    );
    assert_eq!(
        before.get("ignition_event_delivery_failures_total", &[]),
        Some(0.0)
    );

    // Creates: two polls in progress then complete; failed; one retry then complete; one
    // forgotten (an error that is not retried); one refused by the driver (400).
    for script in [
        "IN_PROGRESS,IN_PROGRESS,COMPLETE",
        "FAILED",
        "Temporary,COMPLETE",
        "NotFound",
    ] {
        server.create(script).await;
    }
    let (status, _) = server
        .post(
            "/api/infrastructure/create",
            &create_body("error:InvalidTemplate"),
        )
        .await;
    assert_eq!(status, 400);
    // Finds: two answered, one 503 from the driver, one malformed body (400).
    for name in ["found", "nothing"] {
        assert_eq!(
            server
                .post("/api/infrastructure/find", &find_body(name))
                .await
                .0,
            200
        );
    }
    let (status, _) = server
        .post("/api/infrastructure/find", &find_body("error:Temporary"))
        .await;
    assert_eq!(status, 503);
    let (status, _) = server
        .post("/api/infrastructure/find", &json!({"template": 5}))
        .await;
    assert_eq!(status, 400);
    // A query of an unknown task (the driver's method of a poll, but a request, not a poll).
    let query =
        json!({"infrastructureId": "inf-x", "requestId": "r-x", "deploymentLocation": location()});
    assert_eq!(
        server.post("/api/infrastructure/query", &query).await.0,
        400
    );
    // Paths that are not operations are not counted.
    assert_eq!(
        server
            .send(server.request(Method::GET, "/management/health"))
            .await
            .0,
        200
    );
    assert_eq!(
        server.send(server.request(Method::GET, "/nowhere")).await.0,
        404
    );

    let mut statuses = Vec::new();
    for _ in 0..3 {
        let event = server.next_event(WAIT).await.expect("three events");
        statuses.push(event["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    assert_eq!(statuses, ["COMPLETE", "COMPLETE", "FAILED"]);

    let after = scrape_until(&client, |s| {
        polls(s, "forgotten") >= 1.0 && s.get("ignition_tasks_monitored", &[]) == Some(0.0)
    })
    .await;
    let text = &after.text;
    let delta = |metric: &str, labels: &[(&str, &str)]| {
        after.count(metric, labels) - before.count(metric, labels)
    };
    assert_eq!(requests(&after, "create", "202"), 4.0, "{text}");
    assert_eq!(requests(&after, "create", "400"), 1.0, "{text}");
    assert_eq!(requests(&after, "find", "200"), 2.0, "{text}");
    assert_eq!(requests(&after, "find", "503"), 1.0, "{text}");
    assert_eq!(requests(&after, "find", "400"), 1.0, "{text}");
    assert_eq!(requests(&after, "query", "400"), 1.0, "{text}");
    assert_eq!(
        after.series("ignition_http_requests_total").len(),
        6,
        "health, metrics and 404s are not counted: {text}"
    );
    for (operation, n) in [
        ("create", 5.0),
        ("find", 4.0),
        ("query", 1.0),
        ("delete", 0.0),
    ] {
        assert_eq!(
            after.get(
                "ignition_http_request_duration_seconds_count",
                &[("operation", operation)]
            ),
            Some(n),
            "{operation}: {text}"
        );
    }
    assert!(
        after
            .get(
                "ignition_http_request_duration_seconds_sum",
                &[("operation", "create")]
            )
            .unwrap()
            > 0.0
    );

    assert_eq!(
        delta("ignition_task_polls_total", &[("outcome", "in_progress")]),
        2.0,
        "{text}"
    );
    assert_eq!(polls(&after, "complete"), 2.0, "{text}");
    assert_eq!(polls(&after, "failed"), 1.0, "{text}");
    assert_eq!(polls(&after, "retry"), 1.0, "{text}");
    assert_eq!(polls(&after, "forgotten"), 1.0, "{text}");
    assert_eq!(polls(&after, "timeout"), 0.0, "{text}");
    assert_eq!(
        after.count("ignition_task_events_total", &[("status", "COMPLETE")]),
        2.0,
        "{text}"
    );
    assert_eq!(
        after.count("ignition_task_events_total", &[("status", "FAILED")]),
        1.0,
        "{text}"
    );
    assert_eq!(
        after.get("ignition_event_delivery_failures_total", &[]),
        Some(0.0)
    );
    assert_eq!(
        after.get("ignition_create_to_event_seconds_count", &[]),
        Some(3.0),
        "{text}"
    );
    assert!(
        after
            .get("ignition_create_to_event_seconds_sum", &[])
            .unwrap()
            > 0.0
    );
    assert_eq!(
        after.get("ignition_tasks_monitored", &[]),
        Some(0.0),
        "{text}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tasks_monitored_counts_the_tasks_in_flight() {
    let (app, scripts) = scripted_app();
    let mut server = TestServer::start_app(app, scripts).await;
    let client = server.client.clone();
    // 20 polls 50 ms apart: about a second in flight.
    let script = format!("{}COMPLETE", "IN_PROGRESS,".repeat(20));
    server.create(&script).await;
    server.create(&script).await;
    // The create is answered once its job is queued: both are monitored now.
    let during = scrape(&client).await;
    assert_eq!(
        during.get("ignition_tasks_monitored", &[]),
        Some(2.0),
        "{}",
        during.text
    );
    server.next_event(WAIT).await.expect("first event");
    server.next_event(WAIT).await.expect("second event");
    let after = scrape_until(&client, |s| {
        s.get("ignition_tasks_monitored", &[]) == Some(0.0)
    })
    .await;
    assert_eq!(after.get("ignition_tasks_monitored", &[]), Some(0.0));
    assert_eq!(
        after.get("ignition_create_to_event_seconds_count", &[]),
        Some(2.0)
    );
    server.shutdown().await;
}

/// Refuses every delivery; counts the attempts.
#[derive(Clone, Default)]
struct Refusing(Arc<AtomicUsize>);

impl Delivery for Refusing {
    fn deliver(&self, envelope: Envelope) -> BoxFuture<'_, Result<(), DeliveryError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Err(DeliveryError {
                topic: envelope.topic,
                reason: "the bus is away".into(),
            })
        })
    }
}

#[tokio::test]
async fn refused_deliveries_are_counted_and_not_as_events() {
    let refusing = Refusing::default();
    let (app, _scripts) = scripted_app();
    let app = ignition::testing::TestApp::with(app.delivery(refusing.clone()))
        .await
        .expect("app starts");
    let client = RawClient::new(app.url());
    let (status, _) = client
        .post("/api/infrastructure/create", &create_body("COMPLETE"))
        .await
        .expect("request");
    assert_eq!(status, 202);
    let scraped = scrape_until(&client, |s| {
        s.count("ignition_event_delivery_failures_total", &[]) >= 2.0
    })
    .await;
    let failures = scraped.count("ignition_event_delivery_failures_total", &[]);
    assert!(failures >= 2.0, "{}", scraped.text);
    assert!(
        failures <= refusing.0.load(Ordering::SeqCst) as f64,
        "no more failures than refusals"
    );
    assert!(
        scraped.series("ignition_task_events_total").is_empty(),
        "nothing delivered: {}",
        scraped.text
    );
    assert!(
        scraped.count("ignition_task_polls_total", &[("outcome", "complete")]) >= 2.0,
        "polled again after each refusal"
    );
    assert_eq!(
        scraped.get("ignition_create_to_event_seconds_count", &[]),
        Some(0.0)
    );
    app.shutdown().await;
}

#[tokio::test]
async fn metrics_off_is_a_404_and_the_api_still_answers() {
    let (app, scripts) = scripted_app();
    let app = app.property("application.metrics_enabled", false);
    let mut server = TestServer::start_app(app, scripts).await;
    server.create("COMPLETE").await;
    server.next_event(WAIT).await.expect("event");
    let (status, body) = server
        .send(server.request(Method::GET, "/management/metrics"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404, "the contract's error JSON: {body}");
    server.shutdown().await;
}
