//! A collection's hand-held night bursts ([`SeriesSpec::night_bursts`]): a few runs of 3 to
//! 5 consecutive frames of one night view, the photographer trying settings between
//! exposures, so that each frame has its own aperture, exposure time and ISO, and a
//! brightness a stop or more from every other frame of its burst. A fast lens darkens the
//! corners wide open and hardly at all stopped down, so with the brightness the frames'
//! large-scale shading differs too: their thumbnails correlate less than a detector's "same
//! view" threshold, though they show one scene whose static details (the lamps) stand out
//! in every frame of the burst.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use crate::shot::{ISO_STEPS, SHUTTER_STEPS};
use crate::spec::{Condition, SeriesSpec};
use crate::{stream_rng, Stream};

/// Exposure offsets a burst's frames take, thirds of a stop from the metered exposure: any
/// two a stop or more apart, none much brighter than metered (a night scene kept dark).
const OFFSETS: [i32; 5] = [-9, -6, -3, 0, 3];

/// The apertures a burst's frames take (EXIF FNumber), each with its thirds of a stop from
/// f/2.8 and its vignetting strength (light at the corners `(1 - v)^2`: 2.5 stops at f/1.4,
/// as a fast prime wide open, none at f/8).
const APERTURES: [((u32, u32), i32, f32); 5] = [
    ((14, 10), -6, 0.6),
    ((2, 1), -3, 0.45),
    ((28, 10), 0, 0.3),
    ((4, 1), 3, 0.15),
    ((8, 1), 9, 0.0),
];

/// One frame of a hand-held burst.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HandFrame {
    /// The burst's first frame (the others are jittered from it).
    pub first: bool,
    /// Index into [`SHUTTER_STEPS`].
    pub shutter: usize,
    pub iso: u32,
    /// EXIF FNumber.
    pub f_number: (u32, u32),
    /// The lens' vignetting at that aperture.
    pub vignetting: f32,
    /// Its exposure (time x ISO / N^2) over the metered one: what the view's scale is
    /// multiplied by.
    pub ratio: f64,
}

/// Which view each frame shows, each view's condition, and the bursts' frames.
pub(crate) struct HandHeld {
    pub view_of: Vec<usize>,
    pub conditions: Vec<Condition>,
    pub frames: Vec<Option<HandFrame>>,
}

impl HandHeld {
    /// Places the spec's bursts (apart from one another by a frame or more), gives their
    /// views the night condition and the other views the spec's mix, shuffled.
    pub fn plan(spec: &SeriesSpec) -> HandHeld {
        let mut rng = stream_rng(spec.seed, Stream::Bursts, 0, 0);
        let n = spec.frames;
        let k = spec.night_bursts;
        let lengths: Vec<usize> = (0..k).map(|_| rng.random_range(3..=5usize)).collect();
        // The frames outside bursts, less one between consecutive bursts, split into k + 1
        // runs: k sorted draws from 0..=free.
        let free = n - lengths.iter().sum::<usize>() - (k - 1);
        let mut cuts: Vec<usize> = (0..k).map(|_| rng.random_range(0..=free)).collect();
        cuts.sort_unstable();
        let mut starts = Vec::with_capacity(k);
        let mut before = 0;
        for (j, (&cut, &len)) in cuts.iter().zip(&lengths).enumerate() {
            starts.push(cut + before + j);
            before += len;
        }
        let mut frames = vec![None; n];
        let mut view_of = Vec::with_capacity(n);
        let mut burst_views = Vec::new();
        let mut i = 0;
        while i < n {
            let v = view_of.last().map_or(0, |&v: &usize| v + 1);
            if let Some(j) = starts.iter().position(|&s| s == i) {
                burst_views.push(v);
                for (f, hand) in burst_frames(&mut rng, lengths[j]).into_iter().enumerate() {
                    view_of.push(v);
                    frames[i + f] = Some(hand);
                }
                i += lengths[j];
            } else {
                view_of.push(v);
                i += 1;
            }
        }
        let views = view_of.last().map_or(0, |&v| v + 1);
        let mut others = spec.conditions.apportion(views - k);
        for i in (1..others.len()).rev() {
            others.swap(i, rng.random_range(0..=i));
        }
        let mut others = others.into_iter();
        let conditions = (0..views)
            .map(|v| {
                if burst_views.contains(&v) {
                    Condition::Night
                } else {
                    others.next().expect("one condition per other view")
                }
            })
            .collect();
        HandHeld {
            view_of,
            conditions,
            frames,
        }
    }
}

/// The settings of a burst of `len` frames: a hand-holdable base (1/60..1/4 s at f/2.8, ISO
/// 800..3200) and per frame an offset from [`OFFSETS`] and an aperture from [`APERTURES`]
/// (each shuffled), the shutter and ISO set to match.
fn burst_frames(rng: &mut ChaCha8Rng, len: usize) -> Vec<HandFrame> {
    let find = |t: (u32, u32)| SHUTTER_STEPS.iter().position(|&s| s == t).expect("listed");
    let base_shutter = rng.random_range(find((1, 60))..=find((1, 4)));
    let iso_at = |iso: u32| ISO_STEPS.iter().position(|&s| s == iso).expect("listed");
    let base_iso = rng.random_range(iso_at(800)..=iso_at(3200));
    let mut offsets = OFFSETS;
    for i in (1..offsets.len()).rev() {
        offsets.swap(i, rng.random_range(0..=i));
    }
    let mut apertures = APERTURES;
    for i in (1..apertures.len()).rev() {
        apertures.swap(i, rng.random_range(0..=i));
    }
    let exposure = |shutter: usize, iso: usize, (num, den): (u32, u32)| {
        let (tn, td) = SHUTTER_STEPS[shutter];
        let n = f64::from(num) / f64::from(den);
        f64::from(tn) / f64::from(td) * f64::from(ISO_STEPS[iso]) / (n * n)
    };
    let metered = exposure(base_shutter, base_iso, (28, 10));
    offsets[..len]
        .iter()
        .zip(&apertures)
        .enumerate()
        .map(|(f, (&offset, &(f_number, thirds, vignetting)))| {
            // ISO moves by up to a stop either way, the shutter takes the rest (and makes up
            // for the aperture).
            let iso_step = rng.random_range(-3..=3i32);
            let iso = (base_iso as i32 + iso_step) as usize;
            let shutter = (base_shutter as i32 + offset - iso_step + thirds) as usize;
            HandFrame {
                first: f == 0,
                shutter,
                iso: ISO_STEPS[iso],
                f_number,
                vignetting,
                ratio: exposure(shutter, iso, f_number) / metered,
            }
        })
        .collect()
}
