//! From the merged statistics to a list of defects: a score per subpixel, a
//! threshold that adapts to the series, and neighbouring flagged subpixels
//! grouped into one defect with a kind.
//!
//! The score combines two kinds of evidence:
//! - level: how far the subpixel's mean sits from a robust reference (the
//!   median of the same channel's means at distance 2, outside one defect's
//!   demosaic/JPEG spread), in units of its own standard deviation plus a
//!   noise floor: |mean − reference| / (σ + NOISE_FLOOR);
//! - consistency: the fraction of frames in which the pixel stood out on the
//!   same side in that frame (the per-frame votes of [`crate::evidence`]), or,
//!   for a subpixel that barely moves while its neighbours do (stuck), how
//!   much less it moves than they do.
//!
//! score = level × max(consistency, stillness). A scene detail can have a
//! high level in a few frames, but rarely stands out in most of them; a
//! stuck, hot, warm or dead photosite does both.

use rayon::prelude::*;
use serde::Serialize;

use crate::evidence::RING;
use crate::rank::Channel;
use crate::stats::{Stats, CHANNELS};

/// Standard deviation (8-bit levels) added under the division: JPEG noise
/// alone moves a subpixel by 1-3 levels, so a σ below that says nothing.
pub const NOISE_FLOOR: f64 = 2.0;

/// Stillness above which a defect is `stuck` (its σ is at most a quarter of
/// its neighbours').
const STUCK_STILLNESS: f64 = 0.75;

/// The automatic threshold is this many times the 99.9th percentile of all
/// scores, and never below `MIN_THRESHOLD`. Most subpixels score exactly 0
/// (they never stand out and are not still), so a median/MAD rule collapses
/// to 0; the upper tail is what grows when the series is weak (few frames,
/// alike frames). Measured on generated series (tests/defects.rs): the best
/// non-defect score was below 0.05 with 12 to 60 varied frames (p99.9 about
/// 0.001-0.002), 0.6 with 2 frames (p99.9 0.075), 2.4 on a tripod series
/// (p99.9 0.16); the weakest injected defect scored 0.2 with 12 or more.
pub const AUTO_TAIL_FACTOR: f64 = 20.0;
pub const MIN_THRESHOLD: f64 = 0.1;

/// Linear-light excess from which a bright defect is `hot` rather than `warm`
/// (about 35% of full scale after undoing an sRGB-like gamma).
pub const HOT_LINEAR_EXCESS: f64 = 0.35;

/// What kind of defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Pinned near one value: variance near zero while its neighbours vary.
    Stuck,
    /// Brighter than its neighbours by a large consistent offset.
    Hot,
    /// Brighter than its neighbours by a moderate offset; still follows the scene.
    Warm,
    /// Darker than its neighbours.
    Dead,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Stuck => "stuck",
            Kind::Hot => "hot",
            Kind::Warm => "warm",
            Kind::Dead => "dead",
        }
    }
}

/// One defect: a group of 8-connected flagged pixels, described at its peak.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Defect {
    /// Column of the peak subpixel.
    pub x: u32,
    /// Row of the peak subpixel.
    pub y: u32,
    /// What kind of defect.
    pub kind: Kind,
    /// Channel of the peak subpixel.
    pub channel: Channel,
    /// Every channel with a flagged subpixel in the group.
    pub channels: Vec<Channel>,
    /// Pixels in the group.
    pub pixels: u32,
    /// The peak's score (compare with the report's threshold).
    pub score: f32,
    /// The peak's mean 8-bit value over the frames.
    pub mean: f32,
    /// The neighbourhood reference: median of the same channel's means at distance 2.
    pub reference: f32,
    /// The peak's sample variance over the frames.
    pub variance: f32,
    /// Frames in which the peak pixel stood out brighter than its neighbourhood.
    pub bright_frames: u32,
    /// Frames in which it stood out darker.
    pub dark_frames: u32,
}

/// Per-subpixel score and what went into it.
struct Scored {
    score: Vec<f32>,
}

/// The score of every subpixel (0 within RING of the border).
fn score_all(stats: &Stats) -> Scored {
    let (h, w, _) = stats.mean.dim();
    let n = stats.frames.max(1) as f64;
    let mean = stats.mean.as_slice().expect("standard layout");
    let m2 = stats.m2.as_slice().expect("standard layout");
    let sd = |i: usize| (f64::from(m2[i]) / (n - 1.0).max(1.0)).sqrt();
    let mut score = vec![0f32; w * h * CHANNELS];
    if w <= 2 * RING || h <= 2 * RING {
        return Scored { score };
    }
    let stride = w * CHANNELS;
    score
        .par_chunks_mut(stride)
        .enumerate()
        .skip(RING)
        .take(h - 2 * RING)
        .for_each(|(y, row)| {
            for x in RING..w - RING {
                for c in 0..CHANNELS {
                    let i = (y * w + x) * CHANNELS + c;
                    row[x * CHANNELS + c] =
                        subpixel_score(stats, mean, &sd, n, w, x, y, c, i).0 as f32;
                }
            }
        });
    Scored { score }
}

