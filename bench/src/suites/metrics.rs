//! What recording metrics costs: create and find req/s of the no-op driver with
//! `application.metrics_enabled: true` (the default) against `false`, wrk runs of the two
//! alternating (who goes first rotates per run), ratios as medians of per-pair ratios.

use std::fmt::Write;

use serde::Serialize;
use serde_json::json;

use crate::harness::{self, Backend, DriverProc};
use crate::paired::{paired, warm_up, HttpFigures, Side};
use crate::suites::Opts;
use crate::sys;
use crate::wrk;

/// One operation at one concurrency, metrics on vs off.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsRow {
    /// What is switched: `metrics` (on: `application.metrics_enabled: true`, off: false)
    /// or `logstash` (on: `logging.type: logstash`, off: `flat`, the default; metrics on
    /// for both).
    pub switch: &'static str,
    /// `create` or `find`.
    pub op: &'static str,
    /// wrk connections.
    pub concurrency: usize,
    /// `application.metrics_enabled: true`.
    pub on: HttpFigures,
    /// `application.metrics_enabled: false`.
    pub off: HttpFigures,
    /// Median over runs of on req/s ÷ off req/s, each pair back to back.
    pub ratio: f64,
    /// Every per-pair ratio, in run order.
    pub ratios: Vec<f64>,
}

/// The `metrics` part: two drivers (on, off) on the embedded default, wrk against each
/// in turn.
pub async fn run(opts: &Opts, client: &reqwest::Client) -> Result<Vec<MetricsRow>, String> {
    if !sys::have_program("wrk") {
        return Err("skipped: wrk is not installed (apt-get install -y wrk)".into());
    }
    let spec = |enabled: bool| {
        let mut spec = opts.driver(&Backend::Embedded, false);
        spec.extra
            .insert("application.metrics_enabled".into(), json!(enabled));
        spec
    };
    let on = DriverProc::start(spec(true), opts.layout, client).await?;
    let off = DriverProc::start(spec(false), opts.layout, client).await?;
    let mut logstash = spec(true);
    logstash
        .extra
        .insert("logging.type".into(), json!("logstash"));
    let logstash = DriverProc::start(logstash, opts.layout, client).await?;
    let servers = [(&on, "on"), (&off, "off"), (&logstash, "logstash")];
    let ops = [
        ("create", wrk::script(&harness::create_body("0"))),
        ("find", wrk::script(&harness::find_body())),
    ];
    let bases: Vec<&str> = servers
        .iter()
        .map(|(server, _)| server.base.as_str())
        .collect();
    for (op, script) in &ops {
        warm_up(
            "metrics",
            &bases,
            &format!("/api/infrastructure/{op}"),
            script,
            opts,
        )?;
    }
    let sides = [
        Side::driver("on", &on),
        Side::driver("off", &off),
        Side::driver("logstash", &logstash),
    ];
    let mut rows = Vec::new();
    for (op, script) in &ops {
        for &c in &opts.concurrencies {
            let path = format!("/api/infrastructure/{op}");
            let label = format!("metrics {op}");
            let pair = paired(&label, [&sides[0], &sides[1]], &path, script, c, opts)?;
            rows.push(MetricsRow {
                switch: "metrics",
                op,
                concurrency: c,
                on: pair.a,
                off: pair.b,
                ratio: pair.ratio,
                ratios: pair.ratios,
            });
        }
        // Logstash against flat lines (both with metrics): at c=16 only.
        for c in opts.concurrencies.iter().copied().filter(|c| *c == 16) {
            let path = format!("/api/infrastructure/{op}");
            let label = format!("logstash {op}");
            let pair = paired(&label, [&sides[2], &sides[0]], &path, script, c, opts)?;
            rows.push(MetricsRow {
                switch: "logstash",
                op,
                concurrency: c,
                on: pair.a,
                off: pair.b,
                ratio: pair.ratio,
                ratios: pair.ratios,
            });
        }
    }
    // The switch did what it says: on counts every request, off serves no metrics.
    let scrape = |base: &str| {
        let client = client.clone();
        let url = format!("{base}/management/metrics");
        async move {
            let response = client.get(url).send().await.map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            Ok::<_, String>((status, response.text().await.unwrap_or_default()))
        }
    };
    let (status, text) = scrape(&on.base).await?;
    if status != 200
        || !text.contains("ignition_http_requests_total{operation=\"find\",status=\"200\"}")
    {
        return Err(format!(
            "the driver with metrics on did not count its requests (status {status})"
        ));
    }
    let (status, _) = scrape(&off.base).await?;
    if status != 404 {
        return Err(format!(
            "the driver with metrics off answered {status} on /management/metrics"
        ));
    }
    on.stop();
    off.stop();
    logstash.stop();
    for (_, script) in ops {
        let _ = std::fs::remove_file(script);
    }
    Ok(rows)
}

/// The Markdown section.
pub fn render(o: &mut String, opts: &Opts, rows: &Result<Vec<MetricsRow>, String>) {
    let _ = writeln!(
        o,
        "## Metrics on vs off\n\nwrk, {} s per run; the no-op driver (embedded default) with \
         `application.metrics_enabled: true` (the default: every request counted and timed, every poll \
         and event counted) vs `false`; then (c=16) `logging.type: logstash` (on) vs `flat` (off), \
         metrics on for both; runs alternate, on/off is the median of per-pair ratios. \
         Latencies in ms.\n",
        opts.http_seconds
    );
    match rows {
        Err(err) => {
            let _ = writeln!(o, "not measured: {err}\n");
        }
        Ok(rows) => {
            let _ = writeln!(o, "| switch | op | c | on req/s | on p50 | on p99 | off req/s | off p50 | off p99 | on/off | per run |");
            let _ = writeln!(
                o,
                "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
            );
            for r in rows {
                let runs: Vec<String> = r.ratios.iter().map(|x| format!("{x:.3}")).collect();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.3} | {} |",
                    r.switch,
                    r.op,
                    r.concurrency,
                    r.on.rps,
                    r.on.p50_ms,
                    r.on.p99_ms,
                    r.off.rps,
                    r.off.p50_ms,
                    r.off.p99_ms,
                    r.ratio,
                    runs.join(" ")
                );
            }
            let _ = writeln!(o);
        }
    }
}
