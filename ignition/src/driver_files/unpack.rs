//! A request's `driverFiles` (base64 of a zip) into a private temporary directory, refusing
//! anything that could write outside it or fill the disk.
//!
//! Two passes over the archive. The first reads only the central directory: every entry's
//! name, type, encryption, compression method and declared size, and the tree they make
//! (each path's parents; clashes between a file and a directory of one name; the count of
//! files and directories). Any refusal there leaves nothing on disk. The second creates the
//! directory and writes the entries, counting the bytes as they come out of the
//! decompressor — a header's declared size is never trusted, that is how a zip bomb passes
//! —, and stops at the first byte past `max_size`. There is no per-entry compression-ratio
//! cap: the counted total bounds both the disk used and the inflating work (at most
//! `max_size` bytes come out of the decompressor, whatever the ratio), and a ratio cap would
//! refuse honest archives of repetitive text.
//!
//! On any refusal or failure the partly written directory is removed before the error
//! returns (it is a [`tempfile::TempDir`] until the tree is complete), and so it is when the
//! caller stops waiting: dropping [`unpack`]'s future tells the blocking task to stop at its
//! next chunk.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use super::path::{self, shown};
use super::DriverFiles;
use crate::error::ResourceDriverError;

/// The default of `resource_driver.driver_files.max_entries`.
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 10_000;

/// The default of `resource_driver.driver_files.max_size` (256 MiB).
pub(crate) const DEFAULT_MAX_SIZE: u64 = 256 * 1024 * 1024;

/// How much of a request's `driverFiles` is unpacked at most
/// (`resource_driver.driver_files.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DriverFilesLimits {
    /// At most this many entries in the archive, and at most this many files and
    /// directories in the unpacked tree (directories an entry implies without an entry of
    /// their own count too: else 10 000 deep names could make millions of directories).
    pub(crate) max_entries: usize,
    /// At most this many bytes written, all files together, counted as they are written.
    pub(crate) max_size: u64,
}

impl Default for DriverFilesLimits {
    fn default() -> Self {
        Self {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_size: DEFAULT_MAX_SIZE,
        }
    }
}

/// Unpacks `encoded` into a new private directory under the system's temporary directory
/// (`std::env::temp_dir()`, i.e. `$TMPDIR` or `/tmp`). See [`unpack_in`].
pub(crate) async fn unpack(
    encoded: String,
    limits: DriverFilesLimits,
) -> Result<DriverFiles, ResourceDriverError> {
    unpack_in(encoded, limits, std::env::temp_dir()).await
}

/// Unpacks `encoded` (the base64 of a zip) into a new private (0700) directory in
/// `parent`, on a blocking thread.
///
/// A bad archive is `InvalidDriverFiles` (400) naming the reason and, where there is one,
/// the entry; a failure of this machine (the directory cannot be made, the disk is full) is
/// `Internal` (500). Either way nothing is left in `parent`. Dropping the future before it
/// completes stops the unpacking at its next chunk and removes what was written.
pub(crate) async fn unpack_in(
    encoded: String,
    limits: DriverFilesLimits,
    parent: PathBuf,
) -> Result<DriverFiles, ResourceDriverError> {
    let stop = StopOnDrop::default();
    let stopped = Arc::clone(&stop.0);
    let unpacking =
        tokio::task::spawn_blocking(move || unpack_blocking(&encoded, limits, &parent, &stopped));
    match unpacking.await {
        Ok(result) => result,
        // A panic in the unpacker (a bug): its directory was removed while unwinding.
        Err(err) => Err(ResourceDriverError::Internal(format!(
            "driverFiles: the unpacker failed: {err}"
        ))),
    }
}

