//! A driver with its own `#[derive(ApiError)]` error types, one per operation, over real
//! HTTP: the error bodies and statuses, the statuses each operation lists in the OpenAPI
//! document, and the monitor polling again after a `retry` error (and only then).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ignition::prelude::*;
use ignition_tests::{create_body, location, TestServer};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(5);

/// `create_infrastructure`'s errors: 409 and 422, each with a field in the body.
#[derive(Debug, ApiError)]
enum QuotaError {
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        project: String,
        #[api_error(field = "quotaLimit")]
        limit: u32,
    },
    #[api_error(status = 422)]
    Invalid(#[api_error(field = "reason")] String),
}

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exceeded { project, .. } => write!(f, "quota exceeded for project {project}"),
            Self::Invalid(reason) => write!(f, "invalid template: {reason}"),
        }
    }
}

impl std::error::Error for QuotaError {}

/// `get_infrastructure_task`'s errors: 429 after which monitoring polls again, 410 after
/// which it forgets the task.
#[derive(Debug, ApiError)]
enum PollError {
    #[api_error(status = 429, retry)]
    Busy,
    #[api_error(status = 410)]
    Gone,
}

impl fmt::Display for PollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Busy => "the cloud is busy",
            Self::Gone => "the stack is gone",
        })
    }
}

impl std::error::Error for PollError {}

/// `delete_infrastructure`'s error: a struct, 423.
#[derive(Debug, ApiError)]
#[api_error(status = 423)]
struct Locked {
    #[api_error(field = "lockedBy")]
    locked_by: String,
}

impl fmt::Display for Locked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "locked by {}", self.locked_by)
    }
}

impl std::error::Error for Locked {}

/// One scripted answer of `get_infrastructure_task`.
#[derive(Debug, Clone, Copy)]
enum Step {
    Busy,
    Gone,
    Complete,
}

/// A driver whose create template scripts its polls: `exceeded` and `invalid` fail the
/// create; otherwise the comma-separated steps `BUSY`, `GONE`, `COMPLETE` are the answers
/// of the task's polls, the last one repeating. Every delete is locked.
#[derive(Default)]
struct QuotaDriver {
    next: AtomicU64,
    scripts: Mutex<HashMap<String, VecDeque<Step>>>,
    polls: Arc<Mutex<HashMap<String, usize>>>,
}

#[vim_driver]
impl QuotaDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, QuotaError> {
        match template.as_str() {
            "exceeded" => {
                return Err(QuotaError::Exceeded {
                    project: "p1".into(),
                    limit: 10,
                })
            }
            "invalid" => return Err(QuotaError::Invalid("no resources".into())),
            _ => {}
        }
        let steps = template
            .split(',')
            .map(|step| match step {
                "BUSY" => Step::Busy,
                "GONE" => Step::Gone,
                _ => Step::Complete,
            })
            .collect();
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let id = format!("stack-{n}");
        self.scripts.lock().unwrap().insert(id.clone(), steps);
        Ok(CreateInfrastructureResponse::new(id, format!("create-{n}")))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, PollError> {
        *self
            .polls
            .lock()
            .unwrap()
            .entry(infrastructure_id.clone())
            .or_default() += 1;
        let step = {
            let mut scripts = self.scripts.lock().unwrap();
            let steps = scripts.get_mut(&infrastructure_id).ok_or(PollError::Gone)?;
            if steps.len() > 1 {
                steps.pop_front().unwrap()
            } else {
                steps.front().copied().unwrap_or(Step::Complete)
            }
        };
        match step {
            Step::Busy => Err(PollError::Busy),
            Step::Gone => Err(PollError::Gone),
            Step::Complete => Ok(InfrastructureTask::complete(infrastructure_id, request_id)),
        }
    }

