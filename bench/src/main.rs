//! The benchmark harness of Ignition for Rust (see `docs/BENCHMARKS.md`).
//!
//! ```text
//! cargo run --release -p ignition-bench -- [all|allocs|http|https|metrics|monitor|idle|jobs|latency|kafka-create]... [--smoke]
//!     [--runs N] [--http-seconds S] [--idle-seconds S] [--kafka-config KEY=VALUE]...
//!     [--jobs N] [--idle-tasks N] [--no-pin] [--json PATH]
//! ```
//!
//! Starts every process it measures itself (the framework's no-op driver, the bare poem
//! server, a Tansu broker), drives HTTP load with `wrk`, and prints one table of medians.
//! `--smoke` runs everything tiny (well under a minute): it checks that the harness works;
//! its figures mean nothing.

mod counting;
mod harness;
mod kafka;
mod paired;
mod python;
mod report;
mod servers;
mod stats;
mod suites;
mod sys;
mod wrk;

use std::time::Instant;

use harness::{Backend, Layout};
use report::Report;
use suites::Opts;

/// Counts heap allocations when `BENCH_COUNT_ALLOCS=1` (the `allocs` part's servers).
#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

const USAGE: &str =
    "usage: ignition-bench [all|allocs|http|https|metrics|monitor|idle|jobs|latency|kafka-create]... [--smoke] [--runs N] \
[--http-seconds S] [--idle-seconds S] [--kafka-config KEY=VALUE]... [--jobs N] [--idle-tasks N] [--no-pin] [--json PATH]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve-driver") => return servers::serve_driver(),
        Some("serve-bare") => {
            let port = args
                .get(1)
                .and_then(|p| p.parse().ok())
                .expect("serve-bare PORT");
            return servers::serve_bare(port);
        }
        _ => {}
    }
    let mut suites = Vec::new();
    let (mut smoke, mut pin, mut json, mut runs) = (false, true, None, None);
    let (mut http_seconds, mut idle_seconds) = (None, None);
    let mut kafka_config = Vec::new();
    let (mut jobs, mut idle_tasks) = (None, None);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> String {
            args.next()
                .unwrap_or_else(|| fail(&format!("{name} needs a value")))
        };
        match arg.as_str() {
            "all" | "allocs" | "http" | "https" | "metrics" | "monitor" | "idle" | "jobs"
            | "latency" | "kafka-create" => suites.push(arg),
            "--smoke" => smoke = true,
            "--no-pin" => pin = false,
            "--jobs" => jobs = Some(parse::<usize>(&value("--jobs"))),
            "--idle-tasks" => idle_tasks = Some(parse::<usize>(&value("--idle-tasks"))),
            "--kafka-config" => {
                let setting = value("--kafka-config");
                let (key, val) = setting
                    .split_once('=')
                    .unwrap_or_else(|| fail("--kafka-config takes KEY=VALUE"));
                kafka_config.push((key.to_string(), val.to_string()));
            }
            "--json" => json = Some(value("--json")),
            "--runs" => runs = Some(parse::<usize>(&value("--runs"))),
            "--http-seconds" => http_seconds = Some(parse::<f64>(&value("--http-seconds"))),
            "--idle-seconds" => idle_seconds = Some(parse::<f64>(&value("--idle-seconds"))),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown argument `{other}`")),
        }
    }
    if suites.is_empty() || suites.iter().any(|s| s == "all") {
        suites = [
            "allocs",
            "http",
            "https",
            "metrics",
            "monitor",
            "idle",
            "jobs",
            "latency",
            "kafka-create",
        ]
        .map(String::from)
        .to_vec();
    }
    let layout = Layout::new(pin);
    let mut opts = Opts::new(smoke, layout);
    if let Some(runs) = runs {
        opts.runs = runs;
    }
    if let Some(s) = http_seconds {
        opts.http_seconds = s;
    }
    if let Some(s) = idle_seconds {
        opts.idle_seconds = s;
    }
    if let Some(jobs) = jobs {
        opts.jobs = jobs;
    }
    if let Some(tasks) = idle_tasks {
        opts.idle_tasks = tasks;
    }
    for (key, value) in kafka_config {
        opts.kafka_config.insert(key, value.into());
    }
    if let Some(cpu) = layout.load_cpu {
        // The harness and everything it starts unpinned (wrk, the broker) stay off the
        // server's CPU.
        sys::pin_current_thread(cpu);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let report = runtime.block_on(run(&opts, &suites));
    let elapsed = started.elapsed();
    print!("{}", report.render(&opts, elapsed));
    if let Some(path) = json {
        std::fs::write(&path, report.json(&opts, elapsed)).expect("write the JSON report");
        eprintln!("JSON written to {path}");
    }
    // Goals missed are reported, never failed on; a part that broke is a failure.
    let failures = report.failures();
    if !failures.is_empty() {
        eprintln!("{} part(s) failed:", failures.len());
        for failure in &failures {
            eprintln!("  {failure}");
        }
        std::process::exit(1);
    }
}

