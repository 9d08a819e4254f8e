//! The table: Markdown (pasted as is into `docs/BENCHMARKS.md`) and JSON.

use std::fmt::Write;
use std::time::Duration;

use serde_json::json;

use crate::suites::allocs::AllocRow;
use crate::suites::http::HttpRow;
use crate::suites::https::HttpsRow;
use crate::suites::idle::IdleRow;
use crate::suites::jobs::JobsRow;
use crate::suites::kafka_create::{self, KafkaCreateRow};
use crate::suites::latency::LatencyRow;
use crate::suites::metrics::{self, MetricsRow};
use crate::suites::monitor::MonitorRow;
use crate::suites::Opts;
use crate::sys;

/// The Python framework on a machine like ours (no-op driver, Werkzeug, Tansu, wrk,
/// medians of 3 runs), from issue 5.
pub mod python {
    /// create req/s at concurrency 1, 16, 64.
    pub const CREATE_RPS: [(usize, f64); 3] = [(1, 245.0), (16, 386.0), (64, 410.0)];
    /// create p99 at concurrency 16, ms.
    pub const CREATE_P99_C16_MS: f64 = 80.0;
    /// find req/s.
    pub const FIND_RPS: f64 = 800.0;
    /// create→event, ms.
    pub const CREATE_TO_EVENT_MS: f64 = 204.0;
    /// RSS idle, MiB.
    pub const RSS_IDLE_MIB: f64 = 62.0;
    /// Polls per second of each task in progress.
    pub const POLLS_PER_TASK: &str = "67–81";
    /// create on Kafka (Tansu), measured beside this framework with the same wrk script
    /// (issue 12): (concurrency, req/s, p99 ms).
    pub const KAFKA_CREATE: [(usize, f64, f64); 2] = [(1, 249.0, 8.8), (16, 305.0, 100.6)];

    /// (req/s, p99 ms) of a create on Kafka at concurrency `c`, if measured.
    pub fn kafka_create(c: usize) -> Option<(f64, f64)> {
        KAFKA_CREATE
            .iter()
            .find(|(at, _, _)| *at == c)
            .map(|&(_, rps, p99)| (rps, p99))
    }
}

/// Everything measured in one run of the harness.
pub struct Report {
    /// Allocations per request, or why they are missing.
    pub allocs: Option<Result<Vec<AllocRow>, String>>,
    /// HTTP rows, or why they are missing.
    pub http: Option<Result<Vec<HttpRow>, String>>,
    /// HTTPS rows, or why they are missing.
    pub https: Option<Result<Vec<HttpsRow>, String>>,
    /// Metrics on vs off, or why they are missing.
    pub metrics: Option<Result<Vec<MetricsRow>, String>>,
    /// Monitoring capacity rows.
    pub monitor: Vec<Result<MonitorRow, String>>,
    /// Idle cost rows.
    pub idle: Vec<Result<IdleRow, String>>,
    /// Kafka job-queue throughput.
    pub jobs: Option<Result<JobsRow, String>>,
    /// create on Kafka, spool on vs off.
    pub kafka_create: Option<Result<Vec<KafkaCreateRow>, String>>,
    /// Latency rows.
    pub latency: Vec<Result<LatencyRow, String>>,
    /// Why the Kafka parts did not run.
    pub kafka_skipped: Option<String>,
    /// CPU time the broker used over the whole run, s.
    pub broker_cpu_seconds: Option<f64>,
    load_at_start: f64,
}

fn mib(v: f64) -> String {
    format!("{v:.1}")
}

fn ok_rows<T>(rows: &[Result<T, String>]) -> impl Iterator<Item = &T> {
    rows.iter().filter_map(|r| r.as_ref().ok())
}

impl Report {
    /// An empty report.
    pub fn new(_opts: &Opts) -> Self {
        Self {
            allocs: None,
            http: None,
            https: None,
            metrics: None,
            monitor: Vec::new(),
            idle: Vec::new(),
            jobs: None,
            kafka_create: None,
            latency: Vec::new(),
            kafka_skipped: None,
            broker_cpu_seconds: None,
            load_at_start: sys::load_average(),
        }
    }

