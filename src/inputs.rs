//! Turns what the user typed (files, glob patterns, directories, `-` for a list
//! on stdin) into one sorted, de-duplicated list of paths.
//!
//! Patterns are expanded here rather than by the shell so that quoted patterns
//! and shells that do not expand them (Windows) behave the same. Paths are
//! bytes on Unix, not always UTF-8: they are kept as `OsString`s from the
//! command line to the decoder, and patterns match them as bytes (`globset`,
//! as ripgrep and fd do), so a file with an odd name is used, not skipped.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::BufRead;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::error::{Error, SkipReason, Skipped};

/// File extensions treated as photos when a directory is listed.
const PHOTO_EXTENSIONS: [&str; 2] = ["jpg", "jpeg"];

/// How inputs are expanded besides the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpandOptions {
    /// A `-` list on stdin is separated by NUL bytes (`find -print0`), not
    /// by lines; paths are then taken exactly, newlines and all.
    pub null_separated: bool,
    /// Directories are searched through all their subdirectories.
    pub recursive: bool,
    /// Glob patterns of paths to leave out of what directories, patterns and
    /// stdin lists give (a file named on the command line is always kept). A
    /// pattern without `/` is matched against each part of the path below
    /// the folder given (a file or folder name); one with `/` against the
    /// path below that folder, or the whole path as spelled.
    pub exclude: Vec<String>,
}

/// What the inputs gave: the paths to probe, and the folders that gave no
/// photo, each skipped like a bad file (named, counted, listed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    /// Sorted and de-duplicated.
    pub paths: Vec<PathBuf>,
    /// Folders without photos, in the order given.
    pub skipped: Vec<Skipped>,
}

impl Inputs {
    /// Paths with nothing skipped (for callers that list files themselves).
    pub fn of_paths(paths: &[PathBuf]) -> Inputs {
        Inputs {
            paths: paths.to_vec(),
            skipped: Vec::new(),
        }
    }

    /// Every input: the paths and the skipped folders.
    pub fn len(&self) -> usize {
        self.paths.len() + self.skipped.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Expands `inputs` into paths, sorted and de-duplicated (two spellings of
/// one file count once). `stdin` is read only when an input is `-`.
pub fn expand<S: AsRef<OsStr>>(
    inputs: &[S],
    stdin: &mut dyn BufRead,
) -> Result<Vec<PathBuf>, Error> {
    expand_with(inputs, stdin, &ExpandOptions::default()).map(|i| i.paths)
}

/// [`expand`] with options: NUL-separated stdin lists, recursive
/// directories, excluded patterns. A folder that gives no photo is skipped
/// (the shell cannot tell `photos/*` holds an empty folder, and hotpix cannot
/// tell a folder the shell expanded from one typed); the inputs are an error
/// only when none of them gives a photo.
pub fn expand_with<S: AsRef<OsStr>>(
    inputs: &[S],
    stdin: &mut dyn BufRead,
    opts: &ExpandOptions,
) -> Result<Inputs, Error> {
    if inputs.is_empty() {
        return Err(Error::NoInputs);
    }
    let exclude = Exclude::new(&opts.exclude)?;
    let mut found = Vec::new();
    let mut empty_folders = Vec::new();
    let mut stdin_read = false;
    for input in inputs {
        let input = input.as_ref();
        if input == "-" {
            if !stdin_read {
                stdin_read = true;
                let list = read_list(stdin, opts.null_separated)?;
                found.extend(
                    list.into_iter()
                        .filter(|p| !exclude.matches(Path::new(""), p)),
                );
            }
            continue;
        }
        let path = Path::new(input);
        if path.is_dir() {
            match list_dir(path, opts.recursive, &exclude) {
                Ok(paths) => found.extend(paths),
                Err(e @ Error::NoPhotos { .. }) => empty_folders.push(e),
                Err(e) => return Err(e),
            }
        } else if path.exists() || path.is_symlink() {
            found.push(path.to_path_buf());
        } else if has_glob_chars(input) {
            let Some(pattern) = input.to_str() else {
                return Err(Error::BadPattern {
                    pattern: input.to_string_lossy().into_owned(),
                    reason: "it is not valid UTF-8; let the shell expand it".into(),
                });
            };
            found.extend(expand_glob(pattern, &exclude)?);
        } else {
            return Err(Error::Missing(path.to_path_buf()));
        }
    }
    if found.is_empty() && !empty_folders.is_empty() {
        return Err(match empty_folders.len() {
            1 => empty_folders.remove(0),
            _ => Error::NoPhotosAnywhere(empty_folders.iter().map(ToString::to_string).collect()),
        });
    }
    let skipped = empty_folders
        .into_iter()
        .filter_map(|e| match e {
            Error::NoPhotos {
                path,
                subfolders,
                recursive,
                excluded,
            } => Some(Skipped {
                path,
                reason: SkipReason::NoPhotos {
                    subfolders,
                    recursive,
                    excluded,
                },
            }),
            _ => None,
        })
        .collect();
    Ok(Inputs {
        paths: sort_dedup(found),
        skipped,
    })
}

/// Paths listed one per line, or separated by NUL bytes. Listed paths are
/// taken literally: a missing one is reported later as a skipped frame,
/// because a long list with one stale entry should not end the run.
fn read_list(stdin: &mut dyn BufRead, null_separated: bool) -> Result<Vec<PathBuf>, Error> {
    let mut paths = Vec::new();
    let mut entry = Vec::new();
    let separator = if null_separated { b'\0' } else { b'\n' };
    let mut line = 0;
    loop {
        line += 1;
        entry.clear();
        if stdin
            .read_until(separator, &mut entry)
            .map_err(Error::Stdin)?
            == 0
        {
            break;
        }
        let mut bytes = entry.as_slice();
        if null_separated {
            bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
            if !bytes.is_empty() {
                paths.push(path_from_bytes(bytes));
            }
            continue;
        }
        while let Some(rest) = bytes
            .strip_suffix(b"\n")
            .or_else(|| bytes.strip_suffix(b"\r"))
        {
            bytes = rest;
        }
        // No file name holds a NUL byte: the list is NUL-separated
        // (`find -print0`) and -0 was forgotten.
        if bytes.contains(&0) {
            return Err(Error::NulInList {
                line,
                shown: escaped(bytes, 60),
            });
        }
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            paths.push(path_from_bytes(bytes));
        }
    }
    Ok(paths)
}

/// `bytes` as text a terminal shows safely: NUL as `\0`, a backslash as
/// `\\`, other control characters and bytes that are not UTF-8 as `\xNN`;
/// after `max` characters shown, the rest is `...`.
pub fn escaped(bytes: &[u8], max: usize) -> String {
    let mut pieces = Vec::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            pieces.push(match c {
                '\0' => "\\0".to_string(),
                '\\' => "\\\\".to_string(),
                c if c.is_control() => format!("\\x{:02x}", c as u32),
                c => c.to_string(),
            });
        }
        pieces.extend(chunk.invalid().iter().map(|b| format!("\\x{b:02x}")));
    }
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        out.push_str(piece);
    }
    out
}

