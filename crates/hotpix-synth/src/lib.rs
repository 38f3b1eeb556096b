//! Synthetic camera series with known defective photosites: ground truth for testing the detector.
//!
//! A series is rendered the way a camera makes a JPEG, so that defects arrive in the files
//! looking the way real ones do: a procedural scene (`scene.rs`) is exposed onto an RGGB Bayer
//! mosaic with noise, single photosites are broken at the raw level, and the mosaic is
//! demosaiced, white-balanced, gamma-encoded (`sensor.rs`) and written as a 4:2:2 JPEG with
//! Nikon-like EXIF (`encode.rs`). Everything is a pure function of the [`SeriesSpec`]: the same
//! spec gives byte-identical files, frame by frame, whatever the thread count.

mod bad;
mod encode;
mod scene;
mod sensor;

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr;

use anyhow::Context as _;
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use bad::{write_bad_inputs, BAD_INPUTS};
pub use encode::{encode_jpeg, FrameExif};
pub use sensor::{bayer_channel, try_place_defects, MIN_DEFECT_MARGIN, MIN_DEFECT_SPACING};

/// How a photosite is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefectKind {
    /// Raw value pinned at `level` whatever the light.
    Stuck,
    /// Raw value plus a large offset `level` (0.5..1.0 of full scale), clipped at 1.
    Hot,
    /// Raw value plus a moderate offset `level` (0.15..0.40): still follows the scene.
    Warm,
    /// Raw value always 0.
    Dead,
}

impl DefectKind {
    /// The lowercase name used in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            DefectKind::Stuck => "stuck",
            DefectKind::Hot => "hot",
            DefectKind::Warm => "warm",
            DefectKind::Dead => "dead",
        }
    }
}

/// One broken photosite, at the same place in every frame of a series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Defect {
    /// Column of the photosite (0 = left).
    pub x: u32,
    /// Row of the photosite (0 = top).
    pub y: u32,
    /// How it is broken.
    pub kind: DefectKind,
    /// The Bayer colour at (x, y) in the RGGB mosaic: 0 = R, 1 = G, 2 = B.
    pub channel: u8,
    /// Raw level for stuck, offset for hot and warm, 0 for dead (fractions of full scale).
    pub level: f32,
}

/// What the frames of a series show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneMode {
    /// Each frame is a different crop (offset and zoom) of a larger world, with its own
    /// exposure and a slight colour cast: ordinary photos taken over a day.
    Varied,
    /// Every frame shows the same view and only the exposure changes: a burst from a tripod,
    /// where static scene detail looks exactly like a defect.
    Tripod,
}

impl SceneMode {
    /// The lowercase name used on the command line and in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            SceneMode::Varied => "varied",
            SceneMode::Tripod => "tripod",
        }
    }
}

impl fmt::Display for SceneMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SceneMode {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "varied" => Ok(SceneMode::Varied),
            "tripod" => Ok(SceneMode::Tripod),
            other => Err(SynthError::UnknownScene(other.to_string())),
        }
    }
}

/// How many photosites of each kind to break.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefectCounts {
    /// Photosites pinned at a fixed level.
    pub stuck: usize,
    /// Photosites with a large additive offset.
    pub hot: usize,
    /// Photosites with a moderate additive offset.
    pub warm: usize,
    /// Photosites that always read 0.
    pub dead: usize,
}

impl DefectCounts {
    /// All defects together.
    pub fn total(&self) -> usize {
        self.stuck + self.hot + self.warm + self.dead
    }
}

/// The camera named in the EXIF of every frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Camera {
    /// EXIF Make.
    pub make: String,
    /// EXIF Model.
    pub model: String,
    /// EXIF BodySerialNumber; `None` leaves the tag out, as many cameras do.
    pub serial: Option<String>,
}

impl Camera {
    /// The serial number [`Camera::nikon_d80`] uses.
    pub const DEFAULT_SERIAL: &'static str = "3001234";

    /// A Nikon D80, the camera the project was first written for.
    pub fn nikon_d80() -> Self {
        Camera {
            make: "NIKON CORPORATION".to_string(),
            model: "NIKON D80".to_string(),
            serial: Some(Self::DEFAULT_SERIAL.to_string()),
        }
    }
}

impl Default for Camera {
    fn default() -> Self {
        Camera::nikon_d80()
    }
}

