//! The defect score of a subpixel, from its statistics, its neighbourhood's
//! and the series' context. Two questions, answered apart:
//!
//! **How strong** (the magnitude, in units of its own noise, a z-score):
//! - consistency: Σ excess (an offset: warm, stuck, dead) and Σ weight ×
//!   excess (dark current: hot), each against the median of its ring and
//!   in units of the sums' spread nearby (or the channel's, when larger);
//! - stillness: a subpixel pinned at one value while the scene around it
//!   moves (stuck), from the 8-bit means and variances; on alike frames
//!   measured against what a scene point would do under the exposure
//!   changes alone;
//! - shape, on alike frames, and on any frames over a dark reference (where
//!   the linear sums round small rises to nothing): a defect's excess sits
//!   on one photosite (or a pair, a 2x2 cluster), a scene detail's is spread
//!   by the lens over its neighbours on every side.
//!
//! **Whether the frames support it** (see [`super::support`]): a defect shows
//! in most of the frames that could show it, and more often than the scene
//! around it shows anything by chance. A star or a lamp that lit the
//! photosite in 2 frames of 20, or a coincidence of 2 photos, fails this
//! however strong it is. The score is the magnitude, scaled down by how far
//! the frames fall short of supporting it. On alike frames (one view) the
//! frames cannot support anything, so only stillness and shape count;
//! between varied and one view (tiles a fifth to a half alike) they count
//! beside the frame counts, as fully as on one view.

use super::context::{Context, Exposures};
use super::planes::{Planes, MARGIN};
use super::shape::{
    linear_sharpness, lit_beyond_a_square, ring_around, scene_shape, sharp_factor, sharpness,
    sharpness_beside,
};
use super::spread::{channel_spreads, local_spread};
use super::support::{
    held_apart, seen_nearly_always, share_seen, strength_of, support_of, Strength,
};
use crate::evidence::{median_of, Layout, MinMax, Seen};
use crate::params::{
    ALIKE_ONE_VIEW, ALIKE_PARTLY_FROM, DEAD_MEAN, INTERMITTENT_MOVES, INTERMITTENT_MOVES_STEADY,
    JPEG_NOISE_MIN, LINEAR_COARSE_BELOW, NOISE_FLOOR, PINNED_FROM, SATURATED_MEAN,
    SCENE_MOVED_FROM, SCENE_MOVED_FULL, SEEN_SHARE, SEEN_SHARE_INTERMITTENT, SHARP_FULL,
    STRENGTH_MIN, STUCK_FULL_LEVELS,
};
use crate::stats::Stats;

use super::FoundBy;

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
    /// Its frame counts.
    pub seen: Seen,
    /// How sure the frames make it (computed only where the magnitude
    /// reaches the scorer's `gate_from`).
    pub strength: Strength,
    /// How strong, before asking whether the frames support it.
    pub magnitude: f32,
    /// The part of the magnitude a static scene cannot give (stillness,
    /// shape): all that counts on one view.
    pub still: f32,
    /// The stillness part of it: pinned while the scene around it moves.
    pub pinned: f32,
    /// Which way it stands out: +1 brighter, −1 darker.
    pub sign: f32,
    pub score: f32,
    /// What carried its score (see [`super::FoundBy`]).
    pub found_by: FoundBy,
    /// Its frames supported it, but its shape is the scene's (light the
    /// lens spread, part of a larger shape), or it moved as only light
    /// passing over it moves a photosite of an astro series, or it stood
    /// out in nearly every frame of one view of an astro series without
    /// being still or sharp: kept under the threshold, yet a point of the
    /// scene that stood out all the same (see [`super::crowd`]).
    pub vetoed: bool,
}