/// File names are bytes on Unix, not always UTF-8: take them as they are
/// rather than failing the whole list on one odd name.
#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// The photos of a directory, or of its whole tree when `recursive`. Without
/// `recursive`, sub-directories named like photos are kept so that they are
/// reported as skipped rather than silently ignored.
fn list_dir(dir: &Path, recursive: bool, exclude: &Exclude) -> Result<Vec<PathBuf>, Error> {
    let read_dir_error = |path: &Path, source| Error::ReadDir {
        path: path.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    let mut subfolders = 0;
    let mut excluded = 0;
    if recursive {
        // Symbolic links to directories are not followed (no loops); links
        // to files are kept like files.
        let walk = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .into_iter()
            .filter_entry(|e| !(e.file_type().is_dir() && exclude.matches(dir, e.path())));
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().unwrap_or(dir).to_path_buf();
                    let source = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("file system loop"));
                    return Err(read_dir_error(&path, source));
                }
            };
            if entry.file_type().is_dir() || !is_photo_name(entry.path()) {
                continue;
            }
            if exclude.matches(dir, entry.path()) {
                excluded += 1;
            } else {
                paths.push(entry.into_path());
            }
        }
    } else {
        let entries = std::fs::read_dir(dir).map_err(|e| read_dir_error(dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| read_dir_error(dir, e))?;
            let path = entry.path();
            if is_photo_name(&path) {
                if exclude.matches(dir, &path) {
                    excluded += 1;
                } else {
                    paths.push(path);
                }
            } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
                subfolders += 1;
            }
        }
    }
    if paths.is_empty() {
        return Err(Error::NoPhotos {
            path: dir.to_path_buf(),
            subfolders,
            recursive,
            excluded,
        });
    }
    Ok(paths)
}

fn is_photo_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PHOTO_EXTENSIONS.iter().any(|p| e.eq_ignore_ascii_case(p)))
}

fn has_glob_chars(s: &OsStr) -> bool {
    s.as_encoded_bytes()
        .iter()
        .any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// A glob as hotpix reads one: `*` and `?` do not cross `/`, `**` does.
fn matcher(pattern: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(cfg!(unix))
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| e.kind().to_string())
}

