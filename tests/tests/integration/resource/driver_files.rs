//! A request's `driverFiles` in a driver in this process: kept as long as the driver keeps
//! them, and unpacked within the configured limits. That they are on disk during a call
//! and gone after it however it ends, hostile archives, and the temporary directory as a
//! whole: `process.rs`, in a process with a `TMPDIR` of its own.

use std::time::{Duration, Instant};

use ignition::testing::DriverFilesBuilder;
use ignition_tests::resource_driver::resource_app;

use super::{execute_body_with, ResourceServer, WAIT};

const EXECUTE: &str = "/api/driver/lifecycle/execute";

/// Waits up to 5 s for `path` to be gone; whether it went.
async fn gone(path: &std::path::Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while path.exists() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[tokio::test]
async fn a_driver_that_keeps_its_files_has_them_until_it_drops_them() {
    let server = ResourceServer::start().await;
    let rid = server.execute_id("keep:800").await;
    let answered = Instant::now();
    let seen = server.log.last_named("keep:800").expect("called");
    assert!(
        seen.root.join("scripts/Install.sh").is_file(),
        "still there after the answer: the driver holds them"
    );
    assert!(
        gone(&seen.root).await,
        "removed once the driver dropped them"
    );
    assert!(
        answered.elapsed() >= Duration::from_millis(600),
        "not before the driver dropped them ({:?})",
        answered.elapsed()
    );
    let event = server.app.wait_for_execution(&rid, WAIT).await.unwrap();
    assert_eq!(event.outputs["lifecycle"], "keep:800");
    server.shutdown().await;
}

#[tokio::test]
async fn the_configured_limits_bound_what_is_unpacked() {
    let (app, log) = resource_app();
    let app = app
        .property("resource_driver.driver_files.max_entries", 3)
        .property("resource_driver.driver_files.max_size", "1KiB");
    let server = ResourceServer::start_app(app, log).await;
    let calls = server.log.seen().len();
    let too_many = DriverFilesBuilder::new()
        .file("a", "1")
        .file("b", "2")
        .file("c/d", "3")
        .to_base64();
    let too_large = DriverFilesBuilder::new()
        .file("scripts/big.bin", vec![b'x'; 1025])
        .to_base64();
    for (files, says) in [
        (too_many, "resource_driver.driver_files.max_entries"),
        (too_large, "resource_driver.driver_files.max_size"),
    ] {
        let (status, answer) = server
            .post(EXECUTE, &execute_body_with("complete_after:0", &files))
            .await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["localizedMessage"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(message.contains("entry `"), "names the entry: {message}");
    }
    assert_eq!(server.log.seen().len(), calls, "the driver was not called");
    // At both limits: accepted (`a`, `b` and `b/c` are 3 entries, of 1024 bytes).
    let at_limits = DriverFilesBuilder::new()
        .file("a", "1")
        .file("b/c", vec![b'x'; 1023])
        .to_base64();
    let (status, answer) = server
        .post(EXECUTE, &execute_body_with("complete_after:0", &at_limits))
        .await;
    assert_eq!(status, 202, "{answer}");
    server.shutdown().await;
}