/// Scores subpixels of one band of rows.
pub(super) struct Scorer<'a> {
    pub stats: &'a Stats,
    pub ctx: &'a Context,
    /// Per channel: the typical spread of Σ excess and Σ weight × excess
    /// over the frame, a floor under the local spreads.
    pub spread: [Vec<f32>; 2],
    /// Magnitude from which the frames' support is asked (below it a
    /// subpixel is never flagged, and its score is its magnitude).
    pub gate_from: f32,
    /// The least noise of an 8-bit mean over a dark reference, every frame a
    /// view of its own: the bound's divisor.
    least_noise: f32,
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
}

impl Band {
    pub fn new(stats: &Stats, rows: std::ops::Range<usize>) -> Band {
        let planes = Planes::around(stats, rows);
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
            },
        }
    }

    /// The ring medians of Σ excess and Σ weight × excess of the loaded row.
    pub fn ring_sums(&self) -> (&[f32], &[f32]) {
        (&self.rows.excess, &self.rows.dark)
    }

    /// Computes the ring medians of frame row `y`: all of them, for
    /// [`Scorer::features`].
    pub fn load_row(&mut self, y: usize) {
        self.load_bound_row(y);
        if self.rows.rest_y == y {
            return;
        }
        let p = &self.planes;
        p.ring_row(&p.var, y, &mut self.rows.var);
        self.rows.rest_y = y;
    }

    /// Computes the ring medians of frame row `y` that [`Scorer::bound`]
    /// reads. Most rows have no subpixel whose bound reaches the
    /// threshold, and need no more.
    pub fn load_bound_row(&mut self, y: usize) {
        if self.rows.y == y {
            return;
        }
        let p = &self.planes;
        p.ring_row(&p.mean, y, &mut self.rows.mean);
        p.ring_row(&p.excess, y, &mut self.rows.excess);
        p.ring_row(&p.dark, y, &mut self.rows.dark);
        self.rows.y = y;
    }
}