/// Sets its flag when dropped: the blocking task's signal that nobody waits any more.
#[derive(Debug, Default)]
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The unpacker itself, blocking; `stop` set makes it give up (and clean up) at its next
/// chunk. `pub(crate)` for the fuzz hook.
pub(crate) fn unpack_blocking(
    encoded: &str,
    limits: DriverFilesLimits,
    parent: &Path,
    stop: &AtomicBool,
) -> Result<DriverFiles, ResourceDriverError> {
    let bytes = decode(encoded)?;
    let mut archive = ZipArchive::new(Cursor::new(bytes))
        .map_err(|err| invalid(format!("driverFiles is not a zip archive: {err}")))?;
    let tree = Tree::plan(&mut archive, limits)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix("ignition-driver-files-");
    #[cfg(unix)] // tempfile's default too; said here because it is the point
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let dir = builder.tempdir_in(parent).map_err(|err| {
        ResourceDriverError::Internal(format!(
            "driverFiles: cannot create a temporary directory in {}: {err}",
            parent.display()
        ))
    })?;
    // On an error `dir` is dropped on the way out, and the partial tree with it.
    tree.write(&mut archive, dir.path(), limits.max_size, stop)?;
    Ok(DriverFiles::new(dir, tree.files()))
}

/// Base64, standard alphabet, padded (RFC 4648 §4, what Java's `Base64.getEncoder()` and
/// Python's `b64encode` write). ASCII whitespace anywhere is skipped, so line-wrapped text
/// (`base64` with its default 76 columns, Python's `encodebytes`, MIME) is read too; any
/// other character outside the alphabet is refused (Python's `b64decode` dropped them
/// silently, which turns a URL-safe or damaged text into a different archive).
fn decode(encoded: &str) -> Result<Vec<u8>, ResourceDriverError> {
    let compact: Cow<'_, [u8]> = if encoded.bytes().any(|b| b.is_ascii_whitespace()) {
        Cow::Owned(
            encoded
                .bytes()
                .filter(|b| !b.is_ascii_whitespace())
                .collect(),
        )
    } else {
        Cow::Borrowed(encoded.as_bytes())
    };
    if compact.is_empty() {
        return Err(invalid(
            "driverFiles is empty: expected the base64 of a zip archive".to_owned(),
        ));
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|err| {
            invalid(format!(
                "driverFiles is not base64 (standard alphabet, padded; whitespace skipped): {err}"
            ))
        })
}

/// What a path of the tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    File,
    Directory,
}

/// A path of the tree and the entry that made it (its own or, for an implied directory,
/// the first entry under it).
#[derive(Debug, Clone, Copy)]
struct Node {
    kind: NodeKind,
    entry: usize,
}

/// One thing to create, in order (parents first).
#[derive(Debug)]
enum Step {
    Directory {
        path: String,
    },
    File {
        entry: usize,
        path: String,
        executable: bool,
    },
}

/// The tree an archive makes, checked before anything is written.
#[derive(Debug)]
struct Tree {
    /// Every entry's name as the archive has it, for messages.
    names: Vec<String>,
    nodes: HashMap<String, Node>,
    steps: Vec<Step>,
}

