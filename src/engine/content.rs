//! Frames by content: which file to decode, which is a copy of another, and
//! which a saved state already counts, decided before any decoding.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::SkipReason;

use super::series::Candidate;
use super::FrameHash;

/// What to do with a frame of the series.
pub(super) enum Plan {
    /// Decode and count it.
    Count(Expected),
    /// A base already counted this file under the same path: listed again, no news.
    Listed,
    /// Same content as the series' frame at this (lower) index.
    CopyOf(usize),
}

/// What a counted frame's bytes must be when a worker reads them.
#[derive(Clone, Copy)]
pub(super) enum Expected {
    /// Hashed while planning: these exact bytes.
    Hash(FrameHash),
    /// No other frame has its size, so it was not hashed: this many bytes.
    Size(u64),
}

/// Plans every frame by content before any decoding, in series order, so
/// that nothing depends on which worker gets to a frame first: the lowest
/// index with a given content is decoded, later copies follow its fate, and
/// content a base already counted is skipped (with its first path).
///
/// Only files that could be copies are read for this: with no base, a file
/// whose size no other file of the series has is unique, and is read once,
/// by the worker that decodes it (on a cold cache or a slow card, reading
/// every file twice would cost a second pass over the whole series).
pub(super) fn plan_by_content(
    pool: &rayon::ThreadPool,
    series: &[Candidate],
    known: HashMap<FrameHash, PathBuf>,
) -> Vec<Result<Plan, SkipReason>> {
    let sizes: Vec<Option<u64>> = pool.install(|| {
        series
            .par_iter()
            .map(|c| std::fs::metadata(&c.path).ok().map(|m| m.len()))
            .collect()
    });
    let mut files_of_size: HashMap<u64, usize> = HashMap::new();
    for size in sizes.iter().flatten() {
        *files_of_size.entry(*size).or_default() += 1;
    }
    let unique_size = |i: usize| sizes[i].filter(|s| known.is_empty() && files_of_size[s] == 1);
    let expected: Vec<Result<Expected, SkipReason>> = pool.install(|| {
        (0..series.len())
            .into_par_iter()
            .map(|i| match unique_size(i) {
                Some(size) => Ok(Expected::Size(size)),
                None => hash_file(&series[i].path).map(Expected::Hash),
            })
            .collect()
    });
    let mut first_in_series: HashMap<FrameHash, usize> = HashMap::new();
    expected
        .into_iter()
        .enumerate()
        .map(|(i, expected)| {
            let hash = match expected? {
                Expected::Hash(hash) => hash,
                size => return Ok(Plan::Count(size)),
            };
            if let Some(first) = known.get(&hash) {
                return if *first == series[i].path {
                    Ok(Plan::Listed)
                } else {
                    Err(SkipReason::AlreadyCounted(first.display().to_string()))
                };
            }
            match first_in_series.get(&hash) {
                Some(&j) => Ok(Plan::CopyOf(j)),
                None => {
                    first_in_series.insert(hash, i);
                    Ok(Plan::Count(Expected::Hash(hash)))
                }
            }
        })
        .collect()
}

/// BLAKE3 of a file's bytes, streamed.
fn hash_file(path: &Path) -> Result<FrameHash, SkipReason> {
    let mut hasher = blake3::Hasher::new();
    std::fs::File::open(path)
        .and_then(|f| hasher.update_reader(f).map(|_| ()))
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    Ok(*hasher.finalize().as_bytes())
}