/// (score, reference, stillness) of subpixel `i` = (x, y, c).
#[allow(clippy::too_many_arguments)]
fn subpixel_score(
    stats: &Stats,
    mean: &[f32],
    sd: &impl Fn(usize) -> f64,
    n: f64,
    w: usize,
    x: usize,
    y: usize,
    c: usize,
    i: usize,
) -> (f64, f64, f64) {
    let at = |xx: usize, yy: usize| (yy * w + xx) * CHANNELS + c;
    let ring = ring_indices(x, y).map(|(xx, yy)| at(xx, yy));
    let reference = median8_f64(ring.map(|j| f64::from(mean[j])));
    let ring_sd = median8_f64(ring.map(sd));
    let own_sd = sd(i);
    let d = f64::from(mean[i]) - reference;
    // A scene point's mean differs from its ring's by about the ring's own
    // variation over √n (n scenes averaged), so that is part of the noise.
    let noise = own_sd + ring_sd / n.sqrt() + NOISE_FLOOR;
    let level = d.abs() / noise;
    let votes = if d > 0.0 {
        stats.bright[[y, x]]
    } else {
        stats.dark[[y, x]]
    };
    let consistency = f64::from(votes) / n;
    let stillness = (1.0 - (own_sd + NOISE_FLOOR) / (ring_sd + NOISE_FLOOR)).max(0.0);
    let sharpness = sharpness(mean, w, x, y, c, reference, d);
    (
        level * consistency.max(stillness) * sharpness,
        reference,
        stillness,
    )
}

/// How much of the excess `d` is the subpixel's own: 1 − (the largest excess
/// of its 8 immediate same-channel neighbours, on the same side) / d, in
/// [0, 1]. One bad photosite, demosaiced, leaves its neighbours about half its
/// excess or less; a scene detail, blurred by the lens and the anti-aliasing
/// filter, leaves them nearly all of it. This is what separates defects from
/// static scene details in a tripod series.
fn sharpness(mean: &[f32], w: usize, x: usize, y: usize, c: usize, reference: f64, d: f64) -> f64 {
    if d == 0.0 {
        return 0.0;
    }
    let mut strongest = 0.0f64;
    for (dx, dy) in [
        (-1i64, -1i64),
        (0, -1),
        (1, -1),
        (-1, 0),
        (1, 0),
        (-1, 1),
        (0, 1),
        (1, 1),
    ] {
        let (xx, yy) = ((x as i64 + dx) as usize, (y as i64 + dy) as usize);
        let e = (f64::from(mean[(yy * w + xx) * CHANNELS + c]) - reference) * d.signum();
        strongest = strongest.max(e);
    }
    (1.0 - strongest / d.abs()).clamp(0.0, 1.0)
}

/// An 8-bit value in linear light, undoing a 2.2 gamma (near enough to sRGB
/// for telling a large offset from a moderate one).
fn linear(v: f64) -> f64 {
    (v.max(0.0) / 255.0).powf(2.2)
}

fn ring_indices(x: usize, y: usize) -> [(usize, usize); 8] {
    let r = RING;
    [
        (x - r, y),
        (x + r, y),
        (x, y - r),
        (x, y + r),
        (x - r, y - r),
        (x + r, y - r),
        (x - r, y + r),
        (x + r, y + r),
    ]
}

fn median8_f64(v: [f64; 8]) -> f64 {
    let mut v = v;
    v.sort_by(f64::total_cmp);
    (v[3] + v[4]) / 2.0
}

/// The automatic threshold from a strided sample of the scores (see
/// `AUTO_TAIL_FACTOR`).
fn auto_threshold(score: &[f32]) -> f64 {
    // A deterministic sample of at most ~1M scores is plenty for a percentile.
    let step = (score.len() / 1_000_000).max(1);
    let mut sample: Vec<f32> = score.iter().step_by(step).copied().collect();
    if sample.is_empty() {
        return MIN_THRESHOLD;
    }
    let k = ((sample.len() - 1) as f64 * 0.999) as usize;
    let tail = f64::from(*sample.select_nth_unstable_by(k, f32::total_cmp).1);
    (AUTO_TAIL_FACTOR * tail).max(MIN_THRESHOLD)
}

