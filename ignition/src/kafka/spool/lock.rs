//! One process per spool directory: an exclusive `flock` on `spool.lock`, held for as long
//! as the spool is open (the writer thread owns it and is the last to stop). The kernel
//! releases it when the process dies, so a directory left by a `kill -9` is free at once.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use super::SpoolError;

/// The lock file's name.
const LOCK_FILE: &str = "spool.lock";

/// The lock on a spool directory; released when dropped.
#[derive(Debug)]
pub(super) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Locks `dir` (which must exist) without waiting: [`SpoolError::Locked`] when another
    /// process holds it.
    pub(super) fn acquire(dir: &Path) -> Result<Self, SpoolError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .map_err(SpoolError::io(dir, format!("cannot open {LOCK_FILE}")))?;
        match try_lock(&file) {
            Ok(true) => Ok(Self { _file: file }),
            Ok(false) => Err(SpoolError::Locked {
                dir: dir.to_path_buf(),
            }),
            Err(err) => Err(SpoolError::io(dir, format!("cannot lock {LOCK_FILE}"))(err)),
        }
    }
}

/// Takes an exclusive `flock` on `file` without waiting: `false` when another open file
/// (another process) holds it. Released when the file is closed, or the process dies.
#[cfg(unix)]
fn try_lock(file: &File) -> io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(err) if err == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Elsewhere no lock is taken: one process per directory is up to the operator.
#[cfg(not(unix))]
fn try_lock(_file: &File) -> io::Result<bool> {
    Ok(true)
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::test_support::fresh_dir;
    use super::*;

    #[test]
    fn a_held_directory_is_refused_naming_the_property_and_free_once_released() {
        let dir = fresh_dir("dirlock");
        std::fs::create_dir_all(&dir).unwrap();
        let held = DirLock::acquire(&dir).unwrap();
        // A second open file description: what another process would have.
        let err = DirLock::acquire(&dir).unwrap_err();
        assert!(matches!(err, SpoolError::Locked { .. }), "{err}");
        assert!(
            err.to_string().contains("`messaging.spool_dir`")
                && err.to_string().contains(LOCK_FILE),
            "{err}"
        );
        drop(held);
        let again = DirLock::acquire(&dir).unwrap();
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_that_cannot_hold_the_lock_file_is_an_io_error_naming_it() {
        let dir = fresh_dir("dirlock-missing");
        let err = DirLock::acquire(&dir).unwrap_err();
        assert!(matches!(err, SpoolError::Io { .. }), "{err}");
        assert!(err.to_string().contains("cannot open spool.lock"), "{err}");
    }
}
