//! Where a generated project takes Ignition from.
//!
//! No registry has Ignition: what a user has is a clone of its repository. So by default
//! `ignition new` copies the framework's crates, as they are at the clone's HEAD, into the
//! project (`vendor/ignition-rs/`) and depends on that copy by path: the project builds
//! from what it contains, on another machine, offline, and in `docker build`, whose
//! context holds nothing outside the project. `ignition vendor` replaces the copy with the
//! clone's newer HEAD (the upgrade). `--path` depends on a checkout in place instead, for
//! work on Ignition itself.
//!
//! The copy is made with `git archive` (committed files only, so the copy is exactly one
//! commit, named in `vendor/README.md`) and keeps the crates' own manifests unchanged:
//! `vendor/ignition-rs/Cargo.toml` is the framework's workspace manifest with its
//! `[workspace.*]` tables (the versions, dependencies and lints its crates inherit) and
//! only the vendored crates as members.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::generate::NewError;

/// Where the vendored copy goes in a project.
pub const VENDOR_DIR: &str = "vendor/ignition-rs";

/// The crates copied: `ignition` and the crates it depends on by path (a test checks the
/// list against the workspace's manifests).
pub const FRAMEWORK_CRATES: &[&str] = &["ignition", "ignition-macros", "ignition-openapi"];

/// Where the generated project takes Ignition from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnitionSource {
    /// Vendored from the git clone whose work tree is here (absolute), at its HEAD.
    Clone(PathBuf),
    /// A path dependency on the `ignition` crate in this directory (absolute).
    Path(PathBuf),
}

/// The work tree of a clone of Ignition's repository: the one named by `--from`, or the
/// one this command was built from (`cargo install --path CLONE/ignition`).
pub fn find_clone(from: Option<&Path>) -> Result<PathBuf, NewError> {
    let (dir, named) = match from {
        Some(dir) => (dir.to_path_buf(), true),
        // The `ignition` crate this binary was built from; its parent is the clone.
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            false,
        ),
    };
    let which = if named {
        format!("--from {}", dir.display())
    } else {
        format!(
            "{} (the clone this command was installed from; name another with --from CLONE)",
            dir.display()
        )
    };
    let not_a_clone = |why: String| {
        NewError::Usage(format!(
            "{which}: not a clone of Ignition's repository ({why})"
        ))
    };
    if !dir.is_dir() {
        return Err(not_a_clone("no such directory".to_string()));
    }
    let top = git(&dir, &["rev-parse", "--show-toplevel"])
        .map_err(|error| not_a_clone(error.to_string()))?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    if git(&top, &["cat-file", "-e", "HEAD:ignition/Cargo.toml"]).is_err() {
        return Err(not_a_clone(
            "its HEAD has no ignition/Cargo.toml".to_string(),
        ));
    }
    Ok(top)
}