    /// The Markdown report.
    pub fn render(&self, opts: &Opts, elapsed: Duration) -> String {
        let mut out = String::new();
        let o = &mut out;
        let _ = writeln!(
            o,
            "\n# Ignition for Rust benchmarks{}\n",
            if opts.smoke {
                " (SMOKE: tiny sizes, figures mean nothing)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            o,
            "Machine: {} CPUs ({}), {:.1} GiB RAM; load average {:.2} at start, {:.2} at end; {}. \
             Each figure is the median of {} run(s); the whole run took {:.0} s.\n",
            sys::nproc(),
            sys::cpu_model(),
            sys::mem_total_gib(),
            self.load_at_start,
            sys::load_average(),
            opts.layout.describe(),
            opts.runs,
            elapsed.as_secs_f64()
        );
        if let Some(why) = &self.kafka_skipped {
            let _ = writeln!(o, "**Kafka parts skipped**: {why}\n");
        }

        self.render_allocs(o);
        let _ = writeln!(
            o,
            "## HTTP: framework (a) vs bare poem (b)\n\nwrk, {} s per run; (a) a no-op driver through Ignition \
             (embedded default: each create also queues, polls and emits its task), (b) a poem handler \
             parsing and serialising the same JSON, (a′) create through Ignition with task monitoring off \
             (`infrastructure.async_messaging_enabled: false`): its HTTP layer alone, (a″) create through Ignition \
             with monitoring on but logs at `warn` (no info line per finished task). execute: the no-op \
             `#[resource_driver]` (its request carries a 312-byte `driverFiles` zip, unpacked to a private \
             directory per request) against a bare handler parsing the same request; (a′) with \
             `resource_driver.async_messaging_enabled: false`. Latencies in ms.\n",
            opts.http_seconds
        );
        match &self.http {
            None => {}
            Some(Err(err)) => {
                let _ = writeln!(o, "not measured: {err}\n");
            }
            Some(Ok(rows)) => {
                let _ = writeln!(o, "| op | c | (a) req/s | (a) p50 | (a) p99 | (b) req/s | (b) p50 | (b) p99 | a/b | (a′) req/s | a′/b | (a″) req/s | a″/b | Python req/s | a ÷ Python |");
                let _ = writeln!(
                    o,
                    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
                );
                for r in rows {
                    let py = match r.op {
                        "create" => python::CREATE_RPS
                            .iter()
                            .find(|(c, _)| *c == r.concurrency)
                            .map(|(_, v)| *v),
                        "find" => Some(python::FIND_RPS),
                        _ => None,
                    };
                    let errors = if r.framework.errors + r.bare.errors > 0 {
                        format!(" (errors: a {} b {})", r.framework.errors, r.bare.errors)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        o,
                        "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.3}{errors} | {} | {} | {} | {} | {} | {} |",
                        r.op, r.concurrency, r.framework.rps, r.framework.p50_ms, r.framework.p99_ms,
                        r.bare.rps, r.bare.p50_ms, r.bare.p99_ms, r.ratio,
                        r.http_layer.map_or("–".into(), |l| format!("{:.0}", l.rps)),
                        r.http_layer_ratio.map_or("–".into(), |l| format!("{l:.3}")),
                        r.quiet.map_or("–".into(), |l| format!("{:.0}", l.rps)),
                        r.quiet_ratio.map_or("–".into(), |l| format!("{l:.3}")),
                        py.map_or("–".into(), |p| if r.op == "create" && r.concurrency == 16 {
                            format!("{p:.0} (p99 {:.0} ms)", python::CREATE_P99_C16_MS)
                        } else {
                            format!("{p:.0}")
                        }),
                        py.map_or("–".into(), |p| format!("{:.0}×", r.framework.rps / p)),
                    );
                }
                let _ = writeln!(o);
            }
        }

        if let Some(https) = &self.https {
            let _ = writeln!(
                o,
                "## HTTPS: framework vs bare poem, both over TLS\n\nwrk, {} s per run, kept-alive connections \
                 (TLS 1.3, ECDSA P-256 certificate made by the run); the framework with `application.ssl` \
                 (poem's rustls listener, certificate reloaded on change), bare poem behind the same listener \
                 and certificate. Latencies in ms.\n",
                opts.http_seconds
            );
            match https {
                Err(err) => {
                    let _ = writeln!(o, "not measured: {err}\n");
                }
                Ok(rows) => {
                    let _ = writeln!(
                        o,
                        "| op | c | framework req/s | p50 | p99 | bare req/s | p50 | p99 | ratio |"
                    );
                    let _ = writeln!(
                        o,
                        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
                    );
                    for r in rows {
                        let _ = writeln!(
                            o,
                            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.3} |",
                            r.op,
                            r.concurrency,
                            r.framework.rps,
                            r.framework.p50_ms,
                            r.framework.p99_ms,
                            r.bare.rps,
                            r.bare.p50_ms,
                            r.bare.p99_ms,
                            r.ratio
                        );
                    }
                    let _ = writeln!(o);
                }
            }
        }
        if let Some(rows) = &self.metrics {
            metrics::render(o, opts, rows);
        }
        if let Some(rows) = &self.kafka_create {
            o.push_str(&kafka_create::render(rows, opts));
        }

        if !self.latency.is_empty() {
            let _ = writeln!(
                o,
                "## create→event latency, task COMPLETE at its first poll\n\nOne create at a time; from sending \
                 the create to reading the event (stdout line on the embedded default, the events topic on \
                 Kafka); the Kafka driver's consumer has its partitions first.\n"
            );
            let _ = writeln!(o, "| backend | samples/run | p50 ms | p99 ms | create answered p50 ms | raw rdkafka hop p50 / p99 ms | Python |");
            let _ = writeln!(o, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            for r in &self.latency {
                match r {
                    Ok(r) => {
                        let hop = r
                            .raw_hop_ms
                            .map_or("–".into(), |(p50, p99)| format!("{p50:.2} / {p99:.2}"));
                        let _ = writeln!(
                            o,
                            "| {} | {} | {:.2} | {:.2} | {:.2} | {hop} | {:.0} ms |",
                            r.backend,
                            r.samples,
                            r.p50_ms,
                            r.p99_ms,
                            r.create_answered_p50_ms,
                            python::CREATE_TO_EVENT_MS
                        );
                    }
                    Err(err) => {
                        let _ = writeln!(o, "| failed: {} | | | | | | |", one_line(err));
                    }
                }
            }
            let _ = writeln!(o);
        }

        if let Some(jobs) = &self.jobs {
            let _ = writeln!(
                o,
                "## Kafka job-queue throughput vs raw rdkafka\n\nJobs (monitoring jobs whose task is COMPLETE at \
                 its first poll) produced onto the job topic as fast as rdkafka takes them, until every \
                 task event is read back; raw: the same messages produced to a topic and read back by a \
                 plain consumer. Same broker, same producer settings (idempotent, acks=all, linger 0).\n"
            );
            match jobs {
                Ok(r) => {
                    let _ = writeln!(o, "| jobs/run | job queue jobs/s | raw produce→consume msg/s | ratio | raw produce+ack msg/s | driver CPU % |");
                    let _ = writeln!(o, "| ---: | ---: | ---: | ---: | ---: | ---: |");
                    let _ = writeln!(
                        o,
                        "| {} | {:.0} | {:.0} | {:.3} | {:.0} | {:.0} |\n",
                        r.jobs,
                        r.job_queue_per_s,
                        r.raw_per_s,
                        r.ratio,
                        r.raw_produce_per_s,
                        r.driver_cpu_percent
                    );
                }
                Err(err) => {
                    let _ = writeln!(o, "failed: {err}\n");
                }
            }
        }

        if !self.monitor.is_empty() {
            let _ = writeln!(
                o,
                "## Monitoring capacity\n\nEach task IN_PROGRESS for {} polls, then COMPLETE; poll interval {} ms; the \
                 creates are spread over {} ms. Achieved polls/s = tasks ÷ mean gap between two polls of one \
                 task. CPU % of one core: while every task is in flight (creates done, none finished), and \
                 over the whole run. create→event in s (ideal: {:.1} s). Python: {} polls/s per task in progress.\n",
                opts.in_progress_polls,
                opts.poll_interval.as_millis(),
                opts.ramp.as_millis(),
                opts.poll_interval.as_secs_f64() * f64::from(opts.in_progress_polls),
                python::POLLS_PER_TASK
            );
            let _ = writeln!(o, "| backend | tasks | configured polls/s | achieved polls/s | % | gap p99 ms | CPU % in flight | CPU % whole run | peak RSS MiB | create→event p50 s | p99 s |");
            let _ = writeln!(
                o,
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            );
            for r in &self.monitor {
                match r {
                    Ok(r) => {
                        let issues = if r.missing_events > 0 || r.polls_made != r.polls_expected {
                            format!(
                                " (polls {}/{}, {} events missing)",
                                r.polls_made, r.polls_expected, r.missing_events
                            )
                        } else {
                            String::new()
                        };
                        let _ = writeln!(
                            o,
                            "| {} | {} | {:.0} | {:.0} | {:.1}{issues} | {:.0} | {:.1} | {:.1} | {} | {:.3} | {:.3} |",
                            r.backend, r.tasks, r.configured_polls_per_s, r.achieved_polls_per_s, r.achieved_percent,
                            r.gap_p99_ms, r.cpu_percent, r.cpu_percent_whole_run, mib(r.peak_rss_mib),
                            r.create_to_event_p50_s, r.create_to_event_p99_s
                        );
                    }
                    Err(err) => {
                        let _ = writeln!(o, "| failed: {} | | | | | | | | | | |", one_line(err));
                    }
                }
            }
            let _ = writeln!(o);
        }

        if !self.idle.is_empty() {
            let _ = writeln!(
                o,
                "## Idle cost\n\nRSS a few seconds after start (no task yet); then {} tasks in progress (never \
                 complete), polled every {} ms, no requests: CPU of the driver over the window.\n",
                opts.idle_tasks,
                opts.poll_interval.as_millis()
            );
            let _ = writeln!(o, "| backend | RSS after start MiB | CPU % | window s | poll gap mean ms | RSS at end MiB | broker CPU % | Python RSS idle |");
            let _ = writeln!(
                o,
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            );
            for r in &self.idle {
                match r {
                    Ok(r) => {
                        let broker = r
                            .broker_cpu_percent
                            .map_or("–".into(), |c| format!("{c:.2}"));
                        let _ = writeln!(
                            o,
                            "| {} | {} | {:.2} | {:.1} | {:.1} | {} | {broker} | {:.0} MiB |",
                            r.backend,
                            mib(r.rss_idle_mib),
                            r.cpu_percent,
                            r.window_s,
                            r.gap_mean_ms,
                            mib(r.rss_end_mib),
                            python::RSS_IDLE_MIB
                        );
                    }
                    Err(err) => {
                        let _ = writeln!(o, "| failed: {} | | | | | | | |", one_line(err));
                    }
                }
            }
            let _ = writeln!(o);
        }
        if let Some(cpu) = self.broker_cpu_seconds {
            let _ = writeln!(o, "The broker used {cpu:.1} s of CPU over the whole run.\n");
        }

        let goals = self.goals();
        if !goals.is_empty() {
            let _ = writeln!(
                o,
                "## Goals\n\n| goal | figure | met |\n| --- | --- | --- |"
            );
            for (goal, figure, met) in goals {
                let _ = writeln!(
                    o,
                    "| {goal} | {figure} | {} |",
                    if met { "yes" } else { "**no**" }
                );
            }
            let _ = writeln!(o);
        }
        out
    }

    /// Parts that broke (not the ones skipped for a missing tool), one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut errors: Vec<&String> = Vec::new();
        if let Some(Err(err)) = &self.http {
            errors.push(err);
        }
        if let Some(Err(err)) = &self.allocs {
            errors.push(err);
        }
        let mut over: Vec<String> = Vec::new();
        if let Some(Ok(rows)) = &self.allocs {
            over.extend(rows.iter().filter_map(AllocRow::budget_problem));
        }
        if let Some(Err(err)) = &self.https {
            errors.push(err);
        }
        if let Some(Err(err)) = &self.jobs {
            errors.push(err);
        }
        if let Some(Err(err)) = &self.metrics {
            errors.push(err);
        }
        if let Some(Err(err)) = &self.kafka_create {
            if !err.starts_with("skipped") {
                errors.push(err);
            }
        }
        let rows = self.monitor.iter().filter_map(|r| r.as_ref().err());
        let rows = rows.chain(self.idle.iter().filter_map(|r| r.as_ref().err()));
        errors.extend(rows.chain(self.latency.iter().filter_map(|r| r.as_ref().err())));
        if let Some(why) = &self.kafka_skipped {
            errors.push(why);
        }
        errors
            .into_iter()
            .filter(|e| !e.starts_with("skipped:") && !e.starts_with("Tansu not found"))
            .map(|e| one_line(e))
            .chain(over)
            .collect()
    }

