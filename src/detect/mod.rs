//! From the statistics to a list of defects: a score per subpixel (see
//! [`score`]), a threshold that adapts to the series, and flagged subpixels
//! grouped into defects, each with its photosites, its kind and the fitted
//! offset and dark-current rate (see [`group`]).
//!
//! Detection works a band of rows at a time, in parallel, from the exact
//! sums: nothing full-size is allocated beyond the statistics themselves.

mod context;
mod counts;
mod crowd;
mod group;
mod motion;
mod planes;
mod score;
mod shape;
mod spread;
mod support;

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

pub use context::{rate_per_second, Context, Exposures};
pub use counts::fewest_sure_views;
pub use motion::judge_still;
pub use score::{scene_moved, Features};
pub use support::Strength;

use crate::rank::Channel;
use crate::stats::Stats;
use score::{Band, Scorer};

use crate::evidence::Layout;
use crate::params::OUTSHINE_TIMES;
/// The automatic threshold is this many times the [`AUTO_TAIL_QUANTILE`]
/// of the scores of a sample of subpixels, and never below [`MIN_THRESHOLD`].
/// The scores are z-scores against each neighbourhood's spread, so on a
/// clean series the tail is that of noise and scene details; a weak series
/// (few frames, alike frames) has a heavier one. The 99.5th percentile, not
/// a higher one: the defects themselves are a share of the last 0.1% on a
/// sensor that has many, and would raise the threshold against themselves
/// (on the generated series, whose defects are dense, the 99.9th percentile
/// set it at 11 to 17 where 8 to 9 found more and flagged nothing else).
/// On a defect-free generated series the 99.5th percentile is about 2, so
/// the floor decides there; the factor raises the threshold where the tail
/// is heavier than that (few or alike frames, a busy scene).
pub use crate::params::{AUTO_TAIL_FACTOR, AUTO_TAIL_QUANTILE, MIN_THRESHOLD};
use crate::similarity::{TileGrid, TILE};
use crowd::Crowd;

/// Rows scored by one task.
const BAND_ROWS: usize = 32;

/// What kind of defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Pinned near one value while its neighbours vary.
    Stuck,
    /// Brighter by dark current: its excess grows with exposure time × gain.
    Hot,
    /// Brighter by a constant offset.
    Warm,
    /// Darker than its neighbours (reads low or nothing).
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

/// What carried a defect over the threshold, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FoundBy {
    /// Its frames: it showed in most of those that could show it, over
    /// different views of the scene, more often than its neighbourhood
    /// shows anything by chance.
    Frames,
    /// Its stillness: pinned at one value while the scene around it moved
    /// or scaled with the exposures.
    Stillness,
    /// Its shape alone: its excess sits on one photosite, where the frames
    /// show one view of the scene or mostly one (a static foreground, a
    /// burst, a tripod moved now and then), so that they cannot show it
    /// coming back where the scene changed. A small sharp light of that
    /// scene looks the same. The weakest claim, and what a subpixel never
    /// scored says.
    #[default]
    Shape,
}

impl FoundBy {
    pub fn name(self) -> &'static str {
        match self {
            FoundBy::Frames => "frames",
            FoundBy::Stillness => "stillness",
            FoundBy::Shape => "shape",
        }
    }
}

/// One photosite of a defect: a pixel and the channel it shows in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Photosite {
    pub x: u32,
    pub y: u32,
    pub channel: Channel,
}

/// One defect: a group of neighbouring flagged subpixels (one photosite, a
/// pair, a cluster), described at its peak photosite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Defect {
    /// Column of the peak photosite.
    pub x: u32,
    /// Row of the peak photosite.
    pub y: u32,
    /// What kind of defect.
    pub kind: Kind,
    /// Channel of the peak.
    pub channel: Channel,
    /// Every channel with a flagged subpixel in the group.
    pub channels: Vec<Channel>,
    /// The defect's photosites, peak first: one for a single bad photosite,
    /// two for a pair, up to four for a 2x2 cluster.
    pub photosites: Vec<Photosite>,
    /// Flagged pixels in the group (photosites and what demosaicing spread
    /// them over).
    pub pixels: u32,
    /// The peak's score (compare with the report's threshold).
    pub score: f32,
    /// The peak's mean 8-bit value over the frames.
    pub mean: f32,
    /// The neighbourhood reference: median of the same channel's means at distance 2.
    pub reference: f32,
    /// The peak's sample variance over the frames.
    pub variance: f32,
    /// Fitted constant excess over the neighbourhood, in linear levels
    /// (255 = full scale): what a warm or stuck photosite adds.
    pub offset: f32,
    /// Fitted dark current, in linear levels a second at ISO 100: what a hot
    /// photosite adds per second of exposure at base gain. `None` when the
    /// frames' exposures cannot tell it from an offset.
    pub dark_rate: Option<f32>,
    /// Frames in which the peak photosite was seen standing out its kind's
    /// way (brighter; darker for a dead one; either way for a stuck one;
    /// brighter in the long or high-ISO frames for a hot one) ...
    pub seen: u32,
    /// ... out of the frames that could show it (whose surroundings did not
    /// clip; for a hot one, the frames long or high-ISO enough).
    pub could_show: u32,
    /// How many different views of the scene the frames show where it is
    /// (to 0.1): the frames' number where every frame shows its own, fewer
    /// where some pairs of frames show one view (no more than 1 / the share
    /// of such pairs), 1 from half of them (a tripod's static foreground, a
    /// burst).
    pub views: f32,
    /// What carried it over the threshold.
    pub found_by: FoundBy,
}

