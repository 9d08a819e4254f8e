//! The `resource_replica` binary on the embedded default, in a process whose `TMPDIR` is
//! a fresh directory of the test's: hostile archives are refused naming the entry, nothing
//! is written outside the request's temporary directory, and no temporary directory is
//! left behind after any call — answered, failed, panicked, past its time limit, or
//! abandoned by its client.

use std::path::Path;
use std::time::{Duration, Instant};

use ignition_tests::kafka::{write_config, Replica};
use ignition_tests::RawClient;
use serde_json::Value;

use super::archives::hostile_archives;
use super::{execute_body, execute_body_with, find_body};

const EXECUTE: &str = "/api/driver/lifecycle/execute";
const FIND: &str = "/api/driver/references/find";

/// The replica binary of resource drivers.
pub(super) const RESOURCE_REPLICA: &str = env!("CARGO_BIN_EXE_resource_replica");

/// The largest unpacked size of the process under test: small, so that a bomb past it is
/// quick to make in a debug build.
const MAX_SIZE: &str = "1MiB";

/// A resource driver process whose temporary directory is `<sandbox>/tmp`.
struct Sandboxed {
    replica: Replica,
    client: RawClient,
    sandbox: tempfile::TempDir,
    _config: tempfile::TempPath,
}

impl Sandboxed {
    /// Starts the replica binary with `yaml` (after `application.port: 0`) and
    /// `TMPDIR=<sandbox>/tmp`.
    async fn start(yaml: &str) -> Self {
        let sandbox = tempfile::Builder::new()
            .prefix("ignition-sandbox-")
            .tempdir()
            .expect("a sandbox");
        let tmp = sandbox.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let config = write_config(&format!("application:\n  port: 0\n{yaml}"));
        let tmpdir = tmp.to_str().expect("a UTF-8 path").to_string();
        let mut replica = Replica::spawn_with(
            RESOURCE_REPLICA,
            "sandboxed",
            &config,
            &[("TMPDIR", tmpdir.as_str())],
        );
        let client = replica.wait_ready().await;
        Self {
            replica,
            client,
            sandbox,
            _config: config,
        }
    }

    /// Every path under the sandbox but `tmp` itself, relative to it.
    fn contents(&self) -> Vec<String> {
        let mut found = Vec::new();
        walk(self.sandbox.path(), self.sandbox.path(), &mut found);
        found.retain(|path| path != "tmp");
        found
    }

    /// Asserts the sandbox holds nothing but the empty `tmp`.
    fn assert_clean(&self, context: &str) {
        assert_eq!(
            self.contents(),
            Vec::<String>::new(),
            "{context}: left behind"
        );
    }

    /// Waits up to 5 s for the sandbox to be clean; asserts it is.
    async fn assert_clean_soon(&self, context: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.contents().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.assert_clean(context);
    }

    /// How many calls reached the driver so far (its `resource-driver files` lines).
    fn driver_calls(&self) -> usize {
        self.replica
            .logs()
            .iter()
            .filter(|line| line.starts_with("resource-driver files "))
            .count()
    }

