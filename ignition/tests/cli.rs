//! The `ignition` binary as a user runs it: exit codes and messages of `ignition new`.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn ignition(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ignition"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ignition runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh, empty working directory.
fn workdir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{test}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn new_creates_the_project_in_a_directory_named_after_it() {
    let dir = workdir("creates");
    let output = ignition(&["new", "openstack-driver", "--kafka"], &dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Created openstack-driver (17 files"),
        "{stdout}"
    );
    // Ignition from the clone this binary was built from: this repository.
    assert!(stdout.contains("vendored from"), "{stdout}");
    assert!(dir
        .join("openstack-driver/vendor/ignition-rs/ignition/Cargo.toml")
        .is_file());
    let config = fs::read_to_string(dir.join("openstack-driver/config.yml")).unwrap();
    assert!(
        config.contains("connection_address: localhost:9092"),
        "{config}"
    );
    assert!(dir
        .join("openstack-driver/deploy/optional/hpa.yaml")
        .is_file());
}

#[test]
fn new_refuses_an_existing_directory_with_exit_code_2() {
    let dir = workdir("exists");
    fs::create_dir(dir.join("cloud-driver")).unwrap();
    let output = ignition(&["new", "cloud-driver"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cloud-driver exists already"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_dir(dir.join("cloud-driver")).unwrap().count(), 0);

    let output = ignition(&["new", "other-driver", "--dir", "cloud-driver"], &dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("exists already"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn wrong_names_and_options_exit_with_code_2_and_say_why() {
    let dir = workdir("wrong");
    for (args, message) in [
        (&["new"][..], "a NAME is needed"),
        (
            &["new", "Cloud_Driver"],
            "invalid driver name `Cloud_Driver`: `C` is not allowed",
        ),
        (
            &["new", "driver"],
            "section of the framework's configuration",
        ),
        (
            &["new", "cloud-driver", "--port", "0"],
            "--port 0: not a port",
        ),
        (
            &["new", "cloud-driver", "--path", "."],
            "no `ignition` crate there",
        ),
        (
            &["new", "cloud-driver", "--bogus"],
            "unknown option `--bogus`",
        ),
        (
            &["new", "cloud-driver", "--kind", "cloud"],
            "--kind cloud: not a kind of driver (vim or resource)",
        ),
        (
            &["new", "cloud-driver", "--from", "/"],
            "not a clone of Ignition's repository",
        ),
        (&["vendor", "--dir", "."], "no Cargo.toml there"),
        (&["generate"], "unknown command `generate`"),
    ] {
        let output = ignition(args, &dir);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
}

#[test]
fn vendor_upgrades_the_copy_in_a_generated_project() {
    let dir = workdir("vendor");
    let output = ignition(&["new", "script-driver", "--kind", "resource"], &dir);
    assert!(output.status.success(), "{}", stderr(&output));
    let project = dir.join("script-driver");
    let lib = fs::read_to_string(project.join("src/lib.rs")).unwrap();
    assert!(lib.contains("#[resource_driver]"), "{lib}");
    let vendored = project.join("vendor/ignition-rs/ignition/src/lib.rs");
    fs::remove_file(&vendored).unwrap();

    let output = ignition(&["vendor"], &project);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Next: cargo test"), "{stdout}");
    assert!(vendored.is_file(), "the copy is whole again");
}

#[test]
fn help_prints_the_usage() {
    let dir = workdir("help");
    for args in [&["--help"][..], &["new", "--help"]] {
        let output = ignition(args, &dir);
        assert!(output.status.success());
        assert!(String::from_utf8_lossy(&output.stdout).starts_with("usage: ignition new NAME"));
    }
}
