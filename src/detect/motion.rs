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
//! tile's typical one. Such subpixels are those of a tile's unclipped ones,
//! or of those near black (where clipping hides the noise, but not a trail
//! lifting them), whose σ is over [`MOTION_TIMES`] times the median of the
//! unclipped ones and over [`MOTION_LEVELS`] (where most of the tile is
//! near black, those near black count from their own median σ, and
//! [`MOTION_LIFT_LEVELS`]: its few unclipped ones may be the light passing
//! itself); where the unclipped ones' median itself is
//! over [`MOTION_WHOLE_LEVELS`] the whole tile moves (frames of different
//! scenes or exposures, not the noise of a high ISO). A tile moves where
//! [`MOTION_SUBPIXELS`] of its own subpixels do, or
//! [`MOTION_BLOCK_SUBPIXELS`] of its block of 3x3 tiles' where it moves
//! beyond its noise itself ([`MOTION_FAINT_SUBPIXELS`] over
//! [`MOTION_FAINT_TIMES`] its typical σ) or lies between moving tiles: sky
//! that a few frames' bright stars missed, between tiles they crossed,
//! where faint ones drift; not the ground below a horizon, nor the tiles
//! beside one lamp blinking in a still foreground. A tile that does not move
//! shows the scene standing still, and its frames are as alike as the
//! whole frames are (their thumbnails' groups, see
//! [`Context::alike_pairs`]): a tripod series is one view there even where
//! the tiles' fine detail is noise. Frames of different scenes form no
//! group, and nothing changes for them.

use rayon::prelude::*;

use super::context::Context;
use crate::params::{
    MOTION_BLOCK_SUBPIXELS, MOTION_FAINT_SUBPIXELS, MOTION_FAINT_TIMES, MOTION_LEVELS,
    MOTION_LIFT_LEVELS, MOTION_SUBPIXELS, MOTION_TIMES, MOTION_UNCLIPPED, MOTION_WHOLE_LEVELS,
    NOISE_FLOOR,
};
use crate::similarity::{TileGrid, TILE};
use crate::stats::Stats;

/// How much each tile of `stats`' frame moves (see the module docs), tile
/// by tile: how many of its subpixels (unclipped, or near black) light
/// passed over, or `usize::MAX` where the whole tile moves; and how many of
/// its unclipped ones moved beyond its noise at all (over
/// [`MOTION_FAINT_TIMES`] its typical σ: a faint star drifting through).
pub fn motion(stats: &Stats, grid: TileGrid) -> Vec<(usize, usize)> {
    let layout = stats.layout();
    let (stride, channels) = (layout.stride(), layout.channels);
    let n1 = (stats.frames.max(2) - 1) as f32;
    let unclipped = |m: f32| (MOTION_UNCLIPPED..=255.0 - MOTION_UNCLIPPED).contains(&m);
    (0..grid.height)
        .into_par_iter()
        .flat_map_iter(|ty| {
            let rows = ty * TILE..((ty + 1) * TILE).min(layout.height);
            // The σ of each tile's unclipped subpixels (its noise, and what
            // moves it), and of those near black: clipping takes their
            // noise away, so they say nothing of the tile's typical σ, but
            // light passing over them still moves them (the black sky of a
            // low-ISO frame, which a star's trail lifts in one frame).
            let mut sds = vec![Vec::new(); grid.width];
            let mut blacks = vec![Vec::new(); grid.width];
            let (mut mean, mut m2) = (vec![0f32; stride], vec![0f32; stride]);
            for y in rows {
                stats.mean_row(y, &mut mean);
                stats.m2_row(y, &mut m2);
                for (xc, (&m, &v)) in mean.iter().zip(&m2).enumerate() {
                    let tx = (xc / channels / TILE).min(grid.width - 1);
                    let sd = (v / n1).max(0.0).sqrt();
                    if unclipped(m) {
                        sds[tx].push(sd);
                    } else if m < MOTION_UNCLIPPED {
                        blacks[tx].push(sd);
                    }
                }
            }
            sds.into_iter().zip(blacks).map(|(mut sd, mut black)| {
                let typical = median(&mut sd);
                // A tile moving as a whole (frames of different scenes, an
                // exposure bracket) moves beyond noise everywhere.
                if typical > MOTION_WHOLE_LEVELS {
                    return (usize::MAX, usize::MAX);
                }
                // Where most of the tile is near black (a low-ISO night
                // sky), its unclipped subpixels may be the very light
                // passing over it, and their σ is no measure of its noise:
                // the subpixels near black are lifted from theirs.
                let from = (MOTION_TIMES * typical).max(MOTION_LEVELS);
                let black_from = if sd.len() >= black.len() {
                    from
                } else {
                    from.min((MOTION_TIMES * median(&mut black)).max(MOTION_LIFT_LEVELS))
                };
                let faint = (MOTION_FAINT_TIMES * typical).max(NOISE_FLOOR);
                (
                    sd.iter().filter(|&&s| s > from).count()
                        + black.iter().filter(|&&s| s > black_from).count(),
                    sd.iter().filter(|&&s| s > faint).count(),
                )
            })
        })
        .collect()
}

