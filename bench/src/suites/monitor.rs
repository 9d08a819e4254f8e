//! Monitoring capacity: many tasks in flight, each IN_PROGRESS for a few polls; the
//! polls achieved against those configured, the driver's CPU and memory, create→event.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::harness::{self, Backend, DriverProc};
use crate::stats::{median_of, quantile};
use crate::suites::Opts;
use crate::sys::{ProcSample, Profile};

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
        let sent =
            harness::create_tasks(client, &driver.base, &polls.to_string(), n, opts.ramp).await?;
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