    async fn delete_infrastructure(
        &self,
        _infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, Locked> {
        Err(Locked {
            locked_by: "backup".into(),
        })
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

/// An app around a fresh [`QuotaDriver`] on any free port, monitoring every 50 ms; and
/// the number of polls of each infrastructure id.
fn quota_app() -> (App, Arc<Mutex<HashMap<String, usize>>>) {
    let driver = QuotaDriver::default();
    let polls = driver.polls.clone();
    let app = App::new("Quota Test Driver")
        .property("application.port", 0)
        .property("job_queue.poll_interval", "50ms")
        .property("job_queue.max_poll_interval", "400ms")
        .driver(driver);
    (app, polls)
}

async fn start() -> (TestServer, Arc<Mutex<HashMap<String, usize>>>) {
    let (app, polls) = quota_app();
    (TestServer::start_app(app, Arc::default()).await, polls)
}

fn polls_of(polls: &Mutex<HashMap<String, usize>>, id: &str) -> usize {
    polls.lock().unwrap().get(id).copied().unwrap_or(0)
}

#[tokio::test]
async fn custom_errors_answer_their_status_and_body_with_their_fields() {
    let (server, _) = start().await;

    let (status, body) = server
        .post("/api/infrastructure/create", &create_body("exceeded"))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body,
        json!({"localizedMessage": "quota exceeded for project p1", "status": 409,
               "project": "p1", "quotaLimit": 10})
    );

    let (status, body) = server
        .post("/api/infrastructure/create", &create_body("invalid"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body,
        json!({"localizedMessage": "invalid template: no resources", "status": 422,
               "reason": "no resources"})
    );

    let delete = json!({"infrastructureId": "stack-9", "deploymentLocation": location()});
    let (status, body) = server.post("/api/infrastructure/delete", &delete).await;
    assert_eq!(status, 423, "{body}");
    assert_eq!(
        body,
        json!({"localizedMessage": "locked by backup", "status": 423, "lockedBy": "backup"})
    );

    let query = |id: &str| json!({"infrastructureId": id, "requestId": "r", "deploymentLocation": location()});
    // Every poll of this task answers `Busy`, the monitor's and the query's alike.
    let created = server.create("BUSY").await;
    let id = created["infrastructureId"].as_str().unwrap();
    let (status, body) = server.post("/api/infrastructure/query", &query(id)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(
        body,
        json!({"localizedMessage": "the cloud is busy", "status": 429})
    );
    let (status, body) = server
        .post("/api/infrastructure/query", &query("no-such-stack"))
        .await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(
        body,
        json!({"localizedMessage": "the stack is gone", "status": 410})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_retry_error_is_polled_again_and_any_other_is_forgotten() {
    let (mut server, polls) = start().await;

    let created = server.create("BUSY,BUSY,COMPLETE").await;
    let id = created["infrastructureId"].as_str().unwrap().to_owned();
    let event = server
        .next_event(WAIT)
        .await
        .expect("an event after the retries");
    assert_eq!(event["infrastructureId"], id.as_str());
    assert_eq!(event["status"], "COMPLETE");
    assert_eq!(
        polls_of(&polls, &id),
        3,
        "two `Busy` (429, retry), then complete"
    );

    let created = server.create("GONE,COMPLETE").await;
    let id = created["infrastructureId"].as_str().unwrap().to_owned();
    assert!(
        server
            .next_event(Duration::from_millis(400))
            .await
            .is_none(),
        "`Gone` (410) is not retried: no event"
    );
    assert_eq!(polls_of(&polls, &id), 1, "polled once, then forgotten");
    server.shutdown().await;
}

/// The error statuses an operation lists in the OpenAPI document.
fn listed_statuses(spec: &Value, path: &str) -> BTreeSet<u16> {
    spec["paths"][path]["post"]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("no responses for {path}"))
        .keys()
        .map(|status| status.parse().unwrap())
        .filter(|status| *status >= 400)
        .collect()
}

#[test]
fn the_spec_lists_for_each_operation_the_statuses_of_its_error_type() {
    let (app, _) = quota_app();
    let spec: Value = serde_json::from_str(&app.openapi_json()).unwrap();
    // The error type's own statuses, plus the framework's: 400 (bad request), 408 (body
    // too slow), 413 (body too large), 415 (content type), 500 (panic), 503 (a call past
    // its time limit; for create and delete also a task that cannot be monitored).
    let cases: [(&str, &[u16]); 4] = [
        ("/create", &[400, 408, 409, 413, 415, 422, 500, 503]),
        ("/query", &[400, 408, 410, 413, 415, 429, 500, 503]),
        ("/delete", &[400, 408, 413, 415, 423, 500, 503]),
        ("/find", &[400, 408, 413, 415, 500, 503]),
    ];
    for (path, expected) in cases {
        let paths = spec["paths"].as_object().unwrap();
        let full = paths
            .keys()
            .find(|p| p.ends_with(path))
            .unwrap_or_else(|| panic!("no path ending in {path}"))
            .clone();
        assert_eq!(
            listed_statuses(&spec, &full),
            expected.iter().copied().collect(),
            "{path}"
        );
        let error = &spec["paths"][&full]["post"]["responses"][expected[1].to_string()];
        assert!(
            error["content"]["application/json"]["schema"].is_object(),
            "{path}: an error status has the error body's schema: {error}"
        );
    }
}
