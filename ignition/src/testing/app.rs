//! [`TestApp`]: a driver started in process, its typed HTTP client, its task events and
//! the count of its polls.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{shorten, ErrorBody, TestError};
use super::events::{AbortOnDrop, EventLog, PollCounter};
use crate::messaging::Envelope;
use crate::models::{
    CreateInfrastructureRequest, CreateInfrastructureResponse, DeleteInfrastructureRequest,
    DeleteInfrastructureResponse, FindInfrastructureRequest, FindInfrastructureResponse,
    FindReferenceRequest, FindReferenceResponse, InfrastructureTask, InfrastructureTaskQuery,
    LifecycleExecuteResponse, LifecycleExecution, LifecycleExecutionRequest,
};
use crate::operations::Operation;
use crate::util::Locked;
use crate::{App, Driver, RunningApp};

/// The app name of [`TestApp::start`].
const TEST_APP_NAME: &str = "Ignition Test Driver";

/// `job_queue.poll_interval` of [`TestApp::start`]: tasks finish in tens of
/// milliseconds instead of seconds.
const TEST_POLL_INTERVAL: &str = "50ms";

/// How long one HTTP request may take before the client gives up (longer than the
/// default `driver.call_timeout`, so a slow driver is reported as the 503 it causes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A driver running in process for a test: the embedded default (in-process job queue
/// and event bus, no Kafka), HTTP on a free port of 127.0.0.1, a typed client for the
/// operations (a VIM driver's four, a resource driver's two), every task event since
/// start, and the count of the driver's polls.
///
/// ```no_run
/// # async fn example<D: ignition::Driver>(my_driver: D) -> Result<(), ignition::testing::TestError> {
/// use std::time::Duration;
/// use ignition::models::*;
/// use ignition::testing::TestApp;
///
/// let app = TestApp::start(my_driver).await?;
/// let created = app
///     .create(CreateInfrastructureRequest {
///         template: "heat_template_version: 2021-04-16".into(),
///         template_type: "HEAT".into(),
///         system_properties: PropValueMap::new(),
///         properties: PropValueMap::new(),
///         deployment_location: DeploymentLocation::new("dl"),
///     })
///     .await?;
/// let event = app.wait_for_event(&created.request_id, Duration::from_secs(10)).await?;
/// assert_eq!(event.status, TaskStatus::Complete);
/// app.shutdown().await;
/// # Ok(()) }
/// ```
pub struct TestApp {
    running: RunningApp,
    url: String,
    client: reqwest::Client,
    events: Option<Arc<EventLog>>,
    /// Why `events` is `None`.
    no_events: &'static str,
    /// The next envelope [`TestApp::next_envelope`] hands out.
    cursor: Mutex<usize>,
    /// The monitor's polls, per task.
    polls: Arc<PollCounter>,
    _drain: AbortOnDrop,
}

