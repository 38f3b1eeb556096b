//! The shape of a point in the 8-bit means, whatever its frames say: how
//! much of its light is its own photosite's (demosaicing and JPEG lend a
//! photosite's neighbours part of it, one pixel around), against light the
//! lens spread (a star, a lamp, a glint) or a shape of the scene it is part
//! of (a window's edge, a tree's tip, a star's trail).

use crate::evidence::{median_of, Layout, RING};
use crate::params::{
    BEYOND_MAX, CLIPPED, CLIPPED_SQUARE_SHARE, HALO_MAX, HALO_WIDE, NOISE_FLOOR, RAY_MAX,
    SHARP_FROM, SHARP_FULL, THROUGH_MAX,
};

use super::planes::MARGIN;

/// The members of the ring `dist` pixels around subpixel `i` of `plane`
/// that exist, or `None` where fewer than 5 do (a corner says nothing
/// reliable).
pub(super) fn ring_around(
    plane: &[f32],
    layout: Layout,
    i: usize,
    dist: usize,
) -> Option<([f32; 8], usize)> {
    let mut members = [0f32; 8];
    let n = layout.ring_members(plane, i, dist, &mut members);
    (n >= 5).then_some((members, n))
}

/// How far the ring 2 pixels around a subpixel rises above the ring at
/// [`MARGIN`] (the 8-bit means' medians) the way the subpixel stands out
/// (`sign`: +1 brighter, −1 darker), as a share of how far the subpixel
/// itself does: near 0 for a photosite (demosaicing spreads it one pixel,
/// not two), a tenth or more of it for light the lens spread (a star's or a
/// lamp's halo; a dark gap's, darker). `reference` is the ring median at 2.
fn halo(mean: &[f32], layout: Layout, i: usize, reference: f32, sign: f32) -> f32 {
    let Some((mut members, n)) = ring_around(mean, layout, i, MARGIN) else {
        return 0.0;
    };
    let far = median_of(&mut members[..n]);
    let rise = (mean[i] - far) * sign;
    if rise <= 0.0 {
        return 0.0;
    }
    (reference - far) * sign / rise
}

/// How far the rings 2 and [`MARGIN`] (4) pixels around a subpixel reach
/// beyond it, the way it stands out (`sign`: +1 brighter, −1 darker): their
/// most extreme member that way (the brightest, the darkest), its distance
/// from the ring median `reference` as a share of the subpixel's own rise
/// in the 8-bit means. A photosite is the extreme of its neighbourhood:
/// demosaicing and sharpening lend the pixels around it part of its rise,
/// never more (see [`BEYOND_MAX`]). A subpixel on a larger shape of the
/// scene (the edge of a lit window, the tip of a tree against the sky, a
/// branch) has part of that shape 2 or 4 pixels away standing out further:
/// a tree's tip narrows and pales over a few pixels, so its trunk may be 4
/// pixels down. 0 where the subpixel's mean does not stand out that way,
/// and where the member stands out further by less than [`NOISE_FLOOR`]
/// levels (noise of the means).
fn beyond(mean: &[f32], layout: Layout, i: usize, reference: f32, sign: f32) -> f32 {
    let own = (mean[i] - reference) * sign;
    let far = [RING, MARGIN]
        .iter()
        .filter_map(|&d| ring_around(mean, layout, i, d))
        .flat_map(|(members, n)| members.into_iter().take(n))
        .map(|m| (m - reference) * sign)
        .fold(f32::MIN, f32::max);
    if far == f32::MIN {
        return 0.0;
    }
    if own <= 0.0 || far - own < NOISE_FLOOR {
        return 0.0;
    }
    far / own
}