/// The median of `values` (0 for none).
fn median(values: &mut [f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Which tiles of `stats`' frame move: [`MOTION_SUBPIXELS`] or more of
/// their own subpixels, or [`MOTION_BLOCK_SUBPIXELS`] over their 3x3 block
/// of tiles where they move faintly themselves or lie between moving tiles
/// (see the module docs).
pub fn moving_tiles(stats: &Stats, grid: TileGrid) -> Vec<bool> {
    let counts = motion(stats, grid);
    let at = |x: usize, y: usize| counts[y * grid.width + x].0;
    (0..grid.len())
        .map(|t| {
            let (tx, ty) = (t % grid.width, t / grid.width);
            let xs = tx.saturating_sub(1)..(tx + 2).min(grid.width);
            let ys = ty.saturating_sub(1)..(ty + 2).min(grid.height);
            let row = |y: usize| xs.clone().fold(0usize, |s, x| s.saturating_add(at(x, y)));
            let block = ys.clone().fold(0usize, |s, y| s.saturating_add(row(y)));
            let moves = |x: usize, y: usize| at(x, y) >= MOTION_SUBPIXELS;
            let between =
                (ty > 0 && ty + 1 < grid.height && moves(tx, ty - 1) && moves(tx, ty + 1))
                    || (tx > 0 && tx + 1 < grid.width && moves(tx - 1, ty) && moves(tx + 1, ty));
            let (own, faint) = counts[t];
            own >= MOTION_SUBPIXELS
                || (block >= MOTION_BLOCK_SUBPIXELS && (faint >= MOTION_FAINT_SUBPIXELS || between))
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
        tiles_of(tiles, |t, k| (40.0, sd(t, k)))
    }

    /// [`tiles_with`] with the mean and σ `at(tile, index within the tile)`.
    fn tiles_of(tiles: usize, at: impl Fn(usize, usize) -> (f32, f32)) -> Stats {
        let layout = Layout {
            width: tiles * TILE,
            height: TILE,
            channels: 3,
        };
        let n1 = (FRAMES - 1) as f32;
        let (mut mean, mut m2) = (vec![0f32; layout.len()], vec![0f32; layout.len()]);
        for (i, (m, v)) in mean.iter_mut().zip(&mut m2).enumerate() {
            let x = i % layout.stride() / 3;
            let y = i / layout.stride();
            let (level, s) = at(x / TILE, y * TILE + x % TILE);
            *m = level;
            *v = s * s * n1;
        }
        let moments = Moments::Welford { mean, m2 };
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
        // Beyond noise at all (2 times the typical σ): the noise's strays at
        // 8 too (43 pixels, 129 subpixels).
        let max = usize::MAX;
        assert_eq!(
            motion(&stats, grid),
            [(0, 129), (36, 36), (max, max), (6, 6), (0, 0)]
        );
    }

    #[test]
    fn a_still_tile_moves_with_its_block_where_a_star_field_does_not_a_lamp() {
        // Tile 2 of 8: a lamp blinking, 4 pixels (12 subpixels) at σ 40;
        // tile 5: star trails, 16 pixels (48 subpixels) at σ 20; tile 4:
        // faint stars drifting, 2 pixels at σ 7 (beyond its noise, not 3
        // times it); tile 6 beside the trails moves by noise alone (the
        // ground below a horizon).
        let stats = tiles_with(8, |t, k| match (t, k) {
            (2, k) if k < 4 => 40.0,
            (5, k) if k < 16 => 20.0,
            (4, k) if k < 2 => 7.0,
            _ => 3.0,
        });
        let grid = TileGrid::of(8 * TILE, TILE);
        assert_eq!(
            motion(&stats, grid),
            [
                (0, 0),
                (0, 0),
                (12, 12),
                (0, 0),
                (0, 6),
                (48, 48),
                (0, 0),
                (0, 0)
            ]
        );
        let moving = moving_tiles(&stats, grid);
        assert_eq!(
            moving,
            [false, false, true, false, true, true, false, false]
        );
    }

    #[test]
    fn a_black_sky_moves_where_a_trail_lifts_it_and_black_ground_does_not() {
        // A low-ISO night: the sky clipped near black (mean 2, σ 1). Tile 0:
        // a star's trail lifts 12 pixels to 30 levels in 1 frame of 20 (mean
        // 3.5, σ 6.5), under the 8 levels where noise counts as unclipped.
        // Tile 1: black ground (mean 0, σ 0) with one lit window moving by
        // noise (σ 3). Tile 2: sky no star crossed.
        let stats = tiles_of(3, |t, k| match (t, k) {
            (0, k) if k < 12 => (3.5, 6.5),
            (1, k) if k < 4 => (120.0, 3.0),
            (1, _) => (0.0, 0.0),
            _ => (2.0, 1.0),
        });
        let grid = TileGrid::of(3 * TILE, TILE);
        assert_eq!(motion(&stats, grid), [(36, 0), (0, 0), (0, 0)]);
        assert_eq!(moving_tiles(&stats, grid), [true, false, false]);
    }

    #[test]
    fn a_black_sky_whose_only_light_is_a_trail_moves_by_what_lifts_its_black() {
        // A low-ISO night, 5 frames' worth of σ: the sky near black (mean
        // 2, σ 0.5). Tile 0: a star's trail, its core 40 subpixels above
        // black (mean 30, σ 18: all of the tile's unclipped ones, so their
        // median σ is the trail's, not noise) and its edges 100 subpixels
        // lifted from black (mean 5, σ 11). Tile 1: noisy ground near black
        // (σ 1.1, and 20 subpixels just under 8 levels at σ 6.5, the tail
        // of a noise of 4 that clipping left) with a lit window moving by
        // that noise (40 subpixels at mean 60, σ 4).
        let stats = tiles_of(2, |t, k| match (t, k) {
            (0, k) if k < 40 => (30.0, 18.0),
            (0, k) if k < 140 => (5.0, 11.0),
            (1, k) if k < 40 => (60.0, 4.0),
            (1, k) if k < 60 => (6.5, 6.5),
            (1, _) => (1.5, 1.1),
            _ => (2.0, 0.5),
        });
        let grid = TileGrid::of(2 * TILE, TILE);
        assert_eq!(motion(&stats, grid)[0].0, 3 * 100);
        assert_eq!(motion(&stats, grid)[1].0, 0);
        assert_eq!(moving_tiles(&stats, grid), [true, false]);
    }

    #[test]
    fn a_still_tile_between_moving_tiles_moves() {
        // Sky no star crossed, trails left and right of it, nothing faint:
        // between them it is sky; beside one only, it may be ground.
        let stats = tiles_with(4, |t, k| match (t, k) {
            (0 | 2, k) if k < 16 => 20.0,
            _ => 3.0,
        });
        let grid = TileGrid::of(4 * TILE, TILE);
        assert_eq!(moving_tiles(&stats, grid), [true, true, true, false]);
    }

    #[test]
    fn still_tiles_are_as_alike_as_the_whole_frames_where_no_tile_beside_them_moves() {
        // Tile 4 of 6 moves; tiles 3 and 5 are beside it, and faint stars
        // drift through tile 3 only.
        let stats = tiles_with(6, |t, k| match (t, k) {
            (4, k) if k < 40 => 20.0,
            (3, k) if k < 2 => 7.0,
            _ => 3.0,
        });
        let mut ctx = Context::unknown(FRAMES);
        ctx.tiles = TileViews::uniform_over(6 * TILE, TILE, FRAMES as f32, 0.1);
        ctx.alike_pairs = 0.9;
        let judged = judge_still(&ctx, &stats);
        let alike: Vec<f32> = (0..6).map(|t| judged.tiles.alike[t]).collect();
        assert_eq!(alike, [0.9, 0.9, 0.9, 0.1, 0.1, 0.9]);
        // Its views: n / (1 + alike (n − 1)).
        let views = judged.tiles.views[0];
        assert!((views - 20.0 / (1.0 + 0.9 * 19.0)).abs() < 1e-4, "{views}");
        // Frames of different scenes (no group): nothing changes.
        ctx.alike_pairs = 0.0;
        assert_eq!(judge_still(&ctx, &stats), ctx);
    }
}
