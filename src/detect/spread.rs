//! How much a plane's values vary near a subpixel and over a channel: the
//! spreads the detector's z-scores divide by (see `super::score`).

use super::planes::MARGIN;
use super::score::Band;
use super::shape::ring_around;
use crate::evidence::{median8, median_of, Layout};
use crate::params::EXCESS_FLOOR;
use crate::stats::Stats;

/// 1.4826 × MAD estimates a normal σ.
const MAD_TO_SIGMA: f32 = 1.4826;

/// Distance of the ring the local spread is measured on: outside what one
/// defect spreads over (demosaicing ±2, sharpening and chroma noise
/// reduction ±2 more), so that a strong defect does not widen its own.
const SPREAD_RING: usize = MARGIN;

/// The spread of a plane's values near subpixel `i`: MAD × 1.4826 of the
/// members of the ring at [`SPREAD_RING`] around their own median. Fewer
/// than 5 members (a corner) say nothing reliable: `None`. The callers keep
/// a floor of their own under it (the channel's spread, the noise).
pub(super) fn local_spread(plane: &[f32], layout: Layout, i: usize) -> Option<f32> {
    let (members, n) = ring_around(plane, layout, i, SPREAD_RING)?;
    let mad = if n == 8 {
        let center = median8(members);
        median8(members.map(|m| (m - center).abs()))
    } else {
        let mut m: Vec<f32> = members[..n].to_vec();
        let center = median_of(&mut m);
        let mut d: Vec<f32> = m.iter().map(|v| (v - center).abs()).collect();
        median_of(&mut d)
    };
    Some(mad * MAD_TO_SIGMA)
}

/// Rows the channel spreads are sampled from, in blocks over the frame.
const SPREAD_SAMPLE_ROWS: usize = 256;

/// The typical spread, per channel, of Σ excess and Σ weight × excess around
/// their ring medians over the frame: the median absolute deviation × 1.4826
/// over a deterministic sample of rows, never below [`EXCESS_FLOOR`]. The
/// weighted sum's floor is that times `rms_weight`, the root mean square of
/// the frames' dark weights: one quantum of excess in a frame of weight w is
/// w in that sum, so where the floor binds (a sky clipped to black) the two
/// sums say equally much.
pub(super) fn channel_spreads(stats: &Stats, rms_weight: f32) -> [Vec<f32>; 2] {
    use rayon::prelude::*;
    let layout = stats.layout();
    let channels = layout.channels;
    let devs: Vec<[Vec<Vec<f32>>; 2]> = super::sample_blocks(layout.height, SPREAD_SAMPLE_ROWS)
        .into_par_iter()
        .map(|rows| {
            let mut band = Band::new(stats, rows.clone());
            let stride = layout.stride();
            let mut out = [vec![Vec::new(); channels], vec![Vec::new(); channels]];
            for y in rows {
                band.load_row(y);
                let (p, (excess, dark)) = (&band.planes, band.ring_sums());
                for xc in 0..stride {
                    let i = p.at(y, xc);
                    let c = xc % channels;
                    out[0][c].push((p.excess[i] - excess[xc]).abs());
                    out[1][c].push((p.dark[i] - dark[xc]).abs());
                }
            }
            out
        })
        .collect();
    let floors = [EXCESS_FLOOR, EXCESS_FLOOR * rms_weight.max(1.0)];
    let spread = |k: usize, c: usize| {
        let mut all: Vec<f32> = devs.iter().flat_map(|d| d[k][c].iter().copied()).collect();
        if all.is_empty() {
            return floors[k];
        }
        let mid = all.len() / 2;
        let m = *all.select_nth_unstable_by(mid, f32::total_cmp).1;
        (m * MAD_TO_SIGMA).max(floors[k])
    };
    [
        (0..channels).map(|c| spread(0, c)).collect(),
        (0..channels).map(|c| spread(1, c)).collect(),
    ]
}
