//! The two servers under test, each run as a process of its own (`ignition-bench
//! serve-driver` / `serve-bare`) so that its CPU time and memory are its own:
//!
//! - the **framework**: a no-op [`BenchDriver`] through Ignition (HTTP API, monitoring
//!   job queue, task events), configured by `BENCH_PROPS` (a JSON object of dotted
//!   property keys), logging at `info` like any driver started with `App::run`;
//! - the **bare** poem server: two handlers that parse the same request JSON into the
//!   same types and serialise the same answers, and nothing else.
//!
//! The driver's tasks: the create template is the number of polls that answer
//! IN_PROGRESS before the one that answers COMPLETE (`0`: COMPLETE at the first poll;
//! `inf`: never complete). That number is part of the infrastructure id (`b<n>p<polls>`),
//! so jobs produced straight onto the job topic work too; the polls seen so far are kept
//! in a `Mutex<HashMap>`. On SIGUSR1 the driver writes its counters as JSON to
//! `BENCH_STATS`: polls, and the gaps between two polls of one task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignition::prelude::*;
use serde::{Deserialize, Serialize};

/// Gaps up to this many milliseconds are counted in 1-ms buckets; longer ones in the last.
const GAP_BUCKETS_MS: usize = 20_000;

/// Never completes.
const FOREVER: u32 = u32::MAX;

/// The driver's counters, as written to `BENCH_STATS`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DriverStats {
    /// Which request for the counters this answers.
    pub seq: u64,
    /// Polls (`get_infrastructure_task` calls) so far.
    pub polls: u64,
    /// Creates so far.
    pub creates: u64,
    /// Gaps measured (between two polls of one task).
    pub gaps: u64,
    /// Their mean, in ms.
    pub gap_mean_ms: f64,
    /// Their median, in ms (1-ms buckets).
    pub gap_p50_ms: f64,
    /// Their 99th percentile, in ms (1-ms buckets).
    pub gap_p99_ms: f64,
    /// The longest, in ms.
    pub gap_max_ms: f64,
    /// Tasks polled at least once that have not completed.
    pub tasks_in_progress: usize,
    /// Heap allocations of the process so far (with `BENCH_COUNT_ALLOCS=1`, else 0).
    pub allocations: u64,
    /// Bytes those allocations asked for.
    pub allocated_bytes: u64,
}

struct Gaps {
    n: u64,
    sum_us: u64,
    max_us: u64,
    buckets: Vec<u32>,
}

impl Gaps {
    fn new() -> Self {
        Self {
            n: 0,
            sum_us: 0,
            max_us: 0,
            buckets: vec![0; GAP_BUCKETS_MS + 1],
        }
    }

    fn add(&mut self, gap: Duration) {
        let us = gap.as_micros() as u64;
        self.n += 1;
        self.sum_us += us;
        self.max_us = self.max_us.max(us);
        let bucket = ((us / 1000) as usize).min(GAP_BUCKETS_MS);
        self.buckets[bucket] += 1;
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((self.n as f64 - 1.0) * q).round() as u64;
        let mut seen = 0u64;
        for (ms, count) in self.buckets.iter().enumerate() {
            seen += u64::from(*count);
            if seen > rank {
                return ms as f64 + 0.5;
            }
        }
        GAP_BUCKETS_MS as f64
    }
}

struct TaskState {
    /// Polls so far, and when the last one happened, per infrastructure id.
    tasks: HashMap<String, (u32, Instant)>,
    gaps: Gaps,
}

/// The no-op driver (see the module docs).
pub struct BenchDriver {
    next: AtomicU64,
    polls: AtomicU64,
    state: Mutex<TaskState>,
}

impl BenchDriver {
    fn new() -> Self {
        Self {
            next: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            state: Mutex::new(TaskState {
                tasks: HashMap::new(),
                gaps: Gaps::new(),
            }),
        }
    }

    fn stats(&self) -> DriverStats {
        let state = self.state.lock().unwrap();
        let gaps = &state.gaps;
        DriverStats {
            seq: 0,
            polls: self.polls.load(Ordering::Relaxed),
            creates: self.next.load(Ordering::Relaxed),
            gaps: gaps.n,
            gap_mean_ms: if gaps.n == 0 {
                0.0
            } else {
                gaps.sum_us as f64 / gaps.n as f64 / 1000.0
            },
            gap_p50_ms: gaps.quantile_ms(0.5),
            gap_p99_ms: gaps.quantile_ms(0.99),
            gap_max_ms: gaps.max_us as f64 / 1000.0,
            tasks_in_progress: state.tasks.len(),
            allocations: 0,
            allocated_bytes: 0,
        }
    }
}