/// Everything that determines a series; the files are a pure function of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesSpec {
    /// Frame width in pixels (16..=65535).
    pub width: u32,
    /// Frame height in pixels (16..=65535).
    pub height: u32,
    /// Number of frames.
    pub frames: usize,
    /// Seed of everything random: scene, defect positions, per-frame exposure and noise.
    pub seed: u64,
    /// What the frames show.
    pub scene: SceneMode,
    /// How many photosites of each kind are broken.
    pub defects: DefectCounts,
    /// JPEG quality, 1..=100.
    pub quality: u8,
    /// The camera named in EXIF.
    pub camera: Camera,
    /// Standard deviation of the raw noise at full scale and ISO 100; it grows with the
    /// square root of the signal and of the frame's ISO.
    pub noise: f32,
}

impl SeriesSpec {
    /// The noise level [`SeriesSpec::new`] uses.
    pub const DEFAULT_NOISE: f32 = 0.006;
    /// The JPEG quality [`SeriesSpec::new`] uses: a camera's "fine" setting.
    pub const DEFAULT_QUALITY: u8 = 95;

    /// A varied series from a Nikon D80 at quality 95, with 3 stuck and 2 dead photosites.
    pub fn new(width: u32, height: u32, frames: usize, seed: u64) -> Self {
        SeriesSpec {
            width,
            height,
            frames,
            seed,
            scene: SceneMode::Varied,
            defects: DefectCounts {
                stuck: 3,
                hot: 0,
                warm: 0,
                dead: 2,
            },
            quality: Self::DEFAULT_QUALITY,
            camera: Camera::nikon_d80(),
            noise: Self::DEFAULT_NOISE,
        }
    }

    /// Checks the spec can be rendered; defect room is checked when placing them.
    pub fn validate(&self) -> Result<(), SynthError> {
        let size_ok = |v: u32| (MIN_SIDE..=MAX_SIDE).contains(&v);
        if !size_ok(self.width) || !size_ok(self.height) {
            return Err(SynthError::FrameSize {
                width: self.width,
                height: self.height,
            });
        }
        if !(1..=100).contains(&self.quality) {
            return Err(SynthError::Quality(self.quality));
        }
        if !(self.noise.is_finite() && (0.0..=MAX_NOISE).contains(&self.noise)) {
            return Err(SynthError::Noise(self.noise));
        }
        Ok(())
    }
}

/// Smallest frame side: room for the defect margin and one 16x8 JPEG MCU.
pub const MIN_SIDE: u32 = 16;
/// Largest frame side a baseline JPEG can state.
pub const MAX_SIDE: u32 = 65535;
/// Beyond this the "noise" would be the picture.
pub const MAX_NOISE: f32 = 0.2;

/// What went wrong making a synthetic frame.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Frame dimensions outside what the pipeline and JPEG can hold.
    #[error("frame size {width}x{height} is outside {MIN_SIDE}..={MAX_SIDE} on each side")]
    FrameSize { width: u32, height: u32 },
    /// JPEG quality outside 1..=100.
    #[error("JPEG quality {0} is outside 1..=100")]
    Quality(u8),
    /// Noise level negative, not finite, or absurd.
    #[error("noise level {0} is outside 0..={MAX_NOISE}")]
    Noise(f32),
    /// Scene name not known.
    #[error("unknown scene mode {0:?} (expected \"varied\" or \"tripod\")")]
    UnknownScene(String),
    /// The frame is too small for the requested defects at the required spacing.
    #[error(
        "could place only {placed} of {wanted} defects {MIN_DEFECT_SPACING} px apart \
         in a {width}x{height} frame"
    )]
    NoRoomForDefects {
        placed: usize,
        wanted: usize,
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
}

/// What the camera did for one frame: where it pointed, how it exposed, what EXIF says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    /// File name inside the series directory.
    pub file: String,
    /// EXIF PhotographicSensitivity; the noise scales with its square root.
    pub iso: u32,
    /// EXIF ExposureTime in seconds, as numerator and denominator.
    pub exposure: (u32, u32),
    /// EXIF DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    pub datetime: String,
    /// Linear factor applied to the scene before the sensor (the picture's brightness).
    pub brightness: f32,
    /// Magnification of the world onto the frame (1 = one world pixel per photosite).
    pub zoom: f32,
    /// World coordinates of the frame's top-left photosite.
    pub offset: (f32, f32),
    /// Per-channel colour cast multiplied into the scene (R, G, B).
    pub cast: [f32; 3],
}

impl Shot {
    /// The EXIF block this shot is written with.
    pub fn exif(&self, camera: &Camera) -> FrameExif {
        FrameExif {
            camera: camera.clone(),
            iso: self.iso,
            exposure: self.exposure,
            datetime: self.datetime.clone(),
        }
    }
}

