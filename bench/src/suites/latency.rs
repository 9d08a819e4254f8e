//! create→event latency: one create at a time, each waiting for its event, on the
//! embedded default and on Kafka (there also one raw produce → read hop, for scale).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::harness::{self, Backend, DriverProc};
use crate::kafka::{self, job_message, produce_all};
use crate::stats::{median, quantile};
use crate::suites::Opts;

/// create→event latency of tasks COMPLETE at their first poll.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyRow {
    /// `embedded` or `kafka`.
    pub backend: &'static str,
    /// Samples per run.
    pub samples: usize,
    /// Median latency, ms (median over runs).
    pub p50_ms: f64,
    /// 99th percentile, ms (median over runs).
    pub p99_ms: f64,
    /// Median time until the create was answered, ms (on Kafka: its job is confirmed).
    pub create_answered_p50_ms: f64,
    /// Kafka only: one message produced (same producer settings) → read by the same
    /// reader, median and 99th percentile, ms. The framework's path is two such hops
    /// (the job, then the event) plus HTTP and the poll.
    pub raw_hop_ms: Option<(f64, f64)>,
}

/// The pause between two latency samples: random (10–30 ms), because a fixed one locks
/// onto the consumers' fetch cycles and measures one phase of them (what a fixed one
/// read: docs/BENCHMARKS.md, "Notes").
fn sample_spacing() -> Duration {
    Duration::from_micros(fastrand::u64(10_000..30_000))
}

/// Latency: one create at a time, each waiting for its event, after the driver is ready.
pub async fn latency(
    opts: &Opts,
    client: &reqwest::Client,
    backend: &Backend,
) -> Result<LatencyRow, String> {
    let driver = DriverProc::start(opts.driver(backend, true), opts.layout, client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (mut p50s, mut p99s, mut answered) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..opts.runs {
        let mut samples = Vec::new();
        for _ in 0..opts.latency_samples {
            let t0 = Instant::now();
            let iid = harness::create(client, &driver.base, "0").await?;
            answered.push((Instant::now() - t0).as_secs_f64() * 1000.0);
            let event = driver
                .events()
                .wait_for(&iid, Instant::now() + Duration::from_secs(30))
                .ok_or_else(|| {
                    format!(
                        "no event for {iid} within 30 s:\n{}",
                        driver.child.log_tail(20)
                    )
                })?;
            samples.push((event.at - t0).as_secs_f64() * 1000.0);
            tokio::time::sleep(sample_spacing()).await;
        }
        let (p50, p99) = (quantile(&samples, 0.5), quantile(&samples, 0.99));
        eprintln!(
            "  latency {} run {}: create→event p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            backend.name(), run + 1, p50, p99, quantile(&samples, 1.0), samples.len()
        );
        p50s.push(p50);
        p99s.push(p99);
    }
    let raw_hop_ms = match backend {
        Backend::Kafka(bootstrap) => Some(raw_hop(opts, bootstrap).await?),
        Backend::Embedded => None,
    };
    driver.stop();
    Ok(LatencyRow {
        backend: backend.name(),
        samples: opts.latency_samples,
        p50_ms: median(&p50s),
        p99_ms: median(&p99s),
        create_answered_p50_ms: quantile(&answered, 0.5),
        raw_hop_ms,
    })
}

/// One message at a time produced → read back on a fresh topic: (p50, p99) in ms.
async fn raw_hop(opts: &Opts, bootstrap: &str) -> Result<(f64, f64), String> {
    let topic = format!("bench_hop_{}", std::process::id());
    kafka::create_topic(bootstrap, &topic).await?;
    let reader = kafka::read_topic(bootstrap, &topic)?;
    let producer = kafka::producer(bootstrap);
    let payload = job_message("hop");
    // The first message also fetches the new topic's metadata: not a sample.
    produce_all(&producer, &topic, &[("warm".into(), payload.clone())]).await?;
    reader
        .wait_for("warm", Instant::now() + Duration::from_secs(10))
        .ok_or("the warm-up message was not read back within 10 s")?;
    let mut samples = Vec::new();
    for i in 0..opts.latency_samples {
        let key = format!("h{i}");
        let t0 = Instant::now();
        produce_all(&producer, &topic, &[(key.clone(), payload.clone())]).await?;
        let received = reader
            .wait_for(&key, Instant::now() + Duration::from_secs(10))
            .ok_or("a raw message was not read back within 10 s")?;
        samples.push((received.at - t0).as_secs_f64() * 1000.0);
        tokio::time::sleep(sample_spacing()).await;
    }
    let (p50, p99) = (quantile(&samples, 0.5), quantile(&samples, 0.99));
    eprintln!("  raw rdkafka hop: produce→read p50 {p50:.2} ms, p99 {p99:.2} ms");
    Ok((p50, p99))
}
