//! The measurements, one file per part of the harness (`http`, `https`, `metrics`,
//! `monitor`, `idle`, `jobs`, `latency`, `kafka-create`), and [`Opts`], what to run and
//! how big. Each part returns rows of medians over `runs` runs.

use std::time::Duration;

use serde_json::{json, Map};

use crate::harness::{Backend, DriverSpec, Layout};

pub mod allocs;
pub mod http;
pub mod https;
pub mod idle;
pub mod jobs;
pub mod kafka_create;
pub mod latency;
pub mod metrics;
pub mod monitor;

/// What to run, and how big.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Tiny sizes, one run each: checks the harness works, figures mean nothing.
    pub smoke: bool,
    /// Runs per figure (the median is reported).
    pub runs: usize,
    /// Length of one wrk run.
    pub http_seconds: f64,
    /// wrk concurrencies.
    pub concurrencies: Vec<usize>,
    /// Tasks in flight for the monitoring capacity runs.
    pub monitor_sizes: Vec<usize>,
    /// Polls that answer IN_PROGRESS before the COMPLETE one.
    pub in_progress_polls: u32,
    /// `job_queue.poll_interval` for the monitoring and idle runs.
    pub poll_interval: Duration,
    /// Creates are spread over this long.
    pub ramp: Duration,
    /// Tasks in progress for the idle runs.
    pub idle_tasks: usize,
    /// Length of the idle CPU window.
    pub idle_seconds: f64,
    /// Jobs per Kafka throughput run.
    pub jobs: usize,
    /// Samples per latency run.
    pub latency_samples: usize,
    /// `messaging.config` for drivers on Kafka.
    pub kafka_config: Map<String, serde_json::Value>,
    /// Which CPUs run what.
    pub layout: Layout,
}

impl Opts {
    /// The full run, or the smoke run.
    pub fn new(smoke: bool, layout: Layout) -> Self {
        let mut kafka_config = Map::new();
        if smoke {
            // Tansu makes a new consumer wait about half the session timeout before it
            // gets partitions: a short one keeps the smoke run short.
            kafka_config.insert("session.timeout.ms".into(), json!("2000"));
            kafka_config.insert("heartbeat.interval.ms".into(), json!("500"));
        }
        Self {
            smoke,
            runs: if smoke { 1 } else { 3 },
            http_seconds: if smoke { 1.0 } else { 5.0 },
            concurrencies: vec![1, 16, 64],
            monitor_sizes: if smoke {
                vec![100]
            } else {
                vec![1_000, 10_000]
            },
            in_progress_polls: 5,
            poll_interval: if smoke {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(1)
            },
            ramp: if smoke {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(2)
            },
            idle_tasks: 100,
            idle_seconds: if smoke { 1.0 } else { 30.0 },
            jobs: if smoke { 300 } else { 20_000 },
            latency_samples: if smoke { 10 } else { 200 },
            kafka_config,
            layout,
        }
    }

    fn poll_interval_text(&self) -> String {
        format!("{}ms", self.poll_interval.as_millis())
    }

    pub(crate) fn driver(&self, backend: &Backend, read_events: bool) -> DriverSpec {
        DriverSpec {
            backend: backend.clone(),
            poll_interval: self.poll_interval_text(),
            read_events,
            kafka_config: self.kafka_config.clone(),
            extra: Map::new(),
            log: None,
            count_allocs: false,
            resource: false,
        }
    }
}