/// The result of detection.
#[derive(Debug, Clone)]
pub struct Detection {
    pub threshold: f64,
    pub defects: Vec<Defect>,
    /// The top-left pixels of the 64x64 tiles crowded with points standing
    /// out in every frame, judged again as one view (see [`detect`]).
    pub crowded_tiles: Vec<[u32; 2]>,
}

/// Finds the defects: subpixels scoring above `threshold` (automatic when
/// `None`), grouped, strongest first (ties by position), so the list is the
/// same for any number of workers. Tiles crowded with defects after this
/// first pass are judged again as one view (see [`crowd`]).
pub fn detect(stats: &Stats, ctx: &Context, threshold: Option<f64>) -> Detection {
    let mut scorer = Scorer::new(stats, ctx, SAMPLE_GATE_FROM);
    let threshold = threshold.unwrap_or_else(|| auto_threshold(&scorer));
    scorer.gate_from = threshold as f32;
    let (first, vetoed): (HashMap<usize, Features>, HashMap<usize, Features>) =
        flagged(&scorer, threshold, None)
            .into_iter()
            .partition(|(_, f)| !f.vetoed);
    let groups = group::groups(stats.layout(), &first);
    let defects = group::describe_all(&scorer, &first, groups.clone());
    let grid = ctx.tiles.grid;
    let scene = crowd::scene_points(stats.layout(), &vetoed, &defects);
    let crowd = Crowd::of(grid, &defects, &scene);
    let mut crowded = crowd.crowded();
    if !crowded.contains(&true) {
        let mut defects = defects;
        defects.retain(|d| {
            !outshone(d, &[&first], &vetoed, stats.layout()) && !sharpening_fringe(d, stats)
        });
        return Detection {
            threshold,
            defects,
            crowded_tiles: Vec::new(),
        };
    }
    let still = ctx.with_one_view(&origins(grid, &crowded));
    let mut second = flagged(&scorer.judging(&still), threshold, Some(&crowded));
    let mut vetoed = vetoed;
    vetoed.extend(
        second
            .iter()
            .filter(|(_, f)| f.vetoed)
            .map(|(&i, f)| (i, *f)),
    );
    second.retain(|_, f| !f.vetoed);
    let tile = |i: usize| tile_of_subpixel(grid, stats.layout(), i);
    // A group is judged where its peak is: a crowded tile's groups by the
    // second pass over the crowded tiles, the others by the first pass,
    // whole (a star astride a tile's edge is one group).
    let merged = |crowded: &[bool]| {
        let mut flags: HashMap<usize, Features> = second
            .iter()
            .filter(|&(&i, _)| crowded[tile(i)])
            .map(|(&i, f)| (i, *f))
            .collect();
        let ch = stats.layout().channels;
        for (members, _) in groups.iter().filter(|(_, peak)| !crowded[tile(*peak)]) {
            for i in members.iter().flat_map(|&p| p * ch..(p + 1) * ch) {
                if let Some(f) = first.get(&i) {
                    flags.insert(i, *f);
                }
            }
        }
        // Described as judged: a crowded tile as one view.
        let judged_ctx = ctx.with_one_view(&origins(grid, crowded));
        group::defects(&scorer.judging(&judged_ctx), &flags)
    };
    let mut judged = merged(&crowded);
    let refuted = crowd.refuted(&defects, &judged, &crowded);
    if refuted.contains(&true) {
        for (c, r) in crowded.iter_mut().zip(&refuted) {
            *c &= !r;
        }
        judged = merged(&crowded);
    }
    judged.retain(|d| {
        !outshone(d, &[&second, &first], &vetoed, stats.layout()) && !sharpening_fringe(d, stats)
    });
    Detection {
        threshold,
        defects: judged,
        crowded_tiles: origins(grid, &crowded),
    }
}

