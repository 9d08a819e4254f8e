//! Processes the tests start: a free port for them, their end tied to the test
//! process's, signals, and where `cargo test` built the workspace's examples.

use std::path::PathBuf;
use std::process::Command;

/// A port that was free a moment ago (bind 127.0.0.1:0, read, drop); callers retry if
/// someone else took it meanwhile.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Makes sure process `pid` dies when this test process does (normal exit, panic,
/// abort, SIGKILL): a detached shell watches this process and kills `pid` (after a
/// SIGCONT, in case it is paused) once this process is gone.
pub fn kill_with_this_process(pid: u32) {
    let me = std::process::id();
    let script = format!(
        "(while kill -0 {me} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
         kill -0 {me} 2>/dev/null || {{ kill -CONT {pid}; kill -9 {pid}; }}) \
         </dev/null >/dev/null 2>&1 &"
    );
    let _ = Command::new("sh").arg("-c").arg(script).status();
}

/// Sends a signal (`-STOP`, `-CONT`, `-TERM`, `-9`) with `kill`.
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(signal)
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

/// The workspace example `name` (e.g. `simulated_vim`), which `cargo test --workspace`
/// builds beside the test binary calling this; panics saying how to build it when it
/// is missing.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test binary>");
    let path = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built: run the tests with `cargo test --workspace` (which builds examples) or `cargo build --example {name}` first",
        path.display()
    );
    path
}