impl TestApp {
    /// Starts `driver` on the embedded default on a free port (`application.port` 0),
    /// with monitoring polls every 50 ms (`job_queue.poll_interval`) instead of every
    /// second, and every other property at its default. Polls are counted
    /// ([`TestApp::poll_count`]).
    ///
    /// ```no_run
    /// # async fn example<D: ignition::Driver>(my_driver: D) -> Result<(), ignition::testing::TestError> {
    /// let app = ignition::testing::TestApp::start(my_driver).await?;
    /// println!("serving on {}", app.url());
    /// app.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn start<D: Driver>(driver: D) -> Result<TestApp, TestError> {
        let app = App::new(TEST_APP_NAME).property("job_queue.poll_interval", TEST_POLL_INTERVAL);
        Self::with_driver(app, driver).await
    }

    /// Starts an app configured by the test (files, properties, a driver given with
    /// `App::driver` or `driver_with`) the same way, on a free port: `application.port`
    /// is always set to 0 (tests run in parallel; a fixed port would collide), whatever
    /// the app's configuration says. Everything else is the app's, the poll interval
    /// included. Polls are counted ([`TestApp::poll_count`]).
    ///
    /// Task events are seen when the app runs on the embedded default; with
    /// `messaging.connection_address` (Kafka) or a supplied delivery the client works
    /// and the event methods answer [`TestError::NoEvents`].
    ///
    /// ```no_run
    /// # async fn example<D: ignition::Driver>(my_driver: D) -> Result<(), ignition::testing::TestError> {
    /// use ignition::App;
    /// use ignition::testing::TestApp;
    ///
    /// let app = App::new("My Driver")
    ///     .property("job_queue.poll_interval", "10ms")
    ///     .driver(my_driver);
    /// let app = TestApp::with(app).await?;
    /// # Ok(()) }
    /// ```
    pub async fn with(app: App) -> Result<TestApp, TestError> {
        init_test_logging();
        let polls = Arc::new(PollCounter::default());
        let counter = polls.clone();
        let running = app
            .property("application.port", 0)
            .observe_polls(Arc::new(move |task| {
                counter.record(task.infrastructure_id.clone(), task.request_id.clone());
            }))
            .start()
            .await
            .map_err(TestError::Start)?;
        Self::launch(running, polls).await
    }

    /// Starts `app` with `driver` as its driver (replacing any it has), like
    /// [`TestApp::with`].
    ///
    /// ```no_run
    /// # async fn example<D: ignition::Driver>(my_driver: D) -> Result<(), ignition::testing::TestError> {
    /// use ignition::App;
    /// use ignition::testing::TestApp;
    ///
    /// let app = App::new("My Driver").property("job_queue.poll_interval", "200ms");
    /// let app = TestApp::with_driver(app, my_driver).await?;
    /// # Ok(()) }
    /// ```
    pub async fn with_driver<D: Driver>(app: App, driver: D) -> Result<TestApp, TestError> {
        Self::with(app.driver(driver)).await
    }
}

impl TestApp {
    /// The rest of [`TestApp::with`], once the app runs.
    async fn launch(
        mut running: RunningApp,
        polls: Arc<PollCounter>,
    ) -> Result<TestApp, TestError> {
        let url = base_url(running.local_addr());
        // Subscribed inside `start`, before the first request can be served.
        let (events, drain) = match running.take_embedded_events() {
            Some(receiver) => {
                let log = Arc::new(EventLog::default());
                let drain = tokio::spawn(log.clone().drain(receiver));
                (Some(log), AbortOnDrop(Some(drain)))
            }
            None => (None, AbortOnDrop(None)),
        };
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // loopback only: never through a proxy named by HTTP_PROXY and the like
            .no_proxy()
            .build()
            .map_err(|err| TestError::Http {
                operation: "start",
                url: url.clone(),
                reason: format!("cannot build the HTTP client: {}", causes(&err)),
            })?;
        Ok(TestApp {
            running,
            url,
            client,
            events,
            no_events: "the app does not run on the embedded default \
                (`messaging.connection_address` is set, or a delivery was supplied): \
                a TestApp sees the task events of the embedded bus only",
            cursor: Mutex::new(0),
            polls,
            _drain: drain,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`, for requests of the test's own (the API is
    /// under `/api/infrastructure` or `/api/driver`, health under `/management/health`).
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) {
    /// let health = format!("{}/management/health", app.url());
    /// # }
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the app listens on.
    ///
    /// ```no_run
    /// # fn example(app: &ignition::testing::TestApp) {
    /// assert_ne!(app.local_addr().port(), 0);
    /// # }
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.running.local_addr()
    }

    /// `POST /api/infrastructure/create`: the 202's ids, or the error.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use ignition::models::*;
    ///
    /// let mut system_properties = PropValueMap::new();
    /// system_properties.insert("resourceName", "web");
    /// let created = app
    ///     .create(CreateInfrastructureRequest {
    ///         template: "heat_template_version: 2021-04-16".into(),
    ///         template_type: "HEAT".into(),
    ///         system_properties,
    ///         properties: PropValueMap::new(),
    ///         deployment_location: DeploymentLocation::new("dl"),
    ///     })
    ///     .await?;
    /// println!("{} {}", created.infrastructure_id, created.request_id);
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        request: CreateInfrastructureRequest,
    ) -> Result<CreateInfrastructureResponse, TestError> {
        self.call(Operation::Create, &request).await
    }

    /// `POST /api/infrastructure/query`: the task as the driver reports it now (this
    /// call is not counted as a poll).
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use ignition::models::*;
    ///
    /// let task = app
    ///     .query(InfrastructureTaskQuery {
    ///         infrastructure_id: "stack-1".into(),
    ///         request_id: "request-1".into(),
    ///         deployment_location: DeploymentLocation::new("dl"),
    ///     })
    ///     .await?;
    /// assert_eq!(task.status, TaskStatus::Complete);
    /// # Ok(()) }
    /// ```
    pub async fn query(
        &self,
        request: InfrastructureTaskQuery,
    ) -> Result<InfrastructureTask, TestError> {
        self.call(Operation::Query, &request).await
    }

    /// `POST /api/infrastructure/delete`: the 202's ids, or the error.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use ignition::models::*;
    ///
    /// let deleting = app
    ///     .delete(DeleteInfrastructureRequest {
    ///         infrastructure_id: "stack-1".into(),
    ///         deployment_location: DeploymentLocation::new("dl"),
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(
        &self,
        request: DeleteInfrastructureRequest,
    ) -> Result<DeleteInfrastructureResponse, TestError> {
        self.call(Operation::Delete, &request).await
    }

    /// `POST /api/infrastructure/find`: what was found (`result: None` when nothing
    /// matched), or the error.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use ignition::models::*;
    ///
    /// let found = app
    ///     .find(FindInfrastructureRequest {
    ///         template: "heat_template_version: 2021-04-16".into(),
    ///         template_type: "HEAT".into(),
    ///         instance_name: "web".into(),
    ///         deployment_location: DeploymentLocation::new("dl"),
    ///     })
    ///     .await?;
    /// assert!(found.result.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn find(
        &self,
        request: FindInfrastructureRequest,
    ) -> Result<FindInfrastructureResponse, TestError> {
        self.call(Operation::Find, &request).await
    }

