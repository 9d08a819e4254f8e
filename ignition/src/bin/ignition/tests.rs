//! The generator: names, options, what it writes, and what it refuses.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use generate::render_all;
use source::{point_at_vendor, workspace_manifest, FRAMEWORK_CRATES, VENDOR_DIR};

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

/// The configuration a project deploys: the ConfigMap's `config.yml`.
fn deployed(files: &[(&str, String)]) -> serde_yaml::Value {
    let configmap = yaml(file(files, "deploy/configmap.yaml"));
    yaml(configmap["data"]["config.yml"].as_str().unwrap())
}

/// The pod template's spec of the Deployment.
fn pod(files: &[(&str, String)]) -> serde_yaml::Value {
    yaml(file(files, "deploy/deployment.yaml"))["spec"]["template"]["spec"].clone()
}

/// The workspace's checkout of the `ignition` crate.
fn ignition_crate() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of every project, in order; `--kafka` adds [`KAFKA_FILES`].
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

/// What `--kafka` adds.
const KAFKA_FILES: &[&str] = &["deploy/pdb.yaml", "deploy/secrets/kafka.yaml"];

#[test]
fn every_template_renders_completely_for_every_kind_and_option() {
    let local = format!("--path {}", ignition_crate().display());
    for kind in ["vim", "resource"] {
        for extra in ["", "--kafka", &local, &format!("{local} --kafka")] {
            let line = format!("cloud-driver --kind {kind} {extra}");
            let files = render_all(&options(&line));
            let mut paths: Vec<&str> = files.iter().map(|(path, _)| *path).collect();
            paths.sort_unstable();
            let mut expected = FILES.to_vec();
            if line.contains("--kafka") {
                expected.extend(KAFKA_FILES);
            }
            expected.sort_unstable();
            assert_eq!(paths, expected, "{line}");
            for (path, text) in &files {
                // (`}}` alone is no placeholder: JSON in the README closes objects so.)
                assert!(
                    !text.contains("{{"),
                    "{line}: {path} keeps a placeholder:\n{text}"
                );
                assert!(
                    text.ends_with('\n'),
                    "{line}: {path} lacks its last newline"
                );
                if path.ends_with(".yaml") || path.ends_with(".yml") {
                    yaml(text);
                }
            }
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
    assert!(lib.contains("#[vim_driver]\nimpl OpenstackDriver {"));
    assert!(file(&files, "src/main.rs").contains("use openstack_driver::{app, CONFIG_ENV};"));
    assert!(
        file(&files, "tests/health_check.rs").contains("env!(\"CARGO_BIN_EXE_openstack-driver\")")
    );
    assert!(file(&files, "Cargo.toml").contains("\nname = \"openstack-driver\"\n"));

    let config = yaml(file(&files, "config.yml"));
    assert_eq!(config["application"]["port"], 8123);
    assert_eq!(config["openstack_driver"]["polls_in_progress"], 1);

    let pod = pod(&files);
    let container = &pod["containers"][0];
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
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        "openstack-driver-config"
    );
    assert_eq!(
        pod["volumes"][1]["secret"]["secretName"],
        "openstack-driver-tls"
    );

    let configmap = yaml(file(&files, "deploy/configmap.yaml"));
    assert_eq!(configmap["metadata"]["name"], "openstack-driver-config");
    let deployed = deployed(&files);
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
         \"http://127.0.0.1:8123/management/health/liveness\"]"
    ));
    let service = yaml(file(&files, "deploy/service.yaml"));
    assert_eq!(service["spec"]["ports"][0]["port"], 8123);
}