    /// (goal, figure, met) for each goal of issue 5 that was measured.
    pub fn goals(&self) -> Vec<(String, String, bool)> {
        let mut goals = Vec::new();
        if let Some(Ok(rows)) = &self.kafka_create {
            goals.extend(kafka_create::goals(rows));
        }
        if let Some(Ok(rows)) = &self.http {
            for r in rows.iter().filter(|r| r.concurrency == 16) {
                // Issue 22: find ≥ 0.95 of bare poem; create and execute ≥ 0.70 with their
                // task monitored, ≥ 0.95 for the HTTP layer alone.
                let (goal, what) = match r.op {
                    "find" => (0.95, ""),
                    _ => (
                        0.70,
                        " (each task also queued, polled, its event emitted, a line logged)",
                    ),
                };
                goals.push((
                    format!("{} at c=16: framework/bare ≥ {goal:.2}{what}", r.op),
                    format!("{:.3}", r.ratio),
                    r.ratio >= goal,
                ));
                if let Some(layer) = r.http_layer_ratio {
                    goals.push((
                        format!(
                            "{} at c=16, the HTTP layer alone (monitoring off): framework/bare ≥ 0.95",
                            r.op
                        ),
                        format!("{layer:.3}"),
                        layer >= 0.95,
                    ));
                }
            }
        }
        if let Some(Ok(rows)) = &self.https {
            for r in rows
                .iter()
                .filter(|r| r.concurrency == 16 && r.op == "find")
            {
                goals.push((
                    "find over HTTPS at c=16: framework/bare poem behind the same rustls listener ≥ 0.90".into(),
                    format!("{:.3}", r.ratio),
                    r.ratio >= 0.90,
                ));
            }
        }
        if let Some(Ok(rows)) = &self.metrics {
            for r in rows.iter().filter(|r| r.concurrency == 16) {
                let what = match r.switch {
                    "logstash" => "logstash lines: ≤ 3 % below flat lines",
                    _ => "metrics on: ≤ 3 % below metrics off",
                };
                goals.push((
                    format!("{} at c=16 with {what}", r.op),
                    format!("{:.3}", r.ratio),
                    r.ratio >= 0.97,
                ));
            }
        }
        for r in ok_rows(&self.monitor).filter(|r| r.tasks >= 10_000) {
            goals.push((
                format!(
                    "{} tasks in flight ({}): achieved ≥ 95 %, < 100 MB RSS, one core",
                    r.tasks, r.backend
                ),
                format!(
                    "{:.1} %, {:.1} MiB ({:.1} MB), CPU {:.0} % of one core",
                    r.achieved_percent,
                    r.peak_rss_mib,
                    r.peak_rss_mib * 1.048_576,
                    r.cpu_percent
                ),
                r.achieved_percent >= 95.0
                    && r.peak_rss_mib * 1.048_576 < 100.0
                    && r.cpu_percent < 100.0,
            ));
        }
        for r in ok_rows(&self.idle) {
            goals.push((
                format!(
                    "idle CPU < 1 % ({}, {} tasks in progress)",
                    r.backend, r.tasks
                ),
                format!("{:.2} %", r.cpu_percent),
                r.cpu_percent < 1.0,
            ));
        }
        for r in ok_rows(&self.latency).filter(|r| r.backend == "kafka") {
            goals.push((
                "create→event p50 on Kafka at rest ≤ 10 ms (COMPLETE at first poll)".into(),
                format!("{:.2} ms (p99 {:.2} ms)", r.p50_ms, r.p99_ms),
                r.p50_ms <= 10.0,
            ));
        }
        goals
    }

