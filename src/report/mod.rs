//! The report: one value computed once from the statistics, written in any of
//! several formats (one file each). Its serde form is the JSON schema that the
//! README documents.

pub mod csv;
pub mod json;
pub mod table;

use serde::Serialize;

use crate::detect::Defect;
use crate::rank::RankedSubpixel;

/// Version of the JSON document's shape; raised when a field changes meaning
/// or disappears (adding a field does not raise it).
pub const SCHEMA_VERSION: u32 = 3;

/// Everything `hotpix find` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Version of this document's shape (see `SCHEMA_VERSION`).
    pub schema_version: u32,
    /// The program and its version, e.g. `hotpix 0.1.0`.
    pub tool: String,
    /// What went in: camera, frames, exposure, time taken, threshold, warnings.
    pub summary: Summary,
    /// The defects found, strongest first.
    pub defects: Vec<Defect>,
    /// The `--top` subpixels with the lowest variance among those the scene
    /// was seen to move around: stuck candidates (see [`crate::rank`]).
    pub lowest_variance: Vec<RankedSubpixel>,
    /// The `--top` subpixels with the highest variance.
    pub highest_variance: Vec<RankedSubpixel>,
}

/// What went into the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// The camera body, when all frames with camera EXIF come from one body.
    pub camera: Option<String>,
    /// That body's EXIF Make, as written (e.g. "NIKON CORPORATION").
    pub make: Option<String>,
    /// That body's EXIF Model, as written (e.g. "NIKON D80").
    pub model: Option<String>,
    /// Every body seen among the frames used, with its frame count ("unknown"
    /// for frames without camera EXIF), most frames first.
    pub cameras: Vec<CameraCount>,
    /// Frames whose pixels entered the statistics.
    pub frames_used: u64,
    /// Inputs that were not used; each is listed in `skipped`.
    pub frames_skipped: usize,
    /// Each unused input with the reason, in path order.
    pub skipped: Vec<SkippedInput>,
    /// Frame width in pixels (stored orientation).
    pub width: u32,
    /// Frame height in pixels (stored orientation).
    pub height: u32,
    /// Lowest and highest ISO among the frames used, if known.
    pub iso: Option<Range<u32>>,
    /// Shortest and longest exposure time in seconds, if known.
    pub exposure_s: Option<Range<f64>>,
    /// Earliest and latest DateTimeOriginal (`YYYY-MM-DD HH:MM:SS`), if known.
    pub date: Option<Range<String>>,
    /// Worker threads that decoded and accumulated frames.
    pub workers: usize,
    /// Wall-clock seconds from the first probe to the finished statistics.
    pub elapsed_s: f64,
    /// The defect score above which a subpixel is flagged.
    pub threshold: f64,
    /// True when the threshold was chosen from the series (no `--threshold`).
    pub threshold_automatic: bool,
    /// Median correlation between frames' downscaled images (-1 to 1): near 1
    /// means the same view (tripod, burst), which weakens the result.
    pub frame_similarity: Option<f64>,
    /// Frames long or high-ISO enough to show dark current (exposure ×
    /// ISO/100 of 1/30 s or more); hot pixels show only in these.
    pub dark_current_frames: u64,
    /// Frames in the largest group showing one view (a burst, a tripod
    /// series); such a group counts as one view.
    pub largest_alike_group: u64,
    /// The top-left pixels of the 64x64 tiles crowded with defects after a
    /// first pass (4 or more in the tile, or 12 or more in its block of 3x3
    /// tiles) and judged again as one view: a still star field, a lit
    /// foreground (see the README's "How defects are found"). A crowd that
    /// mostly passed as one view is not listed.
    pub crowded_tiles: Vec<[u32; 2]>,
    /// Problems with the series itself, each with what to do about it.
    pub warnings: Vec<String>,
}

/// A camera body and how many frames it contributed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraCount {
    /// Make, model and serial as one string, or "unknown".
    pub camera: String,
    /// Frames used from that body.
    pub frames: u64,
}

/// An input that was not used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedInput {
    /// The path as it was given or expanded.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// The smallest and largest of some values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
}

impl<T: PartialOrd + Clone> Range<T> {
    /// The range of `values`, or `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = T>) -> Option<Self> {
        let mut range: Option<Range<T>> = None;
        for v in values {
            match &mut range {
                None => {
                    range = Some(Range {
                        min: v.clone(),
                        max: v,
                    })
                }
                Some(r) => {
                    if v < r.min {
                        r.min = v.clone();
                    }
                    if v > r.max {
                        r.max = v;
                    }
                }
            }
        }
        range
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Writes `report` in `format`.
pub fn write(report: &Report, format: Format, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    match format {
        Format::Table => table::write(report, out),
        Format::Json => json::write(report, out),
        Format::Csv => csv::write(report, out),
    }
}
