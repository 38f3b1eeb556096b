//! What the camera did for each frame: which condition it was shot in, where it pointed, the
//! exposure time and ISO it chose, how it metered, and what EXIF says. The whole series is
//! planned up front (cheap), so frames can then be rendered in any order.

use std::ops::Range;

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::bursts::{HandFrame, HandHeld};
use crate::develop::white_balance;
use crate::num::{uniform, unit};
use crate::scene::{Framing, ViewLight, World};
use crate::spec::{Condition, SceneMode, SeriesSpec, Subsampling};
use crate::{encode, frame_file_name, stream_rng, Stream};

/// What the camera did for one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shot {
    /// File name inside the series directory.
    pub file: String,
    /// The light it was taken in.
    pub condition: Condition,
    /// EXIF PhotographicSensitivity: the analogue gain is ISO/100.
    pub iso: u32,
    /// EXIF ExposureTime in seconds, as numerator and denominator: the simulated time.
    pub exposure: (u32, u32),
    /// The same exposure time as a number of seconds.
    pub exposure_seconds: f64,
    /// EXIF DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    pub datetime: String,
    /// Which view it shows: frames of one burst, and all frames of a tripod series, share one.
    pub view: usize,
    /// Part of a burst.
    pub burst: bool,
    /// Magnification of the world onto the frame (1 = one world pixel per photosite).
    pub zoom: f32,
    /// World coordinates of the frame's top-left photosite.
    pub offset: (f32, f32),
    /// Residual colour cast of the light after white balance (R, G, B multipliers).
    pub cast: [f32; 3],
    /// Raw level (fraction of full scale) that a white surface in the world reaches at the
    /// frame's centre in green: what the metered exposure time and ISO amount to.
    pub exposure_scale: f32,
    /// White balance multipliers the camera applied (R, G, B; G = 1).
    pub white_balance: [f32; 3],
    /// JPEG quality.
    pub quality: u8,
    /// JPEG chroma subsampling.
    pub subsampling: Subsampling,
    /// A night sky: where its pole is and how it turns (absent for other conditions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sky: Option<SkyShot>,
    /// EXIF FNumber, as numerator and denominator, where the frame states one (the
    /// hand-held night bursts' frames).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aperture: Option<(u32, u32)>,
    /// The lens' vignetting at that aperture, in place of the sensor model's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vignetting: Option<f32>,
    /// The lamps flicker with the mains and a short exposure catches them at a random phase
    /// (the hand-held night bursts' frames; other frames see them steady).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub flicker: bool,
}

/// How the night sky of a frame lies: enough to say where every star of the view's first
/// frame is in this one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkyShot {
    /// The celestial pole in frame photosites (x, y); it may lie far outside the frame.
    pub pole: (f64, f64),
    /// Radians a second the sky turns about the pole relative to the ground, counter-clockwise
    /// as seen (a star right of the pole rises).
    pub rate: f64,
    /// Seconds from the start of the view's first exposure to this one's: the sky has turned
    /// `rate * start` by then, and `rate * (start + exposure)` by the exposure's end.
    pub start: f64,
    /// The drift drawn for the view: the RMS over the frame of how far the sky (tripod) or
    /// the ground (tracking mount) moves in one exposure plus 2 s, photosites.
    pub drift: f32,
    /// On a tracking mount: the stars stay where they were in the first frame, shifted by
    /// `guide_error`, and the ground turns by `-rate * t` instead.
    pub tracked: bool,
    /// Tracking mount: where this frame's stars sit relative to the first frame's (the
    /// mount's periodic error), photosites; (0, 0) on a tripod.
    pub guide_error: (f32, f32),
}

impl Shot {
    /// The analogue gain relative to ISO 100.
    pub fn gain(&self) -> f32 {
        self.iso as f32 / 100.0
    }
}

/// ISO values in 1/3-stop steps from 100 to 6400.
pub(crate) const ISO_STEPS: [u32; 19] = [
    100, 125, 160, 200, 250, 320, 400, 500, 640, 800, 1000, 1250, 1600, 2000, 2500, 3200, 4000,
    5000, 6400,
];

/// Shutter speeds in 1/3-stop steps from 1/8000 to 30 s, written as a Nikon writes them
/// into EXIF (0.3 s is 3/10, 1.3 s is 13/10).
pub(crate) const SHUTTER_STEPS: [(u32, u32); 55] = [
    (1, 8000),
    (1, 6400),
    (1, 5000),
    (1, 4000),
    (1, 3200),
    (1, 2500),
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
    (1, 25),
    (1, 20),
    (1, 15),
    (1, 13),
    (1, 10),
    (1, 8),
    (1, 6),
    (1, 5),
    (1, 4),
    (3, 10),
    (4, 10),
    (5, 10),
    (6, 10),
    (8, 10),
    (1, 1),
    (13, 10),
    (16, 10),
    (2, 1),
    (25, 10),
    (3, 1),
    (4, 1),
    (5, 1),
    (6, 1),
    (8, 1),
    (10, 1),
    (13, 1),
    (15, 1),
    (20, 1),
    (25, 1),
    (30, 1),
];

