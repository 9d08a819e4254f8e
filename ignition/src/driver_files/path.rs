//! What a path inside the driver's files may be: the rules for an archive entry's name and
//! for the `relative` argument of [`DriverFiles::read_to_string`](super::DriverFiles), in
//! one place.
//!
//! A path is relative, `/`-separated (`\` counts as a separator too, as zip tools on
//! Windows write it and as the zip crate reads it), made of plain names: no leading `/`, no
//! Windows drive (`C:`), no `..` anywhere (not even `a/../b`, which would stay inside: a
//! package has no reason to write it, and refusing it needs no resolving), no NUL. Empty
//! and `.` components are dropped (`./a//b` is `a/b`). Lengths are capped below what
//! Linux accepts, so a long name is a clear 400 rather than an `ENAMETOOLONG` from the
//! file system.

use std::fmt;

/// The longest path accepted, in bytes (`/`-joined, after dropping `.` and empty parts);
/// the temporary directory's own path comes on top of it, well inside Linux's 4 096.
pub(super) const MAX_PATH_BYTES: usize = 1024;

/// The longest name of one file or directory, in bytes (Linux's `NAME_MAX`).
pub(super) const MAX_NAME_BYTES: usize = 255;

/// Why a path is refused; `Display` completes "entry `x` ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A leading `/` or `\`, or a Windows drive.
    Absolute,
    /// A `..` component.
    Escapes,
    /// A NUL byte.
    Nul,
    /// Longer than [`MAX_PATH_BYTES`].
    TooLong,
    /// A component longer than [`MAX_NAME_BYTES`].
    NameTooLong,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Absolute => "is an absolute path",
            Refusal::Escapes => "escapes the driver's directory (`..`)",
            Refusal::Nul => "has a NUL character in its name",
            Refusal::TooLong => "is a path longer than 1024 bytes",
            Refusal::NameTooLong => "has a file or directory name longer than 255 bytes",
        })
    }
}

/// The components of `path` under the rules above; empty for the root itself (`""`,
/// `.`, `./`).
pub(super) fn components(path: &str) -> Result<Vec<&str>, Refusal> {
    if path.contains('\0') {
        return Err(Refusal::Nul);
    }
    if path.starts_with(['/', '\\']) || has_drive(path) {
        return Err(Refusal::Absolute);
    }
    let mut parts = Vec::new();
    let mut length = 0usize;
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => continue,
            ".." => return Err(Refusal::Escapes),
            name if name.len() > MAX_NAME_BYTES => return Err(Refusal::NameTooLong),
            name => {
                length += name.len() + usize::from(!parts.is_empty());
                parts.push(name);
            }
        }
    }
    if length > MAX_PATH_BYTES {
        return Err(Refusal::TooLong);
    }
    Ok(parts)
}

/// `C:`, `c:foo`, `C:\`: a Windows drive, absolute or drive-relative.
fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// `name` as shown in a message: control characters escaped (a name may hold newlines or
/// terminal escapes; the message goes to logs and to the caller), cut after 200
/// characters.
pub(super) fn shown(name: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut out = String::new();
    for (count, c) in name.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_are_split_and_tidied() {
        assert_eq!(components("a/b.txt"), Ok(vec!["a", "b.txt"]));
        assert_eq!(components("./a//b/"), Ok(vec!["a", "b"]));
        assert_eq!(components(r"dir\file.sh"), Ok(vec!["dir", "file.sh"]));
        assert_eq!(components("a/..b/c.."), Ok(vec!["a", "..b", "c.."]));
        assert_eq!(components("a/c:d"), Ok(vec!["a", "c:d"]));
        assert_eq!(components(""), Ok(vec![]));
        assert_eq!(components("./"), Ok(vec![]));
    }

    #[test]
    fn escapes_absolute_paths_and_nul_are_refused() {
        for (path, refusal) in [
            ("../etc/passwd", Refusal::Escapes),
            ("a/../../b", Refusal::Escapes),
            ("a/../b", Refusal::Escapes),
            (r"a\..\..\b", Refusal::Escapes),
            ("..", Refusal::Escapes),
            ("/etc/passwd", Refusal::Absolute),
            (r"\etc\passwd", Refusal::Absolute),
            ("//server/share", Refusal::Absolute),
            (r"C:\Windows", Refusal::Absolute),
            ("c:foo", Refusal::Absolute),
            ("a\0b", Refusal::Nul),
        ] {
            assert_eq!(components(path), Err(refusal), "{path:?}");
        }
    }

    #[test]
    fn lengths_are_capped() {
        let name = "n".repeat(MAX_NAME_BYTES);
        assert_eq!(components(&name), Ok(vec![name.as_str()]));
        let longer = "n".repeat(MAX_NAME_BYTES + 1);
        assert_eq!(components(&longer), Err(Refusal::NameTooLong));

        // 4 names of 255 bytes and their 3 separators: 1023 bytes; one more byte is over.
        let at_limit = [name.as_str(); 4].join("/") + "/";
        assert_eq!(components(&at_limit).map(|p| p.len()), Ok(4));
        let over = [name.as_str(); 4].join("/") + "/x";
        assert_eq!(components(&over), Err(Refusal::TooLong));
        // Dropped parts do not count.
        let padded = "./".repeat(2000) + "a";
        assert_eq!(components(&padded), Ok(vec!["a"]));
    }

    #[test]
    fn shown_escapes_control_characters_and_cuts_long_names() {
        assert_eq!(shown("a\nb\x1b[31m"), r"a\nb\u{1b}[31m");
        assert_eq!(shown(r"..\x"), r"..\x");
        let long = "é".repeat(300);
        assert_eq!(shown(&long), "é".repeat(200) + "…");
    }
}