    /// `POST /api/driver/lifecycle/execute` (a resource driver): the 202's request id, or
    /// the error. Make `driverFiles` with [`DriverFilesBuilder`](super::DriverFilesBuilder).
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use ignition::models::*;
    /// use ignition::testing::DriverFilesBuilder;
    ///
    /// let files = DriverFilesBuilder::new().file("scripts/Create.sh", "echo hi").to_base64();
    /// let accepted = app
    ///     .execute(LifecycleExecutionRequest::new("Create", files, DeploymentLocation::new("dl")))
    ///     .await?;
    /// println!("{}", accepted.request_id);
    /// # Ok(()) }
    /// ```
    pub async fn execute(
        &self,
        request: LifecycleExecutionRequest,
    ) -> Result<LifecycleExecuteResponse, TestError> {
        self.call(Operation::Execute, &request).await
    }

    /// `POST /api/driver/references/find` (a resource driver): what was found (`result:
    /// None` when nothing), or the error.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use ignition::models::*;
    /// use ignition::testing::DriverFilesBuilder;
    ///
    /// let files = DriverFilesBuilder::new().to_base64();
    /// let found = app
    ///     .find_reference(FindReferenceRequest::new("web", files, DeploymentLocation::new("dl")))
    ///     .await?;
    /// assert!(found.result.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn find_reference(
        &self,
        request: FindReferenceRequest,
    ) -> Result<FindReferenceResponse, TestError> {
        self.call(Operation::FindReference, &request).await
    }

    /// The first task event of `request_id` (the request id a create or delete answered),
    /// waiting up to `within` for it. Events are kept from the app's start, so it may
    /// have arrived long before; calling again gives the same event.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use std::time::Duration;
    /// use ignition::models::TaskStatus;
    ///
    /// let task = app.wait_for_event("request-1", Duration::from_secs(10)).await?;
    /// assert_eq!(task.status, TaskStatus::Complete);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_event(
        &self,
        request_id: &str,
        within: Duration,
    ) -> Result<InfrastructureTask, TestError> {
        self.wait_for(request_id, within).await
    }

    /// The first `LifecycleExecution` event of `request_id` (the request id an execute
    /// answered), waiting up to `within` for it; like [`TestApp::wait_for_event`], for a
    /// resource driver.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use std::time::Duration;
    /// use ignition::models::TaskStatus;
    ///
    /// let execution = app.wait_for_execution("request-1", Duration::from_secs(10)).await?;
    /// assert_eq!(execution.status, TaskStatus::Complete);
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_execution(
        &self,
        request_id: &str,
        within: Duration,
    ) -> Result<LifecycleExecution, TestError> {
        self.wait_for(request_id, within).await
    }

    /// The first event of `request_id`, as a `T`.
    async fn wait_for<T: DeserializeOwned>(
        &self,
        request_id: &str,
        within: Duration,
    ) -> Result<T, TestError> {
        let log = self.event_log()?;
        let found = log
            .wait(within, |state| {
                state
                    .entries
                    .iter()
                    .filter(|entry| entry.request_id.as_deref() == Some(request_id))
                    .map(|entry| {
                        entry.parse::<T>().map_err(|reason| TestError::Contract {
                            operation: "task event",
                            status: 0,
                            reason: format!(
                                "the event is not a {}: {reason}",
                                short_type_name::<T>()
                            ),
                            body: shorten(&entry.envelope.payload),
                        })
                    })
                    .next()
            })
            .await;
        match found {
            Some(answer) => answer,
            None => Err(log.timeout(Some(request_id), within)),
        }
    }

    /// Every task event of `request_id` received so far, in order (more than one is a
    /// duplicate).
    ///
    /// ```no_run
    /// # fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// assert_eq!(app.events_of("request-1")?.len(), 1, "exactly one event");
    /// # Ok(()) }
    /// ```
    pub fn events_of(&self, request_id: &str) -> Result<Vec<InfrastructureTask>, TestError> {
        let log = self.event_log()?;
        let state = log.state.locked();
        Ok(state
            .entries
            .iter()
            .filter(|entry| entry.request_id.as_deref() == Some(request_id))
            .filter_map(|entry| entry.parse().ok())
            .collect())
    }

    /// Every message the embedded bus delivered since start, in order, as it was sent
    /// (topic, key and JSON text): for checks of the wire format.
    ///
    /// ```no_run
    /// # fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// for envelope in app.envelopes()? {
    ///     assert_eq!(envelope.topic, "lm_vim_infrastructure_task_events");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn envelopes(&self) -> Result<Vec<Envelope>, TestError> {
        let log = self.event_log()?;
        let state = log.state.locked();
        Ok(state.entries.iter().map(|e| e.envelope.clone()).collect())
    }

    /// The next message of the embedded bus after the last one this method returned
    /// (the first one since start, on the first call), waiting up to `within`.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use std::time::Duration;
    ///
    /// let first = app.next_envelope(Duration::from_secs(5)).await?;
    /// assert!(
    ///     app.next_envelope(Duration::from_millis(300)).await.is_err(),
    ///     "exactly one event"
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn next_envelope(&self, within: Duration) -> Result<Envelope, TestError> {
        let log = self.event_log()?;
        let next = *self.cursor.locked();
        let found = log
            .wait(within, |state| {
                state.entries.get(next).map(|e| e.envelope.clone())
            })
            .await;
        match found {
            Some(envelope) => {
                *self.cursor.locked() = next + 1;
                Ok(envelope)
            }
            None => Err(log.timeout(None, within)),
        }
    }

    /// How many times the monitor polled the task `(infrastructure_id, request_id)` so
    /// far (its runs of the task's monitoring job; [`TestApp::query`] calls are not
    /// polls); for a lifecycle execution, `("", request_id)`. Always `Some`: every
    /// `TestApp` counts its polls.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::TestError> {
    /// use std::time::Duration;
    ///
    /// app.wait_for_event("request-1", Duration::from_secs(10)).await?;
    /// // two polls IN_PROGRESS, the third one COMPLETE
    /// assert_eq!(app.poll_count("stack-1", "request-1"), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn poll_count(&self, infrastructure_id: &str, request_id: &str) -> Option<usize> {
        Some(self.polls.get(infrastructure_id, request_id))
    }

    /// Stops the app gracefully (see [`RunningApp::shutdown`]). Dropping a `TestApp`
    /// without it stops serving at once.
    ///
    /// ```no_run
    /// # async fn example(app: ignition::testing::TestApp) {
    /// app.shutdown().await;
    /// # }
    /// ```
    pub async fn shutdown(self) {
        let TestApp {
            running, _drain, ..
        } = self;
        running.shutdown().await;
        drop(_drain);
    }

    fn event_log(&self) -> Result<&Arc<EventLog>, TestError> {
        self.events.as_ref().ok_or_else(|| TestError::NoEvents {
            reason: self.no_events.to_string(),
        })
    }

    /// `POST`s `request` to `operation`; its success answer, or the error.
    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        operation: Operation,
        request: &Req,
    ) -> Result<Resp, TestError> {
        let expected = operation.success_status();
        let url = format!("{}{}", self.url, operation.path().unwrap_or_default());
        let operation = operation.name();
        let no_answer = |err: reqwest::Error| TestError::Http {
            operation,
            url: url.clone(),
            reason: causes(&err),
        };
        let response = self
            .client
            .post(&url)
            .json(request)
            .send()
            .await
            .map_err(no_answer)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(no_answer)?;
        let contract = |reason: String| TestError::Contract {
            operation,
            status,
            reason,
            body: shorten(&body),
        };
        if status == expected {
            return serde_json::from_str(&body).map_err(|err| {
                contract(format!(
                    "the body is not the contract's {}: {err}",
                    short_type_name::<Resp>()
                ))
            });
        }
        if !(400..=599).contains(&status) {
            return Err(contract(format!("expected status {expected}")));
        }
        let error = parse_error_body(status, &body).map_err(contract)?;
        Err(TestError::Status {
            operation,
            error,
            body: shorten(&body),
        })
    }
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("url", &self.url)
            .field("events", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

/// The contract's error body of an error answer, or why it is not one.
fn parse_error_body(status: u16, body: &str) -> Result<ErrorBody, String> {
    let body: ignition_openapi::ErrorResponse = serde_json::from_str(body).map_err(|err| {
        format!("an error answer must be the contract's error JSON (`localizedMessage`, `status`): {err}")
    })?;
    if body.status != status {
        return Err(format!(
            "the error body says status {}, the HTTP status is {status}",
            body.status
        ));
    }
    Ok(ErrorBody {
        status,
        localized_message: body.localized_message,
    })
}

/// `CreateInfrastructureResponse` from `ignition_openapi::models::CreateInfrastructureResponse`.
fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    name.rsplit("::").next().unwrap_or(name)
}

