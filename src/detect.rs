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
//! score = level × max(consistency, stillness) (× shape and channel
//! factors). A scene detail can have a high level in a few frames, but rarely
//! stands out in most of them; a stuck, hot, warm or dead photosite does both.
//!
//! Unless the frames show the same scene (a tripod series, a burst): then a
//! static scene detail stands out in every frame too, and votes prove
//! nothing. So the votes lose their weight as the frames' similarity (see
//! [`crate::similarity`]) goes from `ALIKE_FROM` to `ALIKE_FULL`, and the
//! stillness is measured against what the same scene under another exposure
//! would do: every scene point's 8-bit value scales with the exposure like its
//! neighbourhood's (gamma is a power law), so its σ is the ring's σ times
//! (mean + 1) / (reference + 1) (the 1 keeps a black ring from dividing by
//! 0). A stuck photosite does not move, and a hot or warm one adds a raw
//! offset that does not scale, so both move less than that; a scene detail
//! moves just that much.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use crate::evidence::{around, median8, ring, ring_medians_row, RING, VOTE_LEVEL};
use crate::rank::Channel;
use crate::stats::{Stats, CHANNELS};

/// Standard deviation (8-bit levels) added under the division: JPEG noise
/// alone moves a subpixel by 1-3 levels, so a σ below that says nothing.
pub const NOISE_FLOOR: f64 = 2.0;

/// Stillness above which a defect is `stuck` (its σ is at most a quarter of
/// its neighbours').
const STUCK_STILLNESS: f32 = 0.75;

/// The automatic threshold is this many times the 99.9th percentile of all
/// scores, and never below `MIN_THRESHOLD`. Most subpixels score exactly 0
/// (they never stand out and are not still), so a median/MAD rule collapses
/// to 0; the upper tail is what grows when the series is weak (few frames,
/// alike frames). Measured on generated series (tests/defects.rs, diagnose):
/// the best non-defect score stays below 0.05 with 12 to 60 varied frames,
/// is 0.2 with 2 frames (threshold 0.28) and 0.12 on a tripod series once
/// votes lose their weight there (threshold 0.10); the weakest stuck or hot
/// defect scores 0.7 with 2 frames, and every defect 0.2 or more with 12
/// frames or more.
pub const AUTO_TAIL_FACTOR: f64 = 20.0;

/// Frame similarity from which the votes start to lose weight, and at which
/// they carry none. Varied generated series measure -0.2 to 0.2, the real
/// same-camera series 0.27, a tripod series 1.0; `TOO_ALIKE` (the warning)
/// is 0.8.
pub const ALIKE_FROM: f64 = 0.5;
pub const ALIKE_FULL: f64 = 0.9;

/// How alike the frames are for scoring, in [0, 1]: 0 for different scenes
/// (or unknown), 1 for one scene.
fn alikeness(similarity: Option<f64>) -> f32 {
    similarity.map_or(0.0, |s| {
        ((s - ALIKE_FROM) / (ALIKE_FULL - ALIKE_FROM)).clamp(0.0, 1.0) as f32
    })
}
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
    /// Net votes of the peak: frames in which it stood out brighter than its
    /// neighbourhood minus frames in which it stood out darker.
    pub votes: i32,
}

/// The inputs of the score, per subpixel. Nothing full-size is allocated:
/// a 3872x2592 frame has 30 million subpixels, and the statistics already
/// hold 12 bytes each.
struct Planes<'a> {
    width: usize,
    height: usize,
    frames: f32,
    /// 1 / (n − 1), to turn M2 into a variance.
    inv_n1: f32,
    mean: &'a [f32],
    m2: &'a [f32],
    votes: &'a [i32],
    /// See [`alikeness`].
    alike: f32,
}

impl<'a> Planes<'a> {
    fn new(stats: &'a Stats, similarity: Option<f64>) -> Self {
        let n = stats.frames.max(1) as f32;
        Planes {
            width: stats.width() as usize,
            height: stats.height() as usize,
            frames: n,
            inv_n1: 1.0 / (n - 1.0).max(1.0),
            mean: stats.mean.as_slice().expect("standard layout"),
            m2: stats.m2.as_slice().expect("standard layout"),
            votes: stats.votes.as_slice().expect("standard layout"),
            alike: alikeness(similarity),
        }
    }

