//! The measurements: HTTP, monitoring capacity, idle cost, Kafka job-queue throughput,
//! create→event latency. Each returns rows of medians over `runs` runs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::producer::FutureRecord;
use serde::Serialize;
use serde_json::{json, Map};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::harness::{self, Backend, DriverProc, DriverSpec, Layout};
use crate::kafka;
use crate::stats::{median, median_of, quantile};
use crate::sys::{self, ProcSample, Profile, Spawn};
use crate::wrk;

/// What to run, and how big.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Tiny sizes, one run each: checks the harness works, figures mean nothing.
    pub smoke: bool,
    /// Runs per figure (the median is reported).
    pub runs: usize,
    /// Length of one wrk run.
    pub http_seconds: f64,
    /// wrk concurrencies.
    pub concurrencies: Vec<usize>,
    /// Tasks in flight for the monitoring capacity runs.
    pub monitor_sizes: Vec<usize>,
    /// Polls that answer IN_PROGRESS before the COMPLETE one.
    pub in_progress_polls: u32,
    /// `job_queue.poll_interval` for the monitoring and idle runs.
    pub poll_interval: Duration,
    /// Creates are spread over this long.
    pub ramp: Duration,
    /// Tasks in progress for the idle runs.
    pub idle_tasks: usize,
    /// Length of the idle CPU window.
    pub idle_seconds: f64,
    /// Jobs per Kafka throughput run.
    pub jobs: usize,
    /// Samples per latency run.
    pub latency_samples: usize,
    /// `messaging.config` for drivers on Kafka.
    pub kafka_config: Map<String, serde_json::Value>,
    /// Which CPUs run what.
    pub layout: Layout,
}

impl Opts {
    /// The full run, or the smoke run.
    pub fn new(smoke: bool, layout: Layout) -> Self {
        let mut kafka_config = Map::new();
        if smoke {
            // Tansu makes a new consumer wait about half the session timeout before it
            // gets partitions: a short one keeps the smoke run short.
            kafka_config.insert("session.timeout.ms".into(), json!("2000"));
            kafka_config.insert("heartbeat.interval.ms".into(), json!("500"));
        }
        Self {
            smoke,
            runs: if smoke { 1 } else { 3 },
            http_seconds: if smoke { 1.0 } else { 5.0 },
            concurrencies: vec![1, 16, 64],
            monitor_sizes: if smoke {
                vec![100]
            } else {
                vec![1_000, 10_000]
            },
            in_progress_polls: 5,
            poll_interval: if smoke {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(1)
            },
            ramp: if smoke {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(2)
            },
            idle_tasks: 100,
            idle_seconds: if smoke { 1.0 } else { 30.0 },
            jobs: if smoke { 300 } else { 20_000 },
            latency_samples: if smoke { 10 } else { 200 },
            kafka_config,
            layout,
        }
    }

    fn poll_interval_text(&self) -> String {
        format!("{}ms", self.poll_interval.as_millis())
    }

    pub(crate) fn driver(&self, backend: &Backend, read_events: bool) -> DriverSpec {
        DriverSpec {
            backend: backend.clone(),
            poll_interval: self.poll_interval_text(),
            read_events,
            kafka_config: self.kafka_config.clone(),
            extra: Map::new(),
            log: None,
        }
    }
}

/// Medians of one server at one operation and concurrency.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HttpFigures {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Non-2xx answers and socket errors, summed over the runs.
    pub errors: u64,
}

/// One HTTP row.
#[derive(Debug, Clone, Serialize)]
pub struct HttpRow {
    /// `create` or `find`.
    pub op: &'static str,
    /// wrk connections.
    pub concurrency: usize,
    /// (a) the no-op driver through the framework.
    pub framework: HttpFigures,
    /// (b) the bare poem handler.
    pub bare: HttpFigures,
    /// Median over runs of framework req/s ÷ bare req/s, each pair measured back to back.
    pub ratio: f64,
    /// create only: (a′) the framework with task monitoring off
    /// (`infrastructure.async_messaging_enabled: false`), i.e. its HTTP layer alone.
    pub http_layer: Option<HttpFigures>,
    /// create only: median of (a′) req/s ÷ (b) req/s.
    pub http_layer_ratio: Option<f64>,
    /// create only: (a″) the framework with task monitoring on but logs at `warn` (no
    /// line per finished task): (a) − (a″) is what that log line costs.
    pub quiet: Option<HttpFigures>,
    /// create only: median of (a″) req/s ÷ (b) req/s.
    pub quiet_ratio: Option<f64>,
}