/// The ids of the `n`th create whose task answers IN_PROGRESS `polls` times.
pub fn task_ids(prefix: &str, n: u64, polls: &str) -> (String, String) {
    (format!("{prefix}{n}p{polls}"), format!("r{n}"))
}

/// What a no-op create answers (shared by both servers, so they do the same work).
pub fn noop_create(next: &AtomicU64, template: &str) -> CreateInfrastructureResponse {
    let n = next.fetch_add(1, Ordering::Relaxed);
    let polls = match template {
        "inf" => "inf",
        other if other.parse::<u32>().is_ok() => other,
        _ => "0",
    };
    let (iid, rid) = task_ids("b", n, polls);
    CreateInfrastructureResponse::new(iid, rid)
}

/// What a no-op find answers (shared by both servers).
pub fn noop_find(instance_name: &str) -> FindInfrastructureResponse {
    let mut outputs = Outputs::new();
    outputs.insert("ip".into(), "10.0.0.1".into());
    outputs.insert("name".into(), instance_name.into());
    FindInfrastructureResponse::found("b-found", outputs)
}

fn polls_of(infrastructure_id: &str) -> u32 {
    match infrastructure_id.rsplit_once('p') {
        Some((_, "inf")) => FOREVER,
        Some((_, n)) => n.parse().unwrap_or(0),
        None => 0,
    }
}

impl BenchDriver {
    /// One poll of a task: IN_PROGRESS until its polls are used up, then COMPLETE.
    fn poll(&self, infrastructure_id: String, request_id: String) -> InfrastructureTask {
        self.polls.fetch_add(1, Ordering::Relaxed);
        let in_progress = polls_of(&infrastructure_id);
        if in_progress == 0 {
            return InfrastructureTask::complete(infrastructure_id, request_id);
        }
        let now = Instant::now();
        let still_in_progress = {
            let mut state = self.state.lock().unwrap();
            let TaskState { tasks, gaps } = &mut *state;
            match tasks.get_mut(&infrastructure_id) {
                None => {
                    tasks.insert(infrastructure_id.clone(), (1, now));
                    true
                }
                Some((count, last)) => {
                    gaps.add(now - *last);
                    *count += 1;
                    *last = now;
                    if *count > in_progress {
                        tasks.remove(&infrastructure_id);
                        false
                    } else {
                        true
                    }
                }
            }
        };
        if still_in_progress {
            InfrastructureTask::in_progress(infrastructure_id, request_id)
        } else {
            InfrastructureTask::complete(infrastructure_id, request_id)
        }
    }
}

/// The driver the app owns; the stats thread keeps another handle on the same state.
pub struct SharedDriver(Arc<BenchDriver>);

#[vim_driver]
impl SharedDriver {
    async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, InfrastructureError> {
        Ok(noop_create(&self.0.next, &template))
    }

    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<InfrastructureTask, InfrastructureError> {
        Ok(self.0.poll(infrastructure_id, request_id))
    }

    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        let n = self.0.next.fetch_add(1, Ordering::Relaxed);
        Ok(DeleteInfrastructureResponse::new(
            infrastructure_id,
            format!("d{n}"),
        ))
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(noop_find(&instance_name))
    }
}

/// The no-op resource driver (`BENCH_KIND=resource`): its execute answers at once, its
/// execution is COMPLETE at the first poll, its find-reference finds. Served the same
/// way as the no-op VIM driver; each execute carries [`DRIVER_FILES`], which the
/// framework unpacks to a private directory before the call.
pub struct ResourceBench {
    next: Arc<AtomicU64>,
    polls: Arc<AtomicU64>,
}

/// What a no-op execute answers (shared by both servers).
pub fn noop_execute(next: &AtomicU64) -> LifecycleExecuteResponse {
    LifecycleExecuteResponse::new(format!("x{}", next.fetch_add(1, Ordering::Relaxed)))
}

#[resource_driver]
impl ResourceBench {
    #[allow(clippy::too_many_arguments)] // the Resource Driver API's request, field by field
    async fn execute_lifecycle(
        &self,
        _lifecycle_name: String,
        _driver_files: DriverFiles,
        _system_properties: PropValueMap,
        _resource_properties: PropValueMap,
        _request_properties: PropValueMap,
        _associated_topology: AssociatedTopology,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ResourceDriverError> {
        Ok(noop_execute(&self.next))
    }

    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecution, ResourceDriverError> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        Ok(LifecycleExecution::complete(request_id))
    }

