//! Why a run or a frame failed, naming the file or value at fault.

use std::path::PathBuf;

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
    #[error("not a colour (3-component) JPEG: {components} component(s)")]
    NotColour { components: u8 },
    #[error("frame is {width}x{height}, the series is {series_width}x{series_height}")]
    OtherSize {
        width: u32,
        height: u32,
        series_width: u32,
        series_height: u32,
    },
    #[error("cannot decode: {0}")]
    Decode(String),
    #[error("same content as {0}, which is already counted")]
    AlreadyCounted(String),
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
    #[error("no file matches the pattern '{0}'")]
    NoMatch(String),
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
        "only {usable} usable frame(s) of {total} input(s); at least 2 are needed for a variance"
    )]
    TooFewFrames { usable: usize, total: usize },
    #[error("frames come from more than one camera body:\n{listing}\nuse --mixed-cameras to analyse them together anyway")]
    MixedCameras { listing: String },
    #[error("cannot allocate {} for {what}: out of memory", mebibytes(*bytes))]
    Allocation { what: &'static str, bytes: u64 },
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

impl Error {
    /// True for errors that mean "nothing usable to report" or a bad command
    /// line, as opposed to a failure while working.
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            Error::Allocation { .. } | Error::BudgetTooSmall { .. }
        )
    }
}