pub(crate) fn http_figures(runs: &[wrk::WrkResult]) -> HttpFigures {
    HttpFigures {
        rps: median_of(runs, |r| r.rps),
        p50_ms: median_of(runs, |r| r.p50_ms),
        p99_ms: median_of(runs, |r| r.p99_ms),
        errors: runs.iter().map(|r| r.errors).sum(),
    }
}

/// One of the two servers of a paired comparison ([`paired`]).
pub(crate) struct Side<'a> {
    /// Its name in the progress lines.
    pub(crate) name: &'static str,
    /// Its base URL.
    pub(crate) base: &'a str,
    /// Its process, whose log is emptied after each run (none when it keeps none).
    pub(crate) process: Option<&'a sys::Child>,
}

impl<'a> Side<'a> {
    /// A driver the harness started (its log emptied after each run).
    pub(crate) fn driver(name: &'static str, driver: &'a DriverProc) -> Self {
        Self {
            name,
            base: &driver.base,
            process: Some(&driver.child),
        }
    }
}

/// What [`paired`] measured of two servers at one concurrency.
pub(crate) struct Paired {
    /// The first server's figures (medians over the runs).
    pub(crate) a: HttpFigures,
    /// The second server's.
    pub(crate) b: HttpFigures,
    /// a req/s ÷ b req/s of each pair, in run order.
    pub(crate) ratios: Vec<f64>,
    /// Their median.
    pub(crate) ratio: f64,
}