/// How a condition is exposed.
pub(crate) struct Exposure {
    /// Shutter range, inclusive.
    pub shutter: [(u32, u32); 2],
    /// ISO range, inclusive.
    pub iso: [u32; 2],
    /// Mean green raw level the meter aims for (a night scene is kept low-key).
    target: f32,
}

pub(crate) fn exposure_of(c: Condition) -> Exposure {
    match c {
        // A camera places middle grey about 3 stops below raw clipping.
        Condition::Daylight | Condition::ClippedSky => Exposure {
            shutter: [(1, 4000), (1, 250)],
            iso: [100, 400],
            target: 0.10,
        },
        // Indoors a camera at its shutter and ISO limits lands a little under.
        Condition::Indoor => Exposure {
            shutter: [(1, 60), (1, 8)],
            iso: [400, 3200],
            target: 0.075,
        },
        Condition::Night => Exposure {
            shutter: [(1, 1), (30, 1)],
            iso: [200, 1600],
            target: 0.010,
        },
        // Not metered: the sky's own light sets the frame's brightness (`night.rs`).
        Condition::NightSky => Exposure {
            shutter: [(10, 1), (30, 1)],
            iso: [100, 3200],
            target: 0.0,
        },
    }
}

/// The first frame's DateTimeOriginal, as seconds since 1970: 2007-06-02 09:00:00.
pub(crate) const FIRST_SHOT_EPOCH: i64 = 1_180_774_800;

/// Exposure offsets of a tripod bracket in 1/3 stops, cycled: about 2 stops each way.
const BRACKET: [i32; 13] = [0, -3, 3, -6, 6, -2, 2, -4, 4, -1, 1, -5, 5];

/// One view: where the camera points and the light it sees.
struct View {
    condition: Condition,
    framing: Framing,
    cast: [f32; 3],
    shutter: usize,
    iso: u32,
    /// Exposure scale at `shutter`.
    scale: f32,
    /// A night sky's pole and turn.
    sky: Option<SkyShot>,
}

/// Plans every frame of the series: its shot, and the sky and lamps of every view.
pub(crate) fn plan_series(spec: &SeriesSpec, world: &World) -> (Vec<Shot>, Vec<ViewLight>) {
    let n = spec.frames;
    let (view_of, burst_range, conditions, hand) = assign_conditions(spec);
    let (plans, lights) = plan_views(spec, world, &conditions);

    let mut shots: Vec<Shot> = Vec::with_capacity(n);
    let mut clock = FIRST_SHOT_EPOCH;
    for (i, &v) in view_of.iter().enumerate() {
        let view = &plans[v];
        let mut frng = stream_rng(spec.seed, Stream::Shot, i as u64, 1);
        let hand_held = hand[i];
        let in_burst = burst_range.contains(&i) || hand_held.is_some();
        let mut framing = view.framing;
        let (mut shutter, mut scale, mut iso) = (view.shutter, view.scale, view.iso);
        let jittered = match hand_held {
            Some(f) => !f.first,
            None => in_burst && i > burst_range.start,
        };
        if jittered {
            // A hand-held burst: the camera moves by a photosite or so between frames.
            framing.offset.0 += uniform(&mut frng, [-1.5, 1.5]);
            framing.offset.1 += uniform(&mut frng, [-1.5, 1.5]);
        }
        if let Some(f) = hand_held {
            // The photographer's own settings for this frame, the light as metered.
            (shutter, iso) = (f.shutter, f.iso);
            scale = crate::num::round_sig((f64::from(view.scale) * f.ratio) as f32, 5);
        }
        if spec.scene == SceneMode::Tripod {
            let step = BRACKET[i % BRACKET.len()];
            shutter =
                (view.shutter as i32 + step).clamp(0, SHUTTER_STEPS.len() as i32 - 1) as usize;
            scale = (view.scale as f64 * seconds(SHUTTER_STEPS[shutter])
                / seconds(SHUTTER_STEPS[view.shutter])) as f32;
        }
        let exposure = SHUTTER_STEPS[shutter];
        if i > 0 && jittered && hand_held.is_some() {
            // Settings changed between hand-held frames: a second to four.
            clock += shots[i - 1].exposure_seconds.ceil() as i64 + frng.random_range(1..=4i64);
        } else if i > 0 {
            let previous: &Shot = &shots[i - 1];
            let burst_step = in_burst && i > burst_range.start;
            clock += pause(
                spec.scene,
                previous,
                burst_step,
                i.saturating_sub(burst_range.start),
                &mut frng,
            );
        }
        shots.push(Shot {
            file: frame_file_name(i),
            condition: view.condition,
            iso,
            exposure,
            exposure_seconds: seconds(exposure),
            datetime: encode::exif_datetime(clock),
            view: v,
            burst: in_burst,
            zoom: framing.zoom,
            offset: framing.offset,
            cast: view.cast,
            exposure_scale: scale,
            white_balance: white_balance(view.condition),
            quality: spec.quality,
            subsampling: spec.subsampling,
            sky: view.sky.clone(),
            aperture: hand_held.map(|f| f.f_number),
            vignetting: hand_held.map(|f| f.vignetting),
            flicker: hand_held.is_some(),
        });
    }
    (shots, lights)
}

