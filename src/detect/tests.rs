//! Detection on hand-made statistics, where the answer is known.

use super::*;
use crate::evidence::{Evidence, Layout, Seen};
use crate::params::{ALIKE_ONE_VIEW, ALIKE_PARTLY_FROM, CROWDED_BLOCK, CROWDED_TILE};
use crate::stats::Moments;

const FRAMES: u64 = 24;

/// A 13x13 series on a flat background (see [`points`]) whose R subpixel
/// at (6, 6) has `mean`, `sd`, Σ excess `excess`, Σ weight × excess `dark`,
/// and was seen as `seen` says.
fn one_point(mean: f32, sd: f32, excess: i32, dark: i32, seen: Seen) -> Stats {
    points(
        13,
        13,
        &[(
            (6, 6),
            Point {
                mean,
                sd,
                excess,
                dark,
                seen,
            },
        )],
    )
}

/// What a subpixel did over the series.
#[derive(Clone, Copy)]
struct Point {
    mean: f32,
    sd: f32,
    excess: i32,
    dark: i32,
    seen: Seen,
}

/// How often the background of [`points`] is seen: brighter and darker in
/// 1 frame of 24 each.
const BACKGROUND: Seen = Seen {
    bright: 1,
    could_bright: 24,
    dark: 1,
    could_dark: 24,
    hot: 0,
};

/// A `width` x `height` series on a flat background (mean 100, σ 10,
/// excess sums with a little texture, each subpixel seen brighter or darker
/// in 1 frame of 24) whose R subpixels at the given places did as their
/// [`Point`] says.
fn points(width: usize, height: usize, at: &[((usize, usize), Point)]) -> Stats {
    let at: Vec<_> = at.iter().map(|&((x, y), p)| ((x, y, 0), p)).collect();
    subpixels(width, height, &at)
}

/// [`points`] with the subpixels given by place and channel.
fn subpixels(width: usize, height: usize, at: &[((usize, usize, usize), Point)]) -> Stats {
    let layout = Layout {
        width,
        height,
        channels: 3,
    };
    let n1 = (FRAMES - 1) as f32;
    let mut m = vec![100.0f32; layout.len()];
    let mut m2 = vec![10.0 * 10.0 * n1; layout.len()];
    let mut evidence: Vec<Evidence> = (0..layout.len())
        .map(|i| {
            let (y, x, c) = (i / (3 * width), i / 3 % width, i % 3);
            Evidence {
                excess: ((y * 7 + x * 13 + c * 5) % 11) as i32 - 5,
                dark: ((y * 3 + x * 11 + c * 7) % 13) as i32 * 4 - 24,
                seen: BACKGROUND,
            }
        })
        .collect();
    for &((x, y, c), p) in at {
        let i = (y * width + x) * 3 + c;
        m[i] = p.mean;
        m2[i] = p.sd * p.sd * n1;
        evidence[i] = Evidence {
            excess: p.excess,
            dark: p.dark,
            seen: p.seen,
        };
    }
    Stats::from_parts(FRAMES, layout, Moments::Welford { mean: m, m2 }, evidence)
}

/// Seen brighter in `bright` of 24 frames, `hot` of them long ones.
fn seen_bright(bright: u32, hot: u32) -> Seen {
    Seen {
        bright,
        could_bright: 24,
        dark: 0,
        could_dark: 24,
        hot,
    }
}

/// Seen darker in `dark` of 24 frames.
fn seen_dark(dark: u32) -> Seen {
    Seen {
        bright: 0,
        could_bright: 24,
        dark,
        could_dark: 24,
        hot: 0,
    }
}

fn varied() -> Context {
    let mut ctx = Context::unknown(FRAMES);
    // Half the frames long enough to show dark current, weights 0 and 15.
    ctx.dark_sum = 15.0 * 12.0;
    ctx.dark_sq = 225.0 * 12.0;
    ctx.revealing = 12;
    ctx.exposures = Exposures::Differ;
    ctx
}