impl<'a> Scorer<'a> {
    /// A scorer of `stats` asking for the frames' support from `gate_from`.
    pub fn new(stats: &'a Stats, ctx: &'a Context, gate_from: f32) -> Scorer<'a> {
        Scorer {
            stats,
            ctx,
            spread: channel_spreads(stats, ctx.rms_dark_weight()),
            gate_from,
            least_noise: least_noise(ctx),
        }
    }

    /// This scorer on the series as `ctx` describes it (its channels'
    /// spreads, which do not depend on it, kept).
    pub fn judging<'b>(&self, ctx: &'b Context) -> Scorer<'b>
    where
        'a: 'b,
    {
        Scorer {
            stats: self.stats,
            ctx,
            spread: self.spread.clone(),
            gate_from: self.gate_from,
            least_noise: least_noise(ctx),
        }
    }

    /// A quick upper bound of the score of subpixel `xc` of the loaded row
    /// `y`: the local spreads can only raise the divisors above the
    /// channel's (and the 8-bit shape's above [`JPEG_NOISE_MIN`] over
    /// √frames, as if every frame were a view of its own), the frames'
    /// support only lowers the magnitude, and every other factor (how alike
    /// the frames are, the sharpness) is at most 1.
    #[inline(always)]
    pub fn bound(&self, band: &Band, y: usize, xc: usize) -> f32 {
        let p = &band.planes;
        let r = &band.rows;
        let i = p.at(y, xc);
        let c = xc % p.frame.channels;
        let z0 = (p.excess[i] - r.excess[xc]).abs() / self.spread[0][c];
        let z1 = (p.dark[i] - r.dark[xc]).max(0.0) / self.spread[1][c];
        let rise = p.mean[i] - r.mean[xc];
        let d8 = rise.abs();
        let sd = p.var[i].max(0.0).sqrt();
        let still = d8 / (sd + NOISE_FLOOR) * (d8 / STUCK_FULL_LEVELS).min(1.0);
        // The shape in 8-bit levels over a dark reference (see `features`).
        let shape8 = if r.mean[xc] < LINEAR_COARSE_BELOW {
            rise.max(0.0) / self.least_noise
        } else {
            0.0
        };
        z0.max(z1).max(still).max(shape8)
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
        let s0 = local_spread(&p.excess, layout, i)
            .unwrap_or(0.0)
            .max(self.spread[0][c]);
        let s1 = local_spread(&p.dark, layout, i)
            .unwrap_or(0.0)
            .max(self.spread[1][c]);
        let z_excess = excess / s0;
        let z_dark = dark.max(0.0) / s1;
        let consistency = z_excess.abs().max(z_dark);

        let (per_view, alike) = self.ctx.view_at(xc / layout.channels, y);
        let noise = SceneNoise::of(self.ctx.exposures, &p.mean, layout, i, reference);
        let stuck = stuck(mean, reference, sd, ring_sd, alike, noise);
        // The shape: a defect's excess is its own photosite's, a scene
        // detail's is shared. It counts on alike frames, where consistency
        // proves nothing, and on any frames over a dark reference, where
        // the linear sums are blind.
        let shape = if reference < LINEAR_COARSE_BELOW {
            // Over a dark reference the linear excess is too coarse: a small
            // rise and its neighbours' share of it both round to 0 (a dark
            // foreground, a dark sky). The rise in 8-bit levels, and how much
            // of it the neighbours share in linear light, read from the
            // means. On varied frames the frame counts must still support it.
            // The noise of a mean there: what its neighbours differ by, and
            // at least what they move by a frame (JPEG noise repeats on a
            // still scene), down to the least JPEG leaves over black; over
            // independent views that noise averages down as 1/√views.
            let frame_noise = ring_sd.clamp(JPEG_NOISE_MIN, NOISE_FLOOR);
            let least = mean_noise(self.ctx, frame_noise, (per_view, alike));
            let s8 = local_spread(&p.mean, layout, i).map_or(NOISE_FLOOR, |s| s.max(least));
            // On frames of different scenes the counts show whether the
            // point stays where the scene moves; its shape need only be a
            // defect group's, which may light one neighbour as much as
            // itself (a pair). On a still view a pair of lights could be
            // the scene's, and the shape must be one photosite's.
            let partners = usize::from(alike < ALIKE_PARTLY_FROM);
            let sharp8 = sharpness_beside(&p.mean, layout, i, reference, d8, partners);
            d8.max(0.0) / s8 * sharp_factor(linear_sharpness(reference, d8, sharp8))
        } else if alike <= 0.0 {
            0.0
        } else {
            // The sums clamp each frame's excess (a saturated point counts
            // half of full scale): a bright photosite's clamped sum is no
            // higher than its neighbours' share of it. The means are not
            // clamped.
            let sharp8 = sharpness(&p.mean, layout, i, reference, d8);
            let sharp = sharpness(&p.excess, layout, i, r.excess[xc], excess)
                .max(linear_sharpness(reference, d8, sharp8));
            alike * excess.max(0.0) / s0 * sharp_factor(sharp)
        };
        // On one view only what a static scene cannot give counts.
        let magnitude = if alike >= ALIKE_ONE_VIEW {
            stuck.max(shape)
        } else {
            consistency.max(stuck).max(shape)
        };
        // Which way: that of the evidence that dominates.
        let sign = if stuck >= consistency {
            d8.signum()
        } else if z_excess.abs() >= z_dark {
            z_excess.signum()
        } else {
            1.0
        };
        let mut f = Features {
            mean,
            reference,
            sd,
            ring_sd,
            excess,
            dark,
            seen: p.seen[i],
            strength: Strength::default(),
            magnitude,
            still: stuck.max(shape),
            pinned: stuck,
            sign,
            score: magnitude,
            found_by: FoundBy::default(),
            vetoed: false,
        };
        // On one view of an astro series (one exposure × gain), a point that
        // stands out of its ring in nearly every frame as far as a defect
        // would is a still point of the scene (a tracked sky's star, a
        // lamp): not a defect, but it counts in the crowd beside the tiles
        // where the scene moves (see `super::crowd`).
        if self.ctx.exposures == Exposures::One
            && alike >= ALIKE_ONE_VIEW
            && magnitude < self.gate_from
            && consistency >= self.gate_from
        {
            f.vetoed = seen_nearly_always(f.seen, sign);
        }
        if magnitude >= self.gate_from {
            f.score = self.supported(&mut f, p, i, (per_view, alike));
            let scene = scene_shape(&p.mean, layout, i, reference, f.sign);
            if scene {
                f.vetoed |= f.score > self.gate_from;
                f.score = f.score.min(self.gate_from * 0.99);
            }
        }
        f
    }

    /// The score of `f` (subpixel `i` of the band), its magnitude where the
    /// frames support it (see the module docs); else under the threshold,
    /// in proportion to how far the frames fall short (what the map shows).
    fn supported(
        &self,
        f: &mut Features,
        p: &Planes,
        i: usize,
        (per_view, alike): (f64, f32),
    ) -> f32 {
        let s = &f.seen;
        let seen_share = |seen: u32, could: u32| f64::from(seen) / f64::from(could.max(1));
        // On one view its frames cannot make anything sure, but a defect
        // still shows in most of the frames that could show it.
        // Where the scene moved around it, its means and σ may prove that
        // it stood apart in every frame: a strong defect's own ringing and
        // sharpening halo, 2 pixels out, can widen its ring's spread and so
        // the threshold of its sightings. On one view they prove nothing a
        // lamp does not show as well.
        let held = if alike < ALIKE_ONE_VIEW {
            held_apart(self.ctx.frames, f)
        } else {
            None
        };
        let share = share_seen(*s, f.sign)
            .max(seen_share(
                s.bright + s.dark,
                s.could_bright.max(s.could_dark),
            ))
            .max(if held.is_some() { 1.0 } else { 0.0 });
        let (one_view, one_view_by) = self.one_view(f, share);
        if alike >= ALIKE_ONE_VIEW {
            f.found_by = one_view_by;
            return one_view;
        }
        // A subpixel moving much more than its neighbours is bright in some
        // frames only: a star or a lamp passing, or dark current in the long
        // frames. Either way it must show in nearly every frame that could
        // show it. Its neighbours are the ring 2 pixels out, or the one at
        // MARGIN where that moves less: a star lights its ring at 2 as it
        // passes, so that ring moves with it, while the scene around it
        // does not.
        let far_sd = ring_around(&p.var, p.local, i, MARGIN)
            .map(|(mut m, n)| median_of(&mut m[..n]).max(0.0).sqrt())
            .unwrap_or(f.ring_sd);
        let moves = (f.sd + NOISE_FLOOR) / (f.ring_sd.min(far_sd) + NOISE_FLOOR);
        // Where every frame has one exposure × gain (an astro series), dark
        // current is as steady as an offset: every kind of defect moves by
        // noise alone, as its neighbours do.
        let intermittent = if self.ctx.separates_dark() {
            INTERMITTENT_MOVES
        } else {
            INTERMITTENT_MOVES_STEADY
        };
        let share = if moves >= intermittent {
            SEEN_SHARE_INTERMITTENT
        } else {
            SEEN_SHARE
        };
        // A point held apart in every frame has its count weighed against
        // how often its neighbourhood reaches the level it held, where its
        // shape is a defect's (the edge of a still lamp in a moving tile is
        // held as well): its stillness or shape scored (one view, a dark
        // reference), or, where neither is scored (frames of different
        // scenes over a reference the linear sums resolve), a brighter
        // point's rise in the 8-bit means sitting on its photosite alone (a
        // darker one's sharpness is not measured: it needs its stillness).
        let on_its_photosite = || {
            let d8 = f.mean - f.reference;
            let sharp8 = sharpness(&p.mean, p.local, i, f.reference, d8);
            linear_sharpness(f.reference, d8, sharp8) >= SHARP_FULL
        };
        let held = held
            .filter(|_| f.still >= self.gate_from || on_its_photosite())
            .map(|level| (level, f.sign));
        f.strength = strength_of(self.ctx, p, i, per_view, share, held);
        let support = support_of(&f.strength, f.sign);
        if support < STRENGTH_MIN && moves < INTERMITTENT_MOVES && share > SEEN_SHARE {
            // Turned away only as an astro series' passing light: still a
            // point of the scene that stood out.
            let steady = strength_of(self.ctx, p, i, per_view, SEEN_SHARE, None);
            f.vetoed = support_of(&steady, f.sign) >= STRENGTH_MIN && f.magnitude > self.gate_from;
        }
        let counted = if support >= STRENGTH_MIN {
            f.magnitude
        } else {
            f.magnitude.min(self.gate_from) * support / STRENGTH_MIN
        };
        // Between varied and one view (a tripod moved now and then, a burst
        // among other scenes) the frames support less than their count
        // says, and what a static scene cannot give counts as on one view:
        // were the frames all one view it would be reported on that alone,
        // and frames showing more than one view only make a static scene
        // point there less likely. On frames of different scenes the counts
        // decide: in 2 to 4 photos a scene point held at one level is a
        // coincidence, not a photosite (counting stillness and shape there
        // too gave every run of 2 of the nine P6000 photos reports, up to
        // 673).
        if alike >= ALIKE_PARTLY_FROM && one_view > counted {
            f.found_by = one_view_by;
            one_view
        } else {
            f.found_by = FoundBy::Frames;
            counted
        }
    }

    /// The score of `f` from what a static scene cannot give (its stillness
    /// and shape: all that counts on one view), where it showed in a share
    /// `share` of the frames that could show it, and which of the two
    /// carries it.
    fn one_view(&self, f: &Features, share: f64) -> (f32, FoundBy) {
        let one_view = if share >= SEEN_SHARE {
            f.still
        } else {
            f.still.min(self.gate_from) * (share / SEEN_SHARE) as f32
        };
        // Stillness where it alone carries it (a still scene point scales
        // with the exposures or moves with its noise; a small sharp light
        // of it has a defect's shape).
        let pinned_carries = f.pinned >= self.gate_from;
        // On frames known to differ in exposure a scene point scales with
        // them: one held while they change shows it across the frames, in
        // texture that hides it from the per-frame threshold too; but not
        // one clipped, which the clipping holds (a lamp, a deep shadow).
        let differ = self.ctx.exposures == Exposures::Differ;
        if differ && (DEAD_MEAN..SATURATED_MEAN).contains(&f.mean) && f.pinned > one_view {
            (f.pinned, FoundBy::Stillness)
        } else if pinned_carries {
            (one_view, FoundBy::Stillness)
        } else {
            (one_view, FoundBy::Shape)
        }
    }
}