    /// True when flat index `i` has a full ring (is at least `RING` from the border).
    fn interior(&self, i: usize) -> bool {
        let (x, y) = ((i / CHANNELS) % self.width, (i / CHANNELS) / self.width);
        x >= RING && y >= RING && x + RING < self.width && y + RING < self.height
    }

    /// (score, reference, stillness) of the subpixel at flat index `i`, which
    /// must be interior.
    fn score(&self, i: usize) -> (f32, f32, f32) {
        let stride = self.width * CHANNELS;
        let base = i - i % CHANNELS;
        let pixel_refs = [0, 1, 2].map(|c| median8(ring(self.mean, base + c, stride)));
        let ring_var = median8(ring(self.m2, i, stride));
        self.score_with(i, pixel_refs, ring_var)
    }

    /// The score from precomputed references: `pixel_refs`, the ring median
    /// of the mean for each channel of `i`'s pixel, and `ring_var`, the ring's
    /// median M2 for `i` itself.
    #[inline(always)]
    fn score_with(&self, i: usize, pixel_refs: [f32; CHANNELS], ring_var: f32) -> (f32, f32, f32) {
        let c = i % CHANNELS;
        let reference = pixel_refs[c];
        // The ring's typical σ: the square root of its median variance.
        let ring_sd = (ring_var * self.inv_n1).sqrt();
        let own_sd = (self.m2[i] * self.inv_n1).sqrt();
        let d = self.mean[i] - reference;
        let floor = NOISE_FLOOR as f32;
        // A scene point's mean differs from its ring's by about the ring's own
        // variation over √n (n scenes averaged), so that is part of the noise.
        let noise = own_sd + ring_sd / self.frames.sqrt() + floor;
        let level = d.abs() / noise;
        let votes = (self.votes[i] as f32 * d.signum()).max(0.0) / self.frames;
        let consistency = votes * (1.0 - self.alike);
        let stillness = (1.0 - (own_sd + floor) / (ring_sd + floor)).max(0.0);
        // The σ a scene point with this mean would have under exposure
        // changes alone (see the module docs); weighs in as frames are alike.
        let scene_sd = ring_sd * (self.mean[i] + 1.0) / (reference + 1.0);
        let still_for_scene = (1.0 - (own_sd + floor) / (scene_sd + floor)).max(0.0);
        let still = stillness + (still_for_scene - stillness) * self.alike;
        let sharpness = self.sharpness(i, reference, d);
        // A defect worth reporting sits at least a per-frame vote level from
        // its neighbourhood; below that, a "still" subpixel is a coincidence
        // of few frames (two frames with the same value), not a photosite.
        let magnitude = (d.abs() / (2.0 * f32::from(VOTE_LEVEL))).min(1.0);
        let specificity = self.specificity(i, &pixel_refs, d);
        (
            level * consistency.max(still) * sharpness * magnitude * specificity,
            reference,
            stillness,
        )
    }

    /// One bad photosite sits under one colour filter: its excess is mostly in
    /// its own channel, while a scene detail (a dark knot, a bright speck) is
    /// there in all three. 0.5 + 0.5 × (1 − the largest same-side excess of
    /// the pixel's other channels / |d|), in [0.5, 1]: soft, because JPEG's
    /// luma carries part of a green photosite's excess into R and B.
    #[inline(always)]
    fn specificity(&self, i: usize, pixel_refs: &[f32; CHANNELS], d: f32) -> f32 {
        if d == 0.0 {
            return 0.5;
        }
        let base = i - i % CHANNELS;
        let mut shared = 0f32;
        for (c, &reference) in pixel_refs.iter().enumerate() {
            if base + c != i {
                shared = shared.max((self.mean[base + c] - reference) * d.signum());
            }
        }
        0.5 + 0.5 * (1.0 - shared / d.abs()).clamp(0.0, 1.0)
    }