/// Whether a subpixel of the scene (vetoed by its shape or as passing
/// light) within a pixel of defect `d`'s peak, in any channel, stands out
/// [`OUTSHINE_TIMES`] as far as the peak does (their magnitudes; the peak's
/// features from the first of `judged` that holds them): the group is that
/// scene point's weaker spread into other channels and pixels (a star's
/// weaker channel), not a photosite's.
fn outshone(
    d: &Defect,
    judged: &[&HashMap<usize, Features>],
    vetoed: &HashMap<usize, Features>,
    layout: Layout,
) -> bool {
    let (x, y, ch) = (d.x as usize, d.y as usize, layout.channels);
    let peak = (y * layout.width + x) * ch + d.channel.index();
    let own = judged
        .iter()
        .find_map(|m| m.get(&peak))
        .map_or(d.score, |f| f.magnitude);
    let ys = y.saturating_sub(1)..=(y + 1).min(layout.height - 1);
    let xs = x.saturating_sub(1)..=(x + 1).min(layout.width - 1);
    ys.flat_map(|yy| xs.clone().map(move |xx| yy * layout.width + xx))
        .flat_map(|p| p * ch..(p + 1) * ch)
        .filter_map(|i| vetoed.get(&i))
        .any(|f| f.magnitude > OUTSHINE_TIMES * own)
}

/// Whether `d` is darker than its surroundings beside light clipped white
/// 2 pixels from its peak: that light's sharpening fringe (see
/// [`shape::beside_clipped`]), not a photosite. Judged on the reports,
/// after grouping and the crowd, which it leaves as they were: the fringe
/// still joins a group beside it.
fn sharpening_fringe(d: &Defect, stats: &Stats) -> bool {
    if d.mean >= d.reference {
        return false;
    }
    let layout = stats.layout();
    let (x, y) = (d.x as usize, d.y as usize);
    let rows = y.saturating_sub(2)..(y + 3).min(layout.height);
    let local = Layout {
        height: rows.len(),
        ..layout
    };
    let stride = layout.stride();
    let mut mean = vec![0f32; local.len()];
    for (k, row) in rows.clone().enumerate() {
        stats.mean_row(row, &mut mean[k * stride..(k + 1) * stride]);
    }
    let i = ((y - rows.start) * layout.width + x) * layout.channels + d.channel.index();
    shape::beside_clipped(&mean, local, i)
}

/// The tile of flat subpixel index `i`.
fn tile_of_subpixel(grid: TileGrid, layout: Layout, i: usize) -> usize {
    let stride = layout.stride();
    grid.tile_of(i % stride / layout.channels, i / stride)
}

/// The top-left pixels of the tiles `marked`.
fn origins(grid: TileGrid, marked: &[bool]) -> Vec<[u32; 2]> {
    (0..marked.len())
        .filter(|&t| marked[t])
        .map(|t| grid.origin(t))
        .map(|(x, y)| [x as u32, y as u32])
        .collect()
}

/// Bands of rows covering the frame.
fn bands(height: usize) -> impl ParallelIterator<Item = std::ops::Range<usize>> {
    (0..height.div_ceil(BAND_ROWS))
        .into_par_iter()
        .map(move |b| b * BAND_ROWS..((b + 1) * BAND_ROWS).min(height))
}

/// Subpixels scoring above `threshold`, and those whose shape vetoed such a
/// score ([`Features::vetoed`]), by flat index, with their features: of the
/// whole frame, or only of the tiles `within` marks.
fn flagged(scorer: &Scorer, threshold: f64, within: Option<&[bool]>) -> HashMap<usize, Features> {
    let layout = scorer.stats.layout();
    let stride = layout.stride();
    let t = threshold as f32;
    let grid = scorer.ctx.tiles.grid;
    let inside = |x: usize, y: usize| within.is_none_or(|w| w[grid.tile_of(x, y)]);
    // A band is read only when a tile it crosses is asked for.
    let asked = |rows: &std::ops::Range<usize>| {
        within.is_none()
            || rows
                .clone()
                .step_by(TILE)
                .chain(rows.end.checked_sub(1))
                .any(|y| (0..layout.width).step_by(TILE).any(|x| inside(x, y)))
    };
    bands(layout.height)
        .filter(|rows| asked(rows))
        .map(|rows| {
            let mut band = Band::new(scorer.stats, rows.clone());
            let mut hits = Vec::new();
            for y in rows {
                band.load_bound_row(y);
                for xc in 0..stride {
                    if !inside(xc / layout.channels, y) {
                        continue;
                    }
                    // (With a margin for the rounding of a product.)
                    if scorer.bound(&band, y, xc) * (1.0 + 1e-5) <= t {
                        continue;
                    }
                    band.load_row(y);
                    let f = scorer.features(&band, y, xc);
                    if f.score > t || f.vetoed {
                        hits.push((y * stride + xc, f));
                    }
                }
            }
            hits
        })
        .flatten_iter()
        .collect()
}

