//! Turns what the user typed (files, glob patterns, directories, `-` for a list
//! on stdin) into one sorted, de-duplicated list of paths.
//!
//! Patterns are expanded here rather than by the shell so that quoted patterns
//! and shells that do not expand them (Windows) behave the same.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// File extensions treated as photos when a directory is listed.
const PHOTO_EXTENSIONS: [&str; 2] = ["jpg", "jpeg"];

/// Expands `inputs` into paths, sorted by their text and de-duplicated (two
/// spellings of one file count once). `stdin` is read only when an input is `-`.
pub fn expand(inputs: &[String], stdin: &mut dyn BufRead) -> Result<Vec<PathBuf>, Error> {
    if inputs.is_empty() {
        return Err(Error::NoInputs);
    }
    let mut found = Vec::new();
    let mut stdin_read = false;
    for input in inputs {
        if input == "-" {
            if !stdin_read {
                stdin_read = true;
                found.extend(read_list(stdin)?);
            }
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            found.extend(list_dir(path)?);
        } else if path.exists() || path.is_symlink() {
            found.push(path.to_path_buf());
        } else if has_glob_chars(input) {
            found.extend(expand_glob(input)?);
        } else {
            return Err(Error::Missing(path.to_path_buf()));
        }
    }
    Ok(sort_dedup(found))
}

/// Paths listed one per line. Listed paths are taken literally: a missing one
/// is reported later as a skipped frame, because a long list with one stale
/// entry should not end the run.
fn read_list(stdin: &mut dyn BufRead) -> Result<Vec<PathBuf>, Error> {
    let mut paths = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if stdin.read_until(b'\n', &mut line).map_err(Error::Stdin)? == 0 {
            break;
        }
        let mut bytes = line.as_slice();
        while let Some(rest) = bytes
            .strip_suffix(b"\n")
            .or_else(|| bytes.strip_suffix(b"\r"))
        {
            bytes = rest;
        }
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            paths.push(path_from_bytes(bytes));
        }
    }
    Ok(paths)
}

/// File names are bytes on Unix, not always UTF-8: take them as they are
/// rather than failing the whole list on one odd name.
#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The photos of a directory (not recursive). Sub-directories named like photos
/// are kept so that they are reported as skipped rather than silently ignored.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::ReadDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if is_photo_name(&path) {
            paths.push(path);
        }
    }
    Ok(paths)
}

fn is_photo_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.iter().any(|p| e.eq_ignore_ascii_case(p)))
}

fn has_glob_chars(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, Error> {
    let bad = |reason: String| Error::BadPattern {
        pattern: pattern.to_string(),
        reason,
    };
    let matches =
        glob::glob(&extension_case_insensitive(pattern)).map_err(|e| bad(e.to_string()))?;
    let mut paths = Vec::new();
    for m in matches {
        // An entry the glob walk could not read is kept so that it is reported
        // (and counted) as unreadable instead of disappearing.
        paths.push(m.unwrap_or_else(|e| e.path().to_path_buf()));
    }
    if paths.is_empty() {
        return Err(Error::NoMatch(pattern.to_string()));
    }
    Ok(paths)
}

/// `*.JPG` becomes `*.[jJ][pP][gG]`: cameras write upper-case extensions and
/// users type either, but only the extension is matched without case so that
/// the rest of the pattern means what it says on a case-sensitive file system.
fn extension_case_insensitive(pattern: &str) -> String {
    let name_start = pattern.rfind(['/', '\\']).map_or(0, |i| i + 1);
    let Some(dot) = pattern[name_start..].rfind('.').map(|i| name_start + i) else {
        return pattern.to_string();
    };
    let ext = &pattern[dot + 1..];
    if ext.is_empty() || !ext.chars().all(|c| c.is_ascii_alphanumeric()) {
        return pattern.to_string();
    }
    let mut out = pattern[..=dot].to_string();
    for c in ext.chars() {
        if c.is_ascii_alphabetic() {
            out.push('[');
            out.push(c.to_ascii_lowercase());
            out.push(c.to_ascii_uppercase());
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

/// Sorted by path text; two spellings of the same file (`a.jpg`, `./a.jpg`)
/// are one input, kept under the spelling that sorts first.
fn sort_dedup(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut by_identity: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    for path in paths {
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        by_identity
            .entry(key)
            .and_modify(|kept| {
                if path < *kept {
                    *kept = path.clone();
                }
            })
            .or_insert(path);
    }
    let mut out: Vec<PathBuf> = by_identity.into_values().collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_extension_loses_its_case() {
        assert_eq!(extension_case_insensitive("*.JPG"), "*.[jJ][pP][gG]");
        assert_eq!(
            extension_case_insensitive("dir.d/DSC_*.jpeg"),
            "dir.d/DSC_*.[jJ][pP][eE][gG]"
        );
        assert_eq!(extension_case_insensitive("photos/*"), "photos/*");
        assert_eq!(extension_case_insensitive("a.d/*"), "a.d/*");
        assert_eq!(extension_case_insensitive("*.jp?"), "*.jp?");
    }

    #[test]
    fn stdin_list_skips_blank_lines_and_carriage_returns() {
        let mut input = "a.jpg\r\n\n  \nb c.jpg\n".as_bytes();
        let paths = read_list(&mut input).unwrap();
        assert_eq!(
            paths,
            vec![PathBuf::from("a.jpg"), PathBuf::from("b c.jpg")]
        );
    }

    #[cfg(unix)]
    #[test]
    fn stdin_list_keeps_non_utf8_names() {
        use std::os::unix::ffi::OsStrExt;
        let mut input = &b"a.jpg\n\xffb.jpg\n"[..];
        let paths = read_list(&mut input).unwrap();
        assert_eq!(paths.len(), 2);
        assert_eq!(paths[1].as_os_str().as_bytes(), b"\xffb.jpg");
    }

    #[test]
    fn pattern_that_matches_nothing_names_the_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let pattern = format!("{}/*.JPG", dir.path().display());
        let err = expand(std::slice::from_ref(&pattern), &mut &b""[..]).unwrap_err();
        assert!(err.to_string().contains(&pattern), "{err}");
    }

    #[test]
    fn globs_dirs_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.JPG", "a.jpg", "c.txt", "d.jpeg"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let d = dir.path().display();
        let inputs = vec![format!("{d}/*.jpg"), format!("{d}"), format!("{d}/./a.jpg")];
        let paths = expand(&inputs, &mut &b""[..]).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.jpg", "b.JPG", "d.jpeg"]);
    }
}