    /// How much of the excess `d` is the subpixel's own: 1 − (the largest
    /// excess of its 8 immediate same-channel neighbours, on the same side) /
    /// |d|, in [0, 1]. One bad photosite, demosaiced, leaves its neighbours
    /// about half its excess or less; a scene detail, blurred by the lens and
    /// the anti-aliasing filter, leaves them most of it. This is what
    /// separates defects from static scene details that stay put.
    #[inline(always)]
    fn sharpness(&self, i: usize, reference: f32, d: f32) -> f32 {
        if d == 0.0 {
            return 0.0;
        }
        let around = around(self.mean, i, self.width * CHANNELS, 1);
        let sign = d.signum();
        let strongest = around
            .iter()
            .fold(0f32, |acc, &x| acc.max((x - reference) * sign));
        (1.0 - strongest / d.abs()).clamp(0.0, 1.0)
    }

    /// An upper bound of the score of each interior subpixel of row `y`,
    /// into `bounds` (indexed like the row): |d| / (σ + floor) × magnitude,
    /// the level without the ring's σ in its noise, times the one factor
    /// that needs nothing but the reference; the others are all at most 1.
    /// One branch-free loop, so that it vectorises.
    fn score_bounds_row(&self, y: usize, refs: &[f32], bounds: &mut [f32], interior: Range<usize>) {
        let row = y * self.width * CHANNELS;
        let mean = &self.mean[row + interior.start..row + interior.end];
        let m2 = &self.m2[row + interior.start..row + interior.end];
        let refs = &refs[interior.clone()];
        let floor = NOISE_FLOOR as f32;
        let vote_span = 2.0 * f32::from(VOTE_LEVEL);
        for (((b, &m), &q), &r) in bounds[interior].iter_mut().zip(mean).zip(m2).zip(refs) {
            let d = (m - r).abs();
            *b = d / ((q * self.inv_n1).sqrt() + floor) * (d / vote_span).min(1.0);
        }
    }

    /// Interior subpixels scoring above `threshold`, in index order. Each row's
    /// references are computed once, row-wise (vectorised), and shared by the
    /// three channels of a pixel; the rest of the score only where a bound
    /// says the threshold can be reached.
    fn flagged(&self, threshold: f64) -> Vec<(usize, f32)> {
        let stride = self.width * CHANNELS;
        if self.width <= 2 * RING || self.height <= 2 * RING {
            return Vec::new();
        }
        let interior = RING * CHANNELS..stride - RING * CHANNELS;
        (RING..self.height - RING)
            .into_par_iter()
            .map_init(
                || (vec![0f32; stride], vec![0f32; stride]),
                |(refs, bounds), y| {
                    ring_medians_row(self.mean, stride, y, refs);
                    self.score_bounds_row(y, refs, bounds, interior.clone());
                    let mut hits = Vec::new();
                    for xc in interior.clone() {
                        // (With a margin for the rounding of a product.)
                        if f64::from(bounds[xc]) * (1.0 + 1e-5) <= threshold {
                            continue;
                        }
                        let i = y * stride + xc;
                        let base = xc - xc % CHANNELS;
                        let pixel_refs = [refs[base], refs[base + 1], refs[base + 2]];
                        let ring_var = median8(ring(self.m2, i, stride));
                        let score = self.score_with(i, pixel_refs, ring_var).0;
                        if f64::from(score) > threshold {
                            hits.push((i, score));
                        }
                    }
                    hits
                },
            )
            .flatten_iter()
            .collect()
    }
}