#[test]
fn probes_ask_liveness_and_readiness_and_the_grace_period_covers_the_longest_shutdown() {
    for (line, grace) in [("cloud-driver", 75), ("cloud-driver --kafka", 120)] {
        let files = render_all(&options(line));
        let pod = pod(&files);
        let container = &pod["containers"][0];
        for (probe, path) in [
            ("startupProbe", "/management/health/liveness"),
            ("livenessProbe", "/management/health/liveness"),
            ("readinessProbe", "/management/health/readiness"),
        ] {
            assert_eq!(container[probe]["httpGet"]["path"], path, "{line}: {probe}");
            assert_eq!(
                container[probe]["httpGet"]["port"], "http",
                "{line}: {probe}"
            );
        }
        assert_eq!(pod["terminationGracePeriodSeconds"], grace, "{line}");
        // The sum written above it is below the grace period.
        let manifest = file(&files, "deploy/deployment.yaml");
        let sum: u64 = manifest
            .lines()
            .find_map(|line| line.trim().strip_prefix("# = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{line}: no `# = N s` sum:\n{manifest}"));
        let terms: u64 = manifest
            .lines()
            .filter_map(|line| line.trim().strip_prefix("#"))
            .map(str::trim_start)
            .filter(|line| line.starts_with("+ ") || line.starts_with("application.shutdown_grace"))
            .map(|line| {
                let seconds = line.split(" s ").next().unwrap_or_default();
                seconds
                    .split_whitespace()
                    .last()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            })
            .sum();
        assert_eq!(terms, sum, "{line}: the terms add up to the sum");
        assert!(sum < grace, "{line}: {sum} s must fit in {grace} s");
    }
}

#[test]
fn the_root_filesystem_is_read_only_but_for_an_empty_tmp() {
    for line in ["cloud-driver", "cloud-driver --kind resource --kafka"] {
        let files = render_all(&options(line));
        let pod = pod(&files);
        let container = &pod["containers"][0];
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        let mount = container["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|mount| mount["mountPath"] == "/tmp")
            .unwrap_or_else(|| panic!("{line}: no /tmp"));
        assert!(mount.get("readOnly").is_none(), "{line}");
        let volume = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|volume| volume["name"] == mount["name"])
            .unwrap();
        assert!(volume["emptyDir"].is_mapping(), "{line}: {volume:?}");
    }
}

