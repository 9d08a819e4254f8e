//! `ignition new`: renders the templates of `templates/new/` (embedded in the binary) and
//! writes them into a new directory.
//!
//! A template is the file as it is generated, with `{{name}}` placeholders and, on lines
//! of their own, `{{#flag}}` … `{{/flag}}` (kept when the flag is on) and `{{^flag}}` …
//! `{{/flag}}` (kept when it is off). Nothing else is special, so a template reads like
//! the file it becomes.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::names::Names;

/// The builder image of the generated Dockerfile: the Rust release this workspace is
/// tested with (`rust-toolchain.toml`), on the Debian release of the runtime image
/// (distroless `cc-debian13`).
const RUST_IMAGE: &str = "rust:1.95-trixie";

/// The default port of a generated driver (Ignition's own default).
pub const DEFAULT_PORT: u16 = 7777;

/// Each generated file: where it goes in the project, and its template.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../../templates/new/Cargo.toml.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../templates/new/src/lib.rs.tmpl"),
    ),
    (
        "src/memory.rs",
        include_str!("../../../templates/new/src/memory.rs.tmpl"),
    ),
    (
        "src/main.rs",
        include_str!("../../../templates/new/src/main.rs.tmpl"),
    ),
    (
        "tests/lifecycle.rs",
        include_str!("../../../templates/new/tests/lifecycle.rs.tmpl"),
    ),
    (
        "tests/health_check.rs",
        include_str!("../../../templates/new/tests/health_check.rs.tmpl"),
    ),
    (
        "config.yml",
        include_str!("../../../templates/new/config.yml.tmpl"),
    ),
    (
        "README.md",
        include_str!("../../../templates/new/README.md.tmpl"),
    ),
    (
        "Dockerfile",
        include_str!("../../../templates/new/Dockerfile.tmpl"),
    ),
    (
        ".dockerignore",
        include_str!("../../../templates/new/dockerignore.tmpl"),
    ),
    (
        ".gitignore",
        include_str!("../../../templates/new/gitignore.tmpl"),
    ),
    (
        "deploy/deployment.yaml",
        include_str!("../../../templates/new/deploy/deployment.yaml.tmpl"),
    ),
    (
        "deploy/configmap.yaml",
        include_str!("../../../templates/new/deploy/configmap.yaml.tmpl"),
    ),
    (
        "deploy/service.yaml",
        include_str!("../../../templates/new/deploy/service.yaml.tmpl"),
    ),
    (
        "deploy/optional/hpa.yaml",
        include_str!("../../../templates/new/deploy/optional/hpa.yaml.tmpl"),
    ),
];

/// Where the generated crate takes `ignition` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnitionSource {
    /// The published crate, at this version.
    Version(String),
    /// A local checkout: the directory of the `ignition` crate (absolute).
    Path(PathBuf),
}

impl IgnitionSource {
    /// The published version this binary belongs to.
    pub fn published() -> Self {
        Self::Version(env!("CARGO_PKG_VERSION").to_string())
    }

    /// A local checkout, given as the `ignition` crate's directory or the workspace's:
    /// the crate's absolute directory.
    pub fn local(dir: &Path) -> Result<Self, NewError> {
        let not_found = || {
            NewError::Usage(format!(
                "--path {}: no `ignition` crate there (a directory with the Cargo.toml of \
                 package `ignition`, or a workspace holding one in `ignition/`)",
                dir.display()
            ))
        };
        let crate_dir = [dir.to_path_buf(), dir.join("ignition")]
            .into_iter()
            .find(|candidate| is_ignition_crate(&candidate.join("Cargo.toml")))
            .ok_or_else(not_found)?;
        let absolute = crate_dir.canonicalize().map_err(|_| not_found())?;
        if absolute.to_str().is_none() {
            return Err(NewError::Usage(format!(
                "--path {}: the path is not valid UTF-8",
                dir.display()
            )));
        }
        Ok(Self::Path(absolute))
    }

    /// The dependency as `Cargo.toml` writes it, with these extra keys.
    fn toml(&self, extra: &str) -> String {
        let (key, value) = match self {
            Self::Version(version) => ("version", version.clone()),
            Self::Path(path) => ("path", path.to_str().unwrap_or_default().to_string()),
        };
        let value = value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{{ {key} = \"{value}\"{extra} }}")
    }
}

/// Whether `manifest` is the Cargo.toml of package `ignition`.
fn is_ignition_crate(manifest: &Path) -> bool {
    let Ok(text) = fs::read_to_string(manifest) else {
        return false;
    };
    let mut in_package = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "name" {
                    return value.trim() == "\"ignition\"";
                }
            }
        }
    }
    false
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project's names.
    pub names: Names,
    /// `application.port`.
    pub port: u16,
    /// Whether to add the `messaging:` section (Kafka) and what goes with it.
    pub kafka: bool,
    /// Where `ignition` comes from.
    pub ignition: IgnitionSource,
    /// The directory to create.
    pub dir: PathBuf,
}