/// Ground truth of a written series, saved beside the frames as `truth.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Number of frames.
    pub frames: usize,
    /// The series seed.
    pub seed: u64,
    /// "varied" or "tripod".
    pub scene: String,
    /// Every broken photosite, sorted by row then column.
    pub defects: Vec<Defect>,
    /// Frame file names in shooting order.
    pub files: Vec<String>,
    /// Requested defect counts (what `defects` holds, by kind).
    pub counts: DefectCounts,
    /// JPEG quality.
    pub quality: u8,
    /// Noise level at ISO 100 (see [`SeriesSpec::noise`]).
    pub noise: f32,
    /// The camera named in EXIF.
    pub camera: Camera,
    /// Per-frame exposure and framing, in shooting order.
    pub shots: Vec<Shot>,
}

impl Truth {
    /// The spec that produced this series, to regenerate it or a variation of it.
    pub fn spec(&self) -> Result<SeriesSpec, SynthError> {
        Ok(SeriesSpec {
            width: self.width,
            height: self.height,
            frames: self.frames,
            seed: self.seed,
            scene: self.scene.parse()?,
            defects: self.counts,
            quality: self.quality,
            camera: self.camera.clone(),
            noise: self.noise,
        })
    }
}

/// The file name of frame `index` (0-based): DSC_0001.JPG, ... as a Nikon names them.
pub fn frame_file_name(index: usize) -> String {
    format!("DSC_{:04}.JPG", index + 1)
}

/// Places the spec's defects; the same spec always gives the same list.
///
/// # Panics
///
/// If the frame has no room for them; [`try_place_defects`] reports that as an error.
pub fn place_defects(spec: &SeriesSpec) -> Vec<Defect> {
    match try_place_defects(spec) {
        Ok(defects) => defects,
        Err(err) => panic!("{err}"),
    }
}

/// Renders frame `index` as 8-bit RGB, row-major, before JPEG compression.
///
/// Builds the scene each call; to render many frames of one series, build a [`Renderer`] once.
pub fn render_frame(spec: &SeriesSpec, defects: &[Defect], index: usize) -> Vec<u8> {
    Renderer::new(spec).render(defects, index)
}

/// Renders the frames of one series, sharing the scene between them.
pub struct Renderer {
    spec: SeriesSpec,
    world: scene::World,
    tone: sensor::Tone,
}

impl Renderer {
    /// Builds the series' scene; this is the expensive part, done once per series.
    pub fn new(spec: &SeriesSpec) -> Self {
        let (w, h) = world_size(spec);
        Renderer {
            spec: spec.clone(),
            world: scene::World::build(spec.seed, w, h),
            tone: sensor::Tone::new(),
        }
    }

    /// Where the camera pointed and how it exposed for frame `index`.
    pub fn shot(&self, index: usize) -> Shot {
        plan_shot(&self.spec, &self.world, index)
    }

    /// Frame `index` as 8-bit RGB, row-major, `width * height * 3` bytes.
    pub fn render(&self, defects: &[Defect], index: usize) -> Vec<u8> {
        let shot = self.shot(index);
        let raw = sensor::expose(&self.spec, &self.world, &shot, index);
        let raw = sensor::break_photosites(raw, defects);
        sensor::develop(raw, &self.tone)
    }

    /// Frame `index` as a finished JPEG with EXIF.
    pub fn render_jpeg(&self, defects: &[Defect], index: usize) -> Result<Vec<u8>, SynthError> {
        let rgb = self.render(defects, index);
        let exif = self.shot(index).exif(&self.spec.camera);
        encode_jpeg(
            &rgb,
            self.spec.width,
            self.spec.height,
            self.spec.quality,
            Some(&exif),
        )
    }
}