/// wrk with the same `script` at `c` connections against `path` of both servers,
/// `opts.runs` pairs back to back, who goes first alternating per pair (so neither
/// always gets the warmer or the quieter turn); one progress line per pair.
pub(crate) fn paired(
    label: &str,
    sides: [&Side<'_>; 2],
    path: &str,
    script: &std::path::PathBuf,
    c: usize,
    opts: &Opts,
) -> Result<Paired, String> {
    let mut results: [Vec<wrk::WrkResult>; 2] = [Vec::new(), Vec::new()];
    let processes: Vec<&sys::Child> = sides.iter().filter_map(|side| side.process).collect();
    for run in 0..opts.runs {
        for turn in 0..2 {
            let index = (turn + run) % 2;
            let side = sides[index];
            settle(&processes);
            let url = format!("{}{path}", side.base);
            let result = wrk::run(&url, script, c, opts.http_seconds, opts.layout.load_cpu)?;
            results[index].push(result);
            if let Some(process) = side.process {
                process.truncate_log();
            }
        }
        let (a, b) = (results[0][run], results[1][run]);
        eprintln!(
            "  {label} c={c} run {}: {} {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), {} {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), ratio {:.3}",
            run + 1,
            sides[0].name,
            a.rps,
            a.p50_ms,
            a.p99_ms,
            sides[1].name,
            b.rps,
            b.p50_ms,
            b.p99_ms,
            a.rps / b.rps
        );
    }
    let ratios: Vec<f64> = (0..opts.runs)
        .map(|run| results[0][run].rps / results[1][run].rps)
        .collect();
    Ok(Paired {
        a: http_figures(&results[0]),
        b: http_figures(&results[1]),
        ratio: median(&ratios),
        ratios,
    })
}

/// Waits until none of `processes` uses more than [`SETTLED_CPU_PERCENT`] of a CPU
/// (over 250 ms), for up to [`SETTLE_LIMIT`]: after a run, a driver still monitors the
/// tasks it was just asked to create (the Python framework takes seconds at 100 % of a
/// CPU after 5 s of creates at c=16), and that backlog must not run during, and be
/// counted against, the next run of the other side.
fn settle(processes: &[&sys::Child]) {
    let deadline = Instant::now() + SETTLE_LIMIT;
    for process in processes {
        while Instant::now() < deadline {
            let Some(before) = process.sample() else {
                break;
            };
            std::thread::sleep(Duration::from_millis(250));
            let Some(after) = process.sample() else { break };
            if after.cpu_percent_since(&before) <= SETTLED_CPU_PERCENT {
                break;
            }
        }
    }
}

/// What [`settle`] counts as idle.
const SETTLED_CPU_PERCENT: f64 = 10.0;
/// How long [`settle`] waits at most.
const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// Warms each server at `bases` up: wrk with `script` against `path` at 16 connections
/// for 2 s (1 s in a smoke run). A warm-up that answers nothing, or any error, fails the
/// part: what follows would measure a broken server.
pub(crate) fn warm_up(
    label: &str,
    bases: &[&str],
    path: &str,
    script: &std::path::Path,
    opts: &Opts,
) -> Result<(), String> {
    let seconds = if opts.smoke { 1.0 } else { 2.0 };
    for base in bases {
        let result = wrk::run(
            &format!("{base}{path}"),
            &script.to_path_buf(),
            16,
            seconds,
            opts.layout.load_cpu,
        )?;
        if result.errors > 0 || result.rps == 0.0 {
            return Err(format!(
                "{label} warm-up of {base}{path}: {} errors, {:.0} req/s",
                result.errors, result.rps
            ));
        }
    }
    Ok(())
}

/// HTTP: wrk against the framework and bare poem, run pairs back to back.
pub async fn http(opts: &Opts, client: &reqwest::Client) -> Result<Vec<HttpRow>, String> {
    if !sys::have_program("wrk") {
        return Err("skipped: wrk is not installed (apt-get install -y wrk)".into());
    }
    let framework =
        DriverProc::start(opts.driver(&Backend::Embedded, false), opts.layout, client).await?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.extra.insert(
        "infrastructure.async_messaging_enabled".into(),
        json!(false),
    );
    let http_layer = DriverProc::start(spec, opts.layout, client).await?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.log = Some("warn".into());
    let quiet = DriverProc::start(spec, opts.layout, client).await?;
    let bare_port = sys::free_port();
    let mut spawn = Spawn::new(
        "bare-poem",
        sys::this_exe(),
        &["serve-bare", &bare_port.to_string()],
    );
    spawn.cpu = opts.layout.server_cpu;
    let mut bare = spawn.start();
    let bare_base = format!("http://127.0.0.1:{bare_port}");
    harness::wait_healthy(client, &bare_base, &mut bare).await?;

    // (name, base URL, pid, its log to empty after each run)
    let servers = [
        (
            "framework",
            framework.base.clone(),
            framework.child.pid,
            Some(&framework.child),
        ),
        ("bare", bare_base.clone(), bare.pid, None),
        (
            "http-layer",
            http_layer.base.clone(),
            http_layer.child.pid,
            Some(&http_layer.child),
        ),
        (
            "quiet",
            quiet.base.clone(),
            quiet.child.pid,
            Some(&quiet.child),
        ),
    ];
    let ops = [
        ("create", wrk::script(&harness::create_body("0"))),
        ("find", wrk::script(&harness::find_body())),
    ];
    let url = |base: &str, op: &str| format!("{base}/api/infrastructure/{op}");
    let load_cpu = opts.layout.load_cpu;
    let bases: Vec<&str> = servers
        .iter()
        .map(|(_, base, _, _)| base.as_str())
        .collect();
    for (op, script) in &ops {
        warm_up(
            "http",
            &bases,
            &format!("/api/infrastructure/{op}"),
            script,
            opts,
        )?;
    }

    let mut rows = Vec::new();
    for (op, script) in &ops {
        // The HTTP-layer-only and quiet variants differ from (a) for create only.
        let measured = if *op == "create" { servers.len() } else { 2 };
        for &c in &opts.concurrencies {
            let mut results: Vec<Vec<wrk::WrkResult>> = vec![Vec::new(); measured];
            for run in 0..opts.runs {
                // Rotate who goes first, so a drift in the machine's load hits all.
                for turn in 0..measured {
                    let index = (turn + run) % measured;
                    let (name, base, pid, log) = &servers[index];
                    let profile = if run == 0 && c == 16 {
                        Profile::start(*pid, &format!("http-{name}-{op}-c{c}"))
                    } else {
                        Profile::none()
                    };
                    let result = wrk::run(&url(base, op), script, c, opts.http_seconds, load_cpu);
                    profile.finish();
                    results[index].push(result?);
                    if let Some(log) = log {
                        log.truncate_log();
                    }
                }
                let (fw, b) = (results[0][run], results[1][run]);
                let layer = results
                    .get(2)
                    .zip(results.get(3))
                    .map(|(layer, quiet)| {
                        format!(
                            ", HTTP layer alone {:.0} req/s (ratio {:.3}), logs at warn {:.0} req/s (ratio {:.3})",
                            layer[run].rps,
                            layer[run].rps / b.rps,
                            quiet[run].rps,
                            quiet[run].rps / b.rps
                        )
                    })
                    .unwrap_or_default();
                eprintln!(
                    "  http {op} c={c} run {}: framework {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), bare {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), ratio {:.3}{layer}",
                    run + 1, fw.rps, fw.p50_ms, fw.p99_ms, b.rps, b.p50_ms, b.p99_ms, fw.rps / b.rps
                );
            }
            let ratio_to_bare = |index: usize| {
                let ratios: Vec<f64> = (0..opts.runs)
                    .map(|run| results[index][run].rps / results[1][run].rps)
                    .collect();
                median(&ratios)
            };
            rows.push(HttpRow {
                op,
                concurrency: c,
                framework: http_figures(&results[0]),
                bare: http_figures(&results[1]),
                ratio: ratio_to_bare(0),
                http_layer: results.get(2).map(|r| http_figures(r)),
                http_layer_ratio: (measured > 2).then(|| ratio_to_bare(2)),
                quiet: results.get(3).map(|r| http_figures(r)),
                quiet_ratio: (measured > 3).then(|| ratio_to_bare(3)),
            });
        }
    }
    framework.stop();
    http_layer.stop();
    quiet.stop();
    bare.stop(Duration::from_secs(5));
    for (_, script) in ops {
        let _ = std::fs::remove_file(script);
    }
    Ok(rows)
}

/// Samples a process every 100 ms in a thread of its own.
struct Sampler {
    samples: Arc<Mutex<Vec<ProcSample>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, halt) = (samples.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(std::sync::atomic::Ordering::Relaxed) {
                match ProcSample::read(pid) {
                    Some(sample) => s.lock().unwrap().push(sample),
                    None => break,
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self { samples, stop }
    }

    /// CPU % of one core between the first sample at or after `from` and the last one
    /// at or before `to` (`None` when they are less than 0.5 s apart).
    fn cpu_between(&self, from: Instant, to: Instant) -> Option<f64> {
        let samples = self.samples.lock().unwrap();
        let first = samples.iter().find(|s| s.at >= from)?;
        let last = samples.iter().rev().find(|s| s.at <= to)?;
        ((last.at - first.at) >= Duration::from_millis(500)).then(|| last.cpu_percent_since(first))
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Creates `n` tasks with this template, spread evenly over `ramp`, at most 64 at once.
/// Returns the infrastructure ids with the instant each create was sent.
async fn create_tasks(
    client: &reqwest::Client,
    base: &str,
    template: &str,
    n: usize,
    ramp: Duration,
) -> Result<HashMap<String, Instant>, String> {
    let permits = Arc::new(Semaphore::new(64));
    let mut creates = JoinSet::new();
    let start = tokio::time::Instant::now();
    for i in 0..n {
        tokio::time::sleep_until(start + ramp.mul_f64(i as f64 / n as f64)).await;
        let permit = permits.clone().acquire_owned().await.expect("semaphore");
        let (client, base, template) = (client.clone(), base.to_string(), template.to_string());
        creates.spawn(async move {
            let sent = Instant::now();
            let result = harness::create(&client, &base, &template).await;
            drop(permit);
            result.map(|iid| (iid, sent))
        });
    }
    let mut sent = HashMap::with_capacity(n);
    while let Some(result) = creates.join_next().await {
        let (iid, at) = result.map_err(|e| e.to_string())??;
        sent.insert(iid, at);
    }
    Ok(sent)
}

/// One monitoring capacity row.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorRow {
    /// `embedded` or `kafka`.
    pub backend: &'static str,
    /// Tasks in flight.
    pub tasks: usize,
    /// tasks ÷ poll interval.
    pub configured_polls_per_s: f64,
    /// tasks ÷ mean gap between two polls of one task.
    pub achieved_polls_per_s: f64,
    /// achieved ÷ configured, %.
    pub achieved_percent: f64,
    /// 99th percentile of the gap between two polls of one task, ms.
    pub gap_p99_ms: f64,
    /// CPU of the driver process while every task was in flight (creates done, none
    /// finished yet), % of one core.
    pub cpu_percent: f64,
    /// CPU of the driver over the whole run (creates included), % of one core.
    pub cpu_percent_whole_run: f64,
    /// Peak RSS of the driver process (VmHWM), MiB.
    pub peak_rss_mib: f64,
    /// From sending the create to reading the COMPLETE event, s (ideal: polls × interval).
    pub create_to_event_p50_s: f64,
    /// Same, 99th percentile.
    pub create_to_event_p99_s: f64,
    /// How long creating all tasks took, s.
    pub create_seconds: f64,
    /// Polls made ÷ polls expected, summed over the runs.
    pub polls_made: u64,
    /// Expected polls, summed over the runs.
    pub polls_expected: u64,
    /// Events missing, summed over the runs.
    pub missing_events: usize,
}

struct MonitorRun {
    achieved: f64,
    gap_p99: f64,
    cpu: f64,
    cpu_whole: f64,
    peak_mib: f64,
    p50: f64,
    p99: f64,
    create_s: f64,
    polls: u64,
    expected: u64,
    missing: usize,
}

/// Monitoring capacity: `n` tasks in flight, each IN_PROGRESS for `in_progress_polls`
/// polls, on one backend.
pub async fn monitor(
    opts: &Opts,
    client: &reqwest::Client,
    backend: &Backend,
    n: usize,
) -> Result<MonitorRow, String> {
    let mut runs = Vec::new();
    let interval = opts.poll_interval.as_secs_f64();
    let polls = opts.in_progress_polls;
    for run in 0..opts.runs {
        let driver = DriverProc::start(opts.driver(backend, true), opts.layout, client).await?;
        let sampler = Sampler::start(driver.child.pid);
        let before = driver.stats_after(Duration::from_millis(400));
        let profile = Profile::start(
            driver.child.pid,
            &format!("monitor-{}-{n}-{run}", backend.name()),
        );
        let started = Instant::now();
        let sent = create_tasks(client, &driver.base, &polls.to_string(), n, opts.ramp).await?;
        let created = Instant::now();
        let lifetime = opts.poll_interval * polls;
        let deadline = Instant::now() + lifetime + Duration::from_secs(60);
        let events = driver.events().collect("b", n, deadline);
        let finished = Instant::now();
        profile.finish();
        let stats = driver.stats_after(Duration::from_millis(400));
        let end = driver.sample();
        let first_event = events.values().min().copied().unwrap_or(finished);
        let latencies: Vec<f64> = events
            .iter()
            .filter_map(|(iid, at)| sent.get(iid).map(|s| (*at - *s).as_secs_f64()))
            .collect();
        let whole = sampler.cpu_between(started, finished).unwrap_or(f64::NAN);
        let in_flight = sampler
            .cpu_between(created, first_event)
            .unwrap_or(f64::NAN);
        let gap_mean_s = stats.gap_mean_ms / 1000.0;
        let result = MonitorRun {
            achieved: if gap_mean_s > 0.0 {
                n as f64 / gap_mean_s
            } else {
                0.0
            },
            gap_p99: stats.gap_p99_ms,
            cpu: in_flight,
            cpu_whole: whole,
            peak_mib: end.hwm_kib as f64 / 1024.0,
            p50: quantile(&latencies, 0.5),
            p99: quantile(&latencies, 0.99),
            create_s: (created - started).as_secs_f64(),
            polls: stats.polls - before.polls,
            expected: n as u64 * u64::from(polls + 1),
            missing: n - events.len(),
        };
        eprintln!(
            "  monitor {} {n} run {}: created in {:.2} s; polls {}/{}; gap mean {:.1} ms p99 {:.1} ms; achieved {:.0}/s of {:.0}/s; CPU {:.1} % in flight, {:.1} % whole run; peak RSS {:.1} MiB; create→event p50 {:.3} s p99 {:.3} s; missing {}",
            backend.name(), run + 1, result.create_s, result.polls, result.expected,
            stats.gap_mean_ms, stats.gap_p99_ms, result.achieved, n as f64 / interval,
            result.cpu, result.cpu_whole, result.peak_mib, result.p50, result.p99, result.missing
        );
        if result.missing > 0 {
            eprintln!("  driver log tail:\n{}", driver.child.log_tail(20));
        }
        runs.push(result);
        driver.stop();
    }
    let configured = n as f64 / interval;
    let achieved = median_of(&runs, |r| r.achieved);
    Ok(MonitorRow {
        backend: backend.name(),
        tasks: n,
        configured_polls_per_s: configured,
        achieved_polls_per_s: achieved,
        achieved_percent: 100.0 * achieved / configured,
        gap_p99_ms: median_of(&runs, |r| r.gap_p99),
        cpu_percent: median_of(&runs, |r| r.cpu),
        cpu_percent_whole_run: median_of(&runs, |r| r.cpu_whole),
        peak_rss_mib: median_of(&runs, |r| r.peak_mib),
        create_to_event_p50_s: median_of(&runs, |r| r.p50),
        create_to_event_p99_s: median_of(&runs, |r| r.p99),
        create_seconds: median_of(&runs, |r| r.create_s),
        polls_made: runs.iter().map(|r| r.polls).sum(),
        polls_expected: runs.iter().map(|r| r.expected).sum(),
        missing_events: runs.iter().map(|r| r.missing).sum(),
    })
}

/// One idle cost row.
#[derive(Debug, Clone, Serialize)]
pub struct IdleRow {
    /// `embedded` or `kafka`.
    pub backend: &'static str,
    /// RSS a few seconds after start, before any task, MiB.
    pub rss_idle_mib: f64,
    /// Tasks in progress during the window.
    pub tasks: usize,
    /// Length of the window, s.
    pub window_s: f64,
    /// CPU of the driver over the window, % of one core.
    pub cpu_percent: f64,
    /// Mean gap between two polls of one task, ms (configured: the poll interval).
    pub gap_mean_ms: f64,
    /// RSS at the end of the window, MiB.
    pub rss_end_mib: f64,
    /// CPU of the broker over the same window, % of one core (Kafka only).
    pub broker_cpu_percent: Option<f64>,
}

/// Idle cost: RSS after start; CPU over a window with tasks in progress and no requests.
pub async fn idle(
    opts: &Opts,
    client: &reqwest::Client,
    backend: &Backend,
    broker_pid: Option<u32>,
) -> Result<IdleRow, String> {
    let broker_pid = broker_pid.filter(|_| matches!(backend, Backend::Kafka(_)));
    let mut runs = Vec::new();
    let settle = if opts.smoke { 0.5 } else { 3.0 };
    for run in 0..opts.runs {
        let driver = DriverProc::start(opts.driver(backend, false), opts.layout, client).await?;
        tokio::time::sleep(Duration::from_secs_f64(settle)).await;
        let rss_idle = driver.sample().rss_kib as f64 / 1024.0;
        create_tasks(client, &driver.base, "inf", opts.idle_tasks, Duration::ZERO).await?;
        tokio::time::sleep(Duration::from_secs_f64(settle)).await;
        let gaps_before = driver.stats();
        let profile = Profile::start(driver.child.pid, &format!("idle-{}-{run}", backend.name()));
        let s0 = driver.sample();
        let b0 = broker_pid.and_then(ProcSample::read);
        std::thread::sleep(Duration::from_secs_f64(opts.idle_seconds));
        let s1 = driver.sample();
        let b1 = broker_pid.and_then(ProcSample::read);
        profile.finish();
        let stats = driver.stats_after(Duration::from_millis(250));
        let gap_n = stats.gaps.saturating_sub(gaps_before.gaps);
        let gap_mean = if gap_n == 0 {
            f64::NAN
        } else {
            (stats.gap_mean_ms * stats.gaps as f64
                - gaps_before.gap_mean_ms * gaps_before.gaps as f64)
                / gap_n as f64
        };
        let row = IdleRow {
            backend: backend.name(),
            rss_idle_mib: rss_idle,
            tasks: opts.idle_tasks,
            window_s: (s1.at - s0.at).as_secs_f64(),
            cpu_percent: s1.cpu_percent_since(&s0),
            gap_mean_ms: gap_mean,
            rss_end_mib: s1.rss_kib as f64 / 1024.0,
            broker_cpu_percent: b0.zip(b1).map(|(b0, b1)| b1.cpu_percent_since(&b0)),
        };
        eprintln!(
            "  idle {} run {}: RSS after start {:.1} MiB; CPU {:.2} % over {:.1} s with {} tasks in progress (gap mean {:.1} ms); RSS at end {:.1} MiB; broker CPU {:?} %",
            row.backend, run + 1, row.rss_idle_mib, row.cpu_percent, row.window_s, row.tasks, row.gap_mean_ms, row.rss_end_mib,
            row.broker_cpu_percent
        );
        runs.push(row);
        driver.stop();
    }
    Ok(IdleRow {
        backend: backend.name(),
        rss_idle_mib: median_of(&runs, |r| r.rss_idle_mib),
        tasks: opts.idle_tasks,
        window_s: median_of(&runs, |r| r.window_s),
        cpu_percent: median_of(&runs, |r| r.cpu_percent),
        gap_mean_ms: median_of(&runs, |r| r.gap_mean_ms),
        rss_end_mib: median_of(&runs, |r| r.rss_end_mib),
        broker_cpu_percent: broker_pid
            .map(|_| median_of(&runs, |r| r.broker_cpu_percent.unwrap_or(f64::NAN))),
    })
}

/// Kafka job-queue throughput against rdkafka's raw rate.
#[derive(Debug, Clone, Serialize)]
pub struct JobsRow {
    /// Jobs per run.
    pub jobs: usize,
    /// Jobs produced onto the job topic → their events read, per second.
    pub job_queue_per_s: f64,
    /// Driver CPU during the job-queue runs, % of one core.
    pub driver_cpu_percent: f64,
    /// rdkafka raw: messages produced → read back, per second.
    pub raw_per_s: f64,
    /// rdkafka raw: messages produced and acknowledged, per second.
    pub raw_produce_per_s: f64,
    /// job_queue_per_s ÷ raw_per_s.
    pub ratio: f64,
}

/// Produces `payloads` (key, payload) to `topic` as fast as rdkafka takes them; returns
/// when each is acknowledged.
async fn produce_all(
    producer: &rdkafka::producer::FutureProducer,
    topic: &str,
    payloads: &[(String, Vec<u8>)],
) -> Result<(), String> {
    let mut pending = Vec::with_capacity(payloads.len());
    for (key, payload) in payloads {
        let mut record = FutureRecord::to(topic).payload(payload.as_slice());
        if !key.is_empty() {
            record = record.key(key.as_str());
        }
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((err, back)) => {
                    if !matches!(
                        err,
                        rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull
                        )
                    ) {
                        return Err(format!("produce: {err}"));
                    }
                    record = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        }
    }
    for delivery in pending {
        match delivery.await {
            Ok(Ok(_)) => {}
            Ok(Err((err, _))) => return Err(format!("delivery: {err}")),
            Err(_) => return Err("delivery cancelled".into()),
        }
    }
    Ok(())
}

/// One monitoring job message, as the framework's job queue writes it: a task that is
/// COMPLETE at its first poll.
fn job_message(iid: &str) -> Vec<u8> {
    let location = serde_json::from_value(harness::location()).expect("location");
    ignition::kafka::sample_job_message(iid, location)
}

/// Job-queue throughput through Kafka, and the raw producer→consumer rate on the broker.
pub async fn jobs(
    opts: &Opts,
    client: &reqwest::Client,
    bootstrap: &str,
) -> Result<JobsRow, String> {
    let n = opts.jobs;
    let producer = kafka::producer(bootstrap);
    let payload = job_message("raw");
    let (mut raw, mut raw_produce) = (Vec::new(), Vec::new());
    for run in 0..opts.runs {
        let topic = format!("bench_raw_{}_{run}", std::process::id());
        kafka::create_topic(bootstrap, &topic).await?;
        let reader = kafka::read_topic(bootstrap, &topic)?;
        let prefix = format!("m{run}_");
        let payloads: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| (format!("{prefix}{i}"), payload.clone()))
            .collect();
        let t0 = Instant::now();
        produce_all(&producer, &topic, &payloads).await?;
        let produced = Instant::now();
        let seen = reader.collect(&prefix, n, Instant::now() + Duration::from_secs(120));
        let last = seen.values().max().copied().unwrap_or(t0);
        let rate = seen.len() as f64 / (last - t0).as_secs_f64();
        let produce_rate = n as f64 / (produced - t0).as_secs_f64();
        eprintln!(
            "  raw rdkafka run {}: {} of {n} messages read back; {:.0} msg/s produce→consume, {:.0} msg/s produce+ack",
            run + 1, seen.len(), rate, produce_rate
        );
        raw.push(rate);
        raw_produce.push(produce_rate);
    }

    let backend = Backend::Kafka(bootstrap.to_string());
    let driver = DriverProc::start(opts.driver(&backend, true), opts.layout, client).await?;
    let jobs_topic = driver.kafka.as_ref().expect("kafka").jobs.clone();
    let (mut rates, mut cpus) = (Vec::new(), Vec::new());
    for run in 0..opts.runs {
        let prefix = format!("j{run}_");
        let payloads: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| (String::new(), job_message(&format!("{prefix}{i}p0"))))
            .collect();
        let profile = Profile::start(driver.child.pid, &format!("jobs-{run}"));
        let s0 = driver.sample();
        let t0 = Instant::now();
        produce_all(&producer, &jobs_topic, &payloads).await?;
        let seen = driver
            .events()
            .collect(&prefix, n, Instant::now() + Duration::from_secs(180));
        let s1 = driver.sample();
        profile.finish();
        let last = seen.values().max().copied().unwrap_or(t0);
        let rate = seen.len() as f64 / (last - t0).as_secs_f64();
        let cpu = s1.cpu_percent_since(&s0);
        eprintln!(
            "  job queue run {}: {} of {n} events; {:.0} jobs/s; driver CPU {:.0} %",
            run + 1,
            seen.len(),
            rate,
            cpu
        );
        if seen.len() < n {
            eprintln!("  driver log tail:\n{}", driver.child.log_tail(20));
        }
        rates.push(rate);
        cpus.push(cpu);
        driver.child.truncate_log();
    }
    driver.stop();
    let (job_rate, raw_rate) = (median(&rates), median(&raw));
    Ok(JobsRow {
        jobs: n,
        job_queue_per_s: job_rate,
        driver_cpu_percent: median(&cpus),
        raw_per_s: raw_rate,
        raw_produce_per_s: median(&raw_produce),
        ratio: job_rate / raw_rate,
    })
}

