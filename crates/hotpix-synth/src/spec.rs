//! What a series is made of: frame size, scene mode, lighting conditions, defect plan, JPEG
//! settings, camera and sensor. The files are a pure function of a [`SeriesSpec`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::defects::DefectPlan;
pub use crate::options::{Demosaic, SkyOptions};
use crate::shot::{ISO_STEPS, SHUTTER_STEPS};
use crate::SynthError;

/// Smallest frame side: room for the demosaic's mirrored border and one 16x16 JPEG MCU.
pub const MIN_SIDE: u32 = 16;
/// Largest frame side a baseline JPEG can state.
pub const MAX_SIDE: u32 = 65535;

/// What the frames of a series show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneMode {
    /// Each frame a different crop (offset and zoom) of a larger world, each exposed for its
    /// own condition: ordinary photos taken over a day ([`SeriesSpec::burst`] makes some of
    /// them a burst of one view).
    Varied,
    /// One view from a tripod under one condition, bracketed: the ISO is fixed and only the
    /// exposure time changes, over several stops. Static scene detail looks like a defect.
    Tripod,
    /// A uniform grey card filling the frame, auto-exposed per frame like `varied`: a flat
    /// field, as used to measure a sensor.
    Flat,
    /// A night sky over a dark foreground, every frame with one exposure time and ISO
    /// (10..30 s) a second or three apart: from a tripod the stars drift and trail between
    /// and within frames; on a tracking mount ([`SkyOptions::tracked`]) the ground moves
    /// instead.
    Sky,
}

impl SceneMode {
    /// The lowercase name used on the command line and in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            SceneMode::Varied => "varied",
            SceneMode::Tripod => "tripod",
            SceneMode::Flat => "flat",
            SceneMode::Sky => "sky",
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
            "flat" => Ok(SceneMode::Flat),
            "sky" => Ok(SceneMode::Sky),
            other => Err(SynthError::UnknownName {
                what: "scene mode",
                name: other.to_string(),
                expected: "varied, tripod, flat, sky",
            }),
        }
    }
}

/// The light a frame is taken in; it sets the exposure time and ISO ranges, the white
/// balance and what the scene looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Sunlight: 1/4000..1/250 s at ISO 100..400, daylight white balance.
    Daylight,
    /// Daylight with a sky brighter than full scale above a horizon: large areas clip to 255.
    ClippedSky,
    /// Tungsten light: 1/60..1/8 s at ISO 400..3200, tungsten white balance, a darker scene.
    Indoor,
    /// Night from a tripod: 1..30 s at ISO 200..1600, a mostly dark scene with a few lights
    /// that clip.
    Night,
    /// A starry sky above a dark foreground from a tripod: 10..30 s at ISO 100..3200, one
    /// setting for the whole view, daylight white balance; not metered (the exposure sets
    /// how bright the sky comes out).
    NightSky,
}

impl Condition {
    /// Every condition, in the order mixes list them.
    pub const ALL: [Condition; 5] = [
        Condition::Daylight,
        Condition::ClippedSky,
        Condition::Indoor,
        Condition::Night,
        Condition::NightSky,
    ];

    /// The name used on the command line and in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Daylight => "daylight",
            Condition::ClippedSky => "clipped_sky",
            Condition::Indoor => "indoor",
            Condition::Night => "night",
            Condition::NightSky => "night_sky",
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Condition {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().replace('-', "_");
        Condition::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| SynthError::UnknownName {
                what: "condition",
                name: s.to_string(),
                expected: "daylight, clipped_sky, indoor, night, night_sky",
            })
    }
}

/// Relative weights of the conditions in a series. The frames' conditions are apportioned
/// to the weights exactly (largest remainder) and then shuffled, so a short series gets the
/// mix as closely as its length allows rather than whatever a dice throw gives.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConditionMix {
    pub daylight: f32,
    pub clipped_sky: f32,
    pub indoor: f32,
    pub night: f32,
    /// Left out of `truth.json` when 0, so mixes written before it existed read the same.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub night_sky: f32,
}

fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

