//! Where the scene is seen to move, tile by tile, from the statistics: what
//! tells the still foreground of a tripod night sky from its drifting sky
//! when the tiles' fine detail cannot. At high ISO the fine detail of a
//! dark foreground is noise, so its frames' tile signatures disagree and
//! its tiles count as many views; a lamp or a lit window there, seen in
//! every frame, then passes for a warm photosite.
//!
//! A still scene moves by noise only, which is about the same for the
//! subpixels of a tile; light passing over a few of them (a star drifting
//! through, a car's lamp) makes their σ over the frames several times the
//! tile's typical one. Such subpixels are those of a tile's unclipped ones
//! whose σ is over [`MOTION_TIMES`] times the tile's median and over
//! [`MOTION_LEVELS`]; where that median itself is over
//! [`MOTION_WHOLE_LEVELS`] the whole tile moves (frames of different
//! scenes or exposures, not the noise of a high ISO). A tile moves where
//! [`MOTION_SUBPIXELS`] of its own subpixels do, or
//! [`MOTION_BLOCK_SUBPIXELS`] of its block of 3x3 tiles' (sky that a few
//! frames' stars missed, between tiles they crossed; one lamp blinking in a
//! still foreground moves its own tile only). A tile that does not move
//! shows the scene standing still, and its frames are as alike as the
//! whole frames are (their thumbnails' groups, see
//! [`Context::alike_pairs`]): a tripod series is one view there even where
//! the tiles' fine detail is noise. Frames of different scenes form no
//! group, and nothing changes for them.

use rayon::prelude::*;

use super::context::Context;
use crate::params::{
    MOTION_BLOCK_SUBPIXELS, MOTION_LEVELS, MOTION_SUBPIXELS, MOTION_TIMES, MOTION_UNCLIPPED,
    MOTION_WHOLE_LEVELS,
};
use crate::similarity::{TileGrid, TILE};
use crate::stats::Stats;

/// How much each tile of `stats`' frame moves (see the module docs), tile
/// by tile: how many of its unclipped subpixels light passed over, or
/// `usize::MAX` where the whole tile moves.
pub fn motion(stats: &Stats, grid: TileGrid) -> Vec<usize> {
    let layout = stats.layout();
    let (stride, channels) = (layout.stride(), layout.channels);
    let n1 = (stats.frames.max(2) - 1) as f32;
    let unclipped = |m: f32| (MOTION_UNCLIPPED..=255.0 - MOTION_UNCLIPPED).contains(&m);
    (0..grid.height)
        .into_par_iter()
        .flat_map_iter(|ty| {
            let rows = ty * TILE..((ty + 1) * TILE).min(layout.height);
            // The σ of each tile's unclipped subpixels.
            let mut sds = vec![Vec::new(); grid.width];
            let (mut mean, mut m2) = (vec![0f32; stride], vec![0f32; stride]);
            for y in rows {
                stats.mean_row(y, &mut mean);
                stats.m2_row(y, &mut m2);
                for (xc, (&m, &v)) in mean.iter().zip(&m2).enumerate() {
                    if unclipped(m) {
                        let tx = (xc / channels / TILE).min(grid.width - 1);
                        sds[tx].push((v / n1).max(0.0).sqrt());
                    }
                }
            }
            sds.into_iter().map(|mut sd| {
                if sd.is_empty() {
                    return 0;
                }
                let mid = sd.len() / 2;
                let typical = *sd.select_nth_unstable_by(mid, f32::total_cmp).1;
                // A tile moving as a whole (frames of different scenes, an
                // exposure bracket) moves beyond noise everywhere.
                if typical > MOTION_WHOLE_LEVELS {
                    return usize::MAX;
                }
                let from = (MOTION_TIMES * typical).max(MOTION_LEVELS);
                sd.iter().filter(|&&s| s > from).count()
            })
        })
        .collect()
}

/// Which tiles of `stats`' frame move: [`MOTION_SUBPIXELS`] or more of
/// their own subpixels, or [`MOTION_BLOCK_SUBPIXELS`] over their 3x3 block
/// of tiles (see the module docs).
pub fn moving_tiles(stats: &Stats, grid: TileGrid) -> Vec<bool> {
    let counts = motion(stats, grid);
    (0..grid.len())
        .map(|t| {
            let (tx, ty) = (t % grid.width, t / grid.width);
            let block = (ty.saturating_sub(1)..(ty + 2).min(grid.height))
                .flat_map(|y| (tx.saturating_sub(1)..(tx + 2).min(grid.width)).map(move |x| (x, y)))
                .fold(0usize, |sum, (x, y)| {
                    sum.saturating_add(counts[y * grid.width + x])
                });
            counts[t] >= MOTION_SUBPIXELS || block >= MOTION_BLOCK_SUBPIXELS
        })
        .collect()
}

