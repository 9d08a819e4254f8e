//! A resource driver's files: the request's `driverFiles` (the base64 of a zip of the
//! driver's directory of the Resource package), unpacked for one call.
//!
//! The Python framework (`DriverFilesManagerService`, `DirectoryTree`) extracted the zip
//! into a shared workspace directory and left its removal to the driver (`remove_all`).
//! Here each request gets a private temporary directory, the archive is checked entry by
//! entry as it is unpacked ([`unpack`](self::unpack)), and the directory goes away with the
//! [`DriverFiles`] value, however the call ends.

mod path;
mod unpack;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tokio::sync::watch;

use crate::error::ResourceDriverError;

#[cfg(any(test, feature = "fuzz-internals"))]
pub(crate) use unpack::unpack_blocking;
#[cfg(test)]
use unpack::unpack_in;
pub(crate) use unpack::{unpack, DriverFilesLimits};

/// The request's driver files (`driverFiles`), unpacked into a private temporary directory
/// before the driver is called, and removed when this value is dropped.
///
/// The framework has already refused a bad archive (not base64, not a zip, an entry that
/// is absolute, has `..`, is a symlink or a device, too many entries, too large unpacked)
/// with a 400 before the driver is called, so every path here is a plain file or directory
/// inside [`root`](Self::root). Keep the value for as long as the files are needed (move it
/// into a task, say); drop it, and the directory is removed — on tokio's blocking pool
/// when dropped on a runtime (removing files can take milliseconds, which a worker thread
/// must not spend), on the dropping thread otherwise. The framework waits for that removal
/// before it answers a call whose driver dropped its files.
///
/// ```
/// use ignition::prelude::*;
///
/// /// The playbook a lifecycle runs: `scripts/<lifecycle>.yaml` in the driver's directory
/// /// of the Resource package.
/// fn playbook(files: &DriverFiles, lifecycle_name: &str) -> Result<String, ResourceDriverError> {
///     let path = format!("scripts/{}.yaml", lifecycle_name.to_lowercase());
///     if !files.files().contains(&path) {
///         return Err(ResourceDriverError::InvalidLifecycleName(format!(
///             "no script for {lifecycle_name}"
///         )));
///     }
///     // A `lifecycle_name` of `../../etc/passwd` cannot reach out either: paths that
///     // leave the directory are refused.
///     files.read_to_string(&path)
/// }
/// ```
///
/// Files keep their owner-execute bit from the archive (a script can be run from
/// [`root`](Self::root)); everything is private to this process's user (directories 0700,
/// files 0600 or 0700).
pub struct DriverFiles {
    /// `None` once handed to the removal in `drop`.
    dir: Option<TempDir>,
    root: PathBuf,
    files: Vec<String>,
    /// Where the removal stands, for [`Removal`].
    stage: watch::Sender<Stage>,
}

impl DriverFiles {
    pub(crate) fn new(dir: TempDir, files: Vec<String>) -> Self {
        Self {
            root: dir.path().to_path_buf(),
            dir: Some(dir),
            files,
            stage: watch::Sender::new(Stage::Kept),
        }
    }

    /// A handle on the removal of these files, for the service that answers the call:
    /// take it before handing the value to the driver, await [`Removal::settled`] after
    /// the call, then answer (so "nothing is left behind after the call" holds when the
    /// answer arrives).
    pub(crate) fn removal(&self) -> Removal {
        Removal(self.stage.subscribe())
    }

    /// The directory the files were unpacked into: the root of the driver's directory of
    /// the Resource package (e.g. `root().join("scripts/install.sh")`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The text of the file at `relative` (a `/`-separated path under
    /// [`root`](Self::root), e.g. `"scripts/install.sh"`).
    ///
    /// A missing file, a directory, a file that is not UTF-8, or a `relative` that is
    /// absolute or has a `..` component is [`ResourceDriverError::InvalidDriverFiles`]
    /// (400) naming the path.
    pub fn read_to_string(&self, relative: &str) -> Result<String, ResourceDriverError> {
        let shown = path::shown(relative);
        let parts = path::components(relative).map_err(|why| {
            ResourceDriverError::InvalidDriverFiles(format!("driverFiles: `{shown}` {why}"))
        })?;
        if parts.is_empty() {
            return Err(ResourceDriverError::InvalidDriverFiles(format!(
                "driverFiles: `{shown}` names no file"
            )));
        }
        let file = parts
            .iter()
            .fold(self.root.clone(), |path, part| path.join(part));
        std::fs::read_to_string(&file).map_err(|err| {
            ResourceDriverError::InvalidDriverFiles(match err.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("driverFiles: no file `{shown}` in the driver's files")
                }
                std::io::ErrorKind::InvalidData => {
                    format!("driverFiles: `{shown}` is not UTF-8 text")
                }
                _ => format!("driverFiles: cannot read `{shown}`: {err}"),
            })
        })
    }

    /// The relative paths of every regular file unpacked from the archive, `/`-separated,
    /// sorted (directories are not listed; an empty directory shows only under
    /// [`root`](Self::root)). Taken when the archive was unpacked: files the driver writes
    /// under `root()` later are not listed.
    pub fn files(&self) -> Vec<String> {
        self.files.clone()
    }
}

impl fmt::Debug for DriverFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverFiles")
            .field("root", &self.root)
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

/// How far the removal of a [`DriverFiles`] has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The value is alive (the driver may have kept it, in a task of its own).
    Kept,
    /// Dropped; the directory is being removed.
    Removing,
    /// The directory is gone (or its removal failed and was logged).
    Removed,
}

/// The removal of a [`DriverFiles`], watched from outside ([`DriverFiles::removal`]).
#[derive(Debug)]
pub(crate) struct Removal(watch::Receiver<Stage>);

impl Removal {
    /// Returns once the directory is gone if the value has been dropped; at once if it is
    /// still alive (a driver that keeps its files past the call is not waited for).
    pub(crate) async fn settled(mut self) {
        // An `Err` is the sender gone: the removal ran, or was dropped unrun (the runtime
        // shutting down), which removes the directory as the `TempDir` drops.
        let _ = self.0.wait_for(|stage| *stage != Stage::Removing).await;
    }
}

impl Drop for DriverFiles {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else {
            return;
        };
        self.stage.send_replace(Stage::Removing);
        let removing = Removing {
            dir,
            stage: self.stage.clone(),
        };
        // Removing a tree is file-system work: on a busy disk here, 7 ms for 10 files,
        // 18 ms for 100, 94 ms for 1 000. Never on a runtime's worker thread, then.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(move || removing.run())),
            Err(_) => removing.run(),
        }
    }
}

/// A dropped [`DriverFiles`]'s directory on its way out. Should the runtime shut down
/// before the removal task runs, the task is dropped unrun: `dir` drops first (a
/// `TempDir` removes itself), then `stage` (which ends any wait).
struct Removing {
    dir: TempDir,
    stage: watch::Sender<Stage>,
}

impl Removing {
    fn run(self) {
        let Removing { dir, stage } = self;
        let root = dir.path().to_path_buf();
        if let Err(err) = dir.close() {
            // Nobody is left to tell (a driver that made a subdirectory read-only, say).
            tracing::warn!(
                root = %root.display(),
                error = %err,
                "driverFiles: could not remove the unpacked driver files"
            );
        }
        stage.send_replace(Stage::Removed);
    }
}