impl ConditionMix {
    /// A camera's year: 45% daylight, 15% clipped sky, 25% indoor, 15% night.
    pub const TYPICAL: ConditionMix = ConditionMix {
        daylight: 45.0,
        clipped_sky: 15.0,
        indoor: 25.0,
        night: 15.0,
        night_sky: 0.0,
    };

    /// Every frame under one condition.
    pub fn only(c: Condition) -> ConditionMix {
        let mut mix = ConditionMix {
            daylight: 0.0,
            clipped_sky: 0.0,
            indoor: 0.0,
            night: 0.0,
            night_sky: 0.0,
        };
        *mix.weight_mut(c) = 1.0;
        mix
    }

    /// The weight of one condition.
    pub fn weight(&self, c: Condition) -> f32 {
        match c {
            Condition::Daylight => self.daylight,
            Condition::ClippedSky => self.clipped_sky,
            Condition::Indoor => self.indoor,
            Condition::Night => self.night,
            Condition::NightSky => self.night_sky,
        }
    }

    fn weight_mut(&mut self, c: Condition) -> &mut f32 {
        match c {
            Condition::Daylight => &mut self.daylight,
            Condition::ClippedSky => &mut self.clipped_sky,
            Condition::Indoor => &mut self.indoor,
            Condition::Night => &mut self.night,
            Condition::NightSky => &mut self.night_sky,
        }
    }

    /// `n` conditions in proportion to the weights (largest remainder; ties go to the
    /// condition listed first), in [`Condition::ALL`] order.
    pub fn apportion(&self, n: usize) -> Vec<Condition> {
        let total: f64 = Condition::ALL.iter().map(|&c| self.weight(c) as f64).sum();
        let quota: Vec<f64> = Condition::ALL
            .iter()
            .map(|&c| n as f64 * self.weight(c) as f64 / total)
            .collect();
        let mut counts: Vec<usize> = quota.iter().map(|q| q.floor() as usize).collect();
        // A condition of weight 0 has no remainder and sorts after every one that has, so it
        // never gets a frame (and adding one to the list changed no existing mix's result).
        let mut order: Vec<usize> = (0..Condition::ALL.len()).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (quota[a] - quota[a].floor(), quota[b] - quota[b].floor());
            fb.total_cmp(&fa).then(a.cmp(&b))
        });
        let short = n - counts.iter().sum::<usize>();
        for &i in order.iter().take(short) {
            counts[i] += 1;
        }
        Condition::ALL
            .iter()
            .zip(counts)
            .flat_map(|(&c, k)| std::iter::repeat_n(c, k))
            .collect()
    }
}

/// `daylight=45,clipped_sky=15,indoor=25,night=15`, or one condition's name alone.
impl FromStr for ConditionMix {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(c) = s.parse::<Condition>() {
            return Ok(ConditionMix::only(c));
        }
        let mut mix = ConditionMix::only(Condition::Daylight);
        mix.daylight = 0.0;
        for item in s.split(',') {
            let bad = || SynthError::UnknownName {
                what: "condition weight",
                name: item.to_string(),
                expected: "CONDITION=WEIGHT with CONDITION daylight, clipped_sky, indoor, night \
                           or night_sky",
            };
            let (name, w) = item.split_once('=').ok_or_else(bad)?;
            let c: Condition = name.parse()?;
            *mix.weight_mut(c) = w.trim().parse().map_err(|_| bad())?;
        }
        Ok(mix)
    }
}

impl fmt::Display for ConditionMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = Condition::ALL
            .iter()
            .map(|&c| format!("{}={}", c.as_str(), self.weight(c)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// How the JPEG halves its chroma.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subsampling {
    /// Chroma halved horizontally (luma 2x1), as a Nikon D80 writes.
    #[serde(rename = "4:2:2")]
    S422,
    /// Chroma halved both ways (luma 2x2), as most phones and many cameras write.
    #[serde(rename = "4:2:0")]
    S420,
}

impl Subsampling {
    /// "4:2:2" or "4:2:0".
    pub fn as_str(self) -> &'static str {
        match self {
            Subsampling::S422 => "4:2:2",
            Subsampling::S420 => "4:2:0",
        }
    }
}