impl IgnitionSource {
    /// A checkout, given as the `ignition` crate's directory or the workspace's: the
    /// crate's absolute directory.
    pub fn path(dir: &Path) -> Result<Self, NewError> {
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

    /// The directory of the `ignition` crate as the project's `Cargo.toml` names it.
    pub fn crate_path(&self) -> String {
        match self {
            Self::Clone(_) => format!("{VENDOR_DIR}/ignition"),
            Self::Path(path) => path.to_str().unwrap_or_default().to_string(),
        }
    }

    /// Puts Ignition into the new project at `project` and gives it the framework's
    /// `Cargo.lock` (the versions Ignition is tested with, and so nothing to download that
    /// a build of Ignition did not): a description of what was done.
    pub fn install(&self, project: &Path) -> Result<String, NewError> {
        match self {
            Self::Clone(clone) => {
                let commit = vendor(clone, &project.join(VENDOR_DIR))?;
                write_vendor_readme(project, clone, &commit)?;
                let lock = git(clone, &["show", &format!("{commit}:Cargo.lock")]).ok();
                Ok(format!(
                    "Ignition {} vendored from {} into {VENDOR_DIR}{}{}",
                    short(&commit),
                    clone.display(),
                    start_lock(project, lock)?,
                    uncommitted_note(clone)
                ))
            }
            Self::Path(crate_dir) => {
                let lock = crate_dir
                    .parent()
                    .and_then(|root| fs::read(root.join("Cargo.lock")).ok());
                Ok(format!(
                    "Ignition used in place at {}{}",
                    crate_dir.display(),
                    start_lock(project, lock)?
                ))
            }
        }
    }
}

/// Writes the framework's lock as the project's, then lets cargo fit it to the project
/// (offline: the versions stay Ignition's; unused entries go, the project's package comes
/// in), so that the lock is the one to commit and `docker build --locked` works before any
/// other build: what to add to the report.
fn start_lock(project: &Path, lock: Option<Vec<u8>>) -> Result<&'static str, NewError> {
    let Some(lock) = lock else {
        return Ok("");
    };
    write(&project.join("Cargo.lock"), &lock)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let fitted = Command::new(cargo)
        .args([
            "metadata",
            "--offline",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(project.join("Cargo.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    Ok(if fitted {
        ", with its Cargo.lock"
    } else {
        ", with its Cargo.lock (the first cargo build fits it to the project)"
    })
}

/// A note when the clone's copy of the vendored crates has changes HEAD does not: they
/// are not vendored.
fn uncommitted_note(clone: &Path) -> String {
    let mut args = vec!["status", "--porcelain", "--", "Cargo.toml"];
    args.extend(FRAMEWORK_CRATES);
    match git(clone, &args) {
        Ok(changes) if !changes.is_empty() => format!(
            "\nnote: {} has uncommitted changes to Ignition's crates, which are not vendored \
             (HEAD is); --path DIR uses a checkout as it is",
            clone.display()
        ),
        _ => String::new(),
    }
}

/// `ignition vendor`: replaces the project's vendored Ignition with the clone's HEAD and
/// points the project's `ignition` dependencies at it (a project generated with `--path`
/// is vendored this way too): a description of what was done.
pub fn revendor(project: &Path, clone: &Path) -> Result<String, NewError> {
    let manifest_path = project.join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path).map_err(|_| {
        NewError::Usage(format!(
            "{}: no Cargo.toml there; run `ignition vendor` in a project made by `ignition \
             new`, or name it with --dir",
            project.display()
        ))
    })?;
    let pointed = point_at_vendor(&manifest).ok_or_else(|| {
        NewError::Usage(format!(
            "{}: no `ignition = {{ path = \"...\" }}` dependency to point at {VENDOR_DIR}",
            manifest_path.display()
        ))
    })?;
    // The new copy is complete before the old one goes: a failure leaves the project as
    // it was.
    let target = project.join(VENDOR_DIR);
    let staging = project.join(format!("{VENDOR_DIR}.new"));
    remove_dir_if_any(&staging)?;
    let commit = vendor(clone, &staging).inspect_err(|_| {
        let _ = fs::remove_dir_all(&staging);
    })?;
    remove_dir_if_any(&target)?;
    fs::rename(&staging, &target).map_err(io_error(&target))?;
    write_vendor_readme(project, clone, &commit)?;
    if pointed != manifest {
        write(&manifest_path, pointed.as_bytes())?;
    }
    Ok(format!(
        "Ignition {} vendored from {} into {}{}\n\nNext: cargo test (it updates Cargo.lock), \
         then commit vendor/ and Cargo.lock.\n",
        short(&commit),
        clone.display(),
        target.display(),
        uncommitted_note(clone),
    ))
}

/// Copies the framework's crates at the clone's HEAD into `dest` (created): the commit.
fn vendor(clone: &Path, dest: &Path) -> Result<String, NewError> {
    let head = git(clone, &["rev-parse", "HEAD"])?;
    let commit = String::from_utf8_lossy(&head).trim().to_string();
    fs::create_dir_all(dest).map_err(io_error(dest))?;
    let mut paths = vec!["Cargo.toml"];
    paths.extend(FRAMEWORK_CRATES);
    archive(clone, &commit, &paths, dest)?;
    let root = dest.join("Cargo.toml");
    let text = fs::read_to_string(&root).map_err(io_error(&root))?;
    write(&root, workspace_manifest(&text, &commit).as_bytes())?;
    Ok(commit)
}

/// `git archive COMMIT -- PATHS | tar -x -C DEST`.
fn archive(clone: &Path, commit: &str, paths: &[&str], dest: &Path) -> Result<(), NewError> {
    let tool_error = |what: &str, error: io::Error| NewError::Tool(format!("{what}: {error}"));
    let mut git = Command::new("git")
        .arg("-C")
        .arg(clone)
        .args(["archive", "--format=tar", commit, "--"])
        .args(paths)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| tool_error("git archive", error))?;
    // `-m`: the files get the time of the copy, not the commit's; cargo decides whether a
    // path dependency is built already from its files' times, and a copy of an older
    // commit must not look older than a build of a newer one.
    let tar = Command::new("tar")
        .args(["-x", "-m", "-f", "-", "-C"])
        .arg(dest)
        .stdin(git.stdout.take().map_or_else(Stdio::null, Stdio::from))
        .output()
        .map_err(|error| tool_error("tar", error))?;
    let git = git
        .wait_with_output()
        .map_err(|error| tool_error("git archive", error))?;
    if !git.status.success() {
        return Err(NewError::Tool(format!(
            "git -C {} archive {commit}: {}",
            clone.display(),
            String::from_utf8_lossy(&git.stderr).trim()
        )));
    }
    if !tar.status.success() {
        return Err(NewError::Tool(format!(
            "tar -x -C {}: {}",
            dest.display(),
            String::from_utf8_lossy(&tar.stderr).trim()
        )));
    }
    Ok(())
}

