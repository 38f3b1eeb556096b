//! Synthetic camera series with known defective photosites: ground truth for testing the detector.
//!
//! A series is made the way a camera makes its JPEGs, so that defects arrive in the files
//! looking the way real ones do and the detector is judged on data no easier than a camera's:
//!
//! - `spec.rs`, `preset.rs`: what a series is (size, scene mode, lighting conditions, defect
//!   plan, JPEG settings) and the named series the detector is measured on;
//! - `scene/`: a procedural world, and per view a clipping sky or lamps;
//! - `shot.rs`: per frame a condition, framing, exposure time and ISO, metered exposure;
//! - `defects/`: the defect groups (single, pair, 2x2 cluster; stuck, hot, warm, dead,
//!   blinking) and where they sit;
//! - `sensor/`: light to a 12-bit [`RawFrame`]: shot noise, PRNU, dark current, read and ADC
//!   noise, the defects, clipping;
//! - `develop/`: the camera's processing: white balance, Malvar-He-Cutler demosaic, colour
//!   matrix, tone curve, sharpening, chroma noise reduction;
//! - `encode.rs`: JPEG (4:2:2 or 4:2:0) with Nikon-like EXIF; `truth.rs`: `truth.json`.
//!
//! Everything is a pure function of the [`SeriesSpec`]: the same spec gives byte-identical
//! files, frame by frame, whatever the thread count. Random draws come from ChaCha streams
//! keyed by (seed, stream, a, b), and per-pixel paths use only correctly rounded arithmetic.

mod bad;
mod bursts;
mod defects;
mod develop;
mod encode;
mod error;
mod night;
mod num;
mod options;
mod preset;
mod render;
mod scene;
mod sensor;
mod shot;
mod spec;
mod truth;

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use rand::SeedableRng as _;
use rand_chacha::ChaCha8Rng;

pub use bad::{write_bad_inputs, BAD_INPUTS};
pub use defects::{
    bayer_channel, place_defects, try_place_defects, DefectGroup, DefectKind, DefectPlan,
    DefectRanges, KindCounts, Photosite, PlanKind, Shape, StuckLevel, EDGE_BAND, GROUP_GAP,
    INTERIOR_MARGIN,
};
pub use develop::{white_balance, FOOTPRINT, SRGB_FROM_CAM};
pub use encode::{encode_jpeg, FrameExif, SOFTWARE};
pub use error::SynthError;
pub use num::NOISE_BOUND_SIGMAS;
pub use preset::{default_plan, Preset, ASTRO_HOT_RATE};
pub use render::{Frame, Renderer, RING, VISIBLE_LEVELS};
pub use sensor::{RawFrame, WHITE_LEVEL};
pub use shot::{Shot, SkyShot};
pub use spec::{
    Camera, Condition, ConditionMix, Demosaic, SceneMode, SensorModel, SeriesSpec, SkyOptions,
    Subsampling, MAX_SIDE, MIN_SIDE,
};
pub use truth::{write_series, Truth};

/// The file name of frame `index` (0-based): DSC_0001.JPG, ... as a Nikon names them.
pub fn frame_file_name(index: usize) -> String {
    format!("DSC_{:04}.JPG", index + 1)
}

/// Writes `bytes` to `path` via a sibling temporary file, so a crash leaves no partial file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = Path::new(&tmp);
    let mut file = fs::File::create(tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(file);
    fs::rename(tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// Independent random streams of one series, so adding draws to one never shifts another.
#[derive(Clone, Copy)]
#[repr(u64)]
pub(crate) enum Stream {
    Shot = 1,
    Noise = 2,
    Defects = 3,
    Scene = 4,
    Garbage = 5,
    Blink = 6,
    View = 7,
    /// Night skies: where the pole is, the stars, the horizon, tracking errors.
    Sky = 8,
    /// A collection's hand-held night bursts: where they are and each frame's settings.
    Bursts = 9,
}

/// A generator for one stream of one series, keyed by up to two indices (frame, row...).
///
/// ChaCha is used because its output for a given seed is fixed by specification, so the
/// committed fixtures stay reproducible on every platform.
pub(crate) fn stream_rng(seed: u64, stream: Stream, a: u64, b: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[0..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(stream as u64).to_le_bytes());
    key[16..24].copy_from_slice(&a.to_le_bytes());
    key[24..32].copy_from_slice(&b.to_le_bytes());
    ChaCha8Rng::from_seed(key)
}