/// How far a line or an area of the scene runs through a subpixel: of the
/// four pairs of opposite members of its ring 2 pixels out (left and right,
/// above and below, the diagonals), the largest share of its own rise (the
/// 8-bit means' distance from the ring median `reference`, the way `sign`
/// says) by which both members of a pair stand out, and by
/// [`NOISE_FLOOR`] levels at least (else 0). A photosite lends the pixels
/// 2 out a little of its rise, not both sides of it at once; a star
/// trailing along a column does (see [`THROUGH_MAX`]). 0 where the ring is
/// not whole (the frame's edges).
fn through(mean: &[f32], layout: Layout, i: usize, reference: f32, sign: f32) -> f32 {
    let mut m = [0f32; 8];
    if layout.ring_members(mean, i, RING, &mut m) < 8 {
        return 0.0;
    }
    let own = (mean[i] - reference) * sign;
    if own <= 0.0 {
        return 0.0;
    }
    // `ring_members` order: left, right, above, below, then the corners
    // top-left, top-right, bottom-left, bottom-right.
    let both = [(0, 1), (2, 3), (4, 7), (5, 6)]
        .iter()
        .map(|&(a, b)| ((m[a] - reference) * sign).min((m[b] - reference) * sign))
        .fold(f32::MIN, f32::max);
    if both < NOISE_FLOOR {
        return 0.0;
    }
    both / own
}

/// How far a shape of the scene runs out of a subpixel in one direction:
/// of the 8 rays from it (left, right, up, down, the diagonals), the
/// largest share of its own rise (the 8-bit means' distance from the ring
/// median `reference`, the way `sign` says) by which every pixel 1 to
/// [`MARGIN`] (4) pixels along the ray stands out, and by [`NOISE_FLOOR`]
/// levels at least (else 0). A photosite lends its rise one pixel around
/// it and little further, so no ray from it stays up 4 pixels long; the
/// subpixel at the end of a shape has one that does: a tree's tip against
/// the sky, the rim of a lamp's disc, the point of sky between two trees
/// (see [`RAY_MAX`]). 0 where a ring is not whole (the frame's edges).
fn ray(mean: &[f32], layout: Layout, i: usize, reference: f32, sign: f32) -> f32 {
    let own = (mean[i] - reference) * sign;
    if own <= 0.0 {
        return 0.0;
    }
    let mut least = [f32::MAX; 8];
    for dist in 1..=MARGIN {
        let mut m = [0f32; 8];
        if layout.ring_members(mean, i, dist, &mut m) < 8 {
            return 0.0;
        }
        for (l, v) in least.iter_mut().zip(m) {
            *l = l.min((v - reference) * sign);
        }
    }
    let best = least.into_iter().fold(f32::MIN, f32::max);
    if best < NOISE_FLOOR {
        return 0.0;
    }
    best / own
}

/// Whether a subpixel standing out the way `sign` says (+1 brighter, −1
/// darker) is spread as the lens spreads light, which blurs a dark point of
/// the scene (a gap, a hole) as it blurs a light:
/// its ring 2 pixels out keeps over [`HALO_MAX`] of its rise (see
/// [`halo`]), or, in luma, [`HALO_WIDE`] where its pixel is lit beyond a
/// defect's 2x2 square (see [`lit_beyond_a_square`]) by [`NOISE_FLOOR`]
/// levels at least: a blur. Demosaicing lends a photosite's light one pixel
/// around it, and sharpening pulls the ring 2 pixels out down; subsampled
/// chroma (4:2:0) and chroma noise reduction spread its colour further, but
/// not its luma. A lens blurs luma and colour alike.
fn lens_spread(mean: &[f32], layout: Layout, i: usize, reference: f32, sign: f32) -> bool {
    if halo(mean, layout, i, reference, sign) > HALO_MAX {
        return true;
    }
    let ring = |dist: usize| luma_ring(mean, layout, i, dist);
    let (Some((mut r2, n2)), Some((mut r4, n4)), Some((r1, 8))) = (ring(2), ring(MARGIN), ring(1))
    else {
        return false;
    };
    if n2 < 5 || n4 < 5 {
        return false;
    }
    let own = luma(mean, layout, i);
    let (near, far) = (median_of(&mut r2[..n2]), median_of(&mut r4[..n4]));
    if (own - far) * sign <= 0.0 || (near - far) / (own - far) < HALO_WIDE {
        return false;
    }
    let mut lit = r1.map(|v| v * sign);
    lit.sort_unstable_by(|a, b| b.total_cmp(a));
    (own - near) * sign > 0.0
        && lit[3] - near * sign >= NOISE_FLOOR
        && beyond_a_square(r1, own, near)
}