/// The vendored copy's workspace manifest: the framework's `[workspace.*]` tables as they
/// are (what the crates inherit), under a `[workspace]` listing the vendored crates only.
pub fn workspace_manifest(root: &str, commit: &str) -> String {
    let members: Vec<String> = FRAMEWORK_CRATES
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect();
    let mut out = format!(
        "# Ignition for Rust at commit {commit},\n\
         # vendored by `ignition new` or `ignition vendor`, which rewrite this directory: do\n\
         # not edit it. The framework's workspace settings, which its crates inherit, for\n\
         # these crates only.\n\
         [workspace]\nresolver = \"2\"\nmembers = [{}]\n\n",
        members.join(", ")
    );
    let mut kept = false;
    for line in root.split_inclusive('\n') {
        if let Some(table) = table_header(line) {
            kept = table.starts_with("workspace.");
        }
        if kept {
            out.push_str(line);
        }
    }
    out
}

/// The table a TOML line opens (`[workspace.dependencies]` → `workspace.dependencies`).
fn table_header(line: &str) -> Option<&str> {
    let line = line.trim();
    let inner = line.strip_prefix('[')?;
    if inner.starts_with('[') {
        return None; // an array of tables: none in a workspace manifest
    }
    let (name, rest) = inner.split_once(']')?;
    let rest = rest.trim();
    (rest.is_empty() || rest.starts_with('#')).then(|| name.trim())
}

/// `manifest` with each `ignition = { path = "..." ... }` dependency pointing at the
/// vendored crate; `None` when it has none.
pub fn point_at_vendor(manifest: &str) -> Option<String> {
    let mut found = false;
    let mut out = String::with_capacity(manifest.len());
    for line in manifest.split_inclusive('\n') {
        let is_dependency = line.trim_start().starts_with("ignition = {");
        match line.find("path = \"") {
            Some(start) if is_dependency => {
                let value = start + "path = \"".len();
                let Some(end) = line[value..].find('"') else {
                    out.push_str(line);
                    continue;
                };
                found = true;
                out.push_str(&line[..value]);
                out.push_str(VENDOR_DIR);
                out.push_str("/ignition");
                out.push_str(&line[value + end..]);
            }
            _ => out.push_str(line),
        }
    }
    found.then_some(out)
}

/// `vendor/README.md`: what the copy is, where it came from, how to update it.
fn write_vendor_readme(project: &Path, clone: &Path, commit: &str) -> Result<(), NewError> {
    let text = format!(
        "# vendor/\n\n\
         `ignition-rs/` is Ignition for Rust ({crates}) at commit\n\
         `{commit}`,\ncopied from the clone at `{clone}`.\n\n\
         No registry has Ignition: `Cargo.toml` depends on this copy by path, so the project\n\
         builds from what it contains (on another machine, offline, in `docker build`).\n\
         Commit it with the project.\n\n\
         To upgrade: pull the clone (`git -C {clone} pull`), then, in the project,\n\
         `ignition vendor` (or `ignition vendor --from CLONE`) and `cargo test`; commit\n\
         `vendor/` and `Cargo.lock`. Ignition's CHANGELOG.md says what changed. Do not edit\n\
         the copy: the next `ignition vendor` replaces it.\n",
        crates = FRAMEWORK_CRATES.join(", "),
        clone = clone.display(),
    );
    write(&project.join("vendor/README.md"), text.as_bytes())
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

/// Runs `git -C dir ARGS`: its stdout, or why it failed.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, NewError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|error| NewError::Tool(format!("git: {error}")))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(NewError::Tool(format!(
            "git -C {} {}: {}",
            dir.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// The first 12 characters of a commit id.
fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn remove_dir_if_any(dir: &Path) -> Result<(), NewError> {
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(io_error(dir)(error)),
        _ => Ok(()),
    }
}

fn write(path: &Path, contents: &[u8]) -> Result<(), NewError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    fs::write(path, contents).map_err(io_error(path))
}

/// The `NewError::Io` of an operation on `path`.
pub fn io_error(path: &Path) -> impl FnOnce(io::Error) -> NewError {
    let path = path.to_path_buf();
    move |source| NewError::Io { path, source }
}
