//! `ignition new`: renders the templates of `templates/new/` (embedded in the binary),
//! writes them into a new directory, and puts Ignition beside them (`source.rs`).
//!
//! A template is the file as it is generated, with `{{name}}` placeholders and, on lines
//! of their own, `{{#flag}}` … `{{/flag}}` (kept when the flag is on) and `{{^flag}}` …
//! `{{/flag}}` (kept when it is off). Nothing else is special, so a template reads like
//! the file it becomes. The templates both kinds of driver share are in `templates/new/`,
//! those of one kind in `templates/new/vim/` and `templates/new/resource/`.

use std::fmt;
use std::fs;
use std::io;
use std::path::PathBuf;

use crate::names::Names;
use crate::source::{io_error, IgnitionSource};

/// The builder image of the generated Dockerfile: the Rust release this workspace is
/// tested with (`rust-toolchain.toml`), on the Debian release of the runtime image
/// (distroless `cc-debian13`).
const RUST_IMAGE: &str = "rust:1.95-trixie";

/// The default port of a generated driver (Ignition's own default).
pub const DEFAULT_PORT: u16 = 7777;

/// The API a generated driver serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// LM 1.x's Infrastructure API: a `#[vim_driver]`.
    Vim,
    /// LM 2.x/3.x's Resource Driver API: a `#[resource_driver]`.
    Resource,
}

impl Kind {
    /// The kind `--kind` names.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "vim" => Some(Self::Vim),
            "resource" => Some(Self::Resource),
            _ => None,
        }
    }
}

/// Which projects a template is part of.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// Every project.
    All,
    /// The projects of one kind.
    Only(Kind),
    /// The projects generated with `--kafka`.
    Kafka,
}

/// Each generated file: where it goes in the project, which projects have it, and its
/// template.
const TEMPLATES: &[(&str, Part, &str)] = &[
    (
        "Cargo.toml",
        Part::All,
        include_str!("../../../templates/new/Cargo.toml.tmpl"),
    ),
    (
        "src/lib.rs",
        Part::Only(Kind::Vim),
        include_str!("../../../templates/new/vim/src/lib.rs.tmpl"),
    ),
    (
        "src/lib.rs",
        Part::Only(Kind::Resource),
        include_str!("../../../templates/new/resource/src/lib.rs.tmpl"),
    ),
    (
        "src/memory.rs",
        Part::Only(Kind::Vim),
        include_str!("../../../templates/new/vim/src/memory.rs.tmpl"),
    ),
    (
        "src/memory.rs",
        Part::Only(Kind::Resource),
        include_str!("../../../templates/new/resource/src/memory.rs.tmpl"),
    ),
    (
        "src/main.rs",
        Part::All,
        include_str!("../../../templates/new/src/main.rs.tmpl"),
    ),
    (
        "tests/lifecycle.rs",
        Part::Only(Kind::Vim),
        include_str!("../../../templates/new/vim/tests/lifecycle.rs.tmpl"),
    ),
    (
        "tests/lifecycle.rs",
        Part::Only(Kind::Resource),
        include_str!("../../../templates/new/resource/tests/lifecycle.rs.tmpl"),
    ),
    (
        "tests/health_check.rs",
        Part::All,
        include_str!("../../../templates/new/tests/health_check.rs.tmpl"),
    ),
    (
        "config.yml",
        Part::All,
        include_str!("../../../templates/new/config.yml.tmpl"),
    ),
    (
        "README.md",
        Part::All,
        include_str!("../../../templates/new/README.md.tmpl"),
    ),
    (
        "Dockerfile",
        Part::All,
        include_str!("../../../templates/new/Dockerfile.tmpl"),
    ),
    (
        ".dockerignore",
        Part::All,
        include_str!("../../../templates/new/dockerignore.tmpl"),
    ),
    (
        ".gitignore",
        Part::All,
        include_str!("../../../templates/new/gitignore.tmpl"),
    ),
    (
        "deploy/deployment.yaml",
        Part::All,
        include_str!("../../../templates/new/deploy/deployment.yaml.tmpl"),
    ),
    (
        "deploy/configmap.yaml",
        Part::All,
        include_str!("../../../templates/new/deploy/configmap.yaml.tmpl"),
    ),
    (
        "deploy/service.yaml",
        Part::All,
        include_str!("../../../templates/new/deploy/service.yaml.tmpl"),
    ),
    (
        "deploy/pdb.yaml",
        Part::Kafka,
        include_str!("../../../templates/new/deploy/pdb.yaml.tmpl"),
    ),
    (
        "deploy/secrets/kafka.yaml",
        Part::Kafka,
        include_str!("../../../templates/new/deploy/secrets/kafka.yaml.tmpl"),
    ),
    (
        "deploy/optional/hpa.yaml",
        Part::All,
        include_str!("../../../templates/new/deploy/optional/hpa.yaml.tmpl"),
    ),
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project's names.
    pub names: Names,
    /// The API the driver serves.
    pub kind: Kind,
    /// `application.port`.
    pub port: u16,
    /// Whether to add the `messaging:` section (Kafka) and what goes with it.
    pub kafka: bool,
    /// Where `ignition` comes from.
    pub ignition: IgnitionSource,
    /// The directory to create.
    pub dir: PathBuf,
}