/// The luma (the mean of the channels' means) of the pixel of subpixel `i`.
fn luma(mean: &[f32], layout: Layout, i: usize) -> f32 {
    let base = i - i % layout.channels;
    mean[base..base + layout.channels].iter().sum::<f32>() / layout.channels as f32
}

/// The luma of the pixels of the ring `dist` pixels around subpixel `i`'s
/// (those inside the frame, in [`Layout::ring_members`]' order), and how
/// many there are.
fn luma_ring(mean: &[f32], layout: Layout, i: usize, dist: usize) -> Option<([f32; 8], usize)> {
    let base = i - i % layout.channels;
    let mut sum = [0f32; 8];
    let mut n = 0;
    for k in 0..layout.channels {
        let mut m = [0f32; 8];
        n = layout.ring_members(mean, base + k, dist, &mut m);
        for (s, v) in sum.iter_mut().zip(&m[..n]) {
            *s += v;
        }
    }
    let scale = 1.0 / layout.channels as f32;
    (n > 0).then(|| (sum.map(|v| v * scale), n))
}

/// Whether the light of a clipped subpixel `i` spreads beyond any defect's
/// square: the 4th brightest (or darkest, below `reference`) of its 8
/// neighbours stands out by at least [`CLIPPED_SQUARE_SHARE`] of its own
/// rise in linear light. A 2x2 cluster of bad photosites, the largest
/// group, has 3 neighbours among its partners, and demosaicing lends the
/// rest a share of its light; a lamp, a window or a bright star's core is
/// clipped over a larger disc.
pub(super) fn lit_beyond_a_square(mean: &[f32], layout: Layout, i: usize, reference: f32) -> bool {
    let mut m = [0f32; 8];
    layout.ring_members(mean, i, 1, &mut m) == 8 && beyond_a_square(m, mean[i], reference)
}

/// Whether of the 8 `neighbours` of a point at `own` (8-bit levels) over or
/// under `reference` the 4th furthest the way the point stands out rises
/// [`CLIPPED_SQUARE_SHARE`] of the point's own rise in linear light
/// (v² − r²).
fn beyond_a_square(neighbours: [f32; 8], own: f32, reference: f32) -> bool {
    let lin = |v: f32| v * v - reference * reference;
    let own = lin(own);
    if own == 0.0 {
        return false;
    }
    let mut shares = neighbours.map(|v| lin(v) / own);
    shares.sort_unstable_by(|a, b| b.total_cmp(a));
    shares[3] >= CLIPPED_SQUARE_SHARE
}

/// Whether the shape around subpixel `i` of the 8-bit means is the
/// scene's, whatever the frames say: light spread over its rings by the
/// lens (a star, a lamp; or darkness, a gap: see [`lens_spread`]), or part
/// of a larger shape of the scene that reaches further than the subpixel
/// itself (a window, a tree top), or a
/// line running through it (a star trailing along a column), or a shape it
/// ends (a tree's tip, a lamp's rim).
pub(super) fn scene_shape(
    mean: &[f32],
    layout: Layout,
    i: usize,
    reference: f32,
    sign: f32,
) -> bool {
    lens_spread(mean, layout, i, reference, sign)
        || beyond(mean, layout, i, reference, sign) > BEYOND_MAX
        || through(mean, layout, i, reference, sign) > THROUGH_MAX
        || ray(mean, layout, i, reference, sign) > RAY_MAX
}

