//! A driver replica as a process of its own (the replica binary of this package), its
//! stderr kept, its polls counted, killed on drop.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::RawClient;
use crate::process::{kill_with_this_process, signal};

/// The replica binary as a process: `REPLICA_CONFIG` names its YAML, `REPLICA_NAME`
/// its name; its stderr is echoed (prefixed) and kept. Killed on drop.
pub struct Replica {
    /// Its name (`polledBy` in the outputs of the tasks it completes).
    pub name: String,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    port: mpsc::Receiver<u16>,
}

impl Replica {
    /// Starts `binary` (pass `env!("CARGO_BIN_EXE_replica")`) with the configuration
    /// file `config`; returns at once (see [`Replica::wait_ready`]).
    ///
    /// Each replica name gets its own spool: `<messaging.spool_dir of the file>/<name>`
    /// (`REPLICA_SPOOL_DIR`), so replicas sharing one file do not share a spool, and a
    /// replica started again under the same name finds its own.
    pub fn spawn(binary: &str, name: &str, config: &Path) -> Self {
        Self::spawn_with(binary, name, config, &[])
    }

    /// [`Replica::spawn`] with extra environment variables (e.g. `LOG_TYPE`).
    pub fn spawn_with(binary: &str, name: &str, config: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        if let Some(dir) = replica_spool_dir(config, name) {
            command.env("REPLICA_SPOOL_DIR", dir);
        }
        let mut child = command
            .envs(env.iter().copied())
            .env("REPLICA_CONFIG", config)
            .env("REPLICA_NAME", name)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {binary}: {err}"));
        kill_with_this_process(child.id());
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let (prefix, kept) = (name.to_string(), logs.clone());
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if !line.starts_with("clock-driver polled ") {
                    eprintln!("[{prefix}] {line}");
                }
                if let Some(rest) = line.split("started on port ").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(port) = digits.parse() {
                        let _ = port_tx.send(port);
                    }
                }
                kept.lock().unwrap().push(line);
            }
        });
        Self {
            name: name.to_string(),
            child,
            logs,
            port,
        }
    }

    /// Waits (up to 60 s) for the "started on port N" log line; returns a client on N.
    /// Panics with the replica's log if it exits or stays silent.
    pub async fn wait_ready(&mut self) -> RawClient {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.port.try_recv() {
                Ok(port) => return RawClient::on_port(port),
                Err(mpsc::TryRecvError::Disconnected) => panic!(
                    "replica {} exited before it served: {:?}\n{}",
                    self.name,
                    self.child.try_wait(),
                    self.logs().join("\n")
                ),
                Err(mpsc::TryRecvError::Empty) => {}
            }
            assert!(
                Instant::now() < deadline,
                "replica {} did not start within 60 s:\n{}",
                self.name,
                self.logs().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every stderr line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// How many polls of each task this replica logged so far (see
    /// [`ClockDriver::log_polls`](crate::clock_driver::ClockDriver::log_polls)).
    pub fn polls(&self) -> HashMap<String, usize> {
        let mut polls = HashMap::new();
        for line in self.logs.lock().unwrap().iter() {
            if let Some(rest) = line.strip_prefix("clock-driver polled ") {
                let id = rest.split(' ').next().unwrap_or_default().to_string();
                *polls.entry(id).or_default() += 1;
            }
        }
        polls
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        signal(self.pid(), "-TERM");
    }

    /// SIGKILL, and reaps it.
    pub fn kill9(&mut self) {
        signal(self.pid(), "-9");
        let _ = self.child.wait();
    }

    /// Waits up to `timeout` for the process to exit.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The spool of the replica named `name` started with `config` (see [`Replica::spawn`]).
pub fn replica_spool_dir(config: &Path, name: &str) -> Option<PathBuf> {
    spool_dir_of(config).map(|dir| dir.join(name))
}

/// `messaging.spool_dir` of a configuration file, if it names one.
fn spool_dir_of(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let value: Value = serde_yaml::from_str(&text).ok()?;
    value["messaging"]["spool_dir"].as_str().map(PathBuf::from)
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