/// Renders the whole series into `dir` (created if missing): the frames, then `truth.json`.
///
/// Frames are rendered in parallel; each file is written under a temporary name and renamed,
/// so a reader never sees half a frame.
pub fn write_series(spec: &SeriesSpec, dir: &Path) -> anyhow::Result<Truth> {
    spec.validate()?;
    let defects = try_place_defects(spec)?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let renderer = Renderer::new(spec);

    let shots = (0..spec.frames)
        .into_par_iter()
        .map(|index| -> anyhow::Result<Shot> {
            let shot = renderer.shot(index);
            let jpeg = renderer
                .render_jpeg(&defects, index)
                .with_context(|| format!("rendering frame {}", shot.file))?;
            write_atomic(&dir.join(&shot.file), &jpeg)?;
            Ok(shot)
        })
        .collect::<anyhow::Result<Vec<Shot>>>()?;

    let truth = Truth {
        width: spec.width,
        height: spec.height,
        frames: spec.frames,
        seed: spec.seed,
        scene: spec.scene.as_str().to_string(),
        defects,
        files: shots.iter().map(|s| s.file.clone()).collect(),
        counts: spec.defects,
        quality: spec.quality,
        noise: spec.noise,
        camera: spec.camera.clone(),
        shots,
    };
    let mut json = serde_json::to_vec_pretty(&truth)?;
    json.push(b'\n');
    write_atomic(&dir.join("truth.json"), &json)?;
    Ok(truth)
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

/// The world must be larger than the frame in Varied mode so crops can move and zoom.
fn world_size(spec: &SeriesSpec) -> (usize, usize) {
    let (w, h) = (spec.width as usize, spec.height as usize);
    match spec.scene {
        SceneMode::Varied => (w * 3 / 2 + 8, h * 3 / 2 + 8),
        SceneMode::Tripod => (w + 2, h + 2),
    }
}

/// ISO values a Nikon offers in 1/3-stop steps from 100 to 1600.
const ISO_STEPS: [u32; 13] = [
    100, 125, 160, 200, 250, 320, 400, 500, 640, 800, 1000, 1250, 1600,
];

/// Shutter speeds a camera offers (1/3-stop steps), as numerator and denominator in seconds.
const SHUTTER_STEPS: [(u32, u32); 22] = [
    (1, 2000),
    (1, 1600),
    (1, 1250),
    (1, 1000),
    (1, 800),
    (1, 640),
    (1, 500),
    (1, 400),
    (1, 320),
    (1, 250),
    (1, 200),
    (1, 160),
    (1, 125),
    (1, 100),
    (1, 80),
    (1, 60),
    (1, 50),
    (1, 40),
    (1, 30),
    (1, 15),
    (1, 8),
    (10, 25),
];

/// The first frame's DateTimeOriginal, as seconds since 1970: 2007-06-02 09:00:00.
const FIRST_SHOT_EPOCH: i64 = 1_180_774_800;

fn plan_shot(spec: &SeriesSpec, world: &scene::World, index: usize) -> Shot {
    let mut rng = stream_rng(spec.seed, Stream::Shot, index as u64, 0);
    let (w, h) = (spec.width as f32, spec.height as f32);
    let brightness = round_to(rng.random_range(0.35f32..1.4), 1e-4);
    let iso = ISO_STEPS[rng.random_range(0..ISO_STEPS.len() as u32) as usize];
    let exposure = SHUTTER_STEPS[rng.random_range(0..SHUTTER_STEPS.len() as u32) as usize];
    let (zoom, offset, cast, step, jitter) = match spec.scene {
        SceneMode::Varied => {
            let zoom = round_to(rng.random_range(1.0f32..1.35), 1e-4);
            // The crop spans w/zoom world pixels plus one for bilinear interpolation.
            let max_x = world.width as f32 - 2.0 - w / zoom;
            let max_y = world.height as f32 - 2.0 - h / zoom;
            let ox = round_to(rng.random_range(0.0..max_x.max(0.0) + 1e-3), 1.0 / 64.0);
            let oy = round_to(rng.random_range(0.0..max_y.max(0.0) + 1e-3), 1.0 / 64.0);
            let cast = [
                round_to(rng.random_range(0.92f32..1.08), 1e-4),
                1.0,
                round_to(rng.random_range(0.92f32..1.08), 1e-4),
            ];
            (zoom, (ox, oy), cast, 97, 60)
        }
        // One world pixel per photosite, no cast: the frames differ only in exposure and noise.
        SceneMode::Tripod => (1.0, (0.0, 0.0), [1.0; 3], 2, 1),
    };
    // A fixed step plus a jitter smaller than it keeps the times strictly increasing
    // without summing over earlier frames, so each frame stays independent.
    let seconds = FIRST_SHOT_EPOCH + index as i64 * step + rng.random_range(0..jitter) as i64;
    Shot {
        file: frame_file_name(index),
        iso,
        exposure,
        datetime: encode::exif_datetime(seconds),
        brightness,
        zoom,
        offset,
        cast,
    }
}

/// Rounding drawn parameters keeps `truth.json` readable; it changes nothing else.
fn round_to(v: f32, step: f32) -> f32 {
    (v / step).round() * step
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
