//! A resource driver's files: the request's `driverFiles` (the base64 of a zip of the
//! driver's directory of the Resource package), unpacked for one call.
//!
//! The Python framework (`DriverFilesManagerService`, `DirectoryTree`) extracted the zip
//! into a shared workspace directory and left its removal to the driver (`remove_all`).
//! Here each request gets a private temporary directory, the archive is checked entry by
//! entry as it is unpacked ([`unpack`](self::unpack)), and the directory goes away with the
//! [`DriverFiles`] value, however the call ends.

mod path;
// Reached from `testing`, the fuzz hook and the tests until the Resource Driver API's
// service (written beside this) calls `unpack`; drop both allowances then.
#[allow(dead_code)]
mod unpack;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::error::ResourceDriverError;

#[allow(unused_imports)]
pub(crate) use unpack::{
    unpack, unpack_blocking, unpack_in, DriverFilesLimits, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_SIZE,
};

/// The request's driver files (`driverFiles`), unpacked into a private temporary directory
/// before the driver is called, and removed when this value is dropped.
///
/// The framework has already refused a bad archive (not base64, not a zip, an entry that
/// is absolute, has `..`, is a symlink or a device, too many entries, too large unpacked)
/// with a 400 before the driver is called, so every path here is a plain file or directory
/// inside [`root`](Self::root). Keep the value for as long as the files are needed (move it
/// into a task, say); drop it, and the directory is gone.
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
    /// Files and directories unpacked: how long the removal may take.
    nodes: usize,
}

impl DriverFiles {
    #[allow(dead_code)] // see `mod unpack`
    pub(crate) fn new(dir: TempDir, files: Vec<String>, nodes: usize) -> Self {
        Self {
            root: dir.path().to_path_buf(),
            dir: Some(dir),
            files,
            nodes,
        }
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

/// Up to this many files and directories are removed on the dropping thread (well under a
/// millisecond); a larger tree is removed on tokio's blocking pool when there is a runtime,
/// so that dropping the value never stalls a worker thread.
const REMOVE_INLINE_MAX_NODES: usize = 100;

impl Drop for DriverFiles {
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else {
            return;
        };
        if self.nodes > REMOVE_INLINE_MAX_NODES {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                // Should the runtime shut down before the task runs, the task is dropped
                // unrun, and dropping the `TempDir` it holds removes the directory then.
                drop(runtime.spawn_blocking(move || remove(dir)));
                return;
            }
        }
        remove(dir);
    }
}

/// Removes the tree; a failure (a driver that made a subdirectory read-only, say) is
/// logged, as nobody is left to tell.
fn remove(dir: TempDir) {
    let root = dir.path().to_path_buf();
    if let Err(err) = dir.close() {
        tracing::warn!(
            root = %root.display(),
            error = %err,
            "driverFiles: could not remove the unpacked driver files"
        );
    }
}