impl Tree {
    /// Reads the central directory and checks every entry and the tree they make.
    fn plan<R: Read + std::io::Seek>(
        archive: &mut ZipArchive<R>,
        limits: DriverFilesLimits,
    ) -> Result<Self, ResourceDriverError> {
        if archive.len() > limits.max_entries {
            let name = archive.name_for_index(limits.max_entries).unwrap_or("?");
            return Err(invalid(format!(
                "driverFiles: entry `{}` is past the limit of {} entries \
                 (resource_driver.driver_files.max_entries): the archive has {}",
                shown(name),
                limits.max_entries,
                archive.len()
            )));
        }
        let mut tree = Tree {
            names: Vec::with_capacity(archive.len()),
            nodes: HashMap::new(),
            steps: Vec::new(),
        };
        let mut declared = 0u64;
        for index in 0..archive.len() {
            let name = archive.name_for_index(index).unwrap_or_default().to_owned();
            let refuse = |reason: &dyn std::fmt::Display| {
                invalid(format!("driverFiles: entry `{}` {reason}", shown(&name)))
            };
            let entry = archive
                .by_index_raw(index)
                .map_err(|err| refuse(&format_args!("is corrupt: {err}")))?;
            let parts: Vec<String> = path::components(&name)
                .map_err(|why| refuse(&why))?
                .into_iter()
                .map(str::to_owned)
                .collect();
            let kind = kind_of(&name, entry.unix_mode()).map_err(|why| refuse(&why))?;
            let executable = entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
            if kind == NodeKind::File {
                if parts.is_empty() {
                    return Err(refuse(&"names no file"));
                }
                if entry.encrypted() {
                    return Err(refuse(&"is encrypted"));
                }
                let method = entry.compression();
                if !matches!(
                    method,
                    CompressionMethod::Stored | CompressionMethod::Deflated
                ) {
                    return Err(refuse(&format_args!(
                        "is compressed with {method:?}: only stored and deflated entries are read"
                    )));
                }
                // A size the archive admits to is refused before anything is written; a
                // smaller lie is caught while writing.
                declared = declared.saturating_add(entry.size());
                if declared > limits.max_size {
                    return Err(refuse(&format_args!(
                        "takes the unpacked size past the limit of {} \
                         (resource_driver.driver_files.max_size): the archive declares {} bytes",
                        size(limits.max_size),
                        declared
                    )));
                }
            }
            drop(entry);
            tree.names.push(name);
            tree.add(index, &parts, kind, executable, limits.max_entries)?;
        }
        Ok(tree)
    }

    /// Adds entry `entry` (its path `parts`, of `kind`) and the directories above it.
    fn add(
        &mut self,
        entry: usize,
        parts: &[String],
        kind: NodeKind,
        executable: bool,
        max_nodes: usize,
    ) -> Result<(), ResourceDriverError> {
        for depth in 1..=parts.len() {
            let path = parts[..depth].join("/");
            let this_kind = if depth == parts.len() {
                kind
            } else {
                NodeKind::Directory
            };
            match self.nodes.get(&path) {
                Some(node)
                    if node.kind == NodeKind::Directory && this_kind == NodeKind::Directory =>
                {
                    continue
                }
                Some(node) => {
                    let earlier = shown(&self.names[node.entry]);
                    let reason = if node.kind == NodeKind::File && this_kind == NodeKind::File {
                        format!("names the same file as entry `{earlier}`")
                    } else if node.kind == NodeKind::File {
                        format!("needs `{path}` to be a directory, but entry `{earlier}` is a file")
                    } else {
                        format!("names the directory `{path}` of entry `{earlier}` as a file")
                    };
                    return Err(invalid(format!(
                        "driverFiles: entry `{}` {reason}",
                        shown(&self.names[entry])
                    )));
                }
                None => {}
            }
            if self.nodes.len() == max_nodes {
                return Err(invalid(format!(
                    "driverFiles: entry `{}` makes more than {max_nodes} files and directories \
                     (resource_driver.driver_files.max_entries)",
                    shown(&self.names[entry])
                )));
            }
            self.nodes.insert(
                path.clone(),
                Node {
                    kind: this_kind,
                    entry,
                },
            );
            self.steps.push(match this_kind {
                NodeKind::Directory => Step::Directory { path },
                NodeKind::File => Step::File {
                    entry,
                    path,
                    executable,
                },
            });
        }
        Ok(())
    }

