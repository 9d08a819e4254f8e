//! HTTPS: create and find through the framework with `application.ssl` against the bare
//! poem handlers behind poem's rustls listener, same certificate (made here by the tests'
//! CA helper), same wrk script; runs alternate, ratios are medians of per-pair ratios.
//! wrk keeps its connections, so the handshake is paid once per connection; the cost of
//! a new connection is measured by `cargo run --release -p ignition-tests --example
//! tls_handshake` (docs/BENCHMARKS.md).

use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::harness::{self, Backend, DriverProc};
use crate::paired::{paired, warm_up, HttpFigures, Side};
use crate::suites::Opts;
use crate::sys::{self, Spawn};
use crate::wrk;

/// One HTTPS row.
#[derive(Debug, Clone, Serialize)]
pub struct HttpsRow {
    /// `create` or `find`.
    pub op: &'static str,
    /// wrk connections.
    pub concurrency: usize,
    /// The no-op driver through the framework, over HTTPS.
    pub framework: HttpFigures,
    /// The bare poem handlers, over HTTPS.
    pub bare: HttpFigures,
    /// Median over runs of framework req/s ÷ bare req/s.
    pub ratio: f64,
}

/// Runs the HTTPS comparison.
pub async fn https(opts: &Opts, client: &reqwest::Client) -> Result<Vec<HttpsRow>, String> {
    if !sys::have_program("wrk") {
        return Err("skipped: wrk is not installed (apt-get install -y wrk)".into());
    }
    let cert_dir = sys::temp_path("bench-tls", "d");
    let ca = ignition_tests::kafka_security::TestCa::new("ignition bench CA");
    ca.write_cert_dir(&cert_dir)
        .map_err(|err| format!("cannot write the certificate: {err}"))?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.extra
        .insert("application.ssl.enabled".into(), json!(true));
    spec.extra.insert(
        "application.ssl.cert_dir".into(),
        json!(cert_dir.display().to_string()),
    );
    let framework = DriverProc::start(spec, opts.layout, client).await?;
    let bare_port = sys::free_port();
    let mut spawn = Spawn::new(
        "bare-poem-https",
        sys::this_exe(),
        &["serve-bare", &bare_port.to_string()],
    );
    spawn.env = vec![("BENCH_TLS_DIR".into(), cert_dir.display().to_string())];
    spawn.cpu = opts.layout.server_cpu;
    let mut bare = spawn.start();
    let bare_base = format!("https://127.0.0.1:{bare_port}");
    harness::wait_healthy(client, &bare_base, &mut bare).await?;

    let servers = [
        ("framework", framework.base.clone(), Some(&framework.child)),
        ("bare", bare_base.clone(), None),
    ];
    let ops = [
        ("create", wrk::script(&harness::create_body("0"))),
        ("find", wrk::script(&harness::find_body())),
    ];
    let bases: Vec<&str> = servers.iter().map(|(_, base, _)| base.as_str()).collect();
    for (op, script) in &ops {
        warm_up(
            "HTTPS",
            &bases,
            &format!("/api/infrastructure/{op}"),
            script,
            opts,
        )?;
    }
    let sides = [
        Side::driver("framework", &framework),
        Side {
            name: "bare",
            base: &bare_base,
            process: None,
        },
    ];
    let mut rows = Vec::new();
    for (op, script) in &ops {
        for &c in &opts.concurrencies {
            let path = format!("/api/infrastructure/{op}");
            let label = format!("https {op}");
            let pair = paired(&label, [&sides[0], &sides[1]], &path, script, c, opts)?;
            rows.push(HttpsRow {
                op,
                concurrency: c,
                framework: pair.a,
                bare: pair.b,
                ratio: pair.ratio,
            });
        }
    }
    framework.stop();
    bare.stop(Duration::from_secs(5));
    for (_, script) in ops {
        let _ = std::fs::remove_file(script);
    }
    let _ = std::fs::remove_dir_all(&cert_dir);
    Ok(rows)
}