/// The result of detection.
#[derive(Debug, Clone)]
pub struct Detection {
    pub threshold: f64,
    pub defects: Vec<Defect>,
}

/// Finds the defects: subpixels scoring above `threshold` (automatic when
/// `None`), grouped 8-connected across channels, strongest first (ties by
/// position), so the list is the same for any number of workers.
pub fn detect(stats: &Stats, threshold: Option<f64>) -> Detection {
    let (h, w, _) = stats.mean.dim();
    let scored = score_all(stats);
    let threshold = threshold.unwrap_or_else(|| auto_threshold(&scored.score));
    let flagged_subpixel = |i: usize| f64::from(scored.score[i]) > threshold;
    let mut pixel_flagged = vec![false; w * h];
    for (p, flag) in pixel_flagged.iter_mut().enumerate() {
        *flag = (0..CHANNELS).any(|c| flagged_subpixel(p * CHANNELS + c));
    }
    let mut seen = vec![false; w * h];
    let mut defects = Vec::new();
    for start in 0..w * h {
        if !pixel_flagged[start] || seen[start] {
            continue;
        }
        // Flood fill the 8-connected group.
        let mut stack = vec![start];
        seen[start] = true;
        let mut members = Vec::new();
        while let Some(p) = stack.pop() {
            members.push(p);
            let (px, py) = ((p % w) as i64, (p / w) as i64);
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (px + dx, py + dy);
                    if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                        continue;
                    }
                    let q = ny as usize * w + nx as usize;
                    if pixel_flagged[q] && !seen[q] {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        defects.push(describe_group(stats, &scored, &members, threshold));
    }
    defects.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((a.y, a.x).cmp(&(b.y, b.x)))
    });
    Detection {
        threshold,
        defects: merge_echoes(defects),
    }
}

/// A strong defect raises the reference of pixels `RING` away from it, so they
/// can look dark (or, for a dead one, bright) next to it: an echo, not a
/// second defect. Groups whose peaks lie within `RING` of a stronger group's
/// peak are folded into it. `defects` must be strongest first.
fn merge_echoes(defects: Vec<Defect>) -> Vec<Defect> {
    let mut kept: Vec<Defect> = Vec::new();
    for d in defects {
        let ring = RING as u32;
        match kept
            .iter_mut()
            .find(|k| k.x.abs_diff(d.x) <= ring && k.y.abs_diff(d.y) <= ring)
        {
            Some(k) => {
                k.pixels += d.pixels;
                for c in d.channels {
                    if !k.channels.contains(&c) {
                        k.channels.push(c);
                    }
                }
                k.channels.sort();
            }
            None => kept.push(d),
        }
    }
    kept
}

fn describe_group(stats: &Stats, scored: &Scored, members: &[usize], threshold: f64) -> Defect {
    let w = stats.width() as usize;
    let mut channels = Vec::new();
    let mut peak = members[0] * CHANNELS;
    for &p in members {
        for c in 0..CHANNELS {
            let i = p * CHANNELS + c;
            if f64::from(scored.score[i]) > threshold && !channels.contains(&Channel::ALL[c]) {
                channels.push(Channel::ALL[c]);
            }
            let better = scored.score[i]
                .total_cmp(&scored.score[peak])
                .then(peak.cmp(&i));
            if better.is_gt() {
                peak = i;
            }
        }
    }
    channels.sort();
    let (x, y, c) = (peak / CHANNELS % w, peak / CHANNELS / w, peak % CHANNELS);
    let n = stats.frames as f64;
    let mean = stats.mean.as_slice().expect("standard layout");
    let m2 = stats.m2.as_slice().expect("standard layout");
    let sd = |i: usize| (f64::from(m2[i]) / (n - 1.0).max(1.0)).sqrt();
    let (score, reference, stillness) = subpixel_score(stats, mean, &sd, n, w, x, y, c, peak);
    let excess = f64::from(mean[peak]) - reference;
    let kind = if stillness >= STUCK_STILLNESS && mean[peak] < 250.0 && mean[peak] > 5.0 {
        Kind::Stuck
    } else if excess < 0.0 {
        Kind::Dead
    } else if linear(f64::from(mean[peak])) - linear(reference) >= HOT_LINEAR_EXCESS
        || mean[peak] >= 250.0
    {
        Kind::Hot
    } else {
        Kind::Warm
    };
    Defect {
        x: x as u32,
        y: y as u32,
        kind,
        channel: Channel::ALL[c],
        channels,
        pixels: members.len() as u32,
        score: score as f32,
        mean: mean[peak],
        reference: reference as f32,
        variance: stats.variance_at(peak) as f32,
        bright_frames: stats.bright[[y, x]],
        dark_frames: stats.dark[[y, x]],
    }
}
