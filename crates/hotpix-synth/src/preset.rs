//! The named series the detector is measured on, each with a defect plan sized to the frame.

use std::fmt;
use std::str::FromStr;

use crate::defects::{DefectPlan, KindCounts};
use crate::spec::{Condition, ConditionMix, Demosaic, SceneMode, SeriesSpec, Subsampling};
use crate::SynthError;

/// A named series setting for [`SeriesSpec::preset`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// A camera's year: 45% daylight, 15% clipped sky, 25% indoor, 15% night; quality 95, 4:2:2.
    Varied,
    /// Like `varied`, with three consecutive frames a burst of one view (five frames give
    /// three views: daylight, clipped sky and indoor).
    FiveBurst,
    /// Mostly dark: 55% night, 35% indoor, 10% daylight.
    NightHeavy,
    /// The varied mix at ISO 1600..6400 throughout; quality 90.
    HighIso,
    /// The varied mix written at quality 85 with 4:2:0 chroma.
    Q85_420,
    /// The varied mix with three times the warm photosites, offsets of 2..5% of full scale.
    WeakWarm,
    /// One indoor view from a tripod, bracketed over several stops at fixed ISO.
    Tripod,
    /// The varied mix without any defect.
    Clean,
    /// An untracked night sky from a tripod: one exposure of 10..30 s at ISO 100..3200 for
    /// every frame, stars drifting 1..15 photosites a frame and trailing within each, a dark
    /// foreground with lamps; six times the hot photosites, with weak dark-current rates.
    NightSky,
    /// `night-sky` on a tracking mount: the stars still (a tracking error of a fraction of a
    /// photosite), the foreground turning the other way and smeared within each exposure.
    NightSkyTracked,
    /// A camera's collection heavy in night work: night street scenes and night skies (about
    /// 60% of the frames with the bursts), some indoor and daylight, and 2 or 3 hand-held
    /// night bursts of 3..5 frames, each frame at its own exposure time and ISO.
    NightCollection,
    /// `weak-warm`'s offsets (2..5% of full scale, three times the warm photosites) in a world
    /// with fine texture (gravel, grass, brick) a few photosites across over all of it.
    TexturedWarm,
    /// The varied mix from an older camera: bilinear demosaic, strong sharpening (1.5), JPEG
    /// quality 78 with 4:2:0 chroma (rings around every defect); a D70 in EXIF.
    OldStyle,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 13] = [
        Preset::Varied,
        Preset::FiveBurst,
        Preset::NightHeavy,
        Preset::HighIso,
        Preset::Q85_420,
        Preset::WeakWarm,
        Preset::Tripod,
        Preset::Clean,
        Preset::NightSky,
        Preset::NightSkyTracked,
        Preset::NightCollection,
        Preset::TexturedWarm,
        Preset::OldStyle,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Varied => "varied",
            Preset::FiveBurst => "five-burst",
            Preset::NightHeavy => "night-heavy",
            Preset::HighIso => "high-iso",
            Preset::Q85_420 => "q85-420",
            Preset::WeakWarm => "weak-warm",
            Preset::Tripod => "tripod",
            Preset::Clean => "clean",
            Preset::NightSky => "night-sky",
            Preset::NightSkyTracked => "night-sky-tracked",
            Preset::NightCollection => "night-collection",
            Preset::TexturedWarm => "textured-warm",
            Preset::OldStyle => "old-style",
        }
    }

    /// The frames a series of this preset has unless told otherwise: what the real series it
    /// is modelled on had, or what the detector is usually run on.
    pub fn default_frames(self) -> usize {
        match self {
            Preset::NightSky | Preset::NightSkyTracked => 20,
            Preset::NightCollection => 24,
            Preset::OldStyle => 60,
            _ => 12,
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Preset {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| SynthError::UnknownName {
                what: "preset",
                name: s.to_string(),
                expected: "varied, five-burst, night-heavy, high-iso, q85-420, weak-warm, tripod, \
                           clean, night-sky, night-sky-tracked, night-collection, textured-warm, \
                           old-style",
            })
    }
}

/// The defect groups of a 640x480 frame; other sizes scale these by area (edge groups by
/// perimeter), rounding up so every listed kind and shape keeps at least one group.
const BASE_SINGLES: KindCounts = KindCounts {
    stuck_high: 2,
    stuck_mid: 2,
    hot: 4,
    warm: 4,
    dead: 3,
    blinking: 3,
};
const BASE_PAIRS: KindCounts = KindCounts {
    stuck_high: 1,
    stuck_mid: 1,
    hot: 1,
    warm: 1,
    dead: 1,
    blinking: 1,
};
const BASE_CLUSTERS: KindCounts = KindCounts {
    stuck_high: 1,
    stuck_mid: 0,
    hot: 1,
    warm: 1,
    dead: 1,
    blinking: 0,
};
const BASE_EDGE: KindCounts = KindCounts {
    stuck_high: 1,
    stuck_mid: 1,
    hot: 1,
    warm: 1,
    dead: 1,
    blinking: 1,
};