/// Why a command failed.
#[derive(Debug)]
pub enum NewError {
    /// A wrong argument (exit code 2).
    Usage(String),
    /// The target directory exists already (exit code 2).
    Exists(PathBuf),
    /// Writing failed (exit code 1); what `ignition new` wrote is removed.
    Io {
        /// The file or directory being written.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A tool the command runs (git, tar) failed or is missing (exit code 1).
    Tool(String),
}

impl NewError {
    /// The process's exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Exists(_) => 2,
            Self::Io { .. } | Self::Tool(_) => 1,
        }
    }
}

impl fmt::Display for NewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(message) | Self::Tool(message) => f.write_str(message),
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
    let health_url = format!("http://127.0.0.1:{port}/management/health/liveness");
    let crate_path = options.ignition.crate_path();
    let crate_path = crate_path.replace('\\', "\\\\").replace('"', "\\\"");
    let ignition_dep = format!("{{ path = \"{crate_path}\" }}");
    let ignition_dev_dep = format!("{{ path = \"{crate_path}\", features = [\"testing\"] }}");
    let (kind_title, api_path, event, events_topic, events_topic_name) = match options.kind {
        Kind::Vim => (
            "VIM driver",
            "/api/infrastructure",
            "task event",
            "infrastructure_task_events",
            "lm_vim_infrastructure_task_events",
        ),
        Kind::Resource => (
            "resource driver",
            "/api/driver",
            "execution event",
            "lifecycle_execution_events",
            "lm_vnfc_lifecycle_execution_events",
        ),
    };
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
        ("kind_title", kind_title),
        ("api_path", api_path),
        ("event", event),
        ("events_topic", events_topic),
        ("events_topic_name", events_topic_name),
    ];
    let flags: &[(&str, bool)] = &[
        ("kafka", options.kafka),
        ("local", matches!(options.ignition, IgnitionSource::Path(_))),
        ("vim", options.kind == Kind::Vim),
        ("resource", options.kind == Kind::Resource),
    ];
    TEMPLATES
        .iter()
        .filter(|(_, part, _)| match part {
            Part::All => true,
            Part::Only(kind) => *kind == options.kind,
            Part::Kafka => options.kafka,
        })
        .map(|(path, _, template)| (*path, render(path, template, vars, flags)))
        .collect()
}

/// What `ignition new` did: the files it rendered, and where Ignition came from.
#[derive(Debug)]
pub struct Generated {
    /// The rendered files, in order.
    pub written: Vec<PathBuf>,
    /// Where Ignition came from (`Ignition 0123abcd vendored from ...`).
    pub ignition: String,
}

/// Creates `options.dir`, writes the project into it and puts Ignition beside it.
/// Refuses a directory that exists; on a failure removes what it wrote.
pub fn generate(options: &Options) -> Result<Generated, NewError> {
    let dir = &options.dir;
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
    let write_all = || -> Result<Generated, NewError> {
        let mut written = Vec::new();
        for (path, contents) in render_all(options) {
            let path = dir.join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            fs::write(&path, contents).map_err(io_error(&path))?;
            written.push(path);
        }
        let ignition = options.ignition.install(dir)?;
        Ok(Generated { written, ignition })
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
