//! The Python framework (IBM/ignition 1.1.0) as a side of a comparison, measured in the
//! same run as this framework: the no-op driver of `bench/python/noop_driver.py` on the
//! same broker, pinned to the same CPU, hit by the same wrk script.
//!
//! It runs when an interpreter with the framework is found: `BENCH_PYTHON`, else the
//! virtualenv `scripts/python-baseline` makes (`target/python-ignition`). Without one, the
//! parts that compare with it fall back to the figures of the issue that set the goal,
//! and say so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{typed_create_body, wait_healthy, Layout};
use crate::sys::{self, Child, Spawn};

/// The Python driver, relative to the bench crate.
const DRIVER: &str = "python/noop_driver.py";

/// An interpreter that can import the Python framework, if there is one.
pub fn interpreter() -> Result<PathBuf, String> {
    let candidate = match std::env::var_os("BENCH_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/python-ignition/bin/python"),
    };
    if !candidate.exists() {
        return Err(format!(
            "no Python framework here ({} does not exist; scripts/python-baseline installs it, BENCH_PYTHON points elsewhere)",
            candidate.display()
        ));
    }
    let imports = Command::new(&candidate)
        .args(["-c", "import ignition.boot.api"])
        .output()
        .map_err(|err| format!("cannot run {}: {err}", candidate.display()))?;
    if !imports.status.success() {
        return Err(format!(
            "{} cannot import the Python framework: {}",
            candidate.display(),
            String::from_utf8_lossy(&imports.stderr).trim()
        ));
    }
    Ok(candidate)
}

/// The Python framework's no-op driver, running.
pub struct PythonDriver {
    /// Its base URL.
    pub base: String,
    /// Its process (flat logs at INFO, its default, on stderr).
    pub child: Child,
    config: PathBuf,
    workdir: PathBuf,
}

impl PythonDriver {
    /// Starts it on `bootstrap` with a job-queue topic, consumer group and event topic of
    /// its own, and waits until it serves and a probe task's event has arrived (its
    /// consumer has joined its group).
    pub async fn start(
        python: &Path,
        bootstrap: &str,
        layout: Layout,
        client: &reqwest::Client,
    ) -> Result<Self, String> {
        let port = sys::free_port();
        let suffix = format!("{}_{port}", std::process::id());
        let events_topic = format!("bench_py_events_{suffix}");
        let config = sys::temp_path("python-driver", "yml");
        // The Python framework names its job-queue topic `<app>_job_queue` itself.
        let yaml = format!(
            "application:\n  port: {port}\nmessaging:\n  connection_address: {bootstrap}\n  topics:\n    \
             infrastructure_task_events:\n      name: {events_topic}\n      auto_create: true\n\
             job_queue:\n  consumer_group_id: bench_py_group_{suffix}\n"
        );
        std::fs::write(&config, yaml)
            .map_err(|err| format!("write {}: {err}", config.display()))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(DRIVER);
        let mut spawn = Spawn::new(
            "python-driver",
            python,
            &[&script.display().to_string(), &config.display().to_string()],
        );
        spawn.cpu = layout.server_cpu;
        // It writes its API specs to `<app>_boot/` in its working directory.
        let workdir = sys::temp_path("python-driver", "d");
        std::fs::create_dir_all(&workdir)
            .map_err(|err| format!("create {}: {err}", workdir.display()))?;
        spawn.cwd = Some(workdir.clone());
        let mut child = spawn.start();
        let base = format!("http://127.0.0.1:{port}");
        wait_healthy(client, &base, &mut child).await?;
        let events = crate::kafka::read_topic(bootstrap, &events_topic)?;
        // Its consumer starts at the latest offset (kafka-python's default), so a job
        // queued before it joined its group is never consumed: probe until one is.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let response = client
                .post(format!("{base}/api/infrastructure/create"))
                .json(&typed_create_body("0"))
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .map_err(|e| format!("Python driver create: {e}"))?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or_default();
            if status.as_u16() != 202 {
                return Err(format!(
                    "the Python driver answered {status} to a create: {body}"
                ));
            }
            let wait = (Instant::now() + Duration::from_secs(3)).min(deadline);
            if events.next_until(wait).is_some() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no probe task of the Python driver had its event within 60 s:\n{}",
                    child.log_tail(30)
                ));
            }
        }
        Ok(Self {
            base,
            child,
            config,
            workdir,
        })
    }

    /// Stops it.
    pub fn stop(self) {
        self.child.stop(Duration::from_secs(5));
        let _ = std::fs::remove_file(self.config);
        let _ = std::fs::remove_dir_all(self.workdir);
    }
}
