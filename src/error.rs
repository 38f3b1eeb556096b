//! Why a run or a frame failed, naming the file or value at fault.

use std::path::PathBuf;

use crate::plural::plural;

/// Why one input was skipped. A skipped frame never ends the run: it is
/// reported on stderr with its path, counted, and listed in the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    #[error("cannot read: {0}")]
    Unreadable(String),
    #[error("is a directory")]
    Directory,
    #[error("empty file (0 bytes)")]
    Empty,
    #[error("not a JPEG file")]
    NotJpeg,
    #[error("JPEG header is damaged: {0}")]
    BadHeader(String),
    #[error("header claims {width}x{height}, over the limit of {limit_mp} megapixels")]
    TooLarge {
        width: u32,
        height: u32,
        limit_mp: u32,
    },
    #[error("{0}")]
    Unsupported(Unsupported),
    #[error("frame is {width}x{height}, the series is {series_width}x{series_height}")]
    OtherSize {
        width: u32,
        height: u32,
        series_width: u32,
        series_height: u32,
    },
    #[error("{}", if *.greyscale {
        "a greyscale frame in a series of colour frames"
    } else {
        "a colour frame in a series of greyscale frames"
    })]
    OtherKind { greyscale: bool },
    #[error("cannot decode: {0}")]
    Decode(String),
    #[error("same content as {0}, which is already counted")]
    AlreadyCounted(String),
    #[error("has no .jpg or .jpeg files{}{}",
            subfolder_note(*subfolders, *recursive), excluded_note(*excluded))]
    NoPhotos {
        /// Sub-directories not searched (0 when `recursive`).
        subfolders: usize,
        recursive: bool,
        /// Photos left out by the exclusion patterns.
        excluded: usize,
    },
    #[error("{}", match .0 {
        Some(camera) => format!("taken by {camera}, not the camera asked for (--camera)"),
        None => "its EXIF names no camera, and --camera asks for one".to_string(),
    })]
    OtherCamera(Option<String>),
}

/// A JPEG that is valid but encoded in a way hotpix does not read, named
/// plainly (the decoder's own words name its internals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    #[error("arithmetic-coded JPEG is not supported")]
    Arithmetic,
    #[error("lossless JPEG is not supported")]
    Lossless,
    #[error("hierarchical JPEG is not supported")]
    Hierarchical,
    #[error("{0}-bit JPEG is not supported (only 8-bit)")]
    Precision(u8),
    #[error("CMYK JPEG is not supported (4 components)")]
    Cmyk,
    #[error("CMYK (YCCK) JPEG is not supported (4 components)")]
    Ycck,
    #[error("JPEG with {0} colour components is not supported")]
    Components(u8),
}

/// A frame that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: SkipReason,
}

/// Errors that end a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no file matches the pattern '{pattern}'{}", excluded_note(*excluded))]
    NoMatch { pattern: String, excluded: usize },
    #[error("'{}' has no .jpg or .jpeg files{}{}", path.display(),
            subfolder_note(*subfolders, *recursive), excluded_note(*excluded))]
    NoPhotos {
        path: PathBuf,
        /// Sub-directories not searched (0 when `recursive`).
        subfolders: usize,
        recursive: bool,
        /// Photos left out by the exclusion patterns.
        excluded: usize,
    },
    #[error("no input gives a photo:\n  {}", .0.join("\n  "))]
    NoPhotosAnywhere(Vec<String>),
    #[error(
        "line {line} of the list on standard input holds NUL bytes (\"{shown}\"); no file name \
         does, so the list is NUL-separated (find -print0, fd -0): give -0"
    )]
    NulInList { line: usize, shown: String },
    #[error("input '{0}' does not exist")]
    Missing(PathBuf),
    #[error("cannot read the list of paths on standard input: {0}")]
    Stdin(std::io::Error),
    #[error("no input files were given")]
    NoInputs,
    #[error("bad glob pattern '{pattern}': {reason}")]
    BadPattern { pattern: String, reason: String },
    #[error("cannot list directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "only {} of {}; at least 2 are needed for a variance",
        plural(*usable as u64, "usable frame"), plural(*total as u64, "input")
    )]
    TooFewFrames { usable: usize, total: usize },
    #[error("frames come from more than one camera body:\n{listing}\n{hint}")]
    MixedCameras { listing: String, hint: String },
    #[error("no frame was taken by '{asked}' (--camera); the frames name: {found}")]
    NoSuchCamera { asked: String, found: String },
    #[error(
        "the RawTherapee list is named '<Make> <Model>.badpixels', and the frames do not name \
         one camera make and model in their EXIF; name it with --make and --model"
    )]
    NoCameraName,
    #[error("cannot allocate {} for {what}: out of memory", mebibytes(*bytes))]
    Allocation { what: &'static str, bytes: u64 },
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads { threads: usize, reason: String },
    #[error("{frames} frames are more than one set of statistics holds (1,127,000); split the series into runs and keep them as separate states")]
    TooManyFrames { frames: u64 },
    #[error("the memory budget of {} cannot hold the statistics of {width}x{height} frames ({} at least); raise --memory", mebibytes(*budget), mebibytes(*needed))]
    BudgetTooSmall {
        budget: u64,
        needed: u64,
        width: u32,
        height: u32,
    },
}

/// A byte count as people read it: "361 MiB", "2.1 GiB".
pub fn mebibytes(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.1} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

fn excluded_note(excluded: usize) -> String {
    match excluded {
        0 => String::new(),
        n => format!(" ({} left out by --exclude)", plural(n as u64, "photo")),
    }
}

fn subfolder_note(subfolders: usize, recursive: bool) -> String {
    match (recursive, subfolders) {
        (true, _) => ", nor have its subfolders".to_string(),
        (false, 0) => String::new(),
        (false, n) => format!(
            "; its {} not searched without --recursive",
            match n {
                1 => "subfolder is".to_string(),
                n => format!("{n} subfolders are"),
            }
        ),
    }
}

impl Error {
    /// True for errors that mean "nothing usable to report" or a bad command
    /// line, as opposed to a failure while working.
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            Error::Allocation { .. } | Error::BudgetTooSmall { .. } | Error::Threads { .. }
        )
    }
}
