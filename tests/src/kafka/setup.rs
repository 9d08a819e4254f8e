//! The configuration of a driver on Kafka for one test: fresh topic and group names,
//! written to a file the test's app or replica reads.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ignition::App;
use serde_json::{json, Value};

use super::broker::Broker;
use crate::clock_driver::random_suffix;

/// Fresh names for one test: `events_<rand>`, `lifecycle_events_<rand>`, `jobs_<rand>`,
/// `group_<rand>`.
#[derive(Debug, Clone)]
pub struct Names {
    /// The task events topic (`messaging.topics.infrastructure_task_events`: a VIM
    /// driver's events).
    pub events: String,
    /// The lifecycle execution events topic
    /// (`messaging.topics.lifecycle_execution_events`: a resource driver's events); a
    /// name of its own, so a test sees which topic a driver writes to.
    pub lifecycle_events: String,
    /// The job-queue topic.
    pub jobs: String,
    /// The job queue's consumer group.
    pub group: String,
}

impl Names {
    /// New random names.
    pub fn fresh() -> Self {
        let suffix = random_suffix(10);
        Self {
            events: format!("events_{suffix}"),
            lifecycle_events: format!("lifecycle_events_{suffix}"),
            jobs: format!("jobs_{suffix}"),
            group: format!("group_{suffix}"),
        }
    }
}

/// The configuration of a driver on Kafka, for one test: fresh topic and group names, the
/// job topic and the events topic of either kind auto-created (a driver creates those of
/// its own kind only). Change the fields, then [`Setup::yaml`], [`Setup::write`]
/// or [`Setup::app`].
#[derive(Debug, Clone)]
pub struct Setup {
    /// `messaging.connection_address`
    pub bootstrap: String,
    /// Topic and group names.
    pub names: Names,
    /// `messaging.topics.job_queue.num_partitions` (default 4).
    pub job_partitions: i32,
    /// `messaging.topics.{infrastructure_task_events,lifecycle_execution_events}.num_partitions`
    /// (default 1).
    pub event_partitions: i32,
    /// `messaging.topics.job_queue.config` (default `retention.ms: 60000`).
    pub job_topic_config: Value,
    /// `messaging.config`, passed to every client (default empty).
    pub client_config: Value,
    /// `job_queue.poll_interval` (default `200ms`).
    pub poll_interval: String,
    /// `job_queue.max_poll_interval` (default `2s`).
    pub max_poll_interval: String,
    /// `messaging.spool_enabled` (default true).
    pub spool_enabled: bool,
    /// `application.shutdown_grace` (default `0s`: tests that stop a replica do not wait
    /// for the drain, except those of the drain itself).
    pub shutdown_grace: String,
    /// `job_queue.encryption_key_file` (default none).
    pub encryption_key_file: Option<PathBuf>,
    /// The files [`Setup::write`] wrote: deleted when the last clone of the setup goes.
    files: Arc<Mutex<Vec<tempfile::TempPath>>>,
    /// Where each configuration's own `messaging.spool_dir` is made (deleted with the
    /// setup): every [`Setup::value`] names a fresh one, so two apps never share one,
    /// while a process started again with the same file finds its spool.
    spools: Arc<tempfile::TempDir>,
}

impl Setup {
    /// Fresh names on `broker`, a 200 ms poll interval, a 4-partition job topic.
    pub fn new(broker: &Broker) -> Self {
        Self {
            bootstrap: broker.bootstrap(),
            names: Names::fresh(),
            job_partitions: 4,
            event_partitions: 1,
            job_topic_config: json!({"retention.ms": 60000}),
            // diagnostics: `KAFKA_TEST_DEBUG=cgrp,topic` turns on librdkafka's debug
            // contexts in the drivers (with `RUST_LOG=info,rdkafka=debug`)
            client_config: match std::env::var("KAFKA_TEST_DEBUG") {
                Ok(contexts) => json!({ "debug": contexts }),
                Err(_) => json!({}),
            },
            poll_interval: "200ms".into(),
            max_poll_interval: "2s".into(),
            spool_enabled: true,
            shutdown_grace: "0s".into(),
            encryption_key_file: None,
            files: Arc::default(),
            spools: Arc::new(
                tempfile::Builder::new()
                    .prefix("ignition-spools-")
                    .tempdir()
                    .expect("a temp directory for the spools"),
            ),
        }
    }

    /// The configuration as a JSON value (mirrors the YAML), HTTP on `port`.
    pub fn value(&self, port: u16) -> Value {
        let spool_dir = self.spools.path().join(random_suffix(10));
        let mut job_queue = json!({
            "consumer_group_id": self.names.group,
            "poll_interval": self.poll_interval,
            "max_poll_interval": self.max_poll_interval,
        });
        if let Some(key) = &self.encryption_key_file {
            job_queue["encryption_key_file"] = json!(key);
        }
        json!({
            "application": {"port": port, "shutdown_grace": self.shutdown_grace},
            "messaging": {
                "connection_address": self.bootstrap,
                "config": self.client_config,
                "spool_enabled": self.spool_enabled,
                "spool_dir": spool_dir,
                "topics": {
                    "infrastructure_task_events": {
                        "name": self.names.events, "auto_create": true,
                        "num_partitions": self.event_partitions, "replication_factor": 1,
                        "config": {},
                    },
                    "lifecycle_execution_events": {
                        "name": self.names.lifecycle_events, "auto_create": true,
                        "num_partitions": self.event_partitions, "replication_factor": 1,
                        "config": {},
                    },
                    "job_queue": {
                        "name": self.names.jobs, "auto_create": true,
                        "num_partitions": self.job_partitions, "replication_factor": 1,
                        "config": self.job_topic_config,
                    },
                },
            },
            "job_queue": job_queue,
        })
    }

    /// The configuration as YAML, HTTP on `port` (0: any free port).
    pub fn yaml(&self, port: u16) -> String {
        serde_yaml::to_string(&self.value(port)).expect("YAML")
    }

    /// Writes [`Setup::yaml`] to a fresh file in the temp directory; returns its path.
    /// The file lives as long as this setup (and its clones).
    pub fn write(&self, port: u16) -> PathBuf {
        let file = write_config(&self.yaml(port));
        let path = file.to_path_buf();
        self.files.lock().unwrap().push(file);
        path
    }

    /// An in-process app with this configuration (HTTP on any free port).
    pub fn app(&self, name: &str, driver: crate::clock_driver::ClockDriver) -> App {
        App::new(name).config_file(self.write(0)).driver(driver)
    }
}

/// Writes `yaml` to a fresh file `ignition-kafka-*.yml` in the temp directory, deleted
/// when the returned path is dropped.
pub fn write_config(yaml: &str) -> tempfile::TempPath {
    let mut file = tempfile::Builder::new()
        .prefix("ignition-kafka-")
        .suffix(".yml")
        .tempfile()
        .expect("create a config file");
    std::io::Write::write_all(&mut file, yaml.as_bytes()).expect("write config");
    file.into_temp_path()
}