/// create→event latency of tasks COMPLETE at their first poll.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyRow {
    /// `embedded` or `kafka`.
    pub backend: &'static str,
    /// Samples per run.
    pub samples: usize,
    /// Median latency, ms (median over runs).
    pub p50_ms: f64,
    /// 99th percentile, ms (median over runs).
    pub p99_ms: f64,
    /// Median time until the create was answered, ms (on Kafka: its job is confirmed).
    pub create_answered_p50_ms: f64,
    /// Kafka only: one message produced (same producer settings) → read by the same
    /// reader, median and 99th percentile, ms. The framework's path is two such hops
    /// (the job, then the event) plus HTTP and the poll.
    pub raw_hop_ms: Option<(f64, f64)>,
}

/// The pause between two latency samples: random (10–30 ms), because a fixed one locks
/// onto the consumers' fetch cycles and measures one phase of them (a fixed 20 ms gave
/// 11 ms with a 20 ms fetch wait but 7 ms with 30 ms).
fn sample_spacing() -> Duration {
    Duration::from_micros(fastrand::u64(10_000..30_000))
}

/// Latency: one create at a time, each waiting for its event, after the driver is ready.
pub async fn latency(
    opts: &Opts,
    client: &reqwest::Client,
    backend: &Backend,
) -> Result<LatencyRow, String> {
    let driver = DriverProc::start(opts.driver(backend, true), opts.layout, client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (mut p50s, mut p99s, mut answered) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..opts.runs {
        let mut samples = Vec::new();
        for _ in 0..opts.latency_samples {
            let t0 = Instant::now();
            let iid = harness::create(client, &driver.base, "0").await?;
            answered.push((Instant::now() - t0).as_secs_f64() * 1000.0);
            let event = driver
                .events()
                .wait_for(&iid, Instant::now() + Duration::from_secs(30))
                .ok_or_else(|| {
                    format!(
                        "no event for {iid} within 30 s:\n{}",
                        driver.child.log_tail(20)
                    )
                })?;
            samples.push((event.at - t0).as_secs_f64() * 1000.0);
            tokio::time::sleep(sample_spacing()).await;
        }
        let (p50, p99) = (quantile(&samples, 0.5), quantile(&samples, 0.99));
        eprintln!(
            "  latency {} run {}: create→event p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            backend.name(), run + 1, p50, p99, quantile(&samples, 1.0), samples.len()
        );
        p50s.push(p50);
        p99s.push(p99);
    }
    let raw_hop_ms = match backend {
        Backend::Kafka(bootstrap) => Some(raw_hop(opts, bootstrap).await?),
        Backend::Embedded => None,
    };
    driver.stop();
    Ok(LatencyRow {
        backend: backend.name(),
        samples: opts.latency_samples,
        p50_ms: median(&p50s),
        p99_ms: median(&p99s),
        create_answered_p50_ms: quantile(&answered, 0.5),
        raw_hop_ms,
    })
}

/// One message at a time produced → read back on a fresh topic: (p50, p99) in ms.
async fn raw_hop(opts: &Opts, bootstrap: &str) -> Result<(f64, f64), String> {
    let topic = format!("bench_hop_{}", std::process::id());
    kafka::create_topic(bootstrap, &topic).await?;
    let reader = kafka::read_topic(bootstrap, &topic)?;
    let producer = kafka::producer(bootstrap);
    let payload = job_message("hop");
    // The first message also fetches the new topic's metadata: not a sample.
    produce_all(&producer, &topic, &[("warm".into(), payload.clone())]).await?;
    reader
        .wait_for("warm", Instant::now() + Duration::from_secs(10))
        .ok_or("the warm-up message was not read back within 10 s")?;
    let mut samples = Vec::new();
    for i in 0..opts.latency_samples {
        let key = format!("h{i}");
        let t0 = Instant::now();
        produce_all(&producer, &topic, &[(key.clone(), payload.clone())]).await?;
        let received = reader
            .wait_for(&key, Instant::now() + Duration::from_secs(10))
            .ok_or("a raw message was not read back within 10 s")?;
        samples.push((received.at - t0).as_secs_f64() * 1000.0);
        tokio::time::sleep(sample_spacing()).await;
    }
    let (p50, p99) = (quantile(&samples, 0.5), quantile(&samples, 0.99));
    eprintln!("  raw rdkafka hop: produce→read p50 {p50:.2} ms, p99 {p99:.2} ms");
    Ok((p50, p99))
}
