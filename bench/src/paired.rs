//! Two servers under the same wrk load, in pairs of runs back to back, who goes first
//! alternating: the comparison the HTTP-load parts (`https`, `metrics`, `kafka-create`)
//! are made of, and their warm-up.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::harness::DriverProc;
use crate::stats::{median, median_of};
use crate::suites::Opts;
use crate::{sys, wrk};

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
/// tasks it was just asked to create (for how long: docs/BENCHMARKS.md, "How it
/// measures"), and that backlog must not run during, and be counted against, the next
/// run of the other side.
pub(crate) fn settle(processes: &[&sys::Child]) {
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
