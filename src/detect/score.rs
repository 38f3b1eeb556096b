//! The defect score of a subpixel, from its statistics, its neighbourhood's
//! and the series' context.
//!
//! Three kinds of evidence, each in units of its own noise (a z-score):
//! - consistency: Σ excess (an offset: warm, stuck, dead, blinking) and Σ
//!   weight × excess (dark current: hot), each against the median of its
//!   ring and in units of the ring's spread (or the channel's, when larger).
//!   A frame too short to show dark current has weight 0 and counts neither
//!   for nor against a hot pixel. What one view could add (its frames times
//!   the subpixel's largest excess in any one frame) is set aside first, so
//!   that a glint in one frame, or a static scene detail in a burst, is not
//!   a defect: a defect is what several views show.
//! - stillness: a subpixel pinned at one value while its neighbours vary
//!   (stuck), from the 8-bit means and variances; on alike frames measured
//!   against what a scene point would do under the exposure changes alone.
//! - shape, on alike frames only: a defect's excess sits on one photosite
//!   (or a pair, a 2x2 cluster), a scene detail's is spread by the lens over
//!   its neighbours on every side. Bright side only: a dead photosite on
//!   alike frames is a dark scene dot to every measure but stillness.

use super::context::Context;
use super::planes::Planes;
use crate::evidence::{median8, Layout, MinMax};
use crate::stats::Stats;

/// Standard deviation (8-bit levels) added under a division by σ: JPEG
/// noise alone moves a subpixel by 1-3 levels.
pub const NOISE_FLOOR: f32 = 2.0;

/// Spread of one frame's excess below which a spread says nothing (linear
/// levels): quantisation of 8-bit values in dark areas.
const EXCESS_FLOOR: f32 = 1.5;

/// 1.4826 × MAD estimates a normal σ.
const MAD_TO_SIGMA: f32 = 1.4826;

/// What the detector reads of one subpixel, and its score.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Features {
    /// Mean 8-bit value, and the ring median of the means.
    pub mean: f32,
    pub reference: f32,
    /// Standard deviation over the frames, and the ring's typical one.
    pub sd: f32,
    pub ring_sd: f32,
    /// Σ excess and Σ weight × excess above their ring medians.
    pub excess: f32,
    pub dark: f32,
    /// Consistency of each, after the burst allowance (signed z-scores).
    pub z_excess: f32,
    pub z_dark: f32,
    /// How much less it moves than its neighbours (0..1).
    pub stillness: f32,
    pub score: f32,
}

/// Scores subpixels of one band of rows.
pub(super) struct Scorer<'a> {
    pub stats: &'a Stats,
    pub ctx: &'a Context,
    /// Per channel: the typical spread of Σ excess and Σ weight × excess
    /// over the frame, a floor under the local spreads.
    pub spread: [Vec<f32>; 2],
}

/// A band's planes and the per-row ring medians of each.
pub(super) struct Band {
    pub planes: Planes,
    rows: RowRefs,
}

/// Ring medians of one row: mean, variance, excess, dark. Those the bound
/// reads are of row `y`, the others of row `rest_y`.
struct RowRefs {
    y: usize,
    rest_y: usize,
    mean: Vec<f32>,
    var: Vec<f32>,
    excess: Vec<f32>,
    dark: Vec<f32>,
    trimmed_excess: Vec<f32>,
    trimmed_dark: Vec<f32>,
}

impl Band {
    pub fn new(stats: &Stats, ctx: &Context, rows: std::ops::Range<usize>) -> Band {
        let planes = Planes::around(stats, ctx, rows);
        let stride = planes.frame.stride();
        Band {
            planes,
            rows: RowRefs {
                y: usize::MAX,
                rest_y: usize::MAX,
                mean: vec![0.0; stride],
                var: vec![0.0; stride],
                excess: vec![0.0; stride],
                dark: vec![0.0; stride],
                trimmed_excess: vec![0.0; stride],
                trimmed_dark: vec![0.0; stride],
            },
        }
    }

    /// Computes the ring medians of frame row `y`: all of them, for
    /// [`Scorer::features`].
    pub fn load_row(&mut self, y: usize, ctx: &Context) {
        self.load_bound_row(y, ctx);
        if self.rows.rest_y == y {
            return;
        }
        let p = &self.planes;
        p.ring_row(&p.var, y, &mut self.rows.var);
        p.ring_row(&p.dark, y, &mut self.rows.dark);
        if ctx.alike == 0.0 {
            p.ring_row(&p.excess, y, &mut self.rows.excess);
        }
        self.rows.rest_y = y;
    }

