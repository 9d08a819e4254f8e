//! HTTP load with `wrk` (a Lua script POSTs the JSON body and prints one machine-readable
//! line at the end).

use std::path::PathBuf;
use std::process::Command;

use crate::sys;

/// One wrk run.
#[derive(Debug, Clone, Copy)]
pub struct WrkResult {
    /// Requests per second.
    pub rps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Answers that were not 2xx, plus socket errors and timeouts.
    pub errors: u64,
}

/// A Lua script that POSTs `body` as JSON.
pub fn script(body: &serde_json::Value) -> PathBuf {
    let path = sys::temp_path("wrk", "lua");
    let body = serde_json::to_string(body).expect("body");
    assert!(
        !body.contains("]]"),
        "the body must not close a Lua long string"
    );
    let lua = format!(
        r#"wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH requests=%d duration_us=%d status_errors=%d socket_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"#
    );
    std::fs::write(&path, lua).expect("write the wrk script");
    path
}

/// Runs wrk against `url` for `seconds` with `connections` connections (pinned to `cpu`
/// when given; one thread per CPU it may use, at most one per connection).
pub fn run(
    url: &str,
    script: &PathBuf,
    connections: usize,
    seconds: f64,
    cpu: Option<usize>,
) -> Result<WrkResult, String> {
    let threads = if cpu.is_some() {
        1
    } else {
        connections.min(sys::nproc())
    };
    let mut command = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", &cpu.to_string(), "wrk"]);
            c
        }
        None => Command::new("wrk"),
    };
    // wrk takes whole seconds (or minutes, hours).
    let duration = format!("{}s", seconds.round().max(1.0) as u64);
    let output = command
        .args(["-t", &threads.to_string(), "-c", &connections.to_string()])
        .args(["-d", &duration, "--timeout", "10s", "-s"])
        .arg(script)
        .arg(url)
        .output()
        .map_err(|err| format!("cannot run wrk: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("BENCH "))
        .ok_or_else(|| {
            format!(
                "wrk printed no result: {stdout} {}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let requests = field("requests");
    let duration_s = field("duration_us") as f64 / 1e6;
    Ok(WrkResult {
        rps: if duration_s > 0.0 {
            requests as f64 / duration_s
        } else {
            0.0
        },
        p50_ms: field("p50_us") as f64 / 1000.0,
        p99_ms: field("p99_us") as f64 / 1000.0,
        errors: field("status_errors") + field("socket_errors"),
    })
}