#[test]
fn a_consistent_offset_is_a_warm_defect_at_its_photosite() {
    // 20 linear levels in every frame, as much in long frames as in short;
    // it follows the scene, moving a little less than its neighbours (a
    // constant linear offset compresses the 8-bit spread).
    let stats = one_point(130.0, 6.0, 20 * 24, 20 * 12 * 15, seen_bright(22, 11));
    let d = detect(&stats, &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    let defect = &d.defects[0];
    assert_eq!((defect.x, defect.y, defect.channel), (6, 6, Channel::R));
    assert_eq!(defect.kind, Kind::Warm);
    assert!((defect.offset - 20.0).abs() < 1.0, "{defect:?}");
    assert!(defect.dark_rate.unwrap().abs() < 5.0, "{defect:?}");
}

#[test]
fn excess_only_in_long_frames_is_a_hot_defect() {
    // 60 linear levels in the 12 long frames (weight 15), none in the others:
    // weak on average, strong where dark current can show.
    let stats = one_point(120.0, 40.0, 60 * 12, 60 * 12 * 15, seen_bright(12, 12));
    let d = detect(&stats, &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!(d.defects[0].kind, Kind::Hot);
    // 60 levels at weight 15 (one second at ISO 100): 60 levels a second.
    let rate = d.defects[0].dark_rate.unwrap();
    assert!((rate - 60.0).abs() < 2.0, "{rate}");
}

#[test]
fn a_strong_point_seen_in_a_few_frames_is_not_a_defect() {
    // 100 levels up on the whole, but seen standing out in 4 frames of 24
    // (a star or a lamp drifting through): the frames do not support it.
    let stats = one_point(110.0, 10.0, 400, 0, seen_bright(4, 0));
    let ctx = Context::unknown(FRAMES);
    assert!(detect(&stats, &ctx, None).defects.is_empty());
    // Seen in 20 of them, it is one.
    let stats = one_point(110.0, 10.0, 400, 0, seen_bright(20, 0));
    assert_eq!(detect(&stats, &ctx, None).defects.len(), 1);
}

#[test]
fn a_point_moving_more_than_its_surroundings_must_show_in_nearly_every_frame() {
    // Seen in half the frames, moving three times as much as the scene 4
    // pixels out (a star lingering on it for part of a slow drift, lighting
    // the pixels 1 and 2 out as it passes, which move with it): it must show
    // in nearly every frame, and it does not.
    let lit = |(x, y): (usize, usize), reach: usize| -> Vec<((usize, usize), Point)> {
        let core = Point {
            mean: 110.0,
            sd: 30.0,
            excess: 400,
            dark: 0,
            seen: seen_bright(12, 0),
        };
        let around = Point {
            mean: 100.0,
            sd: 20.0,
            excess: 0,
            seen: BACKGROUND,
            ..core
        };
        let mut at = vec![((x, y), core)];
        for dy in 0..=2 * reach {
            for dx in 0..=2 * reach {
                if (dx, dy) != (reach, reach) {
                    at.push(((x + dx - reach, y + dy - reach), around));
                }
            }
        }
        at
    };
    let ctx = Context::unknown(FRAMES);
    let d = detect(&points(32, 32, &lit((16, 16), 2)), &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    // Where the scene moves as much 4 pixels out too, half the frames do.
    let d = detect(&points(32, 32, &lit((16, 16), 5)), &ctx, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
}

/// Every frame 1 s at ISO 100 (weight 15): an astro series.
fn astro() -> Context {
    let mut astro = Context::unknown(FRAMES);
    astro.dark_sum = 15.0 * 24.0;
    astro.dark_sq = 225.0 * 24.0;
    astro.revealing = 24;
    astro.exposures = Exposures::One;
    assert!(!astro.separates_dark());
    astro
}

#[test]
fn on_an_astro_series_a_point_moving_more_than_noise_must_show_in_nearly_every_frame() {
    // 10 levels up, seen in half the frames. Moving as its neighbours do
    // (σ 10), it is a weak steady offset on any series.
    let at = |sd: f32| one_point(110.0, sd, 240, 240 * 15, seen_bright(12, 12));
    for ctx in [astro(), varied()] {
        assert_eq!(detect(&at(10.0), &ctx, None).defects.len(), 1);
    }
    // Moving 1.7 times as much (σ 18): where frames differ in exposure,
    // dark current may move a hot photosite so; on an astro series it adds
    // the same to every frame, and only light passing over it moves it.
    assert_eq!(detect(&at(18.0), &varied(), None).defects.len(), 1);
    let d = detect(&at(18.0), &astro(), None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    // Seen in 20 of 24 frames, it is one there too.
    let steady = one_point(110.0, 18.0, 240, 240 * 15, seen_bright(20, 20));
    assert_eq!(detect(&steady, &astro(), None).defects.len(), 1);
}

#[test]
fn a_burst_counts_as_one_view() {
    // Seen in every frame, but the frames are 3 views: 3 sightings cannot
    // be told from a coincidence of scene details. (Under a fifth alike, so
    // that only the counts decide: from there its shape would count as on
    // one view, see `between_varied_and_one_view_stillness_counts_as_on_one_view`.)
    let stats = one_point(110.0, 10.0, 400, 0, seen_bright(24, 0));
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform(3.0, 0.15);
    assert!(detect(&stats, &ctx, None).defects.is_empty());
    ctx.tiles = crate::similarity::TileViews::uniform(8.0, 0.1);
    assert_eq!(detect(&stats, &ctx, None).defects.len(), 1);
}

/// The core of a star: 10 levels up in the 8-bit means (16 linear levels a
/// frame), seen brighter in every frame.
const STAR_CORE: Point = Point {
    mean: 110.0,
    sd: 10.0,
    excess: 400,
    dark: 0,
    seen: Seen {
        bright: 24,
        could_bright: 24,
        dark: 0,
        could_dark: 24,
        hot: 0,
    },
};

/// A star at (`x`, `y`): 16 levels up in every frame, moving with the
/// scene, its excess spread by the lens over its 8 neighbours (half of it):
/// the 9 places of [`points`].
fn star((x, y): (usize, usize)) -> Vec<((usize, usize), Point)> {
    let core = STAR_CORE;
    let spread = Point {
        mean: 105.0,
        excess: 200,
        ..core
    };
    let mut blob = vec![((x, y), core)];
    for (dy, dx) in (0..3).flat_map(|dy| (0..3).map(move |dx| (dy, dx))) {
        if (dx, dy) != (1, 1) {
            blob.push(((x + dx - 1, y + dy - 1), spread));
        }
    }
    blob
}

#[test]
fn a_tile_crowded_with_points_seen_in_every_frame_is_judged_as_one_view() {
    // Two tiles of varied frames. Points 16 levels up in every frame,
    // moving with the scene, their excess spread by the lens over their
    // neighbours (half of it): each alone is a defect, but six in one tile
    // are a still scene there (stars on a tracking mount). A photosite
    // pinned at 255 among them is still a defect: no scene holds a point
    // still in every frame.
    let pinned = Point {
        mean: 255.0,
        sd: 0.0,
        excess: 155 * 24,
        dark: 0,
        seen: seen_bright(24, 0),
    };
    let stars = [(8, 8), (24, 8), (40, 8), (8, 24), (24, 24), (40, 40)];
    let mut at: Vec<_> = [((56, 56), pinned)].to_vec();
    at.extend(star((100, 30)));
    at.extend(stars.iter().flat_map(|&p| star(p)));
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert_eq!(d.crowded_tiles, [[0, 0]]);
    let found: Vec<_> = d.defects.iter().map(|d| (d.x, d.y)).collect();
    assert_eq!(found, [(56, 56), (100, 30)], "{:?}", d.defects);
    // Each says how it was judged: the pinned photosite as one view, by its
    // stillness; the lone star beside the crowd by its frames, 8 views.
    let said: Vec<_> = d.defects.iter().map(|d| (d.found_by, d.views)).collect();
    assert_eq!(said, [(FoundBy::Stillness, 1.0), (FoundBy::Frames, 8.0)]);
    // The pictures score as the detection did: the crowded tile's stars
    // under the threshold, the pinned photosite and the lone star above.
    let judged = ctx.with_one_view(&d.crowded_tiles);
    let stats = points(128, 64, &at);
    let mut above = Vec::new();
    Scores::new(&stats, &judged, d.threshold).rows(0..64, |y, row| {
        for (xc, &s) in row.iter().enumerate() {
            if f64::from(s) > d.threshold && xc % 3 == 0 {
                above.push((xc / 3, y));
            }
        }
    });
    assert!(
        above.contains(&(56, 56)) && above.contains(&(100, 30)),
        "{above:?}"
    );
    assert!(above.iter().all(|&(x, _)| x >= 56), "{above:?}");
    // One fewer than CROWDED_TILE in the tile (the pinned photosite and
    // stars): every one is a defect.
    let kept = CROWDED_TILE - 2;
    let d = detect(&points(128, 64, &at[..9 * (kept + 1) + 1]), &ctx, None);
    assert!(d.crowded_tiles.is_empty());
    assert_eq!(d.defects.len(), kept + 2, "{:?}", d.defects);
}

#[test]
fn on_an_astro_series_still_stars_of_one_view_count_in_the_crowd_beside_them() {
    // A tracked sky: tile 0 is still (one view), with 12 stars seen in
    // every frame; tile 1, where the foreground turns, holds 2 of them.
    // The still stars are the scene's, not defects, and their crowd spans
    // both tiles: tile 1 is judged as one view too, and reports nothing.
    let still = [(8, 8), (24, 8), (40, 8), (56, 8), (8, 24), (24, 24)]
        .into_iter()
        .chain([(40, 24), (56, 24), (8, 40), (24, 40), (40, 40), (56, 40)]);
    let mut at: Vec<_> = still.flat_map(star).collect();
    at.extend(star((72, 30)).into_iter().chain(star((90, 30))));
    let stats = points(128, 64, &at);
    let mut ctx = astro();
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 24.0, 0.0);
    ctx.tiles.set_one_view(0);
    let d = detect(&stats, &ctx, Some(8.0));
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    assert_eq!(d.crowded_tiles, [[0, 0], [64, 0]]);
    // On frames of different exposures the rule does not apply (a tripod
    // bracket's scene points are no star field): the two are defects.
    ctx.exposures = Exposures::Differ;
    let d = detect(&stats, &ctx, Some(8.0));
    assert_eq!(d.defects.len(), 2, "{:?}", d.defects);
}

/// A star whose light the lens spreads 2 pixels out (a halo): 10 levels up
/// and seen in every frame, the 8 places around it 6 levels up and the 16
/// places 2 pixels out 4 levels up, those seen no more often than the
/// background. Its frames support it, its shape turns it away.
fn halo_star((x, y): (usize, usize)) -> Vec<((usize, usize), Point)> {
    let mut blob = vec![((x, y), STAR_CORE)];
    for dy in 0..5 {
        for dx in 0..5 {
            let ring = (dx as isize - 2).abs().max((dy as isize - 2).abs());
            let (mean, excess) = match ring {
                1 => (106.0, 250),
                2 => (104.0, 150),
                _ => continue,
            };
            let p = Point {
                mean,
                excess,
                seen: BACKGROUND,
                ..STAR_CORE
            };
            blob.push(((x + dx - 2, y + dy - 2), p));
        }
    }
    blob
}

#[test]
fn a_crowd_counts_the_scene_points_its_shape_turned_away() {
    // A haloed star alone is no defect: its shape turns it away.
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    let d = detect(&points(128, 64, &halo_star((20, 20))), &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    // Two stars that pass, among haloed stars of a still scene: the tile
    // holds CROWDED_TILE points that stood out in every frame, and is
    // judged as one view, where the two stars fail.
    let passing = [(8, 8), (40, 40)];
    let haloed = [(24, 8), (8, 40), (24, 24)];
    assert!(passing.len() < CROWDED_TILE && passing.len() + haloed.len() >= CROWDED_TILE);
    let mut at: Vec<_> = passing.iter().flat_map(|&p| star(p)).collect();
    at.extend(haloed.iter().flat_map(|&p| halo_star(p)));
    at.extend(star((100, 30)));
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert_eq!(d.crowded_tiles, [[0, 0]]);
    let found: Vec<_> = d.defects.iter().map(|d| (d.x, d.y)).collect();
    assert_eq!(found, [(100, 30)], "{:?}", d.defects);
    // Haloed points within a defect's own footprint (4 pixels) are its own
    // spread, not the scene's: they do not crowd the tile.
    let near = [(12, 8), (40, 36), (44, 44)];
    let mut at: Vec<_> = passing.iter().flat_map(|&p| star(p)).collect();
    at.extend(near.iter().flat_map(|&p| halo_star(p)));
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert!(d.crowded_tiles.is_empty(), "{:?}", d.crowded_tiles);
    let found: Vec<_> = d.defects.iter().map(|d| (d.x, d.y)).collect();
    assert_eq!(found.len(), 2, "{:?}", d.defects);
}

#[test]
fn on_an_astro_series_a_crowd_counts_the_light_that_passed() {
    // Points 10 levels up in 16 of 24 frames, moving 1.7 times as much as
    // the scene 2 and 4 pixels out, their light spread by the lens: light
    // passing over them, which the frames turn away on an astro series. Among them, two stars that pass: the tile
    // holds CROWDED_TILE points that stood out, and is judged as one view,
    // where the two stars fail.
    let mut ctx = astro();
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    let core = Point {
        mean: 110.0,
        sd: 18.0,
        excess: 240,
        dark: 240 * 15,
        seen: seen_bright(16, 16),
    };
    // The lens spreads the light over the 8 neighbours too (half of it).
    let spread = Point {
        mean: 105.0,
        sd: 14.0,
        excess: 120,
        dark: 120 * 15,
        seen: BACKGROUND,
    };
    let lit = |(x, y): (usize, usize)| {
        (0..9).map(move |k| {
            let p = if k == 4 { core } else { spread };
            ((x + k % 3 - 1, y + k / 3 - 1), p)
        })
    };
    let passing = [(8, 8), (40, 40)];
    let passed = [(24, 8), (8, 40), (24, 24)];
    assert!(passing.len() < CROWDED_TILE && passing.len() + passed.len() >= CROWDED_TILE);
    let mut at: Vec<_> = passing.iter().flat_map(|&p| star(p)).collect();
    at.extend(star((100, 30)));
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert_eq!(d.defects.len(), 3, "{:?}", d.defects);
    at.extend(passed.iter().flat_map(|&p| lit(p)));
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert_eq!(d.crowded_tiles, [[0, 0]]);
    let found: Vec<_> = d.defects.iter().map(|d| (d.x, d.y)).collect();
    assert_eq!(found, [(100, 30)], "{:?}", d.defects);
}

#[test]
fn a_point_beside_a_scene_point_twice_as_strong_is_its_spread() {
    // A haloed star (R, turned away by its shape) whose light reaches the G
    // subpixel beside it, a third as far up: the star's, not a photosite.
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(32, 32, 8.0, 0.1);
    let green = Point {
        mean: 103.0,
        excess: 100,
        ..STAR_CORE
    };
    let alone = subpixels(32, 32, &[((17, 16, 1), green)]);
    assert_eq!(detect(&alone, &ctx, None).defects.len(), 1);
    let mut at: Vec<_> = halo_star((16, 16))
        .into_iter()
        .map(|((x, y), p)| ((x, y, 0), p))
        .collect();
    at.push(((17, 16, 1), green));
    let d = detect(&subpixels(32, 32, &at), &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    // As far up as the star: a photosite beside it.
    let strong = Point {
        mean: 110.0,
        excess: 400,
        ..STAR_CORE
    };
    at.pop();
    at.push(((17, 16, 1), strong));
    let d = detect(&subpixels(32, 32, &at), &ctx, None);
    let found: Vec<_> = d.defects.iter().map(|d| (d.x, d.y, d.channel)).collect();
    assert_eq!(found, [(17, 16, Channel::G)], "{:?}", d.defects);
}

#[test]
fn a_block_of_tiles_crowded_with_points_is_judged_as_one_view() {
    // Stars of a tracked sky scattered two to a tile over 3x3 tiles: no
    // tile holds CROWDED_TILE of them, the block holds CROWDED_BLOCK or
    // more, so every tile of it is a still scene.
    let per_tile = CROWDED_BLOCK.div_ceil(9);
    assert!(per_tile < CROWDED_TILE);
    let mut at = Vec::new();
    for t in 0..9 {
        for k in 0..per_tile {
            let (x, y) = ((t % 3) * 64 + 12 + 24 * k, (t / 3) * 64 + 12 + 24 * k);
            at.extend(star((x, y)));
        }
    }
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(192, 192, 8.0, 0.1);
    let d = detect(&points(192, 192, &at), &ctx, None);
    assert_eq!(d.crowded_tiles.len(), 9);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    // One to a tile: under both, every star is reported.
    let one: Vec<_> = at
        .chunks(9 * per_tile)
        .flat_map(|c| &c[..9])
        .copied()
        .collect();
    let d = detect(&points(192, 192, &one), &ctx, None);
    assert!(d.crowded_tiles.is_empty());
    assert_eq!(d.defects.len(), 9, "{:?}", d.defects);
}

#[test]
fn a_crowd_that_passes_as_one_view_keeps_its_first_verdicts() {
    // Six offsets of 16 levels on one photosite each in one tile, seen in
    // every frame (a sensor with very many defects): crowded, but judged as
    // one view they still pass by their shape, so they are not a still
    // scene and every one is reported, the tile not listed.
    let offset = Point {
        mean: 110.0,
        sd: 10.0,
        excess: 400,
        dark: 0,
        seen: seen_bright(24, 0),
    };
    let at: Vec<_> = [(8, 8), (24, 8), (40, 8), (8, 24), (24, 24), (40, 40)]
        .map(|p| (p, offset))
        .to_vec();
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    let stats = points(128, 64, &at);
    let d = detect(&stats, &ctx, None);
    // The first pass did find the crowd.
    let first = crowd::Crowd::of(ctx.tiles.grid, &d.defects, &[]).crowded();
    assert_eq!(first, [true, false]);
    assert!(d.crowded_tiles.is_empty(), "{:?}", d.crowded_tiles);
    assert_eq!(d.defects.len(), 6, "{:?}", d.defects);
    assert!(
        d.defects
            .iter()
            .all(|d| (d.found_by, d.views) == (FoundBy::Frames, 8.0)),
        "{:?}",
        d.defects
    );
}

#[test]
fn a_crowded_star_astride_a_tile_edge_is_judged_whole() {
    // Five stars in tile 0, one of them at x = 63: its spread reaches
    // x = 64, in tile 1, which is not crowded. The star is one group, and
    // judged where its peak is, none of it is left as a defect.
    let at: Vec<_> = [(8, 8), (24, 8), (40, 8), (8, 24), (63, 40)]
        .into_iter()
        .flat_map(star)
        .collect();
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert_eq!(d.crowded_tiles, [[0, 0]]);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

#[test]
fn only_the_crowd_that_passes_as_one_view_refutes_it() {
    // Four stars, which fail as one view, and three sharp photosites that
    // move and are seen in 14 of 24 frames: not defects on varied frames
    // (one that moves must show in nearly every frame), but passing as one
    // view. They were not in the crowd, so they do not refute it.
    let mover = Point {
        mean: 110.0,
        sd: 30.0,
        excess: 400,
        dark: 0,
        seen: seen_bright(14, 0),
    };
    let movers = [(24, 40), (40, 40), (56, 24)].map(|p| (p, mover));
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    assert!(detect(&points(128, 64, &movers), &ctx, None)
        .defects
        .is_empty());
    let mut at: Vec<_> = [(8, 8), (24, 8), (40, 8), (8, 24)]
        .into_iter()
        .flat_map(star)
        .collect();
    at.extend(movers);
    let d = detect(&points(128, 64, &at), &ctx, None);
    assert_eq!(d.crowded_tiles, [[0, 0]]);
    let found: Vec<_> = d.defects.iter().map(|d| (d.x, d.y)).collect();
    let moved = |&(x, y): &(u32, u32)| movers.iter().any(|m| m.0 == (x as usize, y as usize));
    assert!(found.iter().all(moved), "{found:?}");
}

#[test]
fn the_crowded_path_is_the_same_on_any_number_of_threads() {
    let at: Vec<_> = [(8, 8), (24, 8), (40, 8), (8, 24), (24, 24), (40, 40)]
        .into_iter()
        .flat_map(star)
        .collect();
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform_over(128, 64, 8.0, 0.1);
    let stats = points(128, 64, &at);
    let run = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
            .install(|| detect(&stats, &ctx, None))
    };
    let (one, four) = (run(1), run(4));
    assert!(!one.crowded_tiles.is_empty());
    assert_eq!(one.defects, four.defects);
    assert_eq!(one.crowded_tiles, four.crowded_tiles);
}

/// A photosite pinned at 255 while the scene moves, seen in only 2 of 24
/// frames: its own ringing and sharpening halo, 2 pixels out, widened its
/// ring's spread and so the threshold of its sightings. Its means and σ
/// prove that it stood apart in every frame, which counts where the scene
/// moved (a third of the frames alike); on one view a clipped lamp stands
/// apart as well, and only its sightings count.
#[test]
fn where_the_scene_moved_a_point_held_apart_in_every_frame_shows_in_every_frame() {
    let pinned = one_point(255.0, 0.0, 155 * 24, 0, seen_bright(2, 0));
    let detect_at = |alike: f32| {
        let mut ctx = Context::unknown(FRAMES);
        ctx.tiles = crate::similarity::TileViews::uniform(3.0, alike);
        detect(&pinned, &ctx, None).defects
    };
    let d = detect_at(0.35);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].x, d[0].y, d[0].kind), (6, 6, Kind::Stuck));
    let d = detect_at(0.6);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn between_varied_and_one_view_stillness_counts_as_on_one_view() {
    // Pinned at 255 above a moving neighbourhood in all 24 frames, and an
    // offset of 20 levels on its photosite alone, but the frames are 3
    // views: the counts alone support neither. Tiles less than a fifth
    // alike are frames of different scenes, where the counts decide.
    let pinned = one_point(255.0, 0.0, 155 * 24, 0, seen_bright(24, 0));
    let offset = one_point(130.0, 10.0, 20 * 24, 0, seen_bright(24, 0));
    let detected = |stats: &Stats, alike: f32| {
        let mut ctx = Context::unknown(FRAMES);
        ctx.tiles = crate::similarity::TileViews::uniform(3.0, alike);
        detect(stats, &ctx, None).defects
    };
    assert!(detected(&pinned, 0.15).is_empty());
    assert!(detected(&offset, 0.15).is_empty());
    // From a fifth alike (a tripod moved now and then, a burst among other
    // scenes), what no static scene gives (stillness, an excess on one
    // photosite) is reported as it would be on one view: more views only
    // make a static scene point less likely.
    // The frames show 3 views, and where a share `alike` of their pairs
    // are alike no more than 1 / alike (0.35: 2.9), on one view 1.
    for (alike, views) in [(ALIKE_PARTLY_FROM, 3.0), (0.35, 2.9), (ALIKE_ONE_VIEW, 1.0)] {
        let (p, o) = (detected(&pinned, alike), detected(&offset, alike));
        assert_eq!(p.len(), 1, "alike {alike}: {p:?}");
        assert_eq!(o.len(), 1, "alike {alike}: {o:?}");
        assert_eq!(p[0].kind, Kind::Stuck);
        assert_eq!(o[0].kind, Kind::Warm);
        // Each says what carried it, and how many views its frames show.
        assert_eq!(p[0].found_by, FoundBy::Stillness);
        assert_eq!(o[0].found_by, FoundBy::Shape);
        assert_eq!(o[0].views, views, "alike {alike}");
    }
    // On frames of different scenes where the counts make it sure, they
    // carried it.
    let shown = one_point(130.0, 10.0, 20 * 24, 0, seen_bright(24, 0));
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform(24.0, 0.0);
    let d = detect(&shown, &ctx, None).defects;
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].found_by, d[0].views), (FoundBy::Frames, 24.0));
}

#[test]
fn on_an_astro_series_a_steady_photosite_is_warm_unless_the_scene_overtook_it() {
    // Every frame 1 s at ISO 100 (weight 15): dark current cannot be told
    // from an offset, nor a saturated hot pixel from a stuck one, even
    // where the scene moved around it.
    let astro = astro();
    let pinned = one_point(255.0, 0.0, 126 * 24, 126 * 24 * 15, seen_bright(24, 24));
    let d = detect(&pinned, &astro, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!(d.defects[0].kind, Kind::Warm);
    assert_eq!(d.defects[0].dark_rate, None);
    // The same photosite on frames of different exposures is stuck.
    let d = detect(&pinned, &varied(), None);
    assert_eq!(d.defects[0].kind, Kind::Stuck);
    // At a level the scene's light crossed (seen darker than it in 6 of
    // 24 frames), it is stuck on an astro series too.
    let crossed = Seen {
        bright: 12,
        could_bright: 24,
        dark: 6,
        could_dark: 24,
        hot: 12,
    };
    let level = one_point(160.0, 3.0, 40 * 24, 40 * 24 * 15, crossed);
    let d = detect(&level, &astro, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!(d.defects[0].kind, Kind::Stuck);
}

/// `ctx` with every tile one view: its frames alike (a tripod's still
/// foreground).
fn one_view(mut ctx: Context) -> Context {
    ctx.tiles = crate::similarity::TileViews::uniform(1.0, 1.0);
    ctx
}

/// A lamp at (6, 6) on [`points`]' background: its pixel at `level` and σ
/// `sd` in every frame, the 8 around it at 200 (the lens spreads its light,
/// 55% of it in linear light) moving as the background does.
fn lamp(level: f32, sd: f32) -> Vec<((usize, usize), Point)> {
    let point = |level: f32, sd: f32| {
        let per_frame = ((level * level - 100.0 * 100.0) / 256.0).min(126.0) as i32;
        Point {
            mean: level,
            sd,
            excess: per_frame * FRAMES as i32,
            dark: per_frame * FRAMES as i32 * 15,
            seen: seen_bright(24, 24),
        }
    };
    (5..8)
        .flat_map(|y| (5..8).map(move |x| (x, y)))
        .map(|(x, y)| {
            let centre = (x, y) == (6, 6);
            (
                (x, y),
                if centre {
                    point(level, sd)
                } else {
                    point(200.0, 10.0)
                },
            )
        })
        .collect()
}

#[test]
fn on_one_view_of_one_exposure_a_lamp_is_not_pinned() {
    // Clipped to white in every frame (σ 0), or bright and moving by its
    // noise (σ 3 where its dark ring moves by 10): on frames of one
    // exposure × gain a lamp does both, and its shape is no photosite's.
    for (level, sd) in [(255.0, 0.0), (240.0, 3.0)] {
        let stats = points(13, 13, &lamp(level, sd));
        let d = detect(&stats, &one_view(astro()), None);
        assert!(d.defects.is_empty(), "{level}: {:?}", d.defects);
        // Where the exposures differ, a scene point would move with them in
        // proportion to its level, and one staying at it is pinned.
        let d = detect(&stats, &one_view(varied()), None);
        assert_eq!(d.defects.len(), 1, "{level}: {:?}", d.defects);
        assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    }
}

#[test]
fn on_one_view_of_different_exposures_a_pinned_point_needs_no_count() {
    // A tripod bracket: a photosite held at 200 (σ 2) where its ring, at
    // 100, moves with the exposures (σ 10), seen brighter in only 9 of 24
    // frames (texture raises the per-frame threshold). A scene point would
    // scale with the exposures; one held while they change is pinned in
    // every frame, whatever the threshold saw.
    let held = Point {
        mean: 200.0,
        sd: 2.0,
        excess: 117 * 24,
        dark: 0,
        seen: seen_bright(9, 0),
    };
    let stats = points(13, 13, &[((6, 6), held)]);
    let d = detect(&stats, &one_view(varied()), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    // On frames of one exposure × gain a steady point is what a lamp or a
    // window shows: its count must carry it, and 9 of 24 does not; nor
    // where the exposures are not known.
    for ctx in [astro(), Context::unknown(FRAMES)] {
        let d = detect(&stats, &one_view(ctx), None);
        assert!(d.defects.is_empty(), "{:?}", d.defects);
    }
    // Nor one clipped to white in every frame: the clipping holds a lamp.
    let clipped = Point {
        mean: 255.0,
        sd: 0.0,
        ..held
    };
    let stats = points(13, 13, &[((6, 6), clipped)]);
    let d = detect(&stats, &one_view(varied()), None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

#[test]
fn on_one_view_of_one_exposure_a_clipped_cluster_is_pinned_a_black_point_is_not() {
    // A 2x2 cluster clipped at 255 in every frame, white after
    // demosaicing: no scene light is clipped within a square so small (the
    // optics spread a lamp or a star over more), so its stillness still
    // counts on one exposure.
    let clipped = Point {
        mean: 255.0,
        sd: 0.0,
        excess: 126 * 24,
        dark: 126 * 24 * 15,
        seen: seen_bright(24, 24),
    };
    let cluster: Vec<_> = [(6, 6), (7, 6), (6, 7), (7, 7)]
        .into_iter()
        .flat_map(|(x, y)| (0..3).map(move |c| ((x, y, c), clipped)))
        .collect();
    // (12 of 507 subpixels flagged would lift the automatic threshold of
    // so small a frame: the least one.)
    let d = detect(&subpixels(13, 13, &cluster), &one_view(astro()), Some(8.0));
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    // A point clipped to black in every frame of one view: where the scene
    // is dark its darkest points read 0 whatever their size, and stay
    // there. On frames of different scenes the counts say it is dead.
    let black = black_point();
    let stats = points(13, 13, &[((6, 6), black)]);
    let d = detect(&stats, &one_view(astro()), None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    let d = detect(&stats, &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!(d.defects[0].kind, Kind::Dead);
}

#[test]
fn on_one_view_a_clipped_photosite_is_told_by_its_shape_in_the_means() {
    // Clipped at 255 in every frame, lending the pixels beside it 60 levels
    // of its 155 (28% in linear light) and the diagonal ones 30: a bad
    // photosite's footprint. Its clamped excess sums (126 a frame) leave
    // it barely twice its neighbours' (60 a frame); the means show it.
    let sum = |level: f32| ((level * level - 100.0 * 100.0) / 256.0).min(126.0) as i32 * 24;
    let near = |level: f32| Point {
        mean: level,
        sd: 10.0,
        excess: sum(level),
        dark: sum(level) * 15,
        seen: seen_bright(12, 12),
    };
    let mut at = vec![(
        (6, 6),
        Point {
            mean: 255.0,
            sd: 0.0,
            excess: sum(255.0),
            dark: sum(255.0) * 15,
            seen: seen_bright(24, 24),
        },
    )];
    for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
        at.push((((6 + dx) as usize, (6 + dy) as usize), near(160.0)));
    }
    for (dx, dy) in [(-1, -1), (1, -1), (-1, 1), (1, 1)] {
        at.push((((6 + dx) as usize, (6 + dy) as usize), near(130.0)));
    }
    let d = detect(&points(13, 13, &at), &one_view(astro()), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
}

/// A scene subpixel of the flat background's kind (σ 10, nothing seen) at
/// `mean`.
fn plain_point(mean: f32) -> Point {
    Point {
        mean,
        sd: 10.0,
        excess: 0,
        dark: 0,
        seen: Seen::default(),
    }
}

/// A warm photosite at 130 over the background's 100, seen brighter in 22
/// of 24 frames.
fn warm_point() -> Point {
    Point {
        mean: 130.0,
        sd: 6.0,
        excess: 20 * 24,
        dark: 20 * 12 * 15,
        seen: seen_bright(22, 11),
    }
}

/// A photosite clipped to black in every frame (39 linear levels under its
/// ring), seen darker in all 24.
fn black_point() -> Point {
    Point {
        mean: 0.0,
        sd: 0.0,
        excess: -39 * 24,
        dark: -39 * 24 * 15,
        seen: seen_dark(24),
    }
}

/// A cold photosite at 70 under the background's 100, seen darker in 22
/// of 24 frames.
fn cold_point() -> Point {
    Point {
        mean: 70.0,
        sd: 6.0,
        excess: -20 * 24,
        dark: -20 * 12 * 15,
        seen: seen_dark(22),
    }
}

/// A subpixel that stands out of its ring while another part of the same
/// shape 2 pixels away stands out further: the edge of a lit window, the
/// tip of a tree against the sky. A photosite is the extreme of its
/// neighbourhood.
#[test]
fn a_point_of_a_larger_shape_that_reaches_further_is_not_a_photosite() {
    let (plain, warm, cold) = (plain_point, warm_point(), cold_point());
    for (defect, shape) in [(warm, 190.0), (cold, 20.0)] {
        // Alone, and beside a part of the shape as far out as itself (a
        // photosite lends its neighbours part of its excess): a defect.
        for beside in [None, Some(plain(defect.mean))] {
            let mut at = vec![((6, 6), defect)];
            at.extend(beside.map(|p| ((6, 8), p)));
            let d = detect(&points(13, 13, &at), &varied(), None);
            assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
            assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
        }
        // The shape going on below, further out: 2 pixels below (a window's
        // inside, the trunk under a tree's tip), or 4 below past a pale
        // stretch (a tree's tip narrowing).
        for rows in [(7, 8), (9, 10)] {
            let at = [
                ((6, 6), defect),
                ((6, rows.0), plain(shape)),
                ((6, rows.1), plain(shape)),
            ];
            let d = detect(&points(13, 13, &at), &varied(), None);
            assert!(d.defects.is_empty(), "{rows:?}: {:?}", d.defects);
        }
    }
}

/// A subpixel at the end of a shape of the scene, which runs on from it
/// one way at nearly its level for 4 pixels or more: a tree's tip against
/// a lit sky, the rim of a lamp's disc. A photosite lends the pixel beside
/// it part of its rise, and those further out little of it.
#[test]
fn a_point_that_ends_a_shape_of_the_scene_is_not_a_photosite() {
    let (plain, warm, cold) = (plain_point, warm_point(), cold_point());
    // Each stands 30 levels off the background's 100. Below it, a shape
    // `share` of that as far off, `rows` long.
    for (defect, sign) in [(warm, 1.0), (cold, -1.0)] {
        for (share, rows, found) in [(0.5, 6, 1), (0.9, 3, 1), (0.9, 4, 0), (0.9, 6, 0)] {
            let level = 100.0 + sign * 30.0 * share;
            let at: Vec<_> = (7..7 + rows)
                .map(|y| ((6, y), plain(level)))
                .chain([((6, 6), defect)])
                .collect();
            let d = detect(&points(13, 13, &at), &varied(), None);
            let what = (sign, share, rows);
            assert_eq!(d.defects.len(), found, "{what:?}: {:?}", d.defects);
            if found == 1 {
                assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6), "{what:?}");
            }
        }
    }
}

/// A subpixel that the pixels 2 away on both sides share more than half
/// its rise with lies on a line of the scene running through it: a star
/// trailing along a column near the pole, lighting each photosite of it in
/// half the frames. A photosite lends the pixels 2 away a little of its
/// rise, and a pair or a cluster lies to one side of its peak.
#[test]
fn a_point_on_a_line_running_through_it_is_not_a_photosite() {
    let (plain, warm) = (plain_point, warm_point());
    // To one side only, as far up as its neighbour in a pair: a defect.
    let at = [((6, 6), warm), ((6, 8), plain(120.0))];
    let d = detect(&points(13, 13, &at), &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    // Both sides 2 pixels away up by 0.4 of its rise: still a defect.
    let at = [
        ((6, 6), warm),
        ((6, 4), plain(112.0)),
        ((6, 8), plain(112.0)),
    ];
    let d = detect(&points(13, 13, &at), &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    // By 0.6 of it, along the column: a line of the scene.
    let column: Vec<_> = (0..13)
        .filter(|&y| y != 6)
        .map(|y| ((6, y), plain(118.0)))
        .chain([((6, 6), warm)])
        .collect();
    let d = detect(&points(13, 13, &column), &varied(), None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// A warm photosite with its light spread as demosaicing spreads it, or as
/// a lens blurs a star drifting slowly through a short series: `sides` and
/// `corners` of its rise (30 levels, 8-bit) on its 4 side and 4 corner
/// neighbours, `ring` of it on its ring 2 pixels out.
fn spread_point(sides: f32, corners: f32, ring: f32) -> Vec<((usize, usize), Point)> {
    spread_around(warm_point(), 30.0, (sides, corners, ring))
}

/// `centre` at (6, 6) over the background's 100, its rise `rise` (8-bit,
/// negative for a darker point) lent to its neighbours in the shares
/// (`sides`, `corners`, `ring`) of [`spread_point`].
fn spread_around(
    centre: Point,
    rise: f32,
    (sides, corners, ring): (f32, f32, f32),
) -> Vec<((usize, usize), Point)> {
    let plain = plain_point;
    let (x, y) = (6usize, 6usize);
    let mut at = vec![((x, y), centre)];
    for dy in -2isize..=2 {
        for dx in -2isize..=2 {
            let share = match (dx.abs(), dy.abs()) {
                (0, 0) => continue,
                (1, 0) | (0, 1) => sides,
                (1, 1) => corners,
                _ => ring,
            };
            let p = ((x as isize + dx) as usize, (y as isize + dy) as usize);
            at.push((p, plain(100.0 + rise * share)));
        }
    }
    at
}

/// Demosaicing lends a photosite's neighbours part of its light, bilinear
/// at worst: half to its 4 sides (in linear light: 0.7 of its rise in
/// levels at this level), a quarter to its corners, nothing 2 pixels out.
/// A lens's blur lights its neighbours and the ring 2 pixels out after
/// them: a star drifting a pixel a frame through 5 frames, a disc in the
/// mean, seen in most of them where its centre passed.
#[test]
fn a_point_lit_all_round_and_beyond_is_light_the_lens_spread() {
    let found =
        |at: &[((usize, usize), Point)]| detect(&points(13, 13, at), &varied(), None).defects;
    let d = found(&spread_point(0.7, 0.45, 0.0));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!((d[0].x, d[0].y), (6, 6));
    // Sharpening pulls the ring at 2 down; a little of the scene's light
    // there is no blur: still the photosite.
    for ring in [-0.1, 0.05] {
        assert_eq!(found(&spread_point(0.7, 0.45, ring)).len(), 1, "{ring}");
    }
    // Lit as much round it, and a sixth of its rise 2 pixels out.
    let d = found(&spread_point(0.75, 0.7, 0.17));
    assert!(d.is_empty(), "{d:?}");
    // A sixth 2 pixels out around a sharper photosite (its sides lent a
    // third of its rise over that ring): not lit beyond a square, a defect.
    assert_eq!(found(&spread_point(0.45, 0.2, 0.17)).len(), 1);
}

/// A lens blurs darkness as it blurs light: a dark point of the scene (a
/// gap, a hole) darkens its neighbours and the ring 2 pixels out after
/// them, where a dead or cold photosite darkens only what demosaicing
/// lends it. On a tripod bracket (hotpix-synth `tripod`, seed 0) a point of
/// the scene black in blue, its pixel and the ring around it dark in every
/// channel, passed as a dead photosite.
#[test]
fn a_point_darkened_all_round_and_beyond_is_the_lens_blurring_the_scene() {
    let found =
        |at: &[((usize, usize), Point)]| detect(&points(13, 13, at), &varied(), None).defects;
    let demosaiced = found(&spread_around(cold_point(), -30.0, (0.7, 0.45, 0.0)));
    assert_eq!(demosaiced.len(), 1, "{demosaiced:?}");
    assert_eq!(demosaiced[0].kind, Kind::Dead);
    let blurred = found(&spread_around(cold_point(), -30.0, (0.75, 0.7, 0.17)));
    assert!(blurred.is_empty(), "{blurred:?}");
}

/// A subpixel's mean, σ and Σ excess.
type MeanSdExcess = (f32, f32, i32);

/// A 13x13 series over black (mean 0.5, σ 0.5, Σ excess 0: (v² − r²) / 256
/// rounds every small rise there to 0) whose R subpixels at the given
/// places have the given means, σ and Σ excess, seen brighter in every
/// frame where their Σ excess is not 0.
fn over_black(at: &[((usize, usize), MeanSdExcess)]) -> Stats {
    over_dark(at, 0, 0.5)
}

/// A `side` x `side` frame of 3 channels over `frames` frames, every
/// subpixel at mean `mean` and σ `sd`: its layout, means and M2.
fn flat(side: usize, frames: u64, mean: f32, sd: f32) -> (Layout, Vec<f32>, Vec<f32>) {
    let layout = Layout {
        width: side,
        height: side,
        channels: 3,
    };
    let m2 = sd * sd * (frames - 1) as f32;
    (layout, vec![mean; layout.len()], vec![m2; layout.len()])
}

/// [`over_black`] with the other subpixels' Σ excess scattered over
/// −`scatter`..=`scatter` (what each frame's rounding of small differences
/// leaves in the sums of a dark scene) and their σ over the frames `sd`.
fn over_dark(at: &[((usize, usize), MeanSdExcess)], scatter: i32, sd: f32) -> Stats {
    let (layout, mut m, mut m2) = flat(13, FRAMES, 0.5, sd);
    let n1 = (FRAMES - 1) as f32;
    let quiet = Evidence {
        excess: 0,
        dark: 0,
        seen: Seen {
            could_bright: 24,
            ..Seen::default()
        },
    };
    let mut evidence = vec![quiet; layout.len()];
    for (i, e) in evidence.iter_mut().enumerate() {
        // A fixed pattern, spread evenly over the range.
        e.excess = (i as i32 * 7) % (2 * scatter + 1) - scatter;
        e.dark = e.excess * 15;
    }
    for &((x, y), (mean, sd, excess)) in at {
        let i = (y * 13 + x) * 3;
        m[i] = mean;
        m2[i] = sd * sd * n1;
        if excess != 0 {
            evidence[i] = Evidence {
                excess,
                dark: excess * 15,
                seen: seen_bright(24, 24),
            };
        }
    }
    Stats::from_parts(FRAMES, layout, Moments::Welford { mean: m, m2 }, evidence)
}

/// A point `rise` levels over black at (`x`, `y`), seen in every frame
/// (Σ excess 24), whose 4 neighbours are lent `lent` of its rise: the
/// places and values of [`over_black`] and [`over_dark`].
fn cross((x, y): (usize, usize), rise: f32, lent: f32) -> Vec<((usize, usize), MeanSdExcess)> {
    let mut at = vec![((x, y), (0.5 + rise, 1.3, 24))];
    for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
        let p = ((x as isize + dx) as usize, (y as isize + dy) as usize);
        at.push((p, (0.5 + rise * lent, 1.0, 0)));
    }
    at
}

/// On one view (a static dark foreground) only the shape tells a photosite
/// from the scene. 17 levels over black are one linear level a frame and
/// the neighbours' rise rounds to none, so the linear sums call anything
/// there sharp. In 8-bit levels the photosite stands out, its neighbours
/// lent a third of its rise by demosaicing (an eighth of its light), while
/// a star as bright, whose neighbours the lens lends 40% of its light (65%
/// of its rise in levels), does not.
#[test]
fn over_black_on_one_view_a_photosite_is_told_by_its_shape_in_levels() {
    let around = |at: (usize, usize), lent: f32| over_black(&cross(at, 17.0, lent));
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform(1.0, 1.0);
    let d = detect(&around((6, 6), 0.35), &ctx, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    assert_eq!((d.defects[0].seen, d.defects[0].could_show), (24, 24));
    let d = detect(&around((6, 6), 0.65), &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// Over black the linear sums are as blind on frames of different scenes:
/// 20 levels over black are one linear level a frame, within what the
/// rounding of each frame scatters the neighbours' sums by. The shape in
/// 8-bit levels tells the photosite there too (the frames' counts then
/// support it), and still not a star's light spread by the lens.
#[test]
fn over_black_on_varied_frames_a_photosite_is_told_by_its_shape_in_levels() {
    let around = |at: (usize, usize), lent: f32| over_dark(&cross(at, 20.0, lent), 8, 0.5);
    let ctx = varied();
    let d = detect(&around((6, 6), 0.35), &ctx, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    let d = detect(&around((6, 6), 0.65), &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// Over black the noise a mean can carry is what its neighbourhood moves
/// by, down to the least JPEG leaves: a photosite 12 levels over a
/// foreground clipped to black in every frame stands out by far more than
/// anything there moves, while over a dark foreground whose neighbours move
/// by 2 levels a frame (JPEG noise) the same rise is within what scene
/// points there show.
#[test]
fn over_black_the_shape_is_measured_against_what_the_neighbourhood_moves() {
    let around = |sd: f32| {
        let (x, y) = (6, 6);
        let mut at = vec![((x, y), (12.5, 1.3, 24))];
        for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
            let p = ((x as isize + dx) as usize, (y as isize + dy) as usize);
            at.push((p, (0.5 + 12.0 * 0.35, sd, 0)));
        }
        over_dark(&at, 0, sd)
    };
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform(1.0, 1.0);
    let d = detect(&around(0.5), &ctx, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    let d = detect(&around(2.0), &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// Over a dark sky the noise of a mean is a frame's noise over √views: on
/// frames of different scenes (a drifting sky) each frame's noise is its
/// own, so 24 of them average it down to a fifth, and a photosite 7 levels
/// up, its neighbours lent a third of that, stands 17 of those out. On one
/// view of the same frames (a still foreground) the noise repeats in every
/// frame: the same rise is 3.5 times what its neighbours move by, as a
/// scene point's could be.
#[test]
fn over_dark_the_mean_of_many_views_is_quieter_than_one_frame() {
    let (x, y) = (6, 6);
    let mut at = vec![((x, y), (7.5, 1.3, 1))];
    for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
        let p = ((x as isize + dx) as usize, (y as isize + dy) as usize);
        at.push((p, (0.5 + 7.0 * 0.3, 2.0, 0)));
    }
    let stats = over_dark(&at, 0, 2.0);
    let d = detect(&stats, &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    // One view, and frames counted as many views but alike in half their
    // pairs (a still scene around the tile): the noise repeats.
    for (views, alike) in [(1.0, 1.0), (FRAMES as f32, ALIKE_ONE_VIEW)] {
        let mut ctx = varied();
        ctx.tiles = crate::similarity::TileViews::uniform(views, alike);
        let d = detect(&stats, &ctx, None);
        assert!(d.defects.is_empty(), "{views} {alike}: {:?}", d.defects);
    }
}

/// Over a dark sky on frames of different scenes, a defect pair lights its
/// partner as much as itself: its shape is a group's, and the counts show
/// it stays where the scene moves. On one view a pair of lights could be
/// the scene's, and only one photosite's shape counts. A point the lens
/// spread lights all its neighbours, and fails either way.
#[test]
fn over_dark_on_varied_frames_a_pair_is_sharp_beside_its_partner() {
    let pair = over_dark(
        &[((6, 6), (16.5, 1.3, 1)), ((7, 6), (14.5, 1.3, 1))],
        0,
        0.5,
    );
    let d = detect(&pair, &varied(), None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (6, 6));
    let mut still = varied();
    still.tiles = crate::similarity::TileViews::uniform(1.0, 1.0);
    let d = detect(&pair, &still, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
    let mut disc = vec![((6, 6), (16.5, 1.3, 1))];
    for (dx, dy) in super::shape::NEIGHBOURS {
        let p = ((6 + dx) as usize, (6 + dy) as usize);
        disc.push((p, (0.5 + 16.0 * 0.65, 1.3, 1)));
    }
    let d = detect(&over_dark(&disc, 0, 0.5), &varied(), None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// Over black a faint point's rise rounds to a few linear levels in all
/// (Σ excess 3 over 24 frames: a distant window 4 levels over a black
/// foreground, its light spread by the lens so that its shape in levels
/// says nothing), and Σ weight × excess holds the same quanta, each times
/// its frame's weight (15 on an astro series). Where the spreads sit at
/// their floor, the weighted sum's floor is the plain one's times the
/// frames' RMS weight, so both say the point stands 2 floors out; with one
/// floor for both, the weighted sum made it 30 and a report.
#[test]
fn over_black_the_weighted_sum_says_no_more_than_the_plain_one() {
    let mut window = vec![((6, 6), (4.5, 1.8, 3))];
    for (x, y) in [(5, 6), (7, 6), (6, 5), (6, 7)] {
        window.push(((x, y), (0.5 + 4.0 * 0.65, 1.0, 0)));
    }
    let stats = over_black(&window);
    for ctx in [astro(), varied()] {
        let f = features_at(&stats, &ctx, 8.0, (6, 6, 0));
        assert!(f.magnitude < 8.0, "{f:?}");
        let d = detect(&stats, &ctx, None);
        assert!(d.defects.is_empty(), "{:?}", d.defects);
    }
    // The same rise in 24 frames of 1 linear level each (Σ 24) is there.
    let stats = over_black(&[((6, 6), (17.5, 1.3, 24))]);
    assert_eq!(detect(&stats, &astro(), None).defects.len(), 1);
}

#[test]
fn row_scores_are_the_features_one_by_one() {
    let stats = one_point(150.0, 5.0, 500, 3000, seen_bright(20, 10));
    let ctx = varied();
    let scores = Scores::new(&stats, &ctx, 8.0);
    let mut rows = Vec::new();
    scores.rows(0..13, |y, row| rows.push((y, row.to_vec())));
    assert_eq!(rows.len(), 13);
    for (y, row) in rows {
        for (xc, &v) in row.iter().enumerate() {
            assert_eq!(
                v,
                features_at(&stats, &ctx, 8.0, (xc / 3, y, xc % 3)).score,
                "({}, {y})",
                xc / 3
            );
        }
    }
}

#[test]
fn sample_blocks_are_inside_the_frame_spread_and_disjoint() {
    for height in [1usize, 5, 8, 9, 100, 2592, 5504] {
        let blocks = super::sample_blocks(height, 96);
        let rows: usize = blocks.iter().map(|b| b.len()).sum();
        assert!(rows >= 96.min(height), "{height}: {rows} rows");
        for w in blocks.windows(2) {
            assert!(w[0].end <= w[1].start, "{height}: {blocks:?}");
        }
        assert!(blocks.iter().all(|b| !b.is_empty() && b.end <= height));
        if height >= 2592 {
            // Spread: the first block in the first tenth, the last in the last.
            assert!(blocks[0].start < height / 10 && blocks.last().unwrap().end > height * 9 / 10);
        }
    }
}

/// Random statistics of a `width` x `height` frame of `channels` over
/// `frames` frames (from `seed`): most subpixels near a background, a share
/// `outliers` of them anywhere (bright, dark, pinned, noisy, seen in any
/// number of the frames that could show them), so that magnitudes cross the
/// gate and the frames' support either way.
fn random_stats(
    seed: u64,
    (width, height, channels): (usize, usize, usize),
    frames: u64,
    revealing: u64,
    outliers: f64,
    dark: bool,
) -> Stats {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // A dark background (a night sky, a dark foreground: references on both
    // sides of LINEAR_COARSE_BELOW) with points up to 40 levels over it, or
    // a mid-grey one with points anywhere.
    let base = if dark {
        rng.random_range(0.5..20.0f32)
    } else {
        100.0
    };
    let layout = Layout {
        width,
        height,
        channels,
    };
    let n1 = (frames - 1) as f32;
    let f = frames as u32;
    let mut mean = Vec::with_capacity(layout.len());
    let mut m2 = Vec::with_capacity(layout.len());
    let mut evidence = Vec::with_capacity(layout.len());
    for _ in 0..layout.len() {
        let wild = rng.random_bool(outliers);
        let (m, sd, excess, dark_sum) = if wild {
            (
                if dark {
                    base + rng.random_range(0.0..40.0f32)
                } else {
                    rng.random_range(0.0..=255.0f32)
                },
                rng.random_range(0.0..80.0f32),
                rng.random_range(-40 * f as i32..=40 * f as i32),
                rng.random_range(-400 * f as i32..=600 * f as i32),
            )
        } else if dark {
            (
                base + rng.random_range(-0.5..0.5f32),
                rng.random_range(0.3..3.0f32),
                rng.random_range(-2..=2),
                rng.random_range(-20..=20),
            )
        } else {
            (
                100.0 + rng.random_range(-5.0..5.0f32),
                10.0 + rng.random_range(-3.0..3.0f32),
                rng.random_range(-10..=10),
                rng.random_range(-100..=100),
            )
        };
        let could_bright = rng.random_range(0..=f);
        let could_dark = rng.random_range(0..=f);
        let bright = if wild {
            rng.random_range(0..=could_bright)
        } else {
            rng.random_range(0..=could_bright.min(2))
        };
        let seen = Seen {
            bright,
            could_bright,
            dark: rng.random_range(0..=could_dark.min(f - bright)),
            could_dark,
            hot: rng.random_range(0..=bright.min(revealing as u32)),
        };
        mean.push(m);
        m2.push(sd * sd * n1);
        evidence.push(Evidence {
            excess,
            dark: dark_sum,
            seen,
        });
    }
    Stats::from_parts(frames, layout, Moments::Welford { mean, m2 }, evidence)
}

proptest::proptest! {
    /// [`Scorer::bound`] is at or above the score of every subpixel, within
    /// the margin [`flagged`] gives it: a subpixel whose bound falls under
    /// the threshold is never scored, so a bound below the score would miss
    /// a defect silently. Over random statistics and contexts (views and
    /// alike pairs, exposures, threshold), read in bands of any height.
    #[test]
    fn the_bound_is_never_below_the_score(
        seed in 0u64..1_000_000,
        width in 1usize..12,
        height in 1usize..12,
        grey in proptest::bool::ANY,
        frames in 2u64..60,
        revealing_share in 0.0f64..=1.0,
        views_share in 0.0f32..=1.0,
        alike in 0.0f32..=1.0,
        threshold in 0.5f32..30.0,
        outliers in 0.0f64..0.5,
        band_rows in 1usize..12,
        dark in proptest::bool::ANY,
    ) {
        let channels = if grey { 1 } else { 3 };
        let revealing = (revealing_share * frames as f64).round() as u64;
        let stats = random_stats(
            seed,
            (width, height, channels),
            frames,
            revealing,
            outliers,
            dark,
        );
        let mut ctx = Context::unknown(frames);
        // Revealing frames of weights 1 to 15, the others 0.
        let weights: Vec<f64> = (0..revealing).map(|k| (1 + k % 15) as f64).collect();
        ctx.dark_sum = weights.iter().sum();
        ctx.dark_sq = weights.iter().map(|w| w * w).sum();
        ctx.revealing = revealing;
        let views = 1.0 + views_share * (frames - 1) as f32;
        ctx.tiles = crate::similarity::TileViews::uniform(views, alike);
        let scorer = Scorer::new(&stats, &ctx, threshold);
        let stride = width * channels;
        for lo in (0..height).step_by(band_rows) {
            let rows = lo..(lo + band_rows).min(height);
            let mut band = Band::new(&stats, rows.clone());
            for y in rows {
                band.load_row(y);
                for xc in 0..stride {
                    let bound = scorer.bound(&band, y, xc);
                    let f = scorer.features(&band, y, xc);
                    proptest::prop_assert!(
                        bound * (1.0 + 1e-5) >= f.score,
                        "({}, {y}, channel {}): bound {bound} < score {}: {f:?}",
                        xc / channels,
                        xc % channels,
                        f.score
                    );
                }
            }
        }
    }
}

#[test]
fn one_exposure_is_one_exposure_times_iso_in_every_frame() {
    let of = Exposures::of;
    let astro = [(Some(20.0), Some(400)); 5];
    assert_eq!(of(&astro), Exposures::One);
    // 1/3 s at ISO 800 is 1/6 s at ISO 1600 (EXIF rounding within 2%).
    let same = [(Some(0.333), Some(800)), (Some(1.0 / 6.0), Some(1600))];
    assert_eq!(of(&same), Exposures::One);
    // Without an ISO, ISO 100 as for the dark-current weights.
    let no_iso = [(Some(2.0), None), (Some(2.0), Some(100))];
    assert_eq!(of(&no_iso), Exposures::One);
    // Known to differ: a third of a stop apart, every time known.
    let bracket = [(Some(20.0), Some(400)), (Some(25.0), Some(400))];
    assert_eq!(of(&bracket), Exposures::Differ);
    // A frame without its time, or no frame: not known either way.
    assert_eq!(
        of(&[(Some(20.0), Some(400)), (None, Some(400))]),
        Exposures::Unknown
    );
    assert_eq!(
        of(&[(Some(20.0), Some(400)), (None, Some(1600))]),
        Exposures::Unknown
    );
    assert_eq!(of(&[]), Exposures::Unknown);
}

/// Five frames of a drifting sky near black (mean 3, σ `sd` over the
/// frames, one subpixel in `seen_in` of every 10 seen brighter once: the
/// seen rule's least step is a noise step or two there), 17x17, whose R
/// subpixel at (8, 8) stands at `level` with σ 2 and was seen brighter in
/// all 5 frames.
fn five_over_the_sky(sky: f32, level: f32, sd: f32, seen_in: usize) -> Stats {
    const N: u64 = 5;
    let (layout, mut m, mut m2) = flat(17, N, sky, sd);
    let n1 = (N - 1) as f32;
    let mut evidence: Vec<Evidence> = (0..layout.len())
        .map(|i| Evidence {
            excess: 0,
            dark: 0,
            seen: Seen {
                bright: u32::from(i / 3 % 10 < seen_in),
                could_bright: 5,
                ..Seen::default()
            },
        })
        .collect();
    let i = (8 * 17 + 8) * 3;
    let per_frame = ((level * level - sky * sky) / 256.0) as i32;
    m[i] = level;
    m2[i] = 2.0 * 2.0 * n1;
    evidence[i] = Evidence {
        excess: per_frame * N as i32,
        dark: per_frame * N as i32 * 15,
        seen: Seen {
            bright: 5,
            could_bright: 5,
            hot: 5,
            ..Seen::default()
        },
    };
    Stats::from_parts(N, layout, Moments::Welford { mean: m, m2 }, evidence)
}

/// Near black a neighbourhood passes the seen rule's least step (3 levels)
/// in a tenth of frames or more, so 5 of 5 frames alone cannot make a
/// defect sure (0.12⁵ ≈ 10^−4.6). A photosite 60 levels up, whose means
/// and σ hold it there in every frame, is weighed instead against the
/// share of its neighbours' frames that reach 60 levels, which their own
/// means and σ bound (Cantelli) far under any chance rate: it is found.
/// Where the neighbours' frames do reach that level (a trail crossed them:
/// σ 25 over the frames), their share stays that of the seen rule, and it
/// is not.
#[test]
fn a_point_held_far_beyond_its_sky_is_weighed_against_how_often_the_sky_reaches_it() {
    let mut ctx = Context::unknown(5);
    ctx.tiles = crate::similarity::TileViews::uniform(5.0, 0.0);
    let quiet = five_over_the_sky(3.0, 63.0, 2.0, 6);
    let d = detect(&quiet, &ctx, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (8, 8));
    let f = features_at(&quiet, &ctx, 8.0, (8, 8, 0));
    assert!(f.strength.bright >= 5.0, "{f:?}");
    let crossed = five_over_the_sky(3.0, 63.0, 25.0, 6);
    let d = detect(&crossed, &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// The same over a sky at 18 levels (16 and up), where the linear sums are
/// fine enough that no 8-bit shape is scored on frames of different
/// scenes: the held level is weighed wherever the point sits on its
/// photosite alone (a hot pixel 50 levels over a drifting sky of 5 frames,
/// detection.py's sky5 at seed offset 400, hotpix-synth `night-sky` seed
/// 422, was missed for want of it), and still not where a trail crossed
/// its neighbours.
#[test]
fn over_a_brighter_sky_a_sharp_point_held_apart_is_weighed_the_same() {
    let mut ctx = Context::unknown(5);
    ctx.tiles = crate::similarity::TileViews::uniform(5.0, 0.0);
    let quiet = five_over_the_sky(18.0, 68.0, 2.0, 6);
    let f = features_at(&quiet, &ctx, 16.0, (8, 8, 0));
    assert_eq!(f.still, 0.0, "{f:?}");
    let d = detect(&quiet, &ctx, None);
    assert_eq!(d.defects.len(), 1, "{:?}", d.defects);
    assert_eq!((d.defects[0].x, d.defects[0].y), (8, 8));
    let crossed = five_over_the_sky(18.0, 68.0, 25.0, 6);
    let d = detect(&crossed, &ctx, None);
    assert!(d.defects.is_empty(), "{:?}", d.defects);
}

/// A photosite black in every frame of different scenes is dead; beside a
/// light clipped white 2 pixels away (a lamp: 3x3 pixels at 255 in every
/// frame, never standing out of their ring, clipped as well) the same black
/// point is the light's sharpening fringe, and no dead photosite is
/// reported. A clipped partner 1 pixel away may be its
/// own group's (a stuck photosite of a pair): the pair is reported whole.
#[test]
fn a_black_point_beside_a_clipped_light_is_its_sharpening_fringe() {
    let black = black_point();
    let clipped = Point {
        mean: 255.0,
        sd: 0.0,
        excess: 126 * 24,
        dark: 126 * 24 * 15,
        seen: seen_bright(24, 12),
    };
    let dead = |d: &Detection| d.defects.iter().filter(|d| d.kind == Kind::Dead).count();
    let alone = detect(&points(17, 17, &[((8, 8), black)]), &varied(), None);
    assert_eq!(dead(&alone), 1, "{:?}", alone.defects);
    // The lamp's own pixels never stand out of their ring, clipped too.
    let lit = Point {
        seen: Seen {
            could_bright: 24,
            ..Seen::default()
        },
        ..clipped
    };
    let mut lamp = vec![((8, 8), black)];
    lamp.extend((10..13).flat_map(|x| (7..10).map(move |y| ((x, y), lit))));
    let beside = detect(&points(17, 17, &lamp), &varied(), None);
    assert_eq!(dead(&beside), 0, "{:?}", beside.defects);
    let pair = detect(
        &points(17, 17, &[((8, 8), black), ((9, 8), clipped)]),
        &varied(),
        None,
    );
    assert_eq!(pair.defects.len(), 1, "{:?}", pair.defects);
    assert_eq!(pair.defects[0].pixels, 2, "{:?}", pair.defects);
}
