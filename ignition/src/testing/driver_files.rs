//! [`DriverFilesBuilder`]: a request's `driverFiles` made in a test.

use std::collections::BTreeMap;
use std::io::{Cursor, Write as _};

use base64::Engine as _;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::driver_files::{unpack, DriverFiles, DriverFilesLimits};
use crate::error::ResourceDriverError;

/// Makes a request's `driverFiles`: a zip of the given files (deflated, as `zip -r` and the
/// lifecycle manager write them), as base64 or as bytes.
///
/// ```
/// use ignition::testing::DriverFilesBuilder;
///
/// let driver_files = DriverFilesBuilder::new()
///     .file("scripts/install.sh", "#!/bin/sh\necho installed\n")
///     .executable("scripts/start.sh", "#!/bin/sh\necho started\n")
///     .directory("logs")
///     .to_base64();
/// assert!(!driver_files.is_empty());
/// ```
///
/// A driver's method can also be called directly with the unpacked files, without a
/// server: [`into_driver_files`](Self::into_driver_files).
#[derive(Debug, Clone, Default)]
pub struct DriverFilesBuilder {
    /// By path (a path given twice keeps its last contents).
    entries: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone)]
enum Entry {
    File { contents: Vec<u8>, executable: bool },
    Directory,
}

impl DriverFilesBuilder {
    /// No files yet (an empty zip, which a driver receives as an empty directory).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the file `path` (`/`-separated, relative, e.g. `"scripts/install.sh"`; its
    /// directories need no entries of their own), mode 0644.
    pub fn file(mut self, path: impl Into<String>, contents: impl AsRef<[u8]>) -> Self {
        self.entries.insert(
            path.into(),
            Entry::File {
                contents: contents.as_ref().to_vec(),
                executable: false,
            },
        );
        self
    }

    /// Adds the file `path`, mode 0755 (unpacked executable by its owner).
    pub fn executable(mut self, path: impl Into<String>, contents: impl AsRef<[u8]>) -> Self {
        self.entries.insert(
            path.into(),
            Entry::File {
                contents: contents.as_ref().to_vec(),
                executable: true,
            },
        );
        self
    }

    /// Adds the directory `path` (e.g. an empty one; `"logs"` or `"logs/"`).
    pub fn directory(mut self, path: impl Into<String>) -> Self {
        self.entries.insert(path.into(), Entry::Directory);
        self
    }

    /// The zip archive.
    pub fn to_zip(&self) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (path, entry) in &self.entries {
            let options =
                SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
            // Writing into memory cannot fail, and the map's keys are unique names (the
            // only other refusal of the writer).
            let written = match entry {
                Entry::File {
                    contents,
                    executable,
                } => zip
                    .start_file(
                        path.as_str(),
                        options.unix_permissions(if *executable { 0o755 } else { 0o644 }),
                    )
                    .and_then(|()| zip.write_all(contents).map_err(Into::into)),
                Entry::Directory => {
                    zip.add_directory(path.as_str(), options.unix_permissions(0o755))
                }
            };
            written.expect("a zip written into memory, with unique names");
        }
        zip.finish()
            .expect("a zip written into memory")
            .into_inner()
    }

    /// The zip archive in base64 (standard alphabet, padded, one line): a request's
    /// `driverFiles`.
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_zip())
    }

    /// The files unpacked as the framework unpacks a request's `driverFiles` (same checks,
    /// default limits, a private directory under the system's temporary directory, removed
    /// when the value is dropped): to call a driver's method directly in a unit test.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), ignition::ResourceDriverError> {
    /// use ignition::testing::DriverFilesBuilder;
    ///
    /// let files = DriverFilesBuilder::new()
    ///     .file("scripts/install.sh", "echo installed")
    ///     .into_driver_files()
    ///     .await?;
    /// assert_eq!(files.files(), ["scripts/install.sh"]);
    /// assert_eq!(files.read_to_string("scripts/install.sh")?, "echo installed");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn into_driver_files(self) -> Result<DriverFiles, ResourceDriverError> {
        unpack(self.to_base64(), DriverFilesLimits::default()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode_of(path: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    #[tokio::test]
    async fn the_test_kit_builds_what_the_unpacker_reads() {
        let builder = DriverFilesBuilder::new()
            .file("scripts/install.sh", "echo install")
            .executable("scripts/run", "#!/bin/sh\n")
            .directory("logs");
        let files = builder.clone().into_driver_files().await.unwrap();
        assert_eq!(files.files(), ["scripts/install.sh", "scripts/run"]);
        assert_eq!(
            files.read_to_string("scripts/install.sh").unwrap(),
            "echo install"
        );
        assert!(files.root().join("logs").is_dir());
        #[cfg(unix)]
        {
            assert_eq!(mode_of(&files.root().join("scripts/run")), 0o700);
            assert_eq!(mode_of(&files.root().join("scripts/install.sh")), 0o600);
        }
        let dir = files.root().to_path_buf();
        let removal = files.removal();
        drop(files);
        removal.settled().await;
        assert!(!dir.exists(), "removed when dropped");
    }
}