/// Why `ignition new` failed.
#[derive(Debug)]
pub enum NewError {
    /// A wrong argument (exit code 2).
    Usage(String),
    /// The target directory exists already (exit code 2).
    Exists(PathBuf),
    /// Writing failed (exit code 1); what was written is removed.
    Io {
        /// The file or directory being written.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl NewError {
    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Exists(_) => 2,
            Self::Io { .. } => 1,
        }
    }
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) => f.write_str(message),
            Self::Exists(dir) => write!(
                f,
                "{} exists already; ignition new writes only into a new directory (choose \
                 another with --dir)",
                dir.display()
            ),
            Self::Io { path, source } => write!(f, "cannot write {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for NewError {}

/// Every file of the project: its path in the project and its contents.
pub fn render_all(options: &Options) -> Vec<(&'static str, String)> {
    let names = &options.names;
    let port = options.port.to_string();
    let job_topic = names.app_name.replace(' ', "_");
    let health_url = format!("http://127.0.0.1:{port}/management/health");
    let ignition_dep = options.ignition.toml("");
    let ignition_dev_dep = options.ignition.toml(", features = [\"testing\"]");
    let vars: &[(&str, &str)] = &[
        ("crate_name", &names.crate_name),
        ("snake", &names.snake),
        ("type_name", &names.type_name),
        ("app_name", &names.app_name),
        ("env_var", &names.env_var),
        ("var_dir", &names.var_dir),
        ("port", &port),
        ("job_topic", &job_topic),
        ("health_url", &health_url),
        ("rust_image", RUST_IMAGE),
        ("ignition_dep", &ignition_dep),
        ("ignition_dev_dep", &ignition_dev_dep),
    ];
    let flags: &[(&str, bool)] = &[
        ("kafka", options.kafka),
        ("local", matches!(options.ignition, IgnitionSource::Path(_))),
    ];
    TEMPLATES
        .iter()
        .map(|(path, template)| (*path, render(path, template, vars, flags)))
        .collect()
}

/// Creates `options.dir` and writes the project into it: the files written, in order.
/// Refuses a directory that exists; on a failure removes what it wrote.
pub fn generate(options: &Options) -> Result<Vec<PathBuf>, NewError> {
    let dir = &options.dir;
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| NewError::Io { path, source }
    };
    if let Some(parent) = dir.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    // create_dir, not create_dir_all: it fails on an existing directory, so that two runs
    // cannot both write into one.
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            return Err(NewError::Exists(dir.clone()))
        }
        Err(error) => return Err(io_error(dir)(error)),
    }
    let write_all = || -> Result<Vec<PathBuf>, NewError> {
        let mut written = Vec::new();
        for (path, contents) in render_all(options) {
            let path = dir.join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            fs::write(&path, contents).map_err(io_error(&path))?;
            written.push(path);
        }
        Ok(written)
    };
    write_all().inspect_err(|_| {
        let _ = fs::remove_dir_all(dir);
    })
}

/// Renders one template. A placeholder or flag the generator does not define is a bug of
/// the template, which the generator's tests catch: it panics, naming both.
fn render(path: &str, template: &str, vars: &[(&str, &str)], flags: &[(&str, bool)]) -> String {
    let flag = |name: &str| {
        flags
            .iter()
            .find(|(flag, _)| *flag == name)
            .map(|(_, on)| *on)
            .unwrap_or_else(|| panic!("template {path}: unknown flag `{name}`"))
    };
    // The open sections, innermost last: (flag, whether its lines are kept).
    let mut open: Vec<(&str, bool)> = Vec::new();
    let mut out = String::with_capacity(template.len());
    for line in template.split_inclusive('\n') {
        let tag = line.trim();
        if let Some(name) = tag.strip_prefix("{{#").and_then(|t| t.strip_suffix("}}")) {
            open.push((name, flag(name)));
        } else if let Some(name) = tag.strip_prefix("{{^").and_then(|t| t.strip_suffix("}}")) {
            open.push((name, !flag(name)));
        } else if let Some(name) = tag.strip_prefix("{{/").and_then(|t| t.strip_suffix("}}")) {
            match open.pop() {
                Some((opened, _)) if opened == name => {}
                _ => panic!("template {path}: `{tag}` closes no open `{name}` section"),
            }
        } else if open.iter().all(|(_, kept)| *kept) {
            out.push_str(&substitute(path, line, vars));
        }
    }
    if let Some((name, _)) = open.last() {
        panic!("template {path}: section `{name}` is never closed");
    }
    out
}

/// Replaces each `{{name}}` of `line`.
fn substitute(path: &str, line: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..]
            .find("}}")
            .map(|end| start + end)
            .unwrap_or_else(|| panic!("template {path}: `{{{{` without `}}}}` in {line:?}"));
        let name = &rest[start + 2..end];
        let value = vars
            .iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| *value)
            .unwrap_or_else(|| panic!("template {path}: unknown placeholder `{name}`"));
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}
