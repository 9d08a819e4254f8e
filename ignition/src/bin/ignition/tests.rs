//! The generator: names, options, what it writes, and what it refuses.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use generate::render_all;

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ignition-new-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

fn options(line: &str) -> Options {
    parse_new(&args(line)).unwrap().unwrap()
}

/// The rendered file at `path`.
fn file<'a>(files: &'a [(&str, String)], path: &str) -> &'a str {
    &files
        .iter()
        .find(|(p, _)| *p == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .1
}

fn yaml(text: &str) -> serde_yaml::Value {
    serde_yaml::from_str(text).unwrap_or_else(|error| panic!("{error}:\n{text}"))
}

/// The workspace's checkout of the `ignition` crate.
fn ignition_crate() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const FILES: &[&str] = &[
    "Cargo.toml",
    "src/lib.rs",
    "src/memory.rs",
    "src/main.rs",
    "tests/lifecycle.rs",
    "tests/health_check.rs",
    "config.yml",
    "README.md",
    "Dockerfile",
    ".dockerignore",
    ".gitignore",
    "deploy/deployment.yaml",
    "deploy/configmap.yaml",
    "deploy/service.yaml",
    "deploy/optional/hpa.yaml",
];

#[test]
fn every_template_renders_completely_with_and_without_each_flag() {
    let local = format!("cloud-driver --path {}", ignition_crate().display());
    for line in [
        "cloud-driver",
        "cloud-driver --kafka",
        &local,
        &format!("{local} --kafka"),
    ] {
        let files = render_all(&options(line));
        let paths: Vec<&str> = files.iter().map(|(path, _)| *path).collect();
        assert_eq!(paths, FILES, "{line}");
        for (path, text) in &files {
            assert!(
                !text.contains("{{"),
                "{line}: {path} keeps a placeholder:\n{text}"
            );
            assert!(
                !text.contains("}}"),
                "{line}: {path} keeps a placeholder:\n{text}"
            );
            assert!(
                text.ends_with('\n'),
                "{line}: {path} lacks its last newline"
            );
        }
    }
}

#[test]
fn the_names_reach_every_file_that_needs_them() {
    let files = render_all(&options("openstack-driver --port 8123"));
    let lib = file(&files, "src/lib.rs");
    assert!(lib.contains("pub const APP_NAME: &str = \"Openstack Driver\";"));
    assert!(lib.contains("pub const CONFIG_ENV: &str = \"OPENSTACK_DRIVER_CONFIG\";"));
    assert!(lib.contains("pub const CONFIG_SECTION: &str = \"openstack_driver\";"));
    assert!(lib.contains("pub struct OpenstackDriver {"));
    assert!(lib.contains("impl OpenstackDriver {"));
    assert!(file(&files, "src/main.rs").contains("use openstack_driver::{app, CONFIG_ENV};"));
    assert!(
        file(&files, "tests/health_check.rs").contains("env!(\"CARGO_BIN_EXE_openstack-driver\")")
    );

    let config = yaml(file(&files, "config.yml"));
    assert_eq!(config["application"]["port"], 8123);
    assert_eq!(config["openstack_driver"]["polls_in_progress"], 1);

    let deployment = yaml(file(&files, "deploy/deployment.yaml"));
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["ports"][0]["containerPort"], 8123);
    assert_eq!(container["env"][0]["name"], "OPENSTACK_DRIVER_CONFIG");
    assert_eq!(
        container["env"][0]["value"],
        "/var/openstack-driver/config/config.yml"
    );
    assert_eq!(
        container["volumeMounts"][0]["mountPath"],
        "/var/openstack-driver/config"
    );
    assert_eq!(
        container["volumeMounts"][1]["mountPath"],
        "/var/openstack-driver/tls"
    );
    for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
        assert_eq!(
            container[probe]["httpGet"]["path"], "/management/health",
            "{probe}"
        );
    }
    let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[0]["configMap"]["name"], "openstack-driver-config");
    assert_eq!(volumes[1]["secret"]["secretName"], "openstack-driver-tls");

    let configmap = yaml(file(&files, "deploy/configmap.yaml"));
    assert_eq!(configmap["metadata"]["name"], "openstack-driver-config");
    let deployed = yaml(configmap["data"]["config.yml"].as_str().unwrap());
    assert_eq!(deployed["application"]["port"], 8123);
    assert_eq!(
        deployed["application"]["ssl"]["cert_dir"],
        "/var/openstack-driver/tls"
    );
    assert_eq!(deployed["application"]["ssl"]["enabled"], false);

    let dockerfile = file(&files, "Dockerfile");
    assert!(dockerfile.contains("EXPOSE 8123\n"));
    assert!(dockerfile.contains("ENTRYPOINT [\"/app/openstack-driver\"]\n"));
    assert!(dockerfile.contains(
        "CMD [\"/app/openstack-driver\", \"--health-check\", \
         \"http://127.0.0.1:8123/management/health\"]"
    ));
    let service = yaml(file(&files, "deploy/service.yaml"));
    assert_eq!(service["spec"]["ports"][0]["port"], 8123);
}

