//! Kafka job-queue throughput: job messages produced onto the job topic → their events
//! read, against rdkafka's raw produce → consume rate on the same broker.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::harness::{Backend, DriverProc};
use crate::kafka::{self, job_message, produce_all};
use crate::stats::median;
use crate::suites::Opts;
use crate::sys::Profile;

/// Kafka job-queue throughput against rdkafka's raw rate.
#[derive(Debug, Clone, Serialize)]
pub struct JobsRow {
    /// Jobs per run.
    pub jobs: usize,
    /// Jobs produced onto the job topic → their events read, per second.
    pub job_queue_per_s: f64,
    /// Driver CPU during the job-queue runs, % of one core.
    pub driver_cpu_percent: f64,
    /// rdkafka raw: messages produced → read back, per second.
    pub raw_per_s: f64,
    /// rdkafka raw: messages produced and acknowledged, per second.
    pub raw_produce_per_s: f64,
    /// job_queue_per_s ÷ raw_per_s.
    pub ratio: f64,
}

/// Job-queue throughput through Kafka, and the raw producer→consumer rate on the broker.
pub async fn jobs(
    opts: &Opts,
    client: &reqwest::Client,
    bootstrap: &str,
) -> Result<JobsRow, String> {
    let n = opts.jobs;
    let producer = kafka::producer(bootstrap);
    let payload = job_message("raw");
    let (mut raw, mut raw_produce) = (Vec::new(), Vec::new());
    for run in 0..opts.runs {
        let topic = format!("bench_raw_{}_{run}", std::process::id());
        kafka::create_topic(bootstrap, &topic).await?;
        let reader = kafka::read_topic(bootstrap, &topic)?;
        let prefix = format!("m{run}_");
        let payloads: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| (format!("{prefix}{i}"), payload.clone()))
            .collect();
        let t0 = Instant::now();
        produce_all(&producer, &topic, &payloads).await?;
        let produced = Instant::now();
        let seen = reader.collect(&prefix, n, Instant::now() + Duration::from_secs(120));
        let last = seen.values().max().copied().unwrap_or(t0);
        let rate = seen.len() as f64 / (last - t0).as_secs_f64();
        let produce_rate = n as f64 / (produced - t0).as_secs_f64();
        eprintln!(
            "  raw rdkafka run {}: {} of {n} messages read back; {:.0} msg/s produce→consume, {:.0} msg/s produce+ack",
            run + 1, seen.len(), rate, produce_rate
        );
        raw.push(rate);
        raw_produce.push(produce_rate);
    }

    let backend = Backend::Kafka(bootstrap.to_string());
    let driver = DriverProc::start(opts.driver(&backend, true), opts.layout, client).await?;
    let jobs_topic = driver.kafka.as_ref().expect("kafka").jobs.clone();
    let (mut rates, mut cpus) = (Vec::new(), Vec::new());
    for run in 0..opts.runs {
        let prefix = format!("j{run}_");
        let payloads: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| (String::new(), job_message(&format!("{prefix}{i}p0"))))
            .collect();
        let profile = Profile::start(driver.child.pid, &format!("jobs-{run}"));
        let s0 = driver.sample();
        let t0 = Instant::now();
        produce_all(&producer, &jobs_topic, &payloads).await?;
        let seen = driver
            .events()
            .collect(&prefix, n, Instant::now() + Duration::from_secs(180));
        let s1 = driver.sample();
        profile.finish();
        let last = seen.values().max().copied().unwrap_or(t0);
        let rate = seen.len() as f64 / (last - t0).as_secs_f64();
        let cpu = s1.cpu_percent_since(&s0);
        eprintln!(
            "  job queue run {}: {} of {n} events; {:.0} jobs/s; driver CPU {:.0} %",
            run + 1,
            seen.len(),
            rate,
            cpu
        );
        if seen.len() < n {
            eprintln!("  driver log tail:\n{}", driver.child.log_tail(20));
        }
        rates.push(rate);
        cpus.push(cpu);
        driver.child.truncate_log();
    }
    driver.stop();
    let (job_rate, raw_rate) = (median(&rates), median(&raw));
    Ok(JobsRow {
        jobs: n,
        job_queue_per_s: job_rate,
        driver_cpu_percent: median(&cpus),
        raw_per_s: raw_rate,
        raw_produce_per_s: median(&raw_produce),
        ratio: job_rate / raw_rate,
    })
}