/// The least noise a mean of `ctx`'s frames carries where a frame carries
/// `frame_noise` (8-bit levels), the frames show `per_view` views a frame
/// and a share `alike` of their pairs are alike: a frame's noise over
/// √views. Independent views each bring their own noise, which averages
/// down; a still scene repeats its noise in every frame. Frames falling into
/// g groups of one view each make about 1/g of the pairs alike, so no more
/// than 1/alike views count, and from [`ALIKE_ONE_VIEW`] one.
fn mean_noise(ctx: &Context, frame_noise: f32, view: (f64, f32)) -> f32 {
    frame_noise / views(ctx, view).sqrt() as f32
}

/// How many independent views `ctx`'s frames show where they show
/// `per_view` views a frame and a share `alike` of their pairs are alike
/// (see [`mean_noise`]).
pub(super) fn views(ctx: &Context, (per_view, alike): (f64, f32)) -> f64 {
    if alike >= ALIKE_ONE_VIEW {
        1.0
    } else {
        (per_view * ctx.frames as f64)
            .min(1.0 / f64::from(alike).max(1e-6))
            .max(1.0)
    }
}

/// The least noise of an 8-bit mean over a dark reference on `ctx`'s
/// frames: the least a frame carries, every frame a view of its own.
fn least_noise(ctx: &Context) -> f32 {
    mean_noise(ctx, JPEG_NOISE_MIN, (1.0, 0.0))
}