    /// Computes the ring medians of frame row `y` that [`Scorer::bound`]
    /// reads: half of them. Most rows have no subpixel whose bound reaches
    /// the threshold, and need no more.
    pub fn load_bound_row(&mut self, y: usize, ctx: &Context) {
        if self.rows.y == y {
            return;
        }
        let p = &self.planes;
        p.ring_row(&p.mean, y, &mut self.rows.mean);
        p.ring_row(&p.trimmed_excess, y, &mut self.rows.trimmed_excess);
        p.ring_row(&p.trimmed_dark, y, &mut self.rows.trimmed_dark);
        if ctx.alike != 0.0 {
            p.ring_row(&p.excess, y, &mut self.rows.excess);
        }
        self.rows.y = y;
    }
}

impl Scorer<'_> {
    /// A quick upper bound of the score of subpixel `xc` of the loaded row
    /// `y`: the local spreads can only raise the divisors above the
    /// channel's, and every other factor is at most 1.
    #[inline(always)]
    pub fn bound(&self, band: &Band, y: usize, xc: usize) -> f32 {
        let p = &band.planes;
        let r = &band.rows;
        let i = p.at(y, xc);
        let c = xc % p.frame.channels;
        let z0 = (p.trimmed_excess[i] - r.trimmed_excess[xc]).abs() / self.spread[0][c];
        let z1 = (p.trimmed_dark[i] - r.trimmed_dark[xc]) / self.spread[1][c];
        // (The shape evidence divides the raw excess by at least the same
        // spread, and counts only on alike frames.)
        let shape = self.ctx.alike * (p.excess[i] - r.excess[xc]).max(0.0) / self.spread[0][c];
        let d8 = (p.mean[i] - r.mean[xc]).abs();
        let still = d8 / (p.var[i].max(0.0).sqrt() + NOISE_FLOOR) * (d8 / 24.0).min(1.0);
        z0.max(z1).max(still).max(shape)
    }

    /// The features and score of subpixel `xc` of the loaded row `y`.
    pub fn features(&self, band: &Band, y: usize, xc: usize) -> Features {
        let p = &band.planes;
        let r = &band.rows;
        let layout = p.local;
        let i = p.at(y, xc);
        let c = xc % layout.channels;

        let mean = p.mean[i];
        let reference = r.mean[xc];
        let sd = p.var[i].max(0.0).sqrt();
        let ring_sd = r.var[xc].max(0.0).sqrt();
        let d8 = mean - reference;

        let excess = p.excess[i] - r.excess[xc];
        let dark = p.dark[i] - r.dark[xc];
        // The noise is the sums' own spread; the signal what is left once one
        // view's worth is set aside.
        let s0 = local_spread(&p.excess, layout, i).max(self.spread[0][c]);
        let s1 = local_spread(&p.dark, layout, i).max(self.spread[1][c]);
        let z_excess = (p.trimmed_excess[i] - r.trimmed_excess[xc]) / s0;
        let z_dark = (p.trimmed_dark[i] - r.trimmed_dark[xc]).max(0.0) / s1;
        let consistency = z_excess.abs().max(z_dark);

        // Stuck: pinned while the neighbours move. On alike frames a scene
        // point's σ is the ring's scaled by its brightness (exposure changes
        // scale both), so the comparison is against that.
        let plain = 1.0 - (sd + NOISE_FLOOR) / (ring_sd + NOISE_FLOOR);
        let scene_sd = ring_sd * (mean + 1.0) / (reference + 1.0);
        let for_scene = 1.0 - (sd + NOISE_FLOOR) / (scene_sd + NOISE_FLOOR);
        let alike = self.ctx.alike;
        let stillness = (plain.max(0.0) * (1.0 - alike) + for_scene.max(0.0) * alike).max(0.0);
        // How far it is pinned from its neighbourhood, in units of its own
        // σ: a pinned photosite moves by noise only. Counted once it moves
        // less than half as much as a scene point there would.
        let level = d8.abs() / (sd + NOISE_FLOOR);
        let pinned = ((stillness - 0.5) * 2.0).clamp(0.0, 1.0);
        // At least a few levels from the neighbourhood: two frames with the
        // same value are a coincidence, not a photosite.
        let magnitude = (d8.abs() / 24.0).min(1.0);
        let stuck = level * pinned * magnitude;

        // On alike frames consistency proves nothing; a defect's excess is
        // still its own photosite's, a scene detail's is shared.
        let shape = if alike > 0.0 {
            let sharp = sharpness(&p.excess, layout, i, r.excess[xc], excess);
            let factor = ((sharp - SHARP_FROM) / (SHARP_FULL - SHARP_FROM)).clamp(0.0, 1.0);
            alike * excess.max(0.0) / s0 * factor
        } else {
            0.0
        };
        Features {
            mean,
            reference,
            sd,
            ring_sd,
            excess,
            dark,
            z_excess,
            z_dark,
            stillness: plain.max(0.0),
            score: consistency.max(stuck).max(shape),
        }
    }
}

/// Distance of the ring the local spread is measured on: outside what one
/// defect spreads over (demosaicing ±2, sharpening and chroma noise
/// reduction ±2 more), so that a strong defect does not widen its own.
const SPREAD_RING: usize = super::planes::MARGIN;