    /// Creates the tree under `root`; at most `max_size` bytes of file contents.
    fn write<R: Read + std::io::Seek>(
        &self,
        archive: &mut ZipArchive<R>,
        root: &Path,
        max_size: u64,
        stop: &AtomicBool,
    ) -> Result<(), ResourceDriverError> {
        let mut budget = max_size;
        let mut buffer = vec![0u8; 64 * 1024];
        for step in &self.steps {
            if stop.load(Ordering::Relaxed) {
                return Err(stopped());
            }
            match step {
                Step::Directory { path } => create_dir(&root.join(path)).map_err(|err| {
                    internal(format!(
                        "driverFiles: cannot create directory `{path}`: {err}"
                    ))
                })?,
                Step::File {
                    entry,
                    path,
                    executable,
                } => {
                    let name = shown(&self.names[*entry]);
                    let mut contents = archive.by_index(*entry).map_err(|err| {
                        invalid(format!("driverFiles: entry `{name}` {}", unreadable(&err)))
                    })?;
                    let mut file = create_file(&root.join(path), *executable).map_err(|err| {
                        internal(format!("driverFiles: cannot create file `{path}`: {err}"))
                    })?;
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return Err(stopped());
                        }
                        let read = match contents.read(&mut buffer) {
                            Ok(0) => break,
                            Ok(read) => read,
                            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                            Err(err) => {
                                return Err(invalid(format!(
                                    "driverFiles: entry `{name}` is corrupt: {err}"
                                )))
                            }
                        };
                        // Counted before writing: never a byte past the limit on disk.
                        budget = budget.checked_sub(read as u64).ok_or_else(|| {
                            invalid(format!(
                                "driverFiles: entry `{name}` takes the unpacked size past the \
                                 limit of {} (resource_driver.driver_files.max_size)",
                                size(max_size)
                            ))
                        })?;
                        file.write_all(&buffer[..read]).map_err(|err| {
                            internal(format!("driverFiles: cannot write file `{path}`: {err}"))
                        })?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The files' paths, `/`-separated, sorted.
    fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, node)| node.kind == NodeKind::File)
            .map(|(path, _)| path.clone())
            .collect();
        files.sort_unstable();
        files
    }
}

/// The `S_IFMT` bits of a unix mode and their values (`<sys/stat.h>`; the same on every
/// unix, and what zip tools store in the high 16 bits of the external attributes).
const S_IFMT: u32 = 0o170_000;
const S_IFSOCK: u32 = 0o140_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFREG: u32 = 0o100_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFIFO: u32 = 0o010_000;

/// A file or a directory; the reason otherwise. A name ending in `/` (or `\`) is a
/// directory, as is a unix mode saying so; an archive made on Windows or DOS has no unix
/// type, and its entries are files or directories by name.
fn kind_of(name: &str, unix_mode: Option<u32>) -> Result<NodeKind, String> {
    let by_name = if name.ends_with(['/', '\\']) {
        NodeKind::Directory
    } else {
        NodeKind::File
    };
    match unix_mode.map(|mode| mode & S_IFMT) {
        None | Some(0) | Some(S_IFREG) => Ok(by_name),
        Some(S_IFDIR) => Ok(NodeKind::Directory),
        Some(S_IFLNK) => Err("is a symbolic link".to_owned()),
        Some(S_IFCHR) | Some(S_IFBLK) => Err("is a device".to_owned()),
        Some(S_IFIFO) => Err("is a FIFO (named pipe)".to_owned()),
        Some(S_IFSOCK) => Err("is a socket".to_owned()),
        Some(other) => Err(format!("has an unknown file type (mode {other:o})")),
    }
}

/// Why an entry could not be opened for reading.
fn unreadable(err: &ZipError) -> String {
    match err {
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => "is encrypted".to_owned(),
        other => format!("cannot be read: {other}"),
    }
}

/// A directory only its owner can enter.
fn create_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// A new file (never an existing one, nor through a link), readable by its owner only;
/// executable by the owner when the archive says it is executable.
fn create_file(path: &Path, executable: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if executable { 0o700 } else { 0o600 });
    #[cfg(not(unix))]
    let _ = executable;
    options.open(path)
}

fn invalid(message: String) -> ResourceDriverError {
    ResourceDriverError::InvalidDriverFiles(message)
}

fn internal(message: String) -> ResourceDriverError {
    ResourceDriverError::Internal(message)
}

/// Nobody waits for the result any more; the message is for the logs, if any.
fn stopped() -> ResourceDriverError {
    internal("driverFiles: unpacking stopped: the request was dropped".to_owned())
}

/// `n` bytes for a message: `256 MiB`, or a plain count.
fn size(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}
