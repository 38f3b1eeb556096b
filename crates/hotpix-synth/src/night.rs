//! How night skies are shot: a night-sky series (scene `sky`) is one view, one exposure time
//! and ISO for every frame (10..30 s, ISO 100..3200, drawn once), each frame starting 1..3 s
//! after the last one ended, the sky turning throughout; a varied series' `night_sky` views
//! are single frames drawn the same way. The sky itself is `scene/sky.rs`.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use crate::develop::white_balance;
use crate::num::round_sig;
use crate::scene::{Framing, NightSky, SkyPlan, ViewLight};
use crate::shot::{
    exposure_of, seconds, Shot, SkyShot, FIRST_SHOT_EPOCH, ISO_STEPS, SHUTTER_STEPS,
};
use crate::spec::{Condition, SeriesSpec};
use crate::{encode, frame_file_name, stream_rng, Stream};

/// A night-sky series starts at 23:10 on the day the other series start at 09:00.
const SKY_EPOCH: i64 = FIRST_SHOT_EPOCH + 14 * 3600 + 10 * 60;
/// Tracking error of a mount, photosites: each frame's stars sit within this of the first's.
const GUIDE_ERROR: f32 = 0.3;

/// The exposure time (index into [`SHUTTER_STEPS`]) and ISO of a night sky, drawn from the
/// condition's ranges (the spec's ISO range overriding).
fn settings(spec: &SeriesSpec, rng: &mut ChaCha8Rng) -> (usize, u32) {
    let e = exposure_of(Condition::NightSky);
    let find = |t: (u32, u32)| SHUTTER_STEPS.iter().position(|&s| s == t).expect("listed");
    let shutter = rng.random_range(find(e.shutter[0])..=find(e.shutter[1]));
    let [lo, hi] = spec.iso.unwrap_or(e.iso);
    let isos: Vec<u32> = ISO_STEPS
        .iter()
        .copied()
        .filter(|s| (lo..=hi).contains(s))
        .collect();
    let iso = isos[rng.random_range(0..isos.len())];
    (shutter, iso)
}

/// The shots and the one view of a night-sky series, and the margin (photosites) the world
/// needs around the frame for a tracking mount's turning ground.
pub(crate) fn plan_sky_series(spec: &SeriesSpec) -> (Vec<Shot>, Vec<ViewLight>, usize) {
    let mut rng = stream_rng(spec.seed, Stream::Sky, u64::MAX, 0);
    let (shutter, iso) = settings(spec, &mut rng);
    let exposure = SHUTTER_STEPS[shutter];
    let t = seconds(exposure);
    // Each frame starts when the last one's exposure ended plus the camera's 1..3 s.
    let mut starts = Vec::with_capacity(spec.frames);
    let mut clock = 0i64;
    for i in 0..spec.frames {
        if i > 0 {
            clock += t.ceil() as i64 + rng.random_range(1..=3i64);
        }
        starts.push(clock);
    }
    let span = starts.last().map_or(0.0, |&s| s as f64 + t);
    let wb = white_balance(Condition::NightSky);
    let night = NightSky::plan(&SkyPlan {
        seed: spec.seed,
        view: 0,
        width: spec.width,
        height: spec.height,
        exposure: t,
        span,
        options: spec.sky,
        white_balance: wb,
    });
    let cap = spec.width.max(spec.height) as f64;
    let margin = (night
        .ground_travel(spec.width, spec.height, span)
        .min(cap)
        .ceil() as usize)
        + usize::from(night.tracked) * (4 + spec.sky.dither.max(0.0).ceil() as usize);
    let gain = f64::from(iso) / 100.0;
    let shots = starts
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let guide_error = if night.tracked {
                guide_error(spec.seed, i, GUIDE_ERROR.max(spec.sky.dither))
            } else {
                (0.0, 0.0)
            };
            Shot {
                file: frame_file_name(i),
                condition: Condition::NightSky,
                iso,
                exposure,
                exposure_seconds: t,
                datetime: encode::exif_datetime(SKY_EPOCH + start),
                view: 0,
                burst: false,
                zoom: 1.0,
                offset: (margin as f32, margin as f32),
                cast: [1.0; 3],
                exposure_scale: round_sig((f64::from(night.ground_white()) * t * gain) as f32, 5),
                white_balance: wb,
                quality: spec.quality,
                subsampling: spec.subsampling,
                sky: Some(SkyShot {
                    pole: night.pole,
                    rate: night.rate,
                    start: start as f64,
                    drift: night.drift,
                    tracked: night.tracked,
                    guide_error,
                }),
                aperture: None,
                vignetting: None,
                flicker: false,
            }
        })
        .collect();
    let light = ViewLight {
        night: Some(Box::new(night)),
        ..ViewLight::default()
    };
    (shots, vec![light], margin)
}

/// Frame `index`'s tracking error (at least [`GUIDE_ERROR`], more when the mount is
/// dithered): uniform over a disc of `radius` (rejection).
fn guide_error(seed: u64, index: usize, radius: f32) -> (f32, f32) {
    let mut rng = stream_rng(seed, Stream::Sky, index as u64, 3);
    loop {
        let (x, y) = (
            rng.random_range(-1.0f32..1.0),
            rng.random_range(-1.0f32..1.0),
        );
        if x * x + y * y <= 1.0 {
            let r = |v: f32| (v * radius * 1000.0).round() / 1000.0;
            return (r(x), r(y));
        }
    }
}

/// A varied series' night-sky view `v`: its exposure time (shutter index) and ISO, the
/// exposure scale of its ground, the frame's sky template, and the sky put into `light`.
pub(crate) fn sky_view(
    spec: &SeriesSpec,
    v: usize,
    light: &mut ViewLight,
) -> (usize, u32, f32, SkyShot) {
    let mut rng = stream_rng(spec.seed, Stream::Sky, v as u64, 2);
    let (shutter, iso) = settings(spec, &mut rng);
    let t = seconds(SHUTTER_STEPS[shutter]);
    let night = NightSky::plan(&SkyPlan {
        seed: spec.seed,
        view: v,
        width: spec.width,
        height: spec.height,
        exposure: t,
        span: t,
        options: spec.sky,
        white_balance: white_balance(Condition::NightSky),
    });
    let scale = round_sig(
        (f64::from(night.ground_white()) * t * f64::from(iso) / 100.0) as f32,
        5,
    );
    let sky = SkyShot {
        pole: night.pole,
        rate: night.rate,
        start: 0.0,
        drift: night.drift,
        tracked: night.tracked,
        guide_error: (0.0, 0.0),
    };
    light.night = Some(Box::new(night));
    (shutter, iso, scale, sky)
}

/// How frame coordinates map to the world in a shot.
pub(crate) fn framing(shot: &Shot) -> Framing {
    Framing {
        zoom: shot.zoom,
        offset: shot.offset,
    }
}