/// Rows to sample, about `rows` of them spread over a frame `height` rows
/// high, in blocks of [`SAMPLE_BLOCK`] consecutive rows: a band costs its
/// rows and its margins, so one block is far cheaper than as many single
/// rows.
pub(super) fn sample_blocks(height: usize, rows: usize) -> Vec<std::ops::Range<usize>> {
    let blocks = rows.div_ceil(SAMPLE_BLOCK).max(1);
    if blocks * SAMPLE_BLOCK >= height {
        return std::iter::once(0..height).collect();
    }
    // Each block in the middle of its share of the frame, which is more
    // than a block high: they never overlap.
    let share = height as f64 / blocks as f64;
    (0..blocks)
        .map(|b| {
            let start = ((b as f64 + 0.5) * share) as usize - SAMPLE_BLOCK / 2;
            start..start + SAMPLE_BLOCK
        })
        .collect()
}

/// Share of the threshold from which pictures ask for the frames' support.
const PICTURE_GATE: f64 = 0.5;

/// Magnitude from which the automatic threshold's sample asks for the
/// frames' support: about the 95th percentile of a varied series'
/// magnitudes, so that few of the sample need it.
const SAMPLE_GATE_FROM: f32 = 2.0;

/// Subpixels the automatic threshold samples, at least (and at least 96
/// rows): a small frame is sampled whole, since its defects are a larger
/// share of its tail.
const THRESHOLD_SAMPLE: usize = 2_000_000;

/// Consecutive rows of a sample block.
const SAMPLE_BLOCK: usize = 8;

/// The automatic threshold: [`AUTO_TAIL_FACTOR`] times the 99.5th percentile
/// of the scores of a deterministic sample of rows, at least
/// [`MIN_THRESHOLD`].
fn auto_threshold(scorer: &Scorer) -> f64 {
    let layout = scorer.stats.layout();
    let stride = layout.stride();
    let mut sample: Vec<f32> =
        sample_blocks(layout.height, THRESHOLD_SAMPLE.div_ceil(stride).max(96))
            .into_par_iter()
            .flat_map_iter(|rows| {
                let mut band = Band::new(scorer.stats, rows.clone());
                let mut scores = Vec::with_capacity(rows.len() * stride);
                for y in rows {
                    band.load_row(y);
                    scores.extend((0..stride).map(|xc| scorer.features(&band, y, xc).score));
                }
                scores
            })
            .collect();
    if sample.is_empty() {
        return MIN_THRESHOLD;
    }
    let k = ((sample.len() - 1) as f64 * AUTO_TAIL_QUANTILE) as usize;
    let tail = f64::from(*sample.select_nth_unstable_by(k, f32::total_cmp).1);
    (AUTO_TAIL_FACTOR * tail).max(MIN_THRESHOLD)
}

/// The scores [`detect`] gives, for pictures: row by row, any rows, from any
/// thread.
pub struct Scores<'a> {
    scorer: Scorer<'a>,
}

impl<'a> Scores<'a> {
    /// The scores [`detect`] gives with `threshold`, for pictures: the
    /// frames' support is asked from half the threshold, so that a scene
    /// point just under the threshold that the frames do not support shows
    /// as faint as the frames make it, not as near a defect as its
    /// magnitude. Above the threshold they are [`detect`]'s scores.
    pub fn new(stats: &'a Stats, ctx: &'a Context, threshold: f64) -> Self {
        Scores {
            scorer: Scorer::new(stats, ctx, (threshold * PICTURE_GATE) as f32),
        }
    }

    /// The scores of every subpixel of `rows` (clipped to the frame), handed
    /// to `each` row by row as (row, scores of the row).
    pub fn rows(&self, rows: std::ops::Range<usize>, mut each: impl FnMut(usize, &[f32])) {
        let layout = self.scorer.stats.layout();
        let rows = rows.start..rows.end.min(layout.height);
        if rows.is_empty() {
            return;
        }
        let mut out = vec![0f32; layout.stride()];
        let mut band = Band::new(self.scorer.stats, rows.clone());
        for y in rows {
            band.load_row(y);
            for (xc, o) in out.iter_mut().enumerate() {
                *o = self.scorer.features(&band, y, xc).score;
            }
            each(y, &out);
        }
    }
}

/// The features [`detect`] reads of subpixel (`x`, `y`, channel `c`) with
/// `threshold`, scored as [`Scores`] scores it.
pub fn features_at(
    stats: &Stats,
    ctx: &Context,
    threshold: f64,
    (x, y, c): (usize, usize, usize),
) -> Features {
    let scorer = Scorer::new(stats, ctx, (threshold * PICTURE_GATE) as f32);
    let mut band = Band::new(stats, y..y + 1);
    band.load_row(y);
    scorer.features(&band, y, x * stats.layout().channels + c)
}

#[cfg(test)]
mod tests;
