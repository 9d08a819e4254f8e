//! Heap allocations per request: the framework's no-op driver (monitoring on, as
//! shipped; and monitoring off, its HTTP layer alone) and bare poem, each counting its
//! own allocations (`crate::counting`), one request at a time from the harness's client.
//! Unlike time on a shared machine, the count is the same from run to run (± amortised
//! growth of buffers), so the part also checks it against the budget checked in as
//! `bench/alloc-budget.txt`: a part over budget fails the command (CI's smoke run).

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::harness::{self, ask_stats, Backend, DriverProc};
use crate::servers::DriverStats;
use crate::suites::Opts;
use crate::sys::{self, Spawn};

/// The budget: `<server> <op> <allocations per request>` per line, `#` comments.
const BUDGET: &str = include_str!("../../alloc-budget.txt");

/// Requests measured per figure (after as many again to warm up).
const REQUESTS: u64 = 1000;

/// One server at one operation.
#[derive(Debug, Clone, Serialize)]
pub struct AllocRow {
    /// `framework` (monitoring on), `http-layer` (monitoring off), `resource` and
    /// `resource-http-layer` (the no-op resource driver, likewise) or `bare`.
    pub server: &'static str,
    /// `create`, `find` or `execute`.
    pub op: &'static str,
    /// Requests measured.
    pub requests: u64,
    /// Heap allocations per request (a create's task, poll and event included).
    pub allocations: f64,
    /// Bytes asked for per request.
    pub bytes: f64,
    /// The checked-in budget, if there is one for this row.
    pub budget: Option<f64>,
}

impl AllocRow {
    /// Why it fails the guard: over its budget, or a framework row without one (a new
    /// row must be given its budget, not pass unguarded). Bare poem has none.
    pub fn budget_problem(&self) -> Option<String> {
        match self.budget {
            Some(budget) if self.allocations > budget => Some(format!(
                "allocations per request over budget: {} {} {:.2} > {budget} (bench/alloc-budget.txt)",
                self.server, self.op, self.allocations
            )),
            None if self.server != "bare" => Some(format!(
                "allocations per request: {} {} has no budget in bench/alloc-budget.txt",
                self.server, self.op
            )),
            _ => None,
        }
    }
}

fn budget_of(server: &str, op: &str) -> Option<f64> {
    BUDGET
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == server && words.next()? == op)
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
}

/// A server that counts its allocations.
struct Counted<'a> {
    name: &'static str,
    base: String,
    pid: u32,
    stats: &'a std::path::Path,
    child: &'a sys::Child,
    /// Whether it monitors the tasks it starts (then its counters are read once every
    /// task was polled).
    monitors: bool,
}

/// Allocations per request of each server at each operation.
pub async fn allocs(opts: &Opts, client: &reqwest::Client) -> Result<Vec<AllocRow>, String> {
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.count_allocs = true;
    let framework = DriverProc::start(spec, opts.layout, client).await?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.count_allocs = true;
    spec.extra.insert(
        "infrastructure.async_messaging_enabled".into(),
        json!(false),
    );
    let http_layer = DriverProc::start(spec, opts.layout, client).await?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.count_allocs = true;
    spec.resource = true;
    let resource = DriverProc::start(spec, opts.layout, client).await?;
    let mut spec = opts.driver(&Backend::Embedded, false);
    spec.count_allocs = true;
    spec.resource = true;
    spec.extra.insert(
        "resource_driver.async_messaging_enabled".into(),
        json!(false),
    );
    let resource_layer = DriverProc::start(spec, opts.layout, client).await?;
    let bare_port = sys::free_port();
    let bare_stats = sys::temp_path("bare-stats", "json");
    let mut spawn = Spawn::new(
        "bare-poem",
        sys::this_exe(),
        &["serve-bare", &bare_port.to_string()],
    );
    spawn.cpu = opts.layout.server_cpu;
    spawn.env = vec![
        ("BENCH_STATS".into(), bare_stats.display().to_string()),
        ("BENCH_COUNT_ALLOCS".into(), "1".into()),
    ];
    let mut bare = spawn.start();
    let bare_base = format!("http://127.0.0.1:{bare_port}");
    harness::wait_healthy(client, &bare_base, &mut bare).await?;

    let servers = [
        Counted {
            name: "framework",
            base: framework.base.clone(),
            pid: framework.child.pid,
            stats: framework.stats_path(),
            child: &framework.child,
            monitors: true,
        },
        Counted {
            name: "http-layer",
            base: http_layer.base.clone(),
            pid: http_layer.child.pid,
            stats: http_layer.stats_path(),
            child: &http_layer.child,
            monitors: false,
        },
        Counted {
            name: "resource",
            base: resource.base.clone(),
            pid: resource.child.pid,
            stats: resource.stats_path(),
            child: &resource.child,
            monitors: true,
        },
        Counted {
            name: "resource-http-layer",
            base: resource_layer.base.clone(),
            pid: resource_layer.child.pid,
            stats: resource_layer.stats_path(),
            child: &resource_layer.child,
            monitors: false,
        },
        Counted {
            name: "bare",
            base: bare_base,
            pid: bare.pid,
            stats: &bare_stats,
            child: &bare,
            monitors: false,
        },
    ];
    let mut rows = Vec::new();
    let result: Result<(), String> = async {
        for (op, body) in [
            ("create", harness::create_body("0")),
            ("find", harness::find_body()),
            ("execute", harness::execute_body()),
        ] {
            // The VIM drivers serve create and find, the resource drivers execute.
            let serves =
                |name: &str| (op == "execute") == name.starts_with("resource") || name == "bare";
            for server in servers.iter().filter(|s| serves(s.name)) {
                let row = measure(client, server, op, &body).await?;
                eprintln!(
                    "  allocs {} {op}: {:.2} allocations, {:.0} bytes per request{}",
                    server.name,
                    row.allocations,
                    row.bytes,
                    row.budget
                        .map(|b| format!(" (budget {b})"))
                        .unwrap_or_default()
                );
                rows.push(row);
            }
        }
        Ok(())
    }
    .await;
    framework.stop();
    http_layer.stop();
    resource.stop();
    resource_layer.stop();
    bare.stop(Duration::from_secs(5));
    let _ = std::fs::remove_file(&bare_stats);
    result.map(|()| rows)
}