    /// Everything as JSON.
    pub fn json(&self, opts: &Opts, elapsed: Duration) -> String {
        fn rows<T: serde::Serialize>(rows: &[Result<T, String>]) -> serde_json::Value {
            rows.iter()
                .map(|r| match r {
                    Ok(r) => json!(r),
                    Err(e) => json!({"error": e}),
                })
                .collect()
        }
        let value = json!({
            "machine": {
                "nproc": sys::nproc(),
                "cpu": sys::cpu_model(),
                "mem_gib": sys::mem_total_gib(),
                "load_at_start": self.load_at_start,
                "load_at_end": sys::load_average(),
                "layout": opts.layout.describe(),
            },
            "smoke": opts.smoke,
            "runs": opts.runs,
            "seconds": elapsed.as_secs_f64(),
            "allocs": match &self.allocs { Some(Ok(r)) => json!(r), Some(Err(e)) => json!({"error": e}), None => json!(null) },
            "http": match &self.http { Some(Ok(r)) => json!(r), Some(Err(e)) => json!({"error": e}), None => json!(null) },
            "https": match &self.https { Some(Ok(r)) => json!(r), Some(Err(e)) => json!({"error": e}), None => json!(null) },
            "metrics": match &self.metrics { Some(Ok(r)) => json!(r), Some(Err(e)) => json!({"error": e}), None => json!(null) },
            "latency": rows(&self.latency),
            "jobs": match &self.jobs { Some(Ok(r)) => json!(r), Some(Err(e)) => json!({"error": e}), None => json!(null) },
            "kafka_create": match &self.kafka_create { Some(Ok(r)) => json!(r), Some(Err(e)) => json!({"error": e}), None => json!(null) },
            "monitor": rows(&self.monitor),
            "idle": rows(&self.idle),
            "kafka_skipped": self.kafka_skipped,
            "broker_cpu_seconds": self.broker_cpu_seconds,
            "goals": self.goals().into_iter().map(|(g, f, m)| json!({"goal": g, "figure": f, "met": m})).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}

impl Report {
    fn render_allocs(&self, o: &mut String) {
        let Some(allocs) = &self.allocs else { return };
        let _ = writeln!(
            o,
            "## Heap allocations per request\n\nOne request at a time, 1000 after 1000 to warm up; \
             each server counts its own allocations (a create's task, poll, event and log line \
             included, counted once they are done). framework: monitoring on (embedded default); \
             http-layer: monitoring off; bare: the bare poem handler. Budget: bench/alloc-budget.txt.\n"
        );
        match allocs {
            Err(err) => {
                let _ = writeln!(o, "not measured: {err}\n");
            }
            Ok(rows) => {
                let _ = writeln!(
                    o,
                    "| server | op | allocations | bytes | budget | within |\n| --- | --- | ---: | ---: | ---: | --- |"
                );
                for r in rows {
                    let _ = writeln!(
                        o,
                        "| {} | {} | {:.2} | {:.0} | {} | {} |",
                        r.server,
                        r.op,
                        r.allocations,
                        r.bytes,
                        r.budget
                            .map(|b| b.to_string())
                            .unwrap_or_else(|| "–".into()),
                        match (r.budget, r.budget_problem()) {
                            (_, Some(_)) => "**no**",
                            (None, None) => "–",
                            (Some(_), None) => "yes",
                        }
                    );
                }
                let _ = writeln!(o);
            }
        }
    }
}

fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().replace('|', "/")
}