/// The paths that `pattern` matches. The part of the pattern before its
/// first wildcard is a directory to start from; below it the tree is walked
/// only as deep as the pattern reaches, and only into directories the
/// pattern can match.
fn expand_glob(pattern: &str, exclude: &Exclude) -> Result<Vec<PathBuf>, Error> {
    let bad = |reason: String| Error::BadPattern {
        pattern: pattern.to_string(),
        reason,
    };
    let cased = extension_case_insensitive(pattern);
    let parts: Vec<&str> = cased.split('/').collect();
    let first_wild = parts
        .iter()
        .position(|p| has_glob_chars(OsStr::new(p)))
        .expect("a pattern has a wildcard");
    let (base_parts, rest) = parts.split_at(first_wild);
    let base = match base_parts.join("/") {
        b if b.is_empty() && base_parts.is_empty() => None,
        // `/x*`: the root.
        b if b.is_empty() => Some(PathBuf::from("/")),
        b => Some(PathBuf::from(b)),
    };
    let whole = matcher(&rest.join("/")).map_err(bad)?;
    let deep = rest.contains(&"**");
    // Matchers for the directories along the way, to prune the walk.
    let steps: Vec<Option<GlobMatcher>> = rest
        .iter()
        .take_while(|p| **p != "**")
        .map(|p| matcher(p).ok())
        .collect();
    let root = base.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut walk = walkdir::WalkDir::new(&root).min_depth(1).follow_links(true);
    if !deep {
        walk = walk.max_depth(rest.len());
    }
    let shown = |p: &Path| -> PathBuf {
        match &base {
            Some(_) => p.to_path_buf(),
            // `*.jpg` names `a.jpg`, not `./a.jpg`.
            None => p.strip_prefix(&root).unwrap_or(p).to_path_buf(),
        }
    };
    let mut paths = Vec::new();
    let mut excluded = 0;
    let walk = walk.into_iter().filter_entry(|e| {
        if !e.file_type().is_dir() || e.depth() == 0 {
            return true;
        }
        match steps.get(e.depth() - 1) {
            Some(Some(step)) => step.is_match(e.file_name()),
            _ => true,
        }
    });
    for entry in walk {
        let (path, depth) = match entry {
            Ok(entry) => (entry.path().to_path_buf(), entry.depth()),
            // An entry the walk could not read is kept when it matches, so
            // that it is reported (and counted) as unreadable instead of
            // disappearing.
            Err(e) => match e.path() {
                Some(p) if e.loop_ancestor().is_none() => (p.to_path_buf(), e.depth()),
                _ => continue,
            },
        };
        if depth == 0 {
            continue;
        }
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        if !whole.is_match(relative) {
            continue;
        }
        if exclude.matches(&root, &path) {
            excluded += 1;
        } else {
            paths.push(shown(&path));
        }
    }
    if paths.is_empty() {
        return Err(Error::NoMatch {
            pattern: pattern.to_string(),
            excluded,
        });
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

/// The `--exclude` patterns.
struct Exclude {
    /// Patterns without `/`: matched against every part of a path.
    names: Vec<GlobMatcher>,
    /// Patterns with `/`: matched against the whole path.
    paths: Vec<GlobMatcher>,
}

impl Exclude {
    fn new(patterns: &[String]) -> Result<Exclude, Error> {
        let mut names = Vec::new();
        let mut paths = Vec::new();
        for pattern in patterns {
            let m = matcher(&extension_case_insensitive(pattern)).map_err(|reason| {
                Error::BadPattern {
                    pattern: pattern.clone(),
                    reason,
                }
            })?;
            if pattern.contains('/') {
                paths.push(m);
            } else {
                names.push(m);
            }
        }
        Ok(Exclude { names, paths })
    }

    /// True when `path`, found below `top` (a folder the user named, whose
    /// own name is not judged), is to be left out.
    fn matches(&self, top: &Path, path: &Path) -> bool {
        if self.names.is_empty() && self.paths.is_empty() {
            return false;
        }
        let below = path.strip_prefix(top).unwrap_or(path);
        let named = below.components().any(|c| match c {
            Component::Normal(name) => self.names.iter().any(|m| m.is_match(name)),
            _ => false,
        });
        let plain = path.strip_prefix(".").unwrap_or(path);
        named
            || self
                .paths
                .iter()
                .any(|m| m.is_match(path) || m.is_match(plain) || m.is_match(below))
    }
}

/// Sorted by path; two spellings of the same file (`a.jpg`, `./a.jpg`) are
/// one input, kept under the spelling that sorts first.
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
mod tests;
