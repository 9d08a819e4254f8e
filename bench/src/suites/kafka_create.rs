//! Create on Kafka, spool on vs spool off: the same wrk script against two no-op drivers
//! on one Tansu broker, one with the durable spool (`messaging.spool_enabled: true`, the
//! default: a create answers once its job is fsync'ed in the spool), one without (a
//! create waits for the broker to confirm its job). Runs alternate between the two.
//! When the Python framework is installed ([`crate::python`]), it runs beside them on
//! the same broker, and spool on is also measured in alternation with it: the goals of
//! issue 12 are ratios to the Python framework in the same run.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::harness::{self, Backend, DriverProc};
use crate::paired::{paired, warm_up, HttpFigures, Side};
use crate::python::{self, PythonDriver};
use crate::report::python as issue_figures;
use crate::suites::Opts;
use crate::{sys, wrk};

/// Concurrencies measured (those the Python framework's figures are for).
pub const CONCURRENCIES: [usize; 2] = [1, 16];

/// One row: a concurrency, both drivers.
#[derive(Debug, Clone, Serialize)]
pub struct KafkaCreateRow {
    /// wrk connections.
    pub concurrency: usize,
    /// With the spool.
    pub spool_on: HttpFigures,
    /// Without it.
    pub spool_off: HttpFigures,
    /// Median over runs of spool-on req/s ÷ spool-off req/s, each pair back to back.
    pub ratio: f64,
    /// Against the Python framework, when it ran.
    pub python: Option<PythonPair>,
}

/// Spool on and the Python framework, measured in alternation at one concurrency.
#[derive(Debug, Clone, Serialize)]
pub struct PythonPair {
    /// Spool on, in these runs.
    pub spool_on: HttpFigures,
    /// The Python framework.
    pub python: HttpFigures,
    /// Median over runs of spool-on req/s ÷ Python req/s, each pair back to back.
    pub ratio: f64,
}

/// The Python framework's figures for concurrency `c`: (req/s, p99 ms, and this framework's
/// spool-on figures measured beside them, and where they come from).
fn python_figures(r: &KafkaCreateRow) -> Option<(f64, f64, &HttpFigures, &'static str)> {
    match &r.python {
        Some(pair) => Some((
            pair.python.rps,
            pair.python.p99_ms,
            &pair.spool_on,
            "this run",
        )),
        None => issue_figures::kafka_create(r.concurrency)
            .map(|(rps, p99)| (rps, p99, &r.spool_on, "issue 12's figures, not this run")),
    }
}

/// Measures the rows.
pub async fn kafka_create(
    opts: &Opts,
    client: &reqwest::Client,
    bootstrap: &str,
) -> Result<Vec<KafkaCreateRow>, String> {
    if !sys::have_program("wrk") {
        return Err("skipped: wrk is not installed (apt-get install -y wrk)".into());
    }
    let backend = Backend::Kafka(bootstrap.to_string());
    let spool_dir = sys::temp_path("spool", "d");
    let mut on = opts.driver(&backend, false);
    on.extra
        .insert("messaging.spool_dir".into(), json!(spool_dir));
    on.extra
        .insert("messaging.spool_enabled".into(), json!(true));
    let mut off = opts.driver(&backend, false);
    off.extra
        .insert("messaging.spool_enabled".into(), json!(false));
    let on = DriverProc::start(on, opts.layout, client).await?;
    let off = DriverProc::start(off, opts.layout, client).await?;
    let py = match python::interpreter() {
        Ok(interpreter) => {
            Some(PythonDriver::start(&interpreter, bootstrap, opts.layout, client).await?)
        }
        Err(why) => {
            eprintln!("  kafka create: the Python framework does not run in this part: {why}");
            None
        }
    };
    // Every property typed: the Python framework's schema refuses bare values.
    let script = wrk::script(&harness::typed_create_body("0"));
    let mut bases = vec![on.base.as_str(), off.base.as_str()];
    bases.extend(py.as_ref().map(|py| py.base.as_str()));
    warm_up(
        "kafka create",
        &bases,
        "/api/infrastructure/create",
        &script,
        opts,
    )?;
    let sides = [
        Side::driver("spool on", &on),
        Side::driver("spool off", &off),
    ];
    let py_side = py.as_ref().map(|py| Side {
        name: "Python",
        base: &py.base,
        process: Some(&py.child),
    });
    let mut rows = Vec::new();
    for c in CONCURRENCIES {
        let pair = paired(
            "kafka create",
            [&sides[0], &sides[1]],
            "/api/infrastructure/create",
            &script,
            c,
            opts,
        )?;
        let python = match &py_side {
            Some(py_side) => {
                let pair = paired(
                    "kafka create vs Python",
                    [&sides[0], py_side],
                    "/api/infrastructure/create",
                    &script,
                    c,
                    opts,
                )?;
                Some(PythonPair {
                    spool_on: pair.a,
                    python: pair.b,
                    ratio: pair.ratio,
                })
            }
            None => None,
        };
        rows.push(KafkaCreateRow {
            concurrency: c,
            spool_on: pair.a,
            spool_off: pair.b,
            ratio: pair.ratio,
            python,
        });
    }
    on.stop();
    off.stop();
    if let Some(py) = py {
        py.stop();
    }
    let _ = std::fs::remove_file(script);
    let _ = std::fs::remove_dir_all(spool_dir);
    // Let the broker settle before whatever runs next.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(rows)
}

