//! Idle cost: the driver's RSS after start, and its CPU over a window with tasks in
//! progress and no requests (and the broker's, on Kafka).

use std::time::Duration;

use serde::Serialize;

use crate::harness::{self, Backend, DriverProc};
use crate::stats::median_of;
use crate::suites::Opts;
use crate::sys::{ProcSample, Profile};

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
        harness::create_tasks(client, &driver.base, "inf", opts.idle_tasks, Duration::ZERO).await?;
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