/// The spread of a plane's values near subpixel `i`: MAD × 1.4826 of the
/// members of the ring at [`SPREAD_RING`] around their own median (not the
/// reference ring's: a strong defect shifts that ring's values, its echo),
/// at least a floor. Fewer than 5 members (a corner) say nothing reliable:
/// the floor then, under which the channel's spread stands anyway.
fn local_spread(plane: &[f32], layout: Layout, i: usize) -> f32 {
    let mut members = [0f32; 8];
    let n = layout.ring_members(plane, i, SPREAD_RING, &mut members);
    if n < 5 {
        return EXCESS_FLOOR;
    }
    let mad = if n == 8 {
        let center = median8(members);
        median8(members.map(|m| (m - center).abs()))
    } else {
        let mut m: Vec<f32> = members[..n].to_vec();
        let center = crate::evidence::median_of(&mut m);
        let mut d: Vec<f32> = m.iter().map(|v| (v - center).abs()).collect();
        crate::evidence::median_of(&mut d)
    };
    (mad * MAD_TO_SIGMA).max(EXCESS_FLOOR)
}

/// How much of a bright `excess` (above the ring median `center`) is the
/// photosite's own: 1 − the largest excess of its immediate same-channel
/// neighbours / `excess`, in [0, 1]. One bad photosite keeps its excess to
/// itself (demosaicing and sharpening leave its neighbours a third of it or
/// less); a scene glint, spread by the lens, lifts its neighbours by 40% or
/// more. (A pair or a 2x2 cluster lifts its partners too, and on alike
/// frames cannot be told from a glint by shape.) At an edge, the neighbours
/// that exist.
fn sharpness(plane: &[f32], layout: Layout, i: usize, center: f32, excess: f32) -> f32 {
    if excess <= 0.0 {
        return 0.0;
    }
    let stride = layout.stride();
    let (y, x) = (
        (i / stride) as isize,
        (i % stride / layout.channels) as isize,
    );
    let at = |dx: isize, dy: isize| -> Option<f32> {
        let (nx, ny) = (x + dx, y + dy);
        if nx < 0 || ny < 0 || nx >= layout.width as isize || ny >= layout.height as isize {
            return None;
        }
        let j = i as isize + dy * stride as isize + dx * layout.channels as isize;
        Some((plane[j as usize] - center).max(0.0))
    };
    let best = [
        (-1isize, -1isize),
        (0, -1),
        (1, -1),
        (-1, 0),
        (1, 0),
        (-1, 1),
        (0, 1),
        (1, 1),
    ]
    .iter()
    .filter_map(|&(dx, dy)| at(dx, dy))
    .fold(0f32, f32::max);
    (1.0 - best / excess).clamp(0.0, 1.0)
}

/// Sharpness from which the shape is a defect's, and at which it fully is.
const SHARP_FROM: f32 = 0.6;
const SHARP_FULL: f32 = 0.8;

/// Rows the channel spreads are sampled from, in blocks over the frame.
const SPREAD_SAMPLE_ROWS: usize = 256;

/// The typical spread, per channel, of Σ excess and Σ weight × excess around
/// their ring medians over the frame: the median absolute deviation × 1.4826
/// over a deterministic sample of rows.
pub(super) fn channel_spreads(stats: &Stats, ctx: &Context) -> [Vec<f32>; 2] {
    use rayon::prelude::*;
    let layout = stats.layout();
    let channels = layout.channels;
    let devs: Vec<[Vec<Vec<f32>>; 2]> = super::sample_blocks(layout.height, SPREAD_SAMPLE_ROWS)
        .into_par_iter()
        .map(|rows| {
            let mut band = Band::new(stats, ctx, rows.clone());
            let stride = layout.stride();
            let mut out = [vec![Vec::new(); channels], vec![Vec::new(); channels]];
            for y in rows {
                band.load_row(y, ctx);
                let (p, r) = (&band.planes, &band.rows);
                for xc in 0..stride {
                    let i = p.at(y, xc);
                    let c = xc % channels;
                    out[0][c].push((p.excess[i] - r.excess[xc]).abs());
                    out[1][c].push((p.dark[i] - r.dark[xc]).abs());
                }
            }
            out
        })
        .collect();
    let spread = |k: usize, c: usize| {
        let mut all: Vec<f32> = devs.iter().flat_map(|d| d[k][c].iter().copied()).collect();
        if all.is_empty() {
            return EXCESS_FLOOR;
        }
        let mid = all.len() / 2;
        let m = *all.select_nth_unstable_by(mid, f32::total_cmp).1;
        (m * MAD_TO_SIGMA).max(EXCESS_FLOOR)
    };
    [
        (0..channels).map(|c| spread(0, c)).collect(),
        (0..channels).map(|c| spread(1, c)).collect(),
    ]
}

// The ring medians of the f32 planes use the same network as the bytes.
const _: fn(f32, f32) -> f32 = <f32 as MinMax>::mid;