    /// The files the driver's last call found on disk (its last `resource-driver files`
    /// line: `<root> <file>,<file>`).
    fn last_files(&self) -> String {
        let logs = self.replica.logs();
        let line = logs
            .iter()
            .rev()
            .find_map(|line| line.strip_prefix("resource-driver files "))
            .unwrap_or_else(|| panic!("no call logged: {logs:?}"));
        line.split_once(' ')
            .map(|(_, files)| files)
            .unwrap_or_default()
            .to_string()
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.client.post(path, body).await.expect("an answer")
    }
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        found.push(relative);
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            walk(root, &path, found);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_archives_are_400_naming_the_entry_and_nothing_is_written_anywhere() {
    let server = Sandboxed::start(&format!(
        "resource_driver:\n  driver_files:\n    max_size: {MAX_SIZE}\n"
    ))
    .await;
    // An absolute entry aims at the sandbox itself, beside the temporary directory.
    let outside = server.sandbox.path().join("absolute-escape.txt");
    let outside = outside.to_str().unwrap().to_string();
    let archives = hostile_archives(&outside, 8 * 1024 * 1024);
    for hostile in &archives {
        for (path, body) in [
            (
                EXECUTE,
                execute_body_with("complete_after:0", &hostile.driver_files),
            ),
            (FIND, {
                let mut find = find_body("found");
                find["driverFiles"] = hostile.driver_files.clone().into();
                find
            }),
        ] {
            let (status, answer) = server.post(path, &body).await;
            assert_eq!(status, 400, "{}, {path}: {answer}", hostile.name);
            assert_eq!(answer["status"], 400, "{answer}");
            let message = answer["localizedMessage"].as_str().unwrap_or_default();
            for word in &hostile.says {
                assert!(
                    message.contains(word.as_str()),
                    "{}: `{word}` in {message}",
                    hostile.name
                );
            }
            server.assert_clean(hostile.name);
        }
    }
    assert!(!Path::new(&outside).exists());
    assert_eq!(server.driver_calls(), 0, "the driver was never called");
    // And the same process unpacks an honest archive into its TMPDIR.
    let (status, answer) = server
        .post(EXECUTE, &execute_body("complete_after:0"))
        .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(server.driver_calls(), 1);
    server.assert_clean("after an honest execute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_temporary_directory_is_left_behind_however_a_call_ends() {
    let server =
        Sandboxed::start("driver:\n  timeouts:\n    execute: 1500ms\n    find_reference: 1500ms\n")
            .await;

    // During a call, the files are in one private directory of the process's TMPDIR.
    let client = server.client.clone();
    let call = tokio::spawn(async move { client.post(EXECUTE, &execute_body("hold:700")).await });
    let deadline = Instant::now() + Duration::from_secs(5);
    let (during, mode) = loop {
        let contents = server.contents();
        let unpacked = contents
            .iter()
            .find(|p| p.starts_with("tmp/ignition-driver-files-") && p.matches('/').count() == 1);
        let mode = unpacked
            .and_then(|dir| std::fs::metadata(server.sandbox.path().join(dir)).ok())
            .map(|meta| std::os::unix::fs::PermissionsExt::mode(&meta.permissions()));
        let complete = contents.iter().any(|p| p.ends_with("/scripts/Install.sh"));
        if (complete && mode.is_some()) || Instant::now() > deadline {
            break (contents, mode);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let (status, _) = call.await.unwrap().expect("an answer");
    assert_eq!(status, 202);
    let dir = during.iter().find(|p| p.matches('/').count() == 1);
    let dir =
        dir.unwrap_or_else(|| panic!("no directory under TMPDIR during the call: {during:?}"));
    let mut expected: Vec<String> = [
        "",
        "/meta",
        "/meta/info.yaml",
        "/scripts",
        "/scripts/Install.sh",
    ]
    .iter()
    .map(|p| format!("{dir}{p}"))
    .collect();
    expected.sort();
    let mut during = during.clone();
    during.sort();
    assert_eq!(
        during, expected,
        "the request's files, in TMPDIR, and nothing else"
    );
    assert_eq!(
        mode.map(|m| m & 0o777),
        Some(0o700),
        "private to the driver's user"
    );
    server.assert_clean("after an answered call");

    for (path, body, status) in [
        (EXECUTE, execute_body("error:InvalidRequest"), 400),
        (EXECUTE, execute_body("error:Internal"), 500),
        (EXECUTE, execute_body("panic"), 500),
        (EXECUTE, execute_body("hold:5000"), 503),
        (FIND, find_body("found"), 200),
        (FIND, find_body("error:Temporary"), 503),
        (FIND, find_body("panic"), 500),
        (FIND, find_body("hold:5000"), 503),
    ] {
        let calls = server.driver_calls();
        let (answered, answer) = server.post(path, &body).await;
        assert_eq!(answered, status, "{path}: {answer}");
        assert_eq!(
            server.driver_calls(),
            calls + 1,
            "{path}: the driver was called"
        );
        assert_eq!(
            server.last_files(),
            "meta/info.yaml,scripts/Install.sh",
            "{path} answered {status}: the files were on disk during the call"
        );
        server.assert_clean(&format!("{path} answered {status}"));
    }

    // A client that goes away mid-call.
    for (path, body) in [
        (EXECUTE, execute_body("hold:400")),
        (FIND, find_body("hold:400")),
    ] {
        let gave_up = server
            .client
            .post_within(path, &body, Duration::from_millis(100))
            .await;
        assert!(gave_up.is_err(), "{gave_up:?}");
        server
            .assert_clean_soon(&format!("{path}: a client that went away"))
            .await;
    }
}