/// `REQUESTS` requests one at a time after as many to warm up, the server settled
/// (its tasks done, its CPU idle) before each count is read.
async fn measure(
    client: &reqwest::Client,
    server: &Counted<'_>,
    op: &'static str,
    body: &Value,
) -> Result<AllocRow, String> {
    let path = if op == "execute" {
        "/api/driver/lifecycle/execute".to_string()
    } else {
        format!("/api/infrastructure/{op}")
    };
    let url = format!("{}{path}", server.base);
    let send = |n: u64| {
        let url = url.clone();
        async move {
            for _ in 0..n {
                let response = client
                    .post(&url)
                    .json(body)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .map_err(|e| format!("{op}: {e}"))?;
                let status = response.status();
                response.bytes().await.map_err(|e| format!("{op}: {e}"))?;
                if !status.is_success() {
                    return Err(format!("{op} answered {status}"));
                }
            }
            Ok::<(), String>(())
        }
    };
    send(REQUESTS).await?;
    let before = settled(server).await;
    send(REQUESTS).await?;
    let after = settled(server).await;
    let n = REQUESTS as f64;
    Ok(AllocRow {
        server: server.name,
        op,
        requests: REQUESTS,
        allocations: after.allocations.saturating_sub(before.allocations) as f64 / n,
        bytes: after.allocated_bytes.saturating_sub(before.allocated_bytes) as f64 / n,
        budget: budget_of(server.name, op),
    })
}

/// The server's counters once every task it was given has been polled and its CPU is
/// idle (so a create's poll, event and log line are counted with it).
async fn settled(server: &Counted<'_>) -> DriverStats {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stats = ask_stats(server.pid, server.stats);
        if !server.monitors || stats.polls >= stats.creates || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    crate::paired::settle(&[server.child]);
    // Settled means under a tenth of a CPU: a last moment for an event on its way.
    tokio::time::sleep(Duration::from_millis(100)).await;
    ask_stats(server.pid, server.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(server: &'static str, op: &'static str, allocations: f64) -> AllocRow {
        AllocRow {
            server,
            op,
            requests: REQUESTS,
            allocations,
            bytes: 0.0,
            budget: budget_of(server, op),
        }
    }

    #[test]
    fn every_guarded_row_has_a_budget_in_the_checked_in_file() {
        for (server, op) in [
            ("framework", "create"),
            ("http-layer", "create"),
            ("framework", "find"),
            ("http-layer", "find"),
            ("resource", "execute"),
            ("resource-http-layer", "execute"),
        ] {
            let budget = budget_of(server, op).unwrap_or_else(|| panic!("{server} {op}"));
            assert!(row(server, op, budget).budget_problem().is_none());
            let over = row(server, op, budget + 0.01).budget_problem().unwrap();
            assert!(over.contains("over budget"), "{over}");
        }
        assert_eq!(budget_of("bare", "find"), None);
        assert!(row("bare", "find", 1e9).budget_problem().is_none());
        assert!(row("framework", "delete", 1.0).budget_problem().is_some());
    }
}