impl fmt::Display for Subsampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Subsampling {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.replace(':', "").as_str() {
            "422" => Ok(Subsampling::S422),
            "420" => Ok(Subsampling::S420),
            _ => Err(SynthError::UnknownName {
                what: "chroma subsampling",
                name: s.to_string(),
                expected: "4:2:2, 4:2:0",
            }),
        }
    }
}

/// The sensor's physics; every noise follows from these and the frame's exposure and ISO.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorModel {
    /// Electrons at full scale at ISO 100; at ISO s full scale is `full_well * 100 / s`.
    pub full_well: f32,
    /// Input-referred read noise in electrons: `read_noise[0] + read_noise[1] * 100 / ISO`
    /// (about 8 e- at ISO 100 falling to 3 e- at high ISO, as the analogue gain rises ahead
    /// of the noisy stages).
    pub read_noise: [f32; 2],
    /// Noise after the gain, at the ADC, in 12-bit counts.
    pub adc_noise: f32,
    /// Photo-response non-uniformity: standard deviation of each photosite's fixed gain.
    pub prnu: f32,
    /// Dark current of every photosite, electrons per second.
    pub dark_current: f32,
    /// Lens vignetting: light falls by `(1 - v c^2)` along each axis, c = -1..1 from centre.
    pub vignetting: f32,
}