/// The Markdown section.
pub fn render(rows: &Result<Vec<KafkaCreateRow>, String>, opts: &Opts) -> String {
    let mut o = format!(
        "## create on Kafka: spool on vs spool off\n\nwrk, {} s per run, the same script (a no-op driver, each create \
         queues its monitoring job on the Kafka job topic); one Tansu broker. Spool on (the default): a create \
         answers once its job is fsync'ed in `messaging.spool_dir` (group commit), the broker confirms it in the \
         background. Spool off: a create waits for the broker's confirmation. Python: the Python framework \
         (IBM/ignition 1.1.0, `bench/python/noop_driver.py`, Werkzeug, kafka-python) on the same broker and CPU, \
         its runs alternating with spool on's (the spool-on figures beside it are from those runs); \
         without it installed (`scripts/python-baseline`), issue 12's figures. Every property of the \
         body is typed (the Python framework's schema refuses bare values). Latencies in ms.\n\n",
        opts.http_seconds
    );
    match rows {
        Err(err) => o.push_str(&format!("not measured: {err}\n\n")),
        Ok(rows) => {
            o.push_str("| c | spool on req/s | p50 | p99 | spool off req/s | p50 | p99 | on ÷ off | Python req/s | p99 | on ÷ Python req/s | on p99 ÷ Python p99 | Python from |\n");
            o.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
            for r in rows {
                let (py_rps, py_p99, beside, from) =
                    python_figures(r).unwrap_or((f64::NAN, f64::NAN, &r.spool_on, "–"));
                let rps_ratio = r.python.as_ref().map_or(beside.rps / py_rps, |p| p.ratio);
                let errors = if r.spool_on.errors + r.spool_off.errors > 0 {
                    format!(
                        " (errors: on {} off {})",
                        r.spool_on.errors, r.spool_off.errors
                    )
                } else {
                    String::new()
                };
                o.push_str(&format!(
                    "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.3}{errors} | {:.0} | {:.1} | {:.1}× | {:.3} | {from} |\n",
                    r.concurrency, r.spool_on.rps, r.spool_on.p50_ms, r.spool_on.p99_ms,
                    r.spool_off.rps, r.spool_off.p50_ms, r.spool_off.p99_ms, r.ratio,
                    py_rps, py_p99, rps_ratio, beside.p99_ms / py_p99
                ));
            }
            o.push('\n');
        }
    }
    o
}

/// The goals of issue 12: create p99 at c=1 ≤ 1/3 of Python's, req/s at c=16 ≥ 25×.
pub fn goals(rows: &[KafkaCreateRow]) -> Vec<(String, String, bool)> {
    let mut goals = Vec::new();
    for r in rows {
        let Some((py_rps, py_p99, beside, from)) = python_figures(r) else {
            continue;
        };
        let rps_ratio = r.python.as_ref().map_or(beside.rps / py_rps, |p| p.ratio);
        match r.concurrency {
            1 => goals.push((
                "Kafka create p99 at c=1 ≤ 1/3 of Python's (spool on)".to_string(),
                format!(
                    "{:.2} ms vs {py_p99:.1} ms ({:.3}; Python: {from})",
                    beside.p99_ms,
                    beside.p99_ms / py_p99
                ),
                beside.p99_ms <= py_p99 / 3.0,
            )),
            16 => goals.push((
                "Kafka create req/s at c=16 ≥ 25× Python's (spool on)".to_string(),
                format!(
                    "{:.0} vs {py_rps:.0} ({rps_ratio:.1}×; Python: {from})",
                    beside.rps
                ),
                rps_ratio >= 25.0,
            )),
            _ => {}
        }
    }
    goals
}