/// The automatic threshold: `AUTO_TAIL_FACTOR` times the 99.9th percentile
/// of the scores of a deterministic strided sample of at most ~1M interior
/// subpixels, and at least `MIN_THRESHOLD`.
fn auto_threshold(planes: &Planes) -> f64 {
    let len = planes.width * planes.height * CHANNELS;
    // An odd step so that the sample walks through all three channels.
    let step = ((len / 1_000_000) | 1).max(1);
    let mut sample: Vec<f32> = (0..len)
        .into_par_iter()
        .step_by(step)
        .filter(|&i| planes.interior(i))
        .map(|i| planes.score(i).0)
        .collect();
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
///
/// `similarity` is the frames' median similarity (see
/// [`crate::similarity::median_similarity`]); `None` when unknown.
pub fn detect(stats: &Stats, threshold: Option<f64>, similarity: Option<f64>) -> Detection {
    let planes = Planes::new(stats, similarity);
    let w = planes.width;
    let threshold = threshold.unwrap_or_else(|| auto_threshold(&planes));
    let flagged = planes.flagged(threshold);
    let score_of: HashMap<usize, f32> = flagged.iter().copied().collect();
    let pixels: BTreeSet<usize> = flagged.iter().map(|&(i, _)| i / CHANNELS).collect();
    let mut seen: HashSet<usize> = HashSet::new();
    let mut defects = Vec::new();
    for &start in &pixels {
        if !seen.insert(start) {
            continue;
        }
        // Flood fill the 8-connected group of flagged pixels.
        let mut stack = vec![start];
        let mut members = Vec::new();
        while let Some(p) = stack.pop() {
            members.push(p);
            let (px, py) = (p % w, p / w);
            for ny in py.saturating_sub(1)..=py + 1 {
                for nx in px.saturating_sub(1)..=(px + 1).min(w - 1) {
                    let q = ny * w + nx;
                    if pixels.contains(&q) && seen.insert(q) {
                        stack.push(q);
                    }
                }
            }
        }
        members.sort_unstable();
        defects.push(describe_group(stats, &planes, &score_of, &members));
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

fn describe_group(
    stats: &Stats,
    planes: &Planes,
    score_of: &HashMap<usize, f32>,
    members: &[usize],
) -> Defect {
    let w = planes.width;
    let mut channels = Vec::new();
    let mut peak: Option<(usize, f32)> = None;
    for &p in members {
        for c in 0..CHANNELS {
            let i = p * CHANNELS + c;
            let Some(&score) = score_of.get(&i) else {
                continue;
            };
            if !channels.contains(&Channel::ALL[c]) {
                channels.push(Channel::ALL[c]);
            }
            // Highest score; ties go to the lowest index.
            if peak.is_none_or(|(_, best)| score > best) {
                peak = Some((i, score));
            }
        }
    }
    channels.sort();
    let (peak, _) = peak.expect("a group has a flagged subpixel");
    let (x, y, c) = (peak / CHANNELS % w, peak / CHANNELS / w, peak % CHANNELS);
    let (peak_score, reference, stillness) = planes.score(peak);
    let mean = planes.mean[peak];
    let excess = mean - reference;
    let kind = if stillness >= STUCK_STILLNESS && mean < 250.0 && mean > 5.0 {
        Kind::Stuck
    } else if excess < 0.0 {
        Kind::Dead
    } else if linear(f64::from(mean)) - linear(f64::from(reference)) >= HOT_LINEAR_EXCESS
        || mean >= 250.0
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
        score: peak_score,
        mean,
        reference,
        variance: stats.variance_at(peak) as f32,
        votes: planes.votes[peak],
    }
}

/// An 8-bit value in linear light, undoing a 2.2 gamma (near enough to sRGB
/// for telling a large offset from a moderate one).
fn linear(v: f64) -> f64 {
    (v.max(0.0) / 255.0).powf(2.2)
}

/// The scores [`detect`] gives the subpixels of row `y`, into `out` (one
/// per subpixel of the row); 0 within `RING` of the border. Row-wise, like
/// detection itself: for maps, where every score is wanted.
pub fn score_row(stats: &Stats, similarity: Option<f64>, y: usize, out: &mut [f32]) {
    let planes = Planes::new(stats, similarity);
    let stride = planes.width * CHANNELS;
    assert_eq!(out.len(), stride, "one score a subpixel of the row");
    out.fill(0.0);
    if planes.width <= 2 * RING || y < RING || y + RING >= planes.height {
        return;
    }
    let (mut refs, mut vars) = (vec![0f32; stride], vec![0f32; stride]);
    ring_medians_row(planes.mean, stride, y, &mut refs);
    ring_medians_row(planes.m2, stride, y, &mut vars);
    for xc in RING * CHANNELS..stride - RING * CHANNELS {
        let base = xc - xc % CHANNELS;
        let pixel_refs = [refs[base], refs[base + 1], refs[base + 2]];
        out[xc] = planes.score_with(y * stride + xc, pixel_refs, vars[xc]).0;
    }
}

/// The score [`detect`] gives the subpixel (`x`, `y`, channel `c`); 0 within
/// `RING` of the border or outside the frame, where no subpixel is scored.
pub fn score_at(stats: &Stats, similarity: Option<f64>, x: usize, y: usize, c: usize) -> f32 {
    let planes = Planes::new(stats, similarity);
    let i = (y * planes.width + x) * CHANNELS + c;
    if x >= planes.width || y >= planes.height || c >= CHANNELS || !planes.interior(i) {
        return 0.0;
    }
    planes.score(i).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    const FRAMES: u64 = 24;

    /// A 9x9 series on a flat background (mean 100, σ 10) whose R subpixel at
    /// (4, 4) has `mean`, `sd` and net `votes`.
    fn one_bright_point(mean: f32, sd: f32, votes: i32) -> Stats {
        let shape = (9, 9, CHANNELS);
        let n1 = (FRAMES - 1) as f32;
        let mut stats = Stats {
            frames: FRAMES,
            mean: Array3::from_elem(shape, 100.0),
            m2: Array3::from_elem(shape, 10.0 * 10.0 * n1),
            votes: Array3::zeros(shape),
        };
        stats.mean[[4, 4, 0]] = mean;
        stats.m2[[4, 4, 0]] = sd * sd * n1;
        stats.votes[[4, 4, 0]] = votes;
        stats
    }

    #[test]
    fn on_alike_frames_a_point_that_scales_with_exposure_is_scene_not_defect() {
        // Brighter by half and moving half as much again as its neighbours,
        // as a static scene point under exposure changes does; it stood out
        // in every frame.
        let scene = one_bright_point(150.0, 10.0 * 151.0 / 101.0, FRAMES as i32);
        let varied = score_at(&scene, Some(0.1), 4, 4, 0);
        let tripod = score_at(&scene, Some(1.0), 4, 4, 0);
        assert!(varied > 1.0, "{varied}");
        assert!(tripod < 0.01, "{tripod}");
        // Halfway between the two similarities, halfway between the scores.
        let between = score_at(&scene, Some((ALIKE_FROM + ALIKE_FULL) / 2.0), 4, 4, 0);
        assert!(
            (between - varied / 2.0).abs() < 0.05 * varied,
            "{between} vs {varied}"
        );
    }

    #[test]
    fn row_scores_are_the_scores_one_by_one() {
        let mut stats = one_bright_point(150.0, 5.0, FRAMES as i32);
        for (k, (m, q)) in stats.mean.iter_mut().zip(stats.m2.iter_mut()).enumerate() {
            *m += ((k * 37) % 23) as f32;
            *q += ((k * 11) % 17) as f32 * 40.0;
        }
        let mut row = vec![0f32; 9 * CHANNELS];
        for y in 0..9 {
            score_row(&stats, Some(0.7), y, &mut row);
            for (xc, &v) in row.iter().enumerate() {
                let expected = score_at(&stats, Some(0.7), xc / CHANNELS, y, xc % CHANNELS);
                assert_eq!(
                    v,
                    expected,
                    "({}, {y}) channel {}",
                    xc / CHANNELS,
                    xc % CHANNELS
                );
            }
        }
    }

    #[test]
    fn on_alike_frames_an_offset_that_does_not_scale_is_still_a_defect() {
        // As bright, but moving less than its neighbours: a raw offset.
        let hot = one_bright_point(150.0, 5.0, FRAMES as i32);
        let tripod = score_at(&hot, Some(1.0), 4, 4, 0);
        assert!(tripod > 1.0, "{tripod}");
        let detection = detect(&hot, None, Some(1.0));
        assert_eq!(detection.defects.len(), 1);
        assert_eq!((detection.defects[0].x, detection.defects[0].y), (4, 4));
    }
}