/// Which view each frame shows, the burst (if any), each view's condition, and the
/// hand-held night bursts' frames (if the spec has them).
#[allow(clippy::type_complexity)]
fn assign_conditions(
    spec: &SeriesSpec,
) -> (
    Vec<usize>,
    Range<usize>,
    Vec<Condition>,
    Vec<Option<HandFrame>>,
) {
    if spec.night_bursts > 0 {
        let h = HandHeld::plan(spec);
        return (h.view_of, 0..0, h.conditions, h.frames);
    }
    let mut rng = stream_rng(spec.seed, Stream::Shot, u64::MAX, 0);
    let (view_of, burst_range) = assign_views(spec, &mut rng);
    let views = view_of.iter().max().map_or(0, |v| v + 1);
    let mut conditions = spec.conditions.apportion(views);
    // Fisher-Yates: the order of the conditions over the series.
    for i in (1..conditions.len()).rev() {
        conditions.swap(i, rng.random_range(0..=i));
    }
    (view_of, burst_range, conditions, vec![None; spec.frames])
}

/// Frames each view (a crop of the world), plans its light and exposes it.
fn plan_views(
    spec: &SeriesSpec,
    world: &World,
    conditions: &[Condition],
) -> (Vec<View>, Vec<ViewLight>) {
    let mut plans = Vec::with_capacity(conditions.len());
    let mut lights = Vec::with_capacity(conditions.len());
    for (v, &condition) in conditions.iter().enumerate() {
        let mut vrng = stream_rng(spec.seed, Stream::Shot, v as u64, 0);
        let framing = frame_view(spec, world, &mut vrng);
        let mut light = ViewLight::plan(spec.seed, v, condition, framing, spec.width, spec.height);
        if condition == Condition::NightSky {
            let (shutter, iso, scale, sky) = crate::night::sky_view(spec, v, &mut light);
            plans.push(View {
                condition,
                framing,
                cast: [1.0; 3],
                shutter,
                iso,
                scale,
                sky: Some(sky),
            });
        } else {
            plans.push(expose_view(
                spec, world, &mut vrng, condition, framing, &light,
            ));
        }
        lights.push(light);
    }
    (plans, lights)
}

/// Which view each frame shows, and which frames are the burst: a tripod has one view, a
/// varied series one per frame except that a burst's frames share the first one's.
fn assign_views(spec: &SeriesSpec, rng: &mut ChaCha8Rng) -> (Vec<usize>, Range<usize>) {
    let n = spec.frames;
    match spec.scene {
        SceneMode::Tripod | SceneMode::Sky => (vec![0; n], 0..0),
        SceneMode::Varied if spec.burst >= 2 => {
            let start = rng.random_range(0..=n - spec.burst);
            let extra = spec.burst - 1;
            let view_of = (0..n)
                .map(|i| {
                    if i < start + spec.burst {
                        i.min(start)
                    } else {
                        i - extra
                    }
                })
                .collect();
            (view_of, start..start + spec.burst)
        }
        SceneMode::Varied | SceneMode::Flat => ((0..n).collect(), 0..0),
    }
}

/// Seconds between the previous frame's start and this one's: its exposure, then the
/// photographer's pause (three frames a second within a burst).
fn pause(
    scene: SceneMode,
    previous: &Shot,
    burst_step: bool,
    into_burst: usize,
    rng: &mut ChaCha8Rng,
) -> i64 {
    let busy = previous.exposure_seconds.ceil() as i64;
    busy + match scene {
        // The second ticks every third frame of a burst.
        SceneMode::Varied if burst_step => i64::from(into_burst % 3 == 0),
        SceneMode::Varied => rng.random_range(30..600),
        SceneMode::Tripod | SceneMode::Sky => rng.random_range(2..5),
        SceneMode::Flat => 5,
    }
}