    async fn find_reference(
        &self,
        instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindReferenceResponse, ResourceDriverError> {
        let _ = instance_name;
        Ok(FindReferenceResponse::not_found())
    }
}

/// A 312-byte zip of two small files (`scripts/Create.sh`, `lifecycle/lifecycle.yaml`),
/// base64: the `driverFiles` of every execute the harness sends.
pub const DRIVER_FILES: &str = "UEsDBBQAAAAIAIUbh13j4cE7GQAAABcAAAARAAAAc2NyaXB0cy9DcmVhdGUuc2hTVtRPyszTL87gSk3OyFdILkpNLElN4QIAUEsDBBQAAAAIAIUbh11gxmSSHwAAACIAAAAYAAAAbGlmZWN5Y2xlL2xpZmVjeWNsZS55YW1syy9ILUosyczPK7biUlDQVXAuSk0sSQUzXVJzUoFMAFBLAQIUAxQAAAAIAIUbh13j4cE7GQAAABcAAAARAAAAAAAAAAAAAACAAQAAAABzY3JpcHRzL0NyZWF0ZS5zaFBLAQIUAxQAAAAIAIUbh11gxmSSHwAAACIAAAAYAAAAAAAAAAAAAACAAUgAAABsaWZlY3ljbGUvbGlmZWN5Y2xlLnlhbWxQSwUGAAAAAAIAAgCFAAAAnQAAAAAA";

/// With `BENCH_STATS`: a thread that writes the process's counters (the driver's, when
/// there is one, and the allocations) to that file on each SIGUSR1.
fn stats_thread(
    driver: Option<Arc<BenchDriver>>,
    resource: Option<(Arc<AtomicU64>, Arc<AtomicU64>)>,
) {
    crate::counting::init_from_env();
    let Some(path) = std::env::var_os("BENCH_STATS") else {
        return;
    };
    // SIGUSR1 asks for the counters. It is blocked here, while this is the only thread,
    // so every thread started later inherits the mask and only the stats thread takes it
    // (sigwait): between two requests nothing runs, and the idle figures stay the
    // framework's own.
    // SAFETY: plain signal-mask calls on a local set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGUSR1);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    let path = std::path::PathBuf::from(path);
    std::thread::spawn(move || {
        let temp = path.with_extension("tmp");
        for seq in 1.. {
            let mut signal = 0;
            // SAFETY: waits for a signal of the blocked set.
            if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                break;
            }
            let (allocations, allocated_bytes) = crate::counting::counts();
            let mut stats = DriverStats {
                seq,
                allocations,
                allocated_bytes,
                ..driver.as_ref().map(|d| d.stats()).unwrap_or_default()
            };
            if let Some((creates, polls)) = &resource {
                stats.polls = polls.load(Ordering::Relaxed);
                stats.creates = creates.load(Ordering::Relaxed);
            }
            let text = serde_json::to_string(&stats).unwrap_or_default();
            if std::fs::write(&temp, text).is_ok() {
                let _ = std::fs::rename(&temp, &path);
            }
        }
    });
}