fn parse<T: std::str::FromStr>(value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| fail(&format!("`{value}` is not a number")))
}

fn fail(message: &str) -> ! {
    eprintln!("{message}\n{USAGE}");
    std::process::exit(2)
}

async fn run(opts: &Opts, suites: &[String]) -> Report {
    let mut report = Report::new(opts);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .expect("HTTP client");
    let wants = |suite: &str| suites.iter().any(|s| s == suite);
    let needs_kafka = wants("monitor")
        || wants("idle")
        || wants("jobs")
        || wants("latency")
        || wants("kafka-create");
    // Started from this thread, which is pinned to the load CPU (see `main`): the broker
    // inherits that affinity.
    let broker = if needs_kafka {
        match kafka::Broker::try_start() {
            Ok(broker) => Some(broker),
            Err(err) => {
                report.kafka_skipped = Some(err);
                None
            }
        }
    } else {
        None
    };
    let mut backends = vec![Backend::Embedded];
    if let Some(broker) = &broker {
        backends.push(Backend::Kafka(broker.bootstrap()));
    }
    let step = |name: &str| {
        eprintln!(
            "== {name} (load average {:.2}, {} CPUs)",
            sys::load_average(),
            sys::nproc()
        )
    };

    if wants("allocs") {
        step("heap allocations per request (counted by each server)");
        report.allocs = Some(suites::allocs::allocs(opts, &client).await);
    }
    if wants("http") {
        step("HTTP: framework vs bare poem (wrk)");
        report.http = Some(suites::http::http(opts, &client).await);
    }
    if wants("https") {
        step("HTTPS: framework vs bare poem, both on poem's rustls listener (wrk)");
        report.https = Some(suites::https::https(opts, &client).await);
    }
    if wants("metrics") {
        step("metrics on vs off (wrk)");
        report.metrics = Some(suites::metrics::run(opts, &client).await);
    }
    if wants("latency") {
        for backend in &backends {
            step(&format!("create→event latency, {}", backend.name()));
            report.latency.push(keep(
                backend.name(),
                suites::latency::latency(opts, &client, backend).await,
            ));
        }
    }
    if wants("jobs") {
        if let Some(broker) = &broker {
            step("Kafka job-queue throughput vs raw rdkafka");
            report.jobs = Some(suites::jobs::jobs(opts, &client, &broker.bootstrap()).await);
        }
    }
    if wants("kafka-create") {
        if let Some(broker) = &broker {
            step("create on Kafka: spool on vs spool off (wrk)");
            report.kafka_create =
                Some(suites::kafka_create::kafka_create(opts, &client, &broker.bootstrap()).await);
        }
    }
    if wants("monitor") {
        for backend in &backends {
            for &n in &opts.monitor_sizes {
                step(&format!(
                    "monitoring capacity, {} tasks, {}",
                    n,
                    backend.name()
                ));
                report.monitor.push(keep(
                    backend.name(),
                    suites::monitor::monitor(opts, &client, backend, n).await,
                ));
            }
        }
    }
    if wants("idle") {
        for backend in &backends {
            step(&format!("idle cost, {}", backend.name()));
            let broker_pid = broker.as_ref().map(kafka::Broker::pid);
            report.idle.push(keep(
                backend.name(),
                suites::idle::idle(opts, &client, backend, broker_pid).await,
            ));
        }
    }
    if let Some(broker) = broker {
        report.broker_cpu_seconds = sys::ProcSample::read(broker.pid())
            .map(|s| s.cpu_ticks as f64 / sys::clock_ticks_per_second());
        drop(broker); // killed
    }
    report
}

fn keep<T>(what: &str, result: Result<T, String>) -> Result<T, String> {
    if let Err(err) = &result {
        eprintln!("  {what}: FAILED: {err}");
    }
    result
}
