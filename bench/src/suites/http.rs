//! HTTP: create and find through the framework (its no-op driver) against the bare poem
//! handlers, wrk at each concurrency; for create also the framework with task monitoring
//! off (its HTTP layer alone) and with logs at `warn`.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::harness::{self, Backend, DriverProc};
use crate::paired::{http_figures, warm_up, HttpFigures};
use crate::stats::median;
use crate::suites::Opts;
use crate::sys::{self, Profile, Spawn};
use crate::wrk;

/// One HTTP row.
#[derive(Debug, Clone, Serialize)]
pub struct HttpRow {
    /// `create`, `find` or `execute` (the no-op resource driver).
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
    let servers: [Server<'_>; 4] = [
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
        rows.extend(measure_op(
            &servers[..measured],
            op,
            &url_path(op),
            script,
            opts,
        )?);
    }
    // The resource driver's execute: (a) monitoring on, (b) bare poem, (a′) monitoring off.
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.resource = true;
    let resource = DriverProc::start(spec, opts.layout, client).await?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.resource = true;
    spec.extra.insert(
        "resource_driver.async_messaging_enabled".into(),
        json!(false),
    );
    let resource_layer = DriverProc::start(spec, opts.layout, client).await?;
    let execute = wrk::script(&harness::execute_body());
    let path = url_path("execute");
    warm_up(
        "http",
        &[&resource.base, &bare_base, &resource_layer.base],
        &path,
        &execute,
        opts,
    )?;
    let servers = [
        (
            "resource",
            resource.base.clone(),
            resource.child.pid,
            Some(&resource.child),
        ),
        ("bare", bare_base.clone(), bare.pid, None),
        (
            "resource-http-layer",
            resource_layer.base.clone(),
            resource_layer.child.pid,
            Some(&resource_layer.child),
        ),
    ];
    rows.extend(measure_op(&servers, "execute", &path, &execute, opts)?);
    resource.stop();
    resource_layer.stop();
    let _ = std::fs::remove_file(execute);
    framework.stop();
    http_layer.stop();
    quiet.stop();
    bare.stop(Duration::from_secs(5));
    for (_, script) in ops {
        let _ = std::fs::remove_file(script);
    }
    Ok(rows)
}

/// One server under test: name, base URL, pid, its log to empty after each run.
type Server<'a> = (&'static str, String, u32, Option<&'a sys::Child>);

/// The path of an operation.
fn url_path(op: &str) -> String {
    if op == "execute" {
        "/api/driver/lifecycle/execute".into()
    } else {
        format!("/api/infrastructure/{op}")
    }
}

/// wrk against `servers` (the framework, bare poem, then variants of the framework) at
/// each concurrency, runs rotating who goes first; one row per concurrency.
fn measure_op(
    servers: &[Server<'_>],
    op: &'static str,
    path: &str,
    script: &std::path::PathBuf,
    opts: &Opts,
) -> Result<Vec<HttpRow>, String> {
    let load_cpu = opts.layout.load_cpu;
    let measured = servers.len();
    let mut rows = Vec::new();
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
                let result = wrk::run(
                    &format!("{base}{path}"),
                    script,
                    c,
                    opts.http_seconds,
                    load_cpu,
                );
                profile.finish();
                results[index].push(result?);
                if let Some(log) = log {
                    log.truncate_log();
                }
            }
            let (fw, b) = (results[0][run], results[1][run]);
            let variants: String = (2..measured)
                .map(|i| {
                    format!(
                        ", {} {:.0} req/s (ratio {:.3})",
                        servers[i].0,
                        results[i][run].rps,
                        results[i][run].rps / b.rps
                    )
                })
                .collect();
            eprintln!(
                "  http {op} c={c} run {}: {} {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), bare {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms), ratio {:.3}{variants}",
                run + 1, servers[0].0, fw.rps, fw.p50_ms, fw.p99_ms, b.rps, b.p50_ms, b.p99_ms, fw.rps / b.rps
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
    Ok(rows)
}