#[test]
fn kafka_adds_messaging_and_what_goes_with_it() {
    let without = render_all(&options("cloud-driver"));
    let with = render_all(&options("cloud-driver --kafka"));

    let config = yaml(file(&without, "config.yml"));
    assert!(config.get("messaging").is_none(), "{config:?}");
    let config = yaml(file(&with, "config.yml"));
    assert_eq!(config["messaging"]["connection_address"], "localhost:9092");
    assert_eq!(
        config["messaging"]["topics"]["infrastructure_task_events"]["name"],
        "lm_vim_infrastructure_task_events"
    );
    assert_eq!(
        config["messaging"]["topics"]["job_queue"]["name"],
        "Cloud_Driver"
    );
    assert_eq!(config["job_queue"]["consumer_group_id"], "cloud-driver");

    let deployed = |files: &[(&str, String)]| {
        let configmap = yaml(file(files, "deploy/configmap.yaml"));
        yaml(configmap["data"]["config.yml"].as_str().unwrap())
    };
    assert!(deployed(&without).get("messaging").is_none());
    let messaging = &deployed(&with)["messaging"];
    assert_eq!(messaging["connection_address"], "kafka:9092");
    assert_eq!(messaging["spool_dir"], "/var/cloud-driver/spool");

    let spec =
        |files: &[(&str, String)]| yaml(file(files, "deploy/deployment.yaml"))["spec"].clone();
    assert_eq!(spec(&without)["replicas"], 1);
    assert_eq!(spec(&with)["replicas"], 2);
    let volumes = |files: &[(&str, String)]| {
        spec(files)["template"]["spec"]["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|volume| volume["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(volumes(&without), ["config", "tls"]);
    assert_eq!(volumes(&with), ["config", "tls", "spool"]);
}

#[test]
fn ignition_is_the_published_version_or_the_local_checkout() {
    let files = render_all(&options("cloud-driver"));
    let manifest = file(&files, "Cargo.toml");
    let version = env!("CARGO_PKG_VERSION");
    assert!(manifest.contains(&format!("\nignition = {{ version = \"{version}\" }}\n")));
    assert!(manifest.contains(&format!(
        "\nignition = {{ version = \"{version}\", features = [\"testing\"] }}\n"
    )));
    assert!(manifest
        .contains("\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n"));
    assert!(!file(&files, "README.md").contains("local checkout"));

    // The crate's directory and the workspace's both name the crate.
    let crate_dir = ignition_crate().canonicalize().unwrap();
    for given in [ignition_crate(), ignition_crate().join("..")] {
        let files = render_all(&options(&format!(
            "cloud-driver --path {}",
            given.display()
        )));
        let manifest = file(&files, "Cargo.toml");
        let path = crate_dir.display();
        assert!(manifest.contains(&format!("\nignition = {{ path = \"{path}\" }}\n")));
        assert!(manifest.contains(&format!(
            "\nignition = {{ path = \"{path}\", features = [\"testing\"] }}\n"
        )));
        assert!(file(&files, "README.md").contains("local checkout"));
    }
}

#[test]
fn a_path_without_the_ignition_crate_is_refused() {
    let empty = TempDir::new();
    for dir in [
        empty.0.clone(),
        ignition_crate().join("src"),
        empty.0.join("missing"),
    ] {
        let error = parse_new(&args(&format!("cloud-driver --path {}", dir.display())))
            .expect_err("no ignition crate");
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("no `ignition` crate there"),
            "{error}"
        );
    }
    // Another package's manifest is not ignition's.
    let other = TempDir::new();
    fs::write(
        other.0.join("Cargo.toml"),
        "[package]\nname = \"ignition-macros\"\n",
    )
    .unwrap();
    assert!(parse_new(&args(&format!("x-driver --path {}", other.0.display()))).is_err());
}

#[test]
fn options_are_parsed_and_wrong_ones_refused_with_exit_code_2() {
    let parsed = options("cloud-driver");
    assert_eq!((parsed.port, parsed.kafka), (7777, false));
    assert_eq!(parsed.dir, PathBuf::from("cloud-driver"));
    assert_eq!(parsed.ignition, IgnitionSource::published());
    let parsed = options("--kafka --port=9000 cloud-driver --dir out/here");
    assert_eq!((parsed.port, parsed.kafka), (9000, true));
    assert_eq!(parsed.dir, PathBuf::from("out/here"));
    assert!(parse_new(&args("cloud-driver --help")).unwrap().is_none());

    for (line, message) in [
        ("", "a NAME is needed"),
        ("Cloud", "invalid driver name `Cloud`"),
        ("cloud-driver other", "one NAME only"),
        ("cloud-driver --port", "--port needs a value"),
        ("cloud-driver --port 0", "not a port"),
        ("cloud-driver --port 70000", "not a port"),
        ("cloud-driver --port x", "not a port"),
        ("cloud-driver --kafka=yes", "unknown option"),
        ("cloud-driver --force", "unknown option `--force`"),
    ] {
        let error = parse_new(&args(line)).expect_err(line);
        assert_eq!(error.exit_code(), 2, "{line}");
        assert!(error.to_string().contains(message), "{line}: {error}");
    }
    let error = run(&args("create cloud-driver")).expect_err("unknown command");
    assert_eq!(error.exit_code(), 2);
}

#[test]
fn generate_writes_every_file_into_a_new_directory() {
    let temp = TempDir::new();
    let dir = temp.0.join("nested/cloud-driver");
    let mut options = options("cloud-driver --kafka");
    options.dir = dir.clone();
    let written = generate::generate(&options).unwrap();
    let expected: Vec<PathBuf> = FILES.iter().map(|path| dir.join(path)).collect();
    assert_eq!(written, expected);
    for (path, text) in render_all(&options) {
        assert_eq!(fs::read_to_string(dir.join(path)).unwrap(), text, "{path}");
    }
}

#[test]
fn generate_refuses_an_existing_directory_and_leaves_it_alone() {
    let temp = TempDir::new();
    for existing in ["empty", "full"] {
        let dir = temp.0.join(existing);
        fs::create_dir(&dir).unwrap();
        if existing == "full" {
            fs::write(dir.join("Cargo.toml"), "mine").unwrap();
        }
        let mut options = options("cloud-driver");
        options.dir = dir.clone();
        let error = generate::generate(&options).expect_err("exists");
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("exists already"), "{error}");
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        match existing {
            "empty" => assert!(left.is_empty(), "{left:?}"),
            _ => {
                assert_eq!(left, ["Cargo.toml"]);
                assert_eq!(fs::read_to_string(dir.join("Cargo.toml")).unwrap(), "mine");
            }
        }
    }
    // A file in the way is refused the same way.
    let file = temp.0.join("a-file");
    fs::write(&file, "x").unwrap();
    let mut options = options("cloud-driver");
    options.dir = file;
    assert_eq!(generate::generate(&options).unwrap_err().exit_code(), 2);
}