/// How a scene point of a one-view series would move over the frames,
/// against its ring's σ (see [`stuck`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum SceneNoise {
    /// Frames of different exposures: it moves with them, in proportion to
    /// its level.
    ScalesWithLevel,
    /// Frames of one exposure × gain: by noise no larger than its ring's
    /// (the tone curve keeps shot noise about level in 8 bits).
    Level,
    /// Frames of one exposure × gain, clipped to black (where the scene is
    /// dark its darkest points read 0 whatever their size), or to white
    /// with light clipped beyond any defect's square around it (a lamp, a
    /// window, a bright star's core): not at all, the clipping holds it.
    Clipped,
}

impl SceneNoise {
    /// For subpixel `i` of the 8-bit means `mean`, its ring median
    /// `reference`, on frames of one exposure × gain or not.
    fn of(exposures: Exposures, mean: &[f32], layout: Layout, i: usize, reference: f32) -> Self {
        let m = mean[i];
        if exposures != Exposures::One {
            SceneNoise::ScalesWithLevel
        } else if m < DEAD_MEAN
            || (m >= SATURATED_MEAN && lit_beyond_a_square(mean, layout, i, reference))
        {
            SceneNoise::Clipped
        } else {
            SceneNoise::Level
        }
    }
}

/// How far a subpixel is pinned away from its neighbourhood while the scene
/// around it moves (a z-score): the distance from its neighbours' mean in
/// units of its own σ (a pinned photosite moves by noise only), counted
/// once it moves less than half as much as a scene point there would, and
/// only where the scene was seen to move at all: a flat neighbourhood (a
/// constant border, a sky clipped to black or white in every frame) shows
/// nothing pinned. On alike frames a scene point moves as `noise` says.
pub(super) fn stuck(
    mean: f32,
    reference: f32,
    sd: f32,
    ring_sd: f32,
    alike: f32,
    noise: SceneNoise,
) -> f32 {
    let d8 = mean - reference;
    let plain = 1.0 - (sd + NOISE_FLOOR) / (ring_sd + NOISE_FLOOR);
    let for_scene = match noise {
        SceneNoise::ScalesWithLevel => {
            let scene_sd = ring_sd * (mean + 1.0) / (reference + 1.0);
            1.0 - (sd + NOISE_FLOOR) / (scene_sd + NOISE_FLOOR)
        }
        SceneNoise::Level => plain,
        SceneNoise::Clipped => 0.0,
    };
    let stillness = (plain.max(0.0) * (1.0 - alike) + for_scene.max(0.0) * alike).max(0.0);
    let level = d8.abs() / (sd + NOISE_FLOOR);
    let pinned = ((stillness - PINNED_FROM) / (1.0 - PINNED_FROM)).clamp(0.0, 1.0);
    // At least a few levels from the neighbourhood: two frames with the
    // same value are a coincidence, not a photosite.
    let magnitude = (d8.abs() / STUCK_FULL_LEVELS).min(1.0);
    let moved = scene_moved(ring_sd);
    level * pinned * magnitude * moved
}

/// Whether the scene was seen to move around a subpixel, 0 to 1, from its
/// neighbours' σ over the frames (8-bit levels).
pub fn scene_moved(ring_sd: f32) -> f32 {
    ((ring_sd - SCENE_MOVED_FROM) / (SCENE_MOVED_FULL - SCENE_MOVED_FROM)).clamp(0.0, 1.0)
}

// The ring medians of the f32 planes use the same network as the bytes.
const _: fn(f32, f32) -> f32 = <f32 as MinMax>::mid;