/// The preset defect plan for a frame: 34 groups at 640x480 (18 singles, 6 pairs,
/// 4 clusters, 6 edge); at least 22 at any size, which needs about 200x150 or more.
pub fn default_plan(width: u32, height: u32) -> DefectPlan {
    let area = f64::from(width) * f64::from(height) / (640.0 * 480.0);
    let perimeter = (f64::from(width) + f64::from(height)) / (640.0 + 480.0);
    let scale = |c: KindCounts, f: f64| c.map(|_, n| (n as f64 * f).ceil() as usize);
    DefectPlan {
        singles: scale(BASE_SINGLES, area),
        pairs: scale(BASE_PAIRS, area),
        clusters: scale(BASE_CLUSTERS, area),
        edge: scale(BASE_EDGE, perimeter),
        ..DefectPlan::default()
    }
}

/// Hot photosites of a long exposure: a real 20 s frame at ISO 100 from a D80 showed 98.
const ASTRO_HOT_SINGLES: usize = 6 * BASE_SINGLES.hot;

/// Dark-current rates of a night-sky series' hot photosites, FS per second at ISO 100, drawn
/// log-uniform: 0.04% .. 80% of full scale in the preset's middle setting, 20 s at ISO 400.
/// Measured there (800x600, seed 6, 66 hot photosites) as the developed change of each
/// photosite's own channel: 15% under 3 levels of 255 (not visible), 11% 3..9 (a dot a few
/// levels above a sky at 23), 27% 10..49, 47% 50 or more, 14% reaching 250; at ISO 100 they
/// are four times weaker, at ISO 3200 most clip. Real long exposures show many faint hot
/// photosites and a few glaring ones; the default range (0.02..0.5) clips nearly all of
/// them in 20 s, and 1.5e-5..0.03 clipped a third.
pub const ASTRO_HOT_RATE: [f32; 2] = [5e-6, 0.01];

/// A night-sky defect plan: six times the hot singles of the default plan and twice its hot
/// pairs, clusters and edge photosites, with [`ASTRO_HOT_RATE`]; the other kinds as default.
fn astro_defects(plan: &mut DefectPlan, width: u32, height: u32) {
    let area = f64::from(width) * f64::from(height) / (640.0 * 480.0);
    plan.singles.hot = (ASTRO_HOT_SINGLES as f64 * area).ceil() as usize;
    plan.pairs.hot *= 2;
    plan.clusters.hot *= 2;
    plan.edge.hot *= 2;
    plan.ranges.hot_rate = ASTRO_HOT_RATE;
}

impl SeriesSpec {
    /// The named series at the given size, with its default defect plan.
    pub fn preset(preset: Preset, width: u32, height: u32, frames: usize, seed: u64) -> SeriesSpec {
        let mut spec = SeriesSpec::new(width, height, frames, seed);
        spec.defects = default_plan(width, height);
        match preset {
            Preset::Varied => {}
            Preset::FiveBurst => spec.burst = 3.min(frames),
            Preset::NightHeavy => {
                spec.conditions = ConditionMix {
                    daylight: 10.0,
                    clipped_sky: 0.0,
                    indoor: 35.0,
                    night: 55.0,
                    night_sky: 0.0,
                }
            }
            Preset::HighIso => {
                spec.iso = Some([1600, 6400]);
                spec.quality = 90;
            }
            Preset::Q85_420 => {
                spec.quality = 85;
                spec.subsampling = Subsampling::S420;
            }
            Preset::WeakWarm | Preset::TexturedWarm => {
                spec.fine_texture = preset == Preset::TexturedWarm;
                let d = &mut spec.defects;
                d.ranges.warm_offset = [0.02, 0.05];
                d.singles.warm *= 3;
                d.pairs.warm *= 2;
                d.clusters.warm *= 2;
                d.edge.warm *= 2;
            }
            Preset::Tripod => {
                spec.scene = SceneMode::Tripod;
                spec.conditions = ConditionMix::only(Condition::Indoor);
            }
            Preset::Clean => spec.defects = DefectPlan::none(),
            Preset::NightSky | Preset::NightSkyTracked => {
                spec.scene = SceneMode::Sky;
                spec.conditions = ConditionMix::only(Condition::NightSky);
                spec.sky.tracked = preset == Preset::NightSkyTracked;
                astro_defects(&mut spec.defects, width, height);
            }
            Preset::NightCollection => {
                // Over the views other than the bursts' (which are night scenes).
                spec.conditions = ConditionMix {
                    daylight: 20.0,
                    clipped_sky: 5.0,
                    indoor: 30.0,
                    night: 15.0,
                    night_sky: 30.0,
                };
                spec.night_bursts = (if frames >= 24 { 3 } else { 2 }).min(frames / 6);
            }
            Preset::OldStyle => {
                spec.demosaic = Demosaic::Bilinear;
                spec.sharpen = 1.5;
                spec.quality = 78;
                spec.subsampling = Subsampling::S420;
                spec.camera.model = "NIKON D70".to_string();
                spec.camera.serial = Some("2012345".to_string());
            }
        }
        if spec.burst == 1 {
            spec.burst = 0;
        }
        spec
    }
}
