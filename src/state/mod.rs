//! Statistics that outlive a run: a state file holds everything a report
//! needs (the merged per-subpixel statistics and the list of frames counted,
//! each with its content hash), so runs can be resumed, merged across
//! machines and reported on again without decoding a photo.
//!
//! The file is a NumPy `.npz` (a zip of `.npy` arrays, readable with
//! `numpy.load`): `meta.json` (format version, frame size, camera, decoder,
//! frame list, skipped inputs), then the moments, either exact (`sum.npy`
//! and `sum_sq.npy`, H x W x C) or past the exact range in Welford form
//! (`mean.npy` and `m2.npy`, float32), one member for each field of the
//! evidence record ([`crate::evidence::MEMBERS`]), each integer array in
//! the narrowest dtype its values can need over the state's frames, and
//! `thumbnails.npy` (float32, frames x 192). Every member is deflated and
//! carries a CRC-32, checked on reading; every value is checked for range
//! and consistency, so a damaged file is refused, never used.

mod merge;
mod npy;
mod read;
mod write;

pub use merge::{merge, Merged};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::decode::DECODER;
use crate::engine::{check_one_body, make_report, Base, CountedFrame, FrameHash, Outcome};
use crate::report::{Report, SkippedInput};
use crate::stats::Stats;

/// The state format's version: raised when a member or field changes meaning
/// or disappears. A file with a newer version is refused.
pub const FORMAT_VERSION: u32 = 3;

/// What `meta.json` says in `format`, so a foreign zip is told apart.
pub const FORMAT_NAME: &str = "hotpix-state";

/// A state file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("state file '{}': {problem}", path.display())]
pub struct StateError {
    pub path: PathBuf,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("cannot write: {0}")]
    Write(std::io::Error),
    #[error("not a hotpix state file ({0})")]
    Foreign(String),
    #[error(
        "format version {found} is newer than this hotpix reads ({FORMAT_VERSION}); use a newer hotpix"
    )]
    Newer { found: u32 },
    #[error(
        "format version {found} was written by an earlier hotpix, without the evidence this one \
         needs (how many frames showed each subpixel); run `hotpix find --save` on its photos again"
    )]
    Older { found: u32 },
    #[error("damaged or invalid: {0}")]
    Corrupt(String),
    #[error("damaged (truncated?): {0}")]
    Truncated(String),
    #[error("cannot be combined: {0}")]
    Incompatible(String),
}

impl StateError {
    pub(crate) fn new(path: &Path, problem: Problem) -> Self {
        StateError {
            path: path.to_path_buf(),
            problem,
        }
    }

    /// True when the work failed (the file could not be written), as opposed
    /// to a bad or unusable input.
    pub fn is_failure(&self) -> bool {
        matches!(self.problem, Problem::Write(_))
    }
}

/// Saved statistics: what a run counted, ready to be added to or reported on.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub stats: Stats,
    /// Every frame counted in `stats`, in the order they were added.
    pub frames: Vec<CountedFrame>,
    /// Inputs the runs that made this state skipped.
    pub skipped: Vec<SkippedInput>,
    /// The decoder that turned the frames into pixels (see [`DECODER`]).
    pub decoder: String,
}

/// `meta.json`: the state's description and frame list.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    /// Always `hotpix-state`.
    format: String,
    /// See [`FORMAT_VERSION`].
    format_version: u32,
    /// The program that wrote the file, e.g. `hotpix 0.1.0`.
    tool: String,
    /// The decoder and its mode, e.g. `zune-jpeg 0.5.15 strict`.
    decoder: String,
    width: u32,
    height: u32,
    /// Values a pixel: 3 (RGB) or 1 (greyscale).
    channels: usize,
    /// "exact" (sum.npy, sum_sq.npy) or "welford" (mean.npy, m2.npy).
    moments: String,
    /// Frames counted: the length of `frame_list`.
    frames: u64,
    /// The camera body, when all frames with camera EXIF come from one body.
    camera: Option<String>,
    frame_list: Vec<FrameRecord>,
    skipped: Vec<SkippedRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FrameRecord {
    path: String,
    bytes: u64,
    /// BLAKE3 of the file's bytes, 64 lowercase hex digits.
    blake3: String,
    make: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    iso: Option<u32>,
    exposure_s: Option<f64>,
    datetime: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SkippedRecord {
    path: String,
    reason: String,
}

impl State {
    /// The state of a finished run.
    pub fn from_outcome(outcome: Outcome) -> State {
        State {
            stats: outcome.stats,
            frames: outcome.frames,
            skipped: outcome.report.summary.skipped,
            decoder: DECODER.to_string(),
        }
    }

    /// The state as the base of a run that adds frames to it.
    pub fn into_base(self) -> Base {
        Base {
            stats: self.stats,
            frames: self.frames,
            skipped: self.skipped,
        }
    }

    /// The report a run over these frames would have made (`workers` is 0:
    /// nothing is decoded).
    pub fn report(&self, top: usize, threshold: Option<f64>) -> Report {
        make_report(
            &self.stats,
            &self.frames,
            self.skipped.clone(),
            top,
            threshold,
            0,
            Instant::now(),
        )
    }

    /// The one body all frames with camera EXIF come from, if there is one.
    pub fn camera(&self) -> Option<String> {
        let mut bodies = BTreeMap::new();
        for f in &self.frames {
            if let Some(b) = f.meta.body() {
                *bodies.entry(b).or_insert(0u64) += 1;
            }
        }
        if check_one_body(self.frames.iter().map(|f| (f.path.as_path(), &f.meta)), "").is_err() {
            return None;
        }
        bodies
            .keys()
            .find(|b| b.serial.is_some())
            .or_else(|| bodies.keys().next())
            .map(|b| b.to_string())
    }

    /// Writes the state to `path` atomically (a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        crate::output::write_atomic(path, |w| self.write_to(w))
            .map_err(|e| StateError::new(path, Problem::Write(e)))
    }
}

#[cfg(test)]
mod tests;

fn hex(hash: &FrameHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<FrameHash> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, h) in hash.iter_mut().enumerate() {
        *h = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(hash)
}