/// `serve-driver`: the framework around the no-op driver, until SIGTERM.
pub fn serve_driver() {
    let props: serde_json::Map<String, serde_json::Value> = std::env::var("BENCH_PROPS")
        .ok()
        .map(|text| serde_json::from_str(&text).expect("BENCH_PROPS is a JSON object"))
        .unwrap_or_default();
    let resource = std::env::var("BENCH_KIND").is_ok_and(|kind| kind == "resource");
    let driver = Arc::new(BenchDriver::new());
    let resource_driver = ResourceBench {
        next: Arc::new(AtomicU64::new(0)),
        polls: Arc::new(AtomicU64::new(0)),
    };
    if resource {
        let counters = (resource_driver.next.clone(), resource_driver.polls.clone());
        stats_thread(None, Some(counters));
    } else {
        stats_thread(Some(driver.clone()), None);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(async move {
        let mut app = App::new("Ignition Bench Driver");
        for (key, value) in props {
            app = app.property(key, value);
        }
        if resource {
            app.driver(resource_driver).run().await
        } else {
            app.driver(SharedDriver(driver)).run().await
        }
    });
    if let Err(err) = result {
        eprintln!("the bench driver did not start: {err}");
        std::process::exit(2);
    }
}

/// `serve-bare`: the bare poem server on `port`, until killed (HTTPS with `BENCH_TLS_DIR`).
pub fn serve_bare(port: u16) {
    stats_thread(None, None);
    use poem::http::StatusCode;
    use poem::listener::TcpListener;
    use poem::web::{Data, Json};
    use poem::{get, handler, post, EndpointExt, Response, Route, Server};

    fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
        Response::builder()
            .status(status)
            .content_type("application/json")
            .body(serde_json::to_vec(body).expect("serialise"))
    }

    #[handler]
    fn create(next: Data<&Arc<AtomicU64>>, request: Json<CreateInfrastructureRequest>) -> Response {
        json(
            StatusCode::ACCEPTED,
            &noop_create(next.0, &request.template),
        )
    }

    #[handler]
    fn find(request: Json<FindInfrastructureRequest>) -> Response {
        json(StatusCode::OK, &noop_find(&request.instance_name))
    }

    #[handler]
    fn execute(next: Data<&Arc<AtomicU64>>, _request: Json<LifecycleExecutionRequest>) -> Response {
        json(StatusCode::ACCEPTED, &noop_execute(next.0))
    }

    #[handler]
    fn health() -> Response {
        json(
            StatusCode::OK,
            &serde_json::json!({"vitals": {"app": {"status": "OK"}}}),
        )
    }

    let routes = Route::new()
        .at("/api/infrastructure/create", post(create))
        .at("/api/infrastructure/find", post(find))
        .at("/api/driver/lifecycle/execute", post(execute))
        .at("/management/health", get(health))
        .data(Arc::new(AtomicU64::new(0)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let listener = TcpListener::bind(("0.0.0.0", port));
    // BENCH_TLS_DIR: HTTPS from DIR/tls.crt and DIR/tls.key through poem's rustls
    // listener, the one the framework serves `application.ssl` with.
    let served = match std::env::var_os("BENCH_TLS_DIR") {
        Some(dir) => {
            use poem::listener::{Listener, RustlsCertificate, RustlsConfig};
            let dir = std::path::PathBuf::from(dir);
            let read = |name: &str| std::fs::read(dir.join(name)).expect("read the certificate");
            let certificate = RustlsCertificate::new()
                .cert(read("tls.crt"))
                .key(read("tls.key"));
            let listener = listener.rustls(RustlsConfig::new().fallback(certificate));
            runtime.block_on(Server::new(listener).run(routes))
        }
        None => runtime.block_on(Server::new(listener).run(routes)),
    };
    served.expect("bare server");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_of_in_progress_polls_is_in_the_id() {
        assert_eq!(polls_of("b17p5"), 5);
        assert_eq!(polls_of("b17p0"), 0);
        assert_eq!(polls_of("j3pinf"), FOREVER);
        let next = AtomicU64::new(7);
        assert_eq!(noop_create(&next, "5").infrastructure_id, "b7p5");
        assert_eq!(noop_create(&next, "whatever").infrastructure_id, "b8p0");
    }

    #[test]
    fn a_task_is_in_progress_for_its_polls_then_complete() {
        let driver = BenchDriver::new();
        let statuses: Vec<TaskStatus> = (0..4)
            .map(|_| driver.poll("b1p3".into(), "r1".into()).status)
            .collect();
        use TaskStatus::*;
        assert_eq!(statuses, [InProgress, InProgress, InProgress, Complete]);
        let stats = driver.stats();
        assert_eq!(
            (stats.polls, stats.gaps, stats.tasks_in_progress),
            (4, 3, 0)
        );
    }

    /// The figures of the monitor and latency suites rest on this: through the framework
    /// (an in-process app of the test kit), a task created with template `N` is polled
    /// N + 1 times and then gets one COMPLETE event.
    #[tokio::test]
    async fn through_the_framework_a_task_is_polled_as_its_template_says() {
        use ignition::testing::TestApp;

        let app = TestApp::start(SharedDriver(Arc::new(BenchDriver::new())))
            .await
            .expect("starts");
        for (template, polls) in [("0", 1), ("3", 4)] {
            let created = app
                .create(CreateInfrastructureRequest {
                    template: template.into(),
                    template_type: "TOSCA".into(),
                    system_properties: PropValueMap::new(),
                    properties: PropValueMap::new(),
                    deployment_location: DeploymentLocation::new("dl"),
                })
                .await
                .expect("created");
            let event = app
                .wait_for_event(&created.request_id, Duration::from_secs(30))
                .await
                .expect("event");
            assert_eq!(event.status, TaskStatus::Complete);
            assert_eq!(event.infrastructure_id, created.infrastructure_id);
            assert_eq!(
                app.poll_count(&created.infrastructure_id, &created.request_id),
                Some(polls),
                "template {template}"
            );
            assert_eq!(app.events_of(&created.request_id).unwrap().len(), 1);
        }
        app.shutdown().await;
    }
}
