//! The machine and the processes the harness starts: CPU pinning, CPU time and memory
//! from `/proc`, free ports, and children that die with the harness.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second (`utime`/`stime` in `/proc/PID/stat` count these).
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// Online CPUs of the machine (whatever this thread is pinned to).
pub fn nproc() -> usize {
    // SAFETY: sysconf only reads a constant of the running system.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|n| *n > 0).unwrap_or(1)
}

/// `model name` of the first CPU in `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `MemTotal` in GiB.
pub fn mem_total_gib() -> f64 {
    status_kib("/proc/meminfo", "MemTotal:").unwrap_or(0) as f64 / (1024.0 * 1024.0)
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

fn status_kib(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// One look at a process: CPU time so far, resident memory now and at its peak.
#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    /// When it was read.
    pub at: Instant,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// VmRSS.
    pub rss_kib: u64,
    /// VmHWM (peak RSS).
    pub hwm_kib: u64,
}

impl ProcSample {
    /// Reads `/proc/PID/stat` and `/proc/PID/status`; `None` once the process is gone.
    pub fn read(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after_name = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let cpu_ticks =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        let status = format!("/proc/{pid}/status");
        Some(Self {
            at: Instant::now(),
            cpu_ticks,
            rss_kib: status_kib(&status, "VmRSS:")?,
            hwm_kib: status_kib(&status, "VmHWM:")?,
        })
    }

    /// CPU used between `earlier` and `self`, in % of one core.
    pub fn cpu_percent_since(&self, earlier: &ProcSample) -> f64 {
        let secs = (self.at - earlier.at).as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        let cpu =
            self.cpu_ticks.saturating_sub(earlier.cpu_ticks) as f64 / clock_ticks_per_second();
        100.0 * cpu / secs
    }
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Whether `program` can be run (found on PATH, or a path that exists).
pub fn have_program(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A fresh path in the temp directory.
pub fn temp_path(stem: &str, ext: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "ignition-bench-{}-{stem}-{n}.{ext}",
        std::process::id()
    ))
}

/// What to do with a child's stdout.
pub enum Stdout {
    /// Thrown away.
    Null,
    /// Read by the harness.
    Piped,
}

/// How to start a child process.
pub struct Spawn {
    /// What it is, for messages.
    pub name: String,
    /// The program and its arguments.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Pin it to this CPU.
    pub cpu: Option<usize>,
    /// Its stdout.
    pub stdout: Stdout,
    /// Its working directory (this one's when `None`).
    pub cwd: Option<PathBuf>,
}

/// A child process: its stderr goes to a log file; killed (SIGKILL) when dropped, and
/// when the harness dies (parent-death signal).
pub struct Child {
    /// What it is.
    pub name: String,
    /// Its process id.
    pub pid: u32,
    child: std::process::Child,
    log: PathBuf,
}

impl Spawn {
    /// `program args...` named `name`, stdout thrown away, not pinned.
    pub fn new(name: &str, program: impl Into<PathBuf>, args: &[&str]) -> Self {
        Self {
            name: name.to_string(),
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
            cpu: None,
            stdout: Stdout::Null,
            cwd: None,
        }
    }

    /// Starts it.
    pub fn start(self) -> Child {
        let log = temp_path(&self.name, "log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("create a log file");
        let mut command = Command::new(&self.program);
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stderr(log_file)
            .stdout(match self.stdout {
                Stdout::Null => Stdio::null(),
                Stdout::Piped => Stdio::piped(),
            });
        let cpu = self.cpu;
        // SAFETY: only async-signal-safe system calls run between fork and exec.
        unsafe {
            command.pre_exec(move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if let Some(cpu) = cpu {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    libc::CPU_SET(cpu, &mut set);
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
                }
                Ok(())
            });
        }
        let child = command.spawn().unwrap_or_else(|err| {
            panic!(
                "cannot start {} ({}): {err}",
                self.name,
                self.program.display()
            )
        });
        Child {
            name: self.name,
            pid: child.id(),
            child,
            log,
        }
    }
}

impl Child {
    /// Its stdout, once (when started with [`Stdout::Piped`]).
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The last `n` lines of its stderr.
    pub fn log_tail(&self, n: usize) -> String {
        let lines: Vec<String> = File::open(&self.log)
            .map(|f| BufReader::new(f).lines().map_while(Result::ok).collect())
            .unwrap_or_default();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// Empties its log (it writes in append mode, so it carries on at the new end).
    pub fn truncate_log(&self) {
        if let Ok(file) = std::fs::OpenOptions::new().write(true).open(&self.log) {
            let _ = file.set_len(0);
        }
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// A look at its CPU time and memory.
    pub fn sample(&self) -> Option<ProcSample> {
        ProcSample::read(self.pid)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub fn stop(self, grace: Duration) {
        self.stop_with(libc::SIGTERM, grace);
    }

    /// Sends `signal`, then SIGKILL if it has not exited within `grace`.
    pub fn stop_with(mut self, signal: i32, grace: Duration) {
        // SAFETY: sends a signal to our own child.
        unsafe {
            libc::kill(self.pid as i32, signal);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("BENCH_KEEP_LOGS").is_some() {
            eprintln!("  log of {} kept: {}", self.name, self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The harness's own executable (it starts itself as the driver and bare servers).
pub fn this_exe() -> PathBuf {
    std::env::current_exe().expect("current_exe")
}

/// Pins the calling thread (and the threads it starts later) to `cpu`.
pub fn pin_current_thread(cpu: usize) {
    // SAFETY: a plain system call on the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// With `BENCH_PERF_DIR` set: `perf record` (call graphs, DWARF) of process `pid` into
/// `$BENCH_PERF_DIR/<name>.perf` until [`Profile::finish`].
pub struct Profile(Option<Child>);

impl Profile {
    /// Starts recording `pid` when `BENCH_PERF_DIR` is set.
    pub fn start(pid: u32, name: &str) -> Self {
        let Some(dir) = std::env::var_os("BENCH_PERF_DIR") else {
            return Self(None);
        };
        let out = PathBuf::from(dir).join(format!("{name}.perf"));
        let out = out.display().to_string();
        let pid = pid.to_string();
        let args = [
            "record",
            "-F",
            "999",
            "--call-graph",
            "dwarf,32768",
            "-o",
            &out,
            "-p",
            &pid,
        ];
        let mut spawn = Spawn::new("perf", "perf", &args);
        spawn.cpu = None;
        let child = spawn.start();
        std::thread::sleep(Duration::from_millis(300));
        eprintln!("  perf recording {name} into {out}");
        Self(Some(child))
    }

    /// No recording.
    pub fn none() -> Self {
        Self(None)
    }

    /// Stops recording (SIGINT lets perf write its file).
    pub fn finish(self) {
        if let Some(child) = self.0 {
            child.stop_with(libc::SIGINT, Duration::from_secs(60));
        }
    }
}