#[test]
fn kafka_adds_messaging_its_credentials_a_disruption_budget_and_spread() {
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

    assert!(deployed(&without).get("messaging").is_none());
    let messaging = &deployed(&with)["messaging"];
    assert_eq!(messaging["connection_address"], "kafka:9092");
    assert_eq!(messaging["spool_dir"], "/var/cloud-driver/spool");
    // The password is read from the mounted Secret, never written in the ConfigMap.
    assert_eq!(
        messaging["config"]["sasl.password"],
        "${file:/var/cloud-driver/kafka/sasl-password}"
    );
    let secret = yaml(file(&with, "deploy/secrets/kafka.yaml"));
    assert_eq!(secret["kind"], "Secret");
    assert_eq!(secret["metadata"]["name"], "cloud-driver-kafka");
    assert!(secret["stringData"]["sasl-password"].is_string());

    let deployment =
        |files: &[(&str, String)]| yaml(file(files, "deploy/deployment.yaml"))["spec"].clone();
    assert_eq!(deployment(&without)["replicas"], 1);
    assert_eq!(deployment(&with)["replicas"], 2);
    let names = |files: &[(&str, String)], list: &str| {
        pod(files)[list]
            .as_sequence()
            .map(|items| {
                items
                    .iter()
                    .map(|item| item["name"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&without, "volumes"), ["config", "tls", "tmp"]);
    assert_eq!(
        names(&with, "volumes"),
        ["config", "tls", "tmp", "kafka", "spool"]
    );
    let volumes = pod(&with)["volumes"].clone();
    assert_eq!(volumes[3]["secret"]["secretName"], "cloud-driver-kafka");
    let mounts = &pod(&with)["containers"][0]["volumeMounts"];
    assert_eq!(mounts[3]["mountPath"], "/var/cloud-driver/kafka");

    assert!(pod(&without).get("topologySpreadConstraints").is_none());
    let spread = pod(&with)["topologySpreadConstraints"].clone();
    let keys: Vec<&str> = spread
        .as_sequence()
        .unwrap()
        .iter()
        .map(|constraint| {
            assert_eq!(
                constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/name"],
                "cloud-driver"
            );
            constraint["topologyKey"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        keys,
        ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    );

    let pdb = yaml(file(&with, "deploy/pdb.yaml"));
    assert_eq!(pdb["kind"], "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "cloud-driver"
    );
}

#[test]
fn a_resource_driver_serves_the_resource_driver_api() {
    let files = render_all(&options(
        "script-driver --kind resource --kafka --port 8300",
    ));
    let lib = file(&files, "src/lib.rs");
    assert!(
        lib.contains("#[resource_driver]\nimpl ScriptDriver {"),
        "{lib}"
    );
    assert!(
        lib.contains("driver_files.read_to_string(TEMPLATE_FILE)?"),
        "{lib}"
    );
    assert!(!lib.contains("vim_driver"), "{lib}");
    let tests = file(&files, "tests/lifecycle.rs");
    assert!(tests.contains("DriverFilesBuilder::new()"), "{tests}");
    assert!(
        tests.contains(".wait_for_execution(&accepted.request_id, WAIT)"),
        "{tests}"
    );
    assert!(file(&files, "Cargo.toml").contains("a resource driver for LM"));

    let config = yaml(file(&files, "config.yml"));
    let topics = &config["messaging"]["topics"];
    assert_eq!(
        topics["lifecycle_execution_events"]["name"],
        "lm_vnfc_lifecycle_execution_events"
    );
    assert!(topics.get("infrastructure_task_events").is_none());
    assert_eq!(
        deployed(&files)["messaging"]["topics"]["lifecycle_execution_events"]["name"],
        "lm_vnfc_lifecycle_execution_events"
    );
    let readme = file(&files, "README.md");
    assert!(
        readme.contains("http://localhost:8300/api/driver/ui"),
        "{readme}"
    );
    assert!(readme.contains("zip -q -r - . | base64 -w0"), "{readme}");
    assert!(
        readme.contains("localhost:8300/api/driver/lifecycle/execute"),
        "{readme}"
    );
}

#[test]
fn ignition_is_vendored_or_a_checkout_in_place() {
    let files = render_all(&options("cloud-driver"));
    let manifest = file(&files, "Cargo.toml");
    assert!(manifest.contains("\nignition = { path = \"vendor/ignition-rs/ignition\" }\n"));
    assert!(manifest.contains(
        "\nignition = { path = \"vendor/ignition-rs/ignition\", features = [\"testing\"] }\n"
    ));
    assert!(manifest
        .contains("\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n"));
    // A workspace of its own, wherever it is generated.
    assert!(
        manifest.ends_with("\n[workspace]\nexclude = [\"vendor\"]\n"),
        "{manifest}"
    );
    assert!(file(&files, "Dockerfile").contains("\nCOPY vendor ./vendor\n"));
    assert!(file(&files, ".dockerignore").contains("\n!vendor/\n"));
    assert!(file(&files, "README.md").contains("`vendor/ignition-rs/` is a copy"));

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
        assert!(file(&files, "README.md").contains("run `ignition vendor` here"));
    }
}

#[test]
fn a_path_without_the_ignition_crate_or_a_clone_without_it_is_refused() {
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
    // A directory outside any clone, or none.
    for dir in [empty.0.clone(), empty.0.join("missing")] {
        let error = parse_new(&args(&format!("cloud-driver --from {}", dir.display())))
            .expect_err("no clone");
        assert_eq!(error.exit_code(), 2);
        assert!(
            error
                .to_string()
                .contains("not a clone of Ignition's repository"),
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
    assert_eq!(parsed.kind, Kind::Vim);
    assert_eq!(parsed.dir, PathBuf::from("cloud-driver"));
    let clone = ignition_crate().parent().unwrap().canonicalize().unwrap();
    assert_eq!(parsed.ignition, IgnitionSource::Clone(clone.clone()));
    let parsed = options(&format!(
        "--kafka --port=9000 cloud-driver --dir out/here --kind=resource --from {}",
        ignition_crate().display()
    ));
    assert_eq!((parsed.port, parsed.kafka), (9000, true));
    assert_eq!(parsed.kind, Kind::Resource);
    assert_eq!(parsed.dir, PathBuf::from("out/here"));
    assert_eq!(parsed.ignition, IgnitionSource::Clone(clone));
    assert!(parse_new(&args("cloud-driver --help")).unwrap().is_none());

    let both = format!(
        "cloud-driver --path {0} --from {0}",
        ignition_crate().display()
    );
    for (line, message) in [
        ("", "a NAME is needed"),
        ("Cloud", "invalid driver name `Cloud`"),
        ("cloud-driver other", "one NAME only"),
        ("cloud-driver --port", "--port needs a value"),
        ("cloud-driver --port 0", "not a port"),
        ("cloud-driver --port 70000", "not a port"),
        ("cloud-driver --port x", "not a port"),
        (
            "cloud-driver --kind cloud",
            "--kind cloud: not a kind of driver",
        ),
        ("cloud-driver --kafka=yes", "unknown option"),
        ("cloud-driver --force", "unknown option `--force`"),
        (&both, "--path and --from exclude each other"),
    ] {
        let error = parse_new(&args(line)).expect_err(line);
        assert_eq!(error.exit_code(), 2, "{line}");
        assert!(error.to_string().contains(message), "{line}: {error}");
    }
    let error = run(&args("create cloud-driver")).expect_err("unknown command");
    assert_eq!(error.exit_code(), 2);
    let error = run(&args("vendor extra")).expect_err("no argument");
    assert!(error.to_string().contains("takes options only"), "{error}");
    let error = run(&args("vendor --kafka")).expect_err("not an option of vendor");
    assert!(
        error.to_string().contains("unknown option `--kafka`"),
        "{error}"
    );
}

#[test]
fn generate_writes_every_file_and_vendors_ignition_with_its_lock() {
    let temp = TempDir::new();
    let dir = temp.0.join("nested/cloud-driver");
    let mut options = options("cloud-driver --kafka");
    options.dir = dir.clone();
    let generated = generate::generate(&options).unwrap();
    let written: Vec<PathBuf> = render_all(&options)
        .iter()
        .map(|(path, _)| dir.join(path))
        .collect();
    assert_eq!(generated.written, written);
    for (path, text) in render_all(&options) {
        assert_eq!(fs::read_to_string(dir.join(path)).unwrap(), text, "{path}");
    }
    assert!(
        generated.ignition.contains("vendored from"),
        "{}",
        generated.ignition
    );

    // The framework's crates, as committed, under a workspace of their own.
    let vendor = dir.join(VENDOR_DIR);
    for name in FRAMEWORK_CRATES {
        let committed = git_show(&format!("HEAD:{name}/Cargo.toml"));
        let vendored = fs::read_to_string(vendor.join(name).join("Cargo.toml")).unwrap();
        assert_eq!(vendored, committed, "{name}");
        assert!(vendor.join(name).join("src/lib.rs").is_file(), "{name}");
    }
    let root = fs::read_to_string(vendor.join("Cargo.toml")).unwrap();
    assert!(
        root.contains("\nmembers = [\"ignition\", \"ignition-macros\", \"ignition-openapi\"]\n")
    );
    assert!(root.contains("\n[workspace.dependencies]\n"), "{root}");
    let readme = fs::read_to_string(dir.join("vendor/README.md")).unwrap();
    let head = String::from_utf8(
        std::process::Command::new("git")
            .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(readme.contains(head.trim()), "{readme}");
    // The lock Ignition is tested with, fitted to the project: its versions, the
    // project's package in, the workspace's own packages out.
    let packages = |lock: &str| -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut lines = lock.lines();
        while let Some(line) = lines.next() {
            if line == "[[package]]" {
                let name = lines.next().unwrap().strip_prefix("name = ").unwrap();
                let version = lines.next().unwrap().strip_prefix("version = ").unwrap();
                found.push((
                    name.trim_matches('"').into(),
                    version.trim_matches('"').into(),
                ));
            }
        }
        found
    };
    let framework = packages(&git_show("HEAD:Cargo.lock"));
    let project = packages(&fs::read_to_string(dir.join("Cargo.lock")).unwrap());
    assert!(project.contains(&("cloud-driver".into(), "0.1.0".into())));
    assert!(project.contains(&(
        "poem".into(),
        framework.iter().find(|p| p.0 == "poem").unwrap().1.clone()
    )));
    assert!(
        !project.iter().any(|(name, _)| name == "ignition-tests"),
        "pruned"
    );
    for package in project.iter().filter(|(name, _)| name != "cloud-driver") {
        assert!(
            framework.contains(package),
            "{package:?} is not in Ignition's lock"
        );
    }
    // (A note may follow on a line of its own when this checkout has uncommitted changes.)
    assert!(
        generated
            .ignition
            .lines()
            .next()
            .unwrap()
            .ends_with(", with its Cargo.lock"),
        "{}",
        generated.ignition
    );
}

/// `git show SPEC` in this repository.
fn git_show(spec: &str) -> String {
    let output = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "show", spec])
        .output()
        .unwrap();
    assert!(output.status.success(), "git show {spec}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_clone_is_vendored_as_committed_and_its_uncommitted_changes_are_named() {
    let temp = TempDir::new();
    let clone = temp.0.join("ignition-rs");
    let status = std::process::Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(ignition_crate().parent().unwrap())
        .arg(&clone)
        .status()
        .unwrap();
    assert!(status.success());
    let edited = clone.join("ignition/src/lib.rs");
    let committed = fs::read_to_string(&edited).unwrap();
    fs::write(&edited, format!("{committed}\n// not committed\n")).unwrap();

    let dir = temp.0.join("cloud-driver");
    let mut options = options(&format!("cloud-driver --from {}", clone.display()));
    options.dir = dir.clone();
    assert_eq!(
        options.ignition,
        IgnitionSource::Clone(clone.canonicalize().unwrap())
    );
    let generated = generate::generate(&options).unwrap();
    assert!(
        generated.ignition.contains("has uncommitted changes"),
        "{}",
        generated.ignition
    );
    let vendored = fs::read_to_string(dir.join(VENDOR_DIR).join("ignition/src/lib.rs")).unwrap();
    assert_eq!(vendored, committed);
}

#[test]
fn the_vendored_workspace_keeps_the_shared_tables_and_lists_only_the_vendored_crates() {
    let root = "\
# the workspace
[workspace]
resolver = \"2\"
members = [
  \"ignition\",
  \"tests\",
]
exclude = [\"fuzz\"]

[workspace.package]
version = \"0.1.0\"

[workspace.dependencies]
ignition = { path = \"ignition\", version = \"0.1.0\" }
tokio = { version = \"1\", features = [
  \"rt\",
] }

[profile.release]
debug = true

[workspace.lints.rust] # lints
unsafe_code = \"forbid\"
";
    let manifest = workspace_manifest(root, "0123abcd");
    assert!(manifest.starts_with("# Ignition for Rust at commit 0123abcd,\n"));
    let tables: Vec<&str> = manifest
        .lines()
        .filter(|line| line.starts_with('['))
        .collect();
    assert_eq!(
        tables,
        [
            "[workspace]",
            "[workspace.package]",
            "[workspace.dependencies]",
            "[workspace.lints.rust] # lints"
        ]
    );
    assert!(manifest.contains("tokio = { version = \"1\", features = [\n  \"rt\",\n] }\n"));
    assert!(!manifest.contains("tests"), "{manifest}");
    assert!(!manifest.contains("debug = true"), "{manifest}");
    // This workspace's own manifest gives one cargo reads (the vendored copy builds).
    let ours = fs::read_to_string(ignition_crate().join("../Cargo.toml")).unwrap();
    let manifest = workspace_manifest(&ours, "0123abcd");
    for table in [
        "[workspace.package]",
        "[workspace.dependencies]",
        "[workspace.lints.rust]",
    ] {
        assert!(manifest.contains(&format!("\n{table}\n")), "{table}");
    }
}

#[test]
fn the_vendored_crates_are_ignition_and_its_path_dependencies() {
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(ignition_crate())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let mut closure = vec!["ignition".to_string()];
    let mut next = 0;
    while let Some(name) = closure.get(next).cloned() {
        next += 1;
        let package = packages
            .iter()
            .find(|p| p["name"] == name.as_str())
            .unwrap();
        for dependency in package["dependencies"].as_array().unwrap() {
            let built = dependency["kind"].is_null() || dependency["kind"] == "build";
            let name = dependency["name"].as_str().unwrap().to_string();
            if built && dependency.get("path").is_some() && !closure.contains(&name) {
                closure.push(name);
            }
        }
    }
    closure.sort();
    assert_eq!(closure, FRAMEWORK_CRATES);
}

#[test]
fn vendor_points_the_ignition_dependencies_at_the_copy() {
    let manifest = "\
[dependencies]
ignition = { path = \"/home/me/ignition-rs/ignition\" }
ignition-extra = { path = \"../extra\" }
tokio = { version = \"1\" }

[dev-dependencies]
ignition = { path = \"/home/me/ignition-rs/ignition\", features = [\"testing\"] }
";
    let pointed = point_at_vendor(manifest).unwrap();
    assert_eq!(
        pointed,
        manifest.replace(
            "/home/me/ignition-rs/ignition",
            "vendor/ignition-rs/ignition"
        )
    );
    assert_eq!(point_at_vendor(&pointed).unwrap(), pointed, "idempotent");
    assert_eq!(
        point_at_vendor("[dependencies]\nignition = \"0.1\"\n"),
        None
    );
}

#[test]
fn vendor_replaces_the_copy_and_moves_a_checkout_dependency_into_it() {
    let temp = TempDir::new();
    let dir = temp.0.join("cloud-driver");
    let mut options = options(&format!(
        "cloud-driver --path {}",
        ignition_crate().display()
    ));
    options.dir = dir.clone();
    generate::generate(&options).unwrap();
    assert!(!dir.join("vendor").exists());

    let clone = ignition_crate().parent().unwrap().to_path_buf();
    let message = source::revendor(&dir, &clone).unwrap();
    assert!(message.contains("vendored from"), "{message}");
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\nignition = { path = \"vendor/ignition-rs/ignition\" }\n"));
    assert!(dir.join(VENDOR_DIR).join("ignition/src/lib.rs").is_file());
    assert!(dir.join("vendor/README.md").is_file());

    // Again: the copy is replaced (nothing stale stays), nothing else changes.
    let stale = dir.join(VENDOR_DIR).join("ignition/src/stale.rs");
    fs::write(&stale, "").unwrap();
    source::revendor(&dir, &clone).unwrap();
    assert!(!stale.exists());
    assert!(!dir.join(format!("{VENDOR_DIR}.new")).exists());
    assert_eq!(
        fs::read_to_string(dir.join("Cargo.toml")).unwrap(),
        manifest
    );

    let error = source::revendor(&temp.0, &clone).expect_err("no project");
    assert!(error.to_string().contains("no Cargo.toml there"), "{error}");
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
fn a_failed_vendoring_removes_the_project() {
    let temp = TempDir::new();
    let dir = temp.0.join("cloud-driver");
    let mut options = options("cloud-driver");
    options.dir = dir.clone();
    // A clone that vanished between the options and the generation.
    options.ignition = IgnitionSource::Clone(temp.0.join("gone"));
    let error = generate::generate(&options).expect_err("no clone");
    assert_eq!(error.exit_code(), 1, "{error}");
    assert!(!dir.exists());
}

#[test]
fn the_dockerfile_builds_with_the_workspace_toolchain() {
    // rust-toolchain.toml is beside the workspace, not in a vendored copy.
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
    for line in ["cloud-driver", "cloud-driver --kind resource"] {
        let temp = TempDir::new();
        let files = render_all(&options(line));
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
            "{line}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