impl Default for SensorModel {
    fn default() -> Self {
        SensorModel {
            full_well: 40_000.0,
            read_noise: [3.0, 5.0],
            adc_noise: 0.6,
            prnu: 0.005,
            dark_current: 0.2,
            vignetting: 0.15,
        }
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
    /// Seed of everything random: scene, defects, per-frame conditions, exposure and noise.
    pub seed: u64,
    /// What the frames show.
    pub scene: SceneMode,
    /// Weights of the lighting conditions (a tripod series uses the heaviest one alone).
    pub conditions: ConditionMix,
    /// Varied scenes: this many consecutive frames (0 = none) are a burst, showing one view
    /// under one condition and exposure with a tiny jitter, as a camera's continuous mode.
    pub burst: usize,
    /// Overrides every condition's ISO range, inclusive (e.g. [1600, 6400]).
    pub iso: Option<[u32; 2]>,
    /// Which defect groups the sensor has.
    pub defects: DefectPlan,
    /// JPEG quality, 1..=100 (cameras write 80..98).
    pub quality: u8,
    /// JPEG chroma subsampling.
    pub subsampling: Subsampling,
    /// Unsharp-mask amount on luma (radius 1 px), 0..=2; cameras use about 0.5..1.0.
    pub sharpen: f32,
    /// The camera named in EXIF.
    pub camera: Camera,
    /// The sensor's physics.
    pub sensor: SensorModel,
    // The fields below came later; each is left out of `truth.json` at its default (today's
    // behaviour), so earlier files read the same and earlier specs write the same bytes.
    /// How night skies are taken (scene `sky`, and `night_sky` views of a varied series).
    #[serde(default, skip_serializing_if = "SkyOptions::is_default")]
    pub sky: SkyOptions,
    /// Varied scenes: this many hand-held night bursts (0 = none) of 3 to 5 consecutive frames
    /// of one night view, jittered by about a photosite, each frame with its own exposure time
    /// and ISO (the photographer trying settings); apart from [`SeriesSpec::burst`].
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub night_bursts: usize,
    /// The world has fine texture at the scale of a few photosites over most of it (grass,
    /// gravel, brick), not only smooth fields and shapes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fine_texture: bool,
    /// How the camera demosaics.
    #[serde(default, skip_serializing_if = "Demosaic::is_malvar")]
    pub demosaic: Demosaic,
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl SeriesSpec {
    /// The JPEG quality of a camera's "fine" setting.
    pub const DEFAULT_QUALITY: u8 = 95;
    /// The unsharp-mask amount of a camera's "normal" sharpening.
    pub const DEFAULT_SHARPEN: f32 = 0.8;

    /// A varied series from a Nikon D80 (typical condition mix, quality 95, 4:2:2) with no
    /// defects: set [`SeriesSpec::defects`], or start from [`SeriesSpec::preset`].
    pub fn new(width: u32, height: u32, frames: usize, seed: u64) -> Self {
        SeriesSpec {
            width,
            height,
            frames,
            seed,
            scene: SceneMode::Varied,
            conditions: ConditionMix::TYPICAL,
            burst: 0,
            iso: None,
            defects: DefectPlan::none(),
            quality: Self::DEFAULT_QUALITY,
            subsampling: Subsampling::S422,
            sharpen: Self::DEFAULT_SHARPEN,
            camera: Camera::nikon_d80(),
            sensor: SensorModel::default(),
            sky: SkyOptions::default(),
            night_bursts: 0,
            fine_texture: false,
            demosaic: Demosaic::Malvar,
        }
    }

    /// Checks the spec can be rendered; room for the defects is checked when placing them.
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
        let setting = |name, value: String, range| SynthError::Setting { name, value, range };
        if !(self.sharpen.is_finite() && (0.0..=2.0).contains(&self.sharpen)) {
            return Err(setting("sharpen", self.sharpen.to_string(), "0..=2"));
        }
        let weights = Condition::ALL.map(|c| self.conditions.weight(c));
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0))
            || weights.iter().sum::<f32>() <= 0.0
        {
            return Err(setting(
                "condition mix",
                self.conditions.to_string(),
                "non-negative weights, not all 0",
            ));
        }
        if self.burst == 1
            || self.burst > self.frames
            || (self.burst > 0 && self.scene != SceneMode::Varied)
        {
            return Err(setting(
                "burst",
                self.burst.to_string(),
                "0 or 2..=frames, varied scenes only",
            ));
        }
        self.validate_later_fields()?;
        if let Some([lo, hi]) = self.iso {
            if lo > hi || !ISO_STEPS.iter().any(|&s| (lo..=hi).contains(&s)) {
                return Err(setting(
                    "ISO range",
                    format!("{lo}..{hi}"),
                    "a range holding one of the ISO steps 100..=6400",
                ));
            }
        }
        let r = &self.defects.ranges;
        for (name, [lo, hi], max) in [
            ("hot rate range", r.hot_rate, 100.0),
            ("warm offset range", r.warm_offset, 1.0),
            ("stuck-mid level range", r.stuck_mid, 1.0),
            ("blinking offset range", r.blink_offset, 1.0),
            ("blinking probability range", r.blink_probability, 1.0),
        ] {
            if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi && hi <= max) {
                return Err(setting(
                    name,
                    format!("{lo}..{hi}"),
                    "0 < low <= high <= its maximum",
                ));
            }
        }
        let s = &self.sensor;
        let sane = |v: f32| v.is_finite() && v >= 0.0;
        let physical = s.full_well.is_finite()
            && s.full_well >= 100.0
            && [
                s.read_noise[0],
                s.read_noise[1],
                s.adc_noise,
                s.dark_current,
            ]
            .into_iter()
            .all(sane)
            && sane(s.prnu)
            && s.prnu <= 0.1
            && (0.0..0.9).contains(&s.vignetting);
        if !physical {
            return Err(setting("sensor model", format!("{s:?}"), "physical values"));
        }
        Ok(())
    }
}

impl SeriesSpec {
    /// Checks the fields added after the first release (night bursts, sky drift).
    fn validate_later_fields(&self) -> Result<(), SynthError> {
        let setting = |name, value: String, range| SynthError::Setting { name, value, range };
        if self.night_bursts > 0
            && (self.scene != SceneMode::Varied
                || self.burst > 0
                || self.frames < 6 * self.night_bursts)
        {
            return Err(setting(
                "night bursts",
                self.night_bursts.to_string(),
                "0, or up to frames/6 in a varied series without --burst",
            ));
        }
        let [lo, hi] = self.sky.drift;
        if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi && hi <= 200.0) {
            return Err(setting(
                "sky drift range",
                format!("{lo}..{hi}"),
                "0 < low <= high <= 200 photosites a frame",
            ));
        }
        Ok(())
    }
}

/// Shutter speeds and ISO steps must stay sorted: ranges are looked up by position.
const _: () = {
    let mut i = 1;
    while i < SHUTTER_STEPS.len() {
        let (a, b) = (SHUTTER_STEPS[i - 1], SHUTTER_STEPS[i]);
        assert!((a.0 as u64) * (b.1 as u64) < (b.0 as u64) * (a.1 as u64));
        i += 1;
    }
};
