//! Prints what monitoring costs while nothing else happens: CPU time of this process
//! over a window with N tasks in progress (polled every second), and its RSS.
//!
//! `cargo run --release -p ignition-tests --bin idle_cost -- [tasks] [seconds]`
//! (defaults: 100 tasks, 30 s). Linux only (reads /proc/self).

use std::time::{Duration, Instant};

use ignition::prelude::*;
use ignition_tests::{create_body, ScriptedDriver};

/// utime + stime of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let after_name = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn ticks_per_second() -> f64 {
    // CLK_TCK is 100 on every Linux this runs on; getconf confirms when present.
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let tasks: usize = args
        .next()
        .map(|a| a.parse().expect("tasks"))
        .unwrap_or(100);
    let seconds: u64 = args
        .next()
        .map(|a| a.parse().expect("seconds"))
        .unwrap_or(30);

    let (driver, scripts) = ScriptedDriver::new();
    let mut app = App::new("Idle Cost")
        .property("application.port", 0)
        .driver(driver)
        .start()
        .await
        .expect("starts");
    let _events = app.take_embedded_events();
    let rss_started = rss_kib();
    let base = format!("http://127.0.0.1:{}", app.local_addr().port());
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for _ in 0..tasks {
        let response: serde_json::Value = client
            .post(format!("{base}/api/infrastructure/create"))
            .json(&create_body("IN_PROGRESS"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push((
            response["infrastructureId"].as_str().unwrap().to_string(),
            response["requestId"].as_str().unwrap().to_string(),
        ));
    }
    // let the creates' first polls pass, then measure a quiet window
    tokio::time::sleep(Duration::from_secs(2)).await;
    let per_task = |scripts: &ignition_tests::Scripts| -> Vec<usize> {
        ids.iter()
            .map(|(i, r)| scripts.polls_of(i, r).len())
            .collect()
    };
    let before = per_task(&scripts);
    let polls_before: usize = before.iter().sum();
    let (ticks0, t0) = (cpu_ticks(), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (ticks1, elapsed) = (cpu_ticks(), t0.elapsed());
    let after = per_task(&scripts);
    let polls_after: usize = after.iter().sum();

    let gaps: Vec<f64> = ids
        .iter()
        .flat_map(|(i, r)| {
            let polls = scripts.polls_of(i, r);
            polls
                .windows(2)
                .map(|p| (p[1].0 - p[0].0).as_secs_f64())
                .collect::<Vec<_>>()
        })
        .collect();
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
    let cpu_seconds = (ticks1 - ticks0) as f64 / ticks_per_second();
    let polls = polls_after - polls_before;
    println!("tasks in progress        {tasks}");
    println!("window                   {:.1} s", elapsed.as_secs_f64());
    // A window count depends on where the window cuts each task's phase; the gap does not.
    println!("polls in window          {polls}");
    println!(
        "mean gap between polls   {:.1} ms (configured 1000 ms)",
        mean_gap * 1000.0
    );
    println!(
        "achieved poll rate       {:.1}/s = tasks / mean gap ({:.1} % of configured)",
        tasks as f64 / mean_gap,
        100.0 / mean_gap
    );
    println!(
        "CPU                      {:.2} % of one core ({cpu_seconds:.2} s)",
        100.0 * cpu_seconds / elapsed.as_secs_f64()
    );
    println!("RSS after start          {} KiB", rss_started);
    println!("RSS at end               {} KiB", rss_kib());
    app.shutdown().await;
}