/// Seconds of a shutter step.
pub(crate) fn seconds((num, den): (u32, u32)) -> f64 {
    f64::from(num) / f64::from(den)
}

/// Where a view points: a random crop and zoom of a varied world; the whole world, 1:1, on a
/// tripod or a flat field.
fn frame_view(spec: &SeriesSpec, world: &World, rng: &mut ChaCha8Rng) -> Framing {
    if spec.scene != SceneMode::Varied {
        return Framing {
            zoom: 1.0,
            offset: (0.0, 0.0),
        };
    }
    let (w, h) = (spec.width as f32, spec.height as f32);
    let zoom = round_to(uniform(rng, [1.0, 1.35]), 1e-4);
    // The crop spans w/zoom world pixels plus one for bilinear interpolation, and keeps
    // 2 px spare each way for a burst's jitter.
    let max_x = (world.width as f32 - 5.0 - w / zoom).max(0.0);
    let max_y = (world.height as f32 - 5.0 - h / zoom).max(0.0);
    let ox = round_to(2.0 + uniform(rng, [0.0, max_x]), 1.0 / 64.0);
    let oy = round_to(2.0 + uniform(rng, [0.0, max_y]), 1.0 / 64.0);
    Framing {
        zoom,
        offset: (ox, oy),
    }
}

/// Chooses the exposure time and ISO for the condition, then meters the view and scales the
/// scene's light so the frame is normally exposed for that condition.
fn expose_view(
    spec: &SeriesSpec,
    world: &World,
    rng: &mut ChaCha8Rng,
    condition: Condition,
    framing: Framing,
    light: &ViewLight,
) -> View {
    let e = exposure_of(condition);
    let pick = |rng: &mut ChaCha8Rng, lo: usize, hi: usize| rng.random_range(lo..=hi);
    let find = |t: (u32, u32)| {
        SHUTTER_STEPS
            .iter()
            .position(|&s| s == t)
            .expect("listed shutter")
    };
    let shutter = pick(rng, find(e.shutter[0]), find(e.shutter[1]));
    let [lo, hi] = spec.iso.unwrap_or(e.iso);
    let isos: Vec<u32> = ISO_STEPS
        .iter()
        .copied()
        .filter(|s| (lo..=hi).contains(s))
        .collect();
    let iso = isos[pick(rng, 0, isos.len() - 1)];
    let cast = match spec.scene {
        // Auto white balance is never quite right: a few percent of cast remain.
        SceneMode::Varied => [
            round_to(uniform(rng, [0.93, 1.07]), 1e-4),
            1.0,
            round_to(uniform(rng, [0.93, 1.07]), 1e-4),
        ],
        SceneMode::Tripod | SceneMode::Flat | SceneMode::Sky => [1.0; 3],
    };
    // Matrix metering on a grid over the frame, the sky left out (it would only push the
    // ground into darkness), with the vignetting the sensor sees.
    let (mut sum, mut count) = (0f64, 0usize);
    let (gx, gy) = (32, 24);
    for j in 0..gy {
        for i in 0..gx {
            let x = (i as f32 + 0.5) * spec.width as f32 / gx as f32;
            let y = (j as f32 + 0.5) * spec.height as f32 / gy as f32;
            let (wx, wy) = framing.world_at(x, y);
            if light.is_sky(wx, wy) {
                continue;
            }
            let v = vignette(spec.sensor.vignetting, x, spec.width)
                * vignette(spec.sensor.vignetting, y, spec.height);
            sum += f64::from(world.sample(1, wx, wy) * v);
            count += 1;
        }
    }
    let metered = (sum / count.max(1) as f64).max(1e-4);
    // The meter's own error and the photographer's compensation: about a third of a stop.
    let compensation = 0.8 + 0.45 * unit(rng);
    let scale = (f64::from(e.target) * compensation / metered) as f32;
    View {
        condition,
        framing,
        cast,
        shutter,
        iso,
        scale: crate::num::round_sig(scale, 5),
        sky: None,
    }
}

/// Light falloff of the lens at photosite `i` of `n` along one axis.
pub(crate) fn vignette(strength: f32, i: f32, n: u32) -> f32 {
    let centred = (2.0 * i + 1.0) / n as f32 - 1.0;
    1.0 - strength * centred * centred
}

/// Rounding drawn parameters keeps `truth.json` readable; it changes nothing else. Done in
/// f64 so the result is the f32 nearest the round number, which prints as that number.
fn round_to(v: f32, step: f64) -> f32 {
    ((f64::from(v) / step).round() * step) as f32
}