/// `ctx` with the tiles of `stats`' frame that do not move (see
/// [`moving_tiles`]) taken as alike as the whole frames are (see the
/// module docs).
pub fn judge_still(ctx: &Context, stats: &Stats) -> Context {
    let alike = ctx.alike_pairs;
    if alike <= 0.0 {
        return ctx.clone();
    }
    let moving = moving_tiles(stats, ctx.tiles.grid);
    let still: Vec<usize> = (0..moving.len()).filter(|&t| !moving[t]).collect();
    ctx.with_alike(&still, alike)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Evidence, Layout};
    use crate::similarity::TileViews;
    use crate::stats::Moments;

    const FRAMES: u64 = 20;

    /// Statistics of a row of `tiles` tiles (one tile high) of 3 channels
    /// over [`FRAMES`] frames: every subpixel at mean 40, with the σ
    /// `sd(tile, index within the tile)`.
    fn tiles_with(tiles: usize, sd: impl Fn(usize, usize) -> f32) -> Stats {
        let layout = Layout {
            width: tiles * TILE,
            height: TILE,
            channels: 3,
        };
        let n1 = (FRAMES - 1) as f32;
        let mut m2 = vec![0f32; layout.len()];
        for (i, v) in m2.iter_mut().enumerate() {
            let x = i % layout.stride() / 3;
            let y = i / layout.stride();
            let s = sd(x / TILE, y * TILE + x % TILE);
            *v = s * s * n1;
        }
        let moments = Moments::Welford {
            mean: vec![40.0; layout.len()],
            m2,
        };
        Stats::from_parts(
            FRAMES,
            layout,
            moments,
            vec![Evidence::default(); layout.len()],
        )
    }

    #[test]
    fn a_tile_moves_where_light_passes_over_a_few_subpixels_or_over_all_beyond_noise() {
        // Tile 0: noise only (σ 3, a few at 8: within 3 times the typical).
        // Tile 1: the same noise and a star's trail, 12 pixels at σ 20.
        // Tile 2: every subpixel at σ 30, frames of different scenes.
        // Tile 3: noise and 2 pixels at σ 20 (fewer subpixels than a trail
        // lights: what a hot photosite's noise lends its footprint).
        // Tile 4: every subpixel at σ 12, the noise of a high ISO.
        let stats = tiles_with(5, |t, k| match (t, k) {
            (0, k) if k % 97 == 0 => 8.0,
            (1, k) if (100..112).contains(&k) => 20.0,
            (2, _) => 30.0,
            (3, k) if (100..102).contains(&k) => 20.0,
            (4, _) => 12.0,
            _ => 3.0,
        });
        let grid = TileGrid::of(5 * TILE, TILE);
        assert_eq!(motion(&stats, grid), [0, 36, usize::MAX, 6, 0]);
    }

    #[test]
    fn a_still_tile_moves_with_its_block_where_a_star_field_does_not_a_lamp() {
        // Tile 2 of 7: a lamp blinking, 4 pixels (12 subpixels) at σ 40;
        // tile 5: star trails, 16 pixels (48 subpixels) at σ 20.
        let stats = tiles_with(7, |t, k| match (t, k) {
            (2, k) if k < 4 => 40.0,
            (5, k) if k < 16 => 20.0,
            _ => 3.0,
        });
        let grid = TileGrid::of(7 * TILE, TILE);
        assert_eq!(motion(&stats, grid), [0, 0, 12, 0, 0, 48, 0]);
        let moving = moving_tiles(&stats, grid);
        assert_eq!(moving, [false, false, true, false, true, true, true]);
    }

    #[test]
    fn still_tiles_are_as_alike_as_the_whole_frames_where_no_tile_beside_them_moves() {
        // Tile 4 of 6 moves; tiles 3 to 5 are beside it.
        let stats = tiles_with(6, |t, k| if t == 4 && k < 40 { 20.0 } else { 3.0 });
        let mut ctx = Context::unknown(FRAMES);
        ctx.tiles = TileViews::uniform_over(6 * TILE, TILE, FRAMES as f32, 0.1);
        ctx.alike_pairs = 0.9;
        let judged = judge_still(&ctx, &stats);
        let alike: Vec<f32> = (0..6).map(|t| judged.tiles.alike[t]).collect();
        assert_eq!(alike, [0.9, 0.9, 0.9, 0.1, 0.1, 0.1]);
        // Its views: n / (1 + alike (n − 1)).
        let views = judged.tiles.views[0];
        assert!((views - 20.0 / (1.0 + 0.9 * 19.0)).abs() < 1e-4, "{views}");
        // Frames of different scenes (no group): nothing changes.
        ctx.alike_pairs = 0.0;
        assert_eq!(judge_still(&ctx, &stats), ctx);
    }
}