/// An error and its causes, `a: b: c`.
fn causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `http://127.0.0.1:PORT` for a listener on all interfaces or on 127.0.0.1; the
/// listener's own address otherwise.
fn base_url(addr: SocketAddr) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    match host {
        IpAddr::V4(ip) => format!("http://{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("http://[{ip}]:{}", addr.port()),
    }
}

/// With `IGNITION_TEST_LOG` set (a filter such as `warn`): a log subscriber writing
/// through the test harness's capture, once per process, unless one is already set.
fn init_test_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(filter) = std::env::var("IGNITION_TEST_LOG") else {
            return;
        };
        if tracing::dispatcher::has_been_set() {
            return;
        }
        // An error means a subscriber was set meanwhile: that one is used.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_must_be_the_contracts() {
        assert_eq!(
            parse_error_body(400, r#"{"localizedMessage": "bad", "status": 400}"#),
            Ok(ErrorBody {
                status: 400,
                localized_message: "bad".into()
            })
        );
        assert!(parse_error_body(400, "bad")
            .unwrap_err()
            .contains("error JSON"));
        assert!(parse_error_body(400, r#"{"status": 400}"#)
            .unwrap_err()
            .contains("localizedMessage"));
        assert!(
            parse_error_body(503, r#"{"localizedMessage": "x", "status": 500}"#)
                .unwrap_err()
                .contains("says status 500")
        );
    }

    #[test]
    fn the_base_url_is_loopback_for_a_listener_on_every_interface() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(base_url(any), "http://127.0.0.1:8080");
        let any6: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(base_url(any6), "http://127.0.0.1:8080");
        let one6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(base_url(one6), "http://[::1]:80");
    }

    #[test]
    fn a_timeout_names_the_request_and_what_arrived() {
        let err = TestError::EventTimeout {
            request_id: Some("r-9".into()),
            within: Duration::from_millis(300),
            received: vec!["r-1".into(), "r-2".into()],
        };
        assert_eq!(
            err.to_string(),
            "no task event for request id `r-9` within 300ms; 2 event(s) arrived, for request ids `r-1`, `r-2`"
        );
    }
}