#[test]
fn the_dockerfile_builds_with_the_workspace_toolchain() {
    // rust-toolchain.toml is beside the workspace, not in the published crate.
    let toolchain = ignition_crate().join("../rust-toolchain.toml");
    let Ok(text) = fs::read_to_string(&toolchain) else {
        return;
    };
    let channel = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("channel = "))
        .map(|value| value.trim_matches('"'))
        .expect("a channel");
    let minor: Vec<&str> = channel.split('.').take(2).collect();
    let files = render_all(&options("cloud-driver"));
    let image = format!("FROM rust:{}-trixie AS build\n", minor.join("."));
    assert!(file(&files, "Dockerfile").contains(&image), "want {image}");
}

#[test]
fn the_generated_rust_is_formatted() {
    // rustfmt is part of the pinned toolchain; skip where it is not installed.
    let temp = TempDir::new();
    let files = render_all(&options("cloud-driver"));
    let mut sources = Vec::new();
    for (path, text) in files.iter().filter(|(path, _)| path.ends_with(".rs")) {
        let target = temp.0.join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(&target, text).unwrap();
        sources.push(target);
    }
    let Ok(output) = std::process::Command::new("rustfmt")
        .args(["--check", "--edition", "2021"])
        .args(&sources)
        .output()
    else {
        return;
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