/// Whether a subpixel of the same channel 2 pixels from subpixel `i` of
/// the 8-bit means (its ring of 16) is clipped white ([`CLIPPED`]).
/// Physics: sharpening undershoots beside a clipped light (a lamp, a
/// window) by a share of its step, which takes the photosites 1 or 2
/// pixels out down towards black in every frame the light is there: as dark
/// as a dead photosite, and where the light is clipped no frame tells them
/// apart. Within 1 pixel the clipped light may be the subpixel's own
/// group's (a stuck or saturated hot partner of a pair or a 2x2 cluster),
/// 2 pixels out it is the scene's.
pub(super) fn beside_clipped(mean: &[f32], layout: Layout, i: usize) -> bool {
    let stride = layout.stride();
    let (y, x) = (
        (i / stride) as isize,
        (i % stride / layout.channels) as isize,
    );
    let (h, w) = (layout.height as isize, layout.width as isize);
    (-2..=2isize).any(|dy| {
        (-2..=2isize).any(|dx| {
            let (nx, ny) = (x + dx, y + dy);
            dx.abs().max(dy.abs()) == 2
                && (0..w).contains(&nx)
                && (0..h).contains(&ny)
                && mean
                    [(i as isize + dy * stride as isize + dx * layout.channels as isize) as usize]
                    >= f32::from(CLIPPED)
        })
    })
}

/// The share of a shape's evidence that counts at sharpness `sharp`: none
/// below [`SHARP_FROM`], all from [`SHARP_FULL`].
pub(super) fn sharp_factor(sharp: f32) -> f32 {
    ((sharp - SHARP_FROM) / (SHARP_FULL - SHARP_FROM)).clamp(0.0, 1.0)
}

/// [`sharpness`] in linear light from the 8-bit means' `sharp8`, for a
/// subpixel `rise` levels over `reference`: its neighbours' share of the
/// rise, (n² − r²) / (v² − r²) with n the brightest neighbour, v the
/// subpixel and r the reference (levels), taken from 1.
pub(super) fn linear_sharpness(reference: f32, rise: f32, sharp8: f32) -> f32 {
    if rise <= 0.0 {
        return 0.0;
    }
    let lin = |v: f32| v * v - reference * reference;
    let neighbour = reference + (1.0 - sharp8) * rise;
    (1.0 - lin(neighbour) / lin(reference + rise)).clamp(0.0, 1.0)
}

/// How much of a bright `excess` (above the ring median `center`) is the
/// photosite's own: 1 − the largest excess of its immediate same-channel
/// neighbours / `excess`, in [0, 1]. One bad photosite keeps its excess to
/// itself (demosaicing and sharpening leave its neighbours a third of it or
/// less); a scene glint, spread by the lens, lifts its neighbours by 40% or
/// more. At an edge, the neighbours that exist.
pub(super) fn sharpness(plane: &[f32], layout: Layout, i: usize, center: f32, excess: f32) -> f32 {
    sharpness_beside(plane, layout, i, center, excess, 0)
}

/// The 8 neighbours of a pixel, as (dx, dy).
pub(super) const NEIGHBOURS: [(isize, isize); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

/// [`sharpness`] against the largest excess of its neighbours but the
/// `partners` largest: those a defect group's other photosites may hold (a
/// pair's partner is 1). The rest are lent what demosaicing lends.
pub(super) fn sharpness_beside(
    plane: &[f32],
    layout: Layout,
    i: usize,
    center: f32,
    excess: f32,
    partners: usize,
) -> f32 {
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
    let best = NEIGHBOURS.map(|(dx, dy)| at(dx, dy).unwrap_or(0.0));
    let best = if partners == 0 {
        best.into_iter().fold(0f32, f32::max)
    } else {
        let mut sorted = best;
        sorted.sort_unstable_by(|a, b| b.total_cmp(a));
        sorted[partners.min(sorted.len() - 1)]
    };
    (1.0 - best / excess).clamp(0.0, 1.0)
}
