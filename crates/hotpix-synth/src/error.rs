//! Why a series could not be made: each error names the value at fault.

use crate::spec::{MAX_SIDE, MIN_SIDE};

/// What went wrong making a synthetic series.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Frame dimensions outside what the pipeline and JPEG can hold.
    #[error("frame size {width}x{height} is outside {MIN_SIDE}..={MAX_SIDE} on each side")]
    FrameSize { width: u32, height: u32 },
    /// JPEG quality outside 1..=100.
    #[error("JPEG quality {0} is outside 1..=100")]
    Quality(u8),
    /// A named setting outside its range.
    #[error("{name} {value} is outside {range}")]
    Setting {
        name: &'static str,
        value: String,
        range: &'static str,
    },
    /// A name not known (scene, condition, preset, subsampling, defect kind).
    #[error("unknown {what} {name:?} (expected one of: {expected})")]
    UnknownName {
        what: &'static str,
        name: String,
        expected: &'static str,
    },
    /// The frame is too small for the requested defect groups at the required spacing.
    #[error(
        "could place only {placed} of {wanted} defect groups (edge groups: {edge}) \
         {gap} px apart in a {width}x{height} frame"
    )]
    NoRoomForDefects {
        placed: usize,
        wanted: usize,
        edge: usize,
        gap: u32,
        width: u32,
        height: u32,
    },
    /// RGB buffer length does not match the stated size.
    #[error("RGB buffer holds {got} bytes but {width}x{height}x3 needs {want}")]
    RgbLength {
        got: usize,
        want: usize,
        width: u32,
        height: u32,
    },
    /// The JPEG encoder refused the image.
    #[error("JPEG encoding failed: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
    /// The EXIF writer refused the fields.
    #[error("EXIF encoding failed: {0}")]
    Exif(#[from] exif::Error),
    /// The frame just encoded did not decode (the truth reads what the photo shows).
    #[error("decoding the encoded frame failed: {0}")]
    Decode(#[from] image::ImageError),
}
