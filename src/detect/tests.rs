//! Detection on hand-made statistics, where the answer is known.

use super::*;
use crate::evidence::{Evidence, Layout, Seen};
use crate::stats::Moments;

const FRAMES: u64 = 24;

/// A 13x13 series on a flat background (mean 100, σ 10, excess sums with a
/// little texture, each subpixel seen brighter or darker in 1 frame of 24)
/// whose R subpixel at (6, 6) has `mean`, `sd`, Σ excess `excess`, Σ weight
/// × excess `dark`, and was seen as `seen` says.
fn one_point(mean: f32, sd: f32, excess: i32, dark: i32, seen: Seen) -> Stats {
    let layout = Layout {
        width: 13,
        height: 13,
        channels: 3,
    };
    let n1 = (FRAMES - 1) as f32;
    let mut m = vec![100.0f32; layout.len()];
    let mut m2 = vec![10.0 * 10.0 * n1; layout.len()];
    let background = Seen {
        bright: 1,
        could_bright: 24,
        dark: 1,
        could_dark: 24,
        hot: 0,
    };
    let mut evidence: Vec<Evidence> = (0..layout.len())
        .map(|i| {
            let (y, x, c) = (i / 39, i / 3 % 13, i % 3);
            Evidence {
                excess: ((y * 7 + x * 13 + c * 5) % 11) as i32 - 5,
                dark: ((y * 3 + x * 11 + c * 7) % 13) as i32 * 4 - 24,
                seen: background,
            }
        })
        .collect();
    let at = (6 * 13 + 6) * 3;
    m[at] = mean;
    m2[at] = sd * sd * n1;
    evidence[at] = Evidence { excess, dark, seen };
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

fn varied() -> Context {
    let mut ctx = Context::unknown(FRAMES);
    // Half the frames long enough to show dark current, weights 0 and 15.
    ctx.dark_sum = 15.0 * 12.0;
    ctx.dark_sq = 225.0 * 12.0;
    ctx.revealing = 12;
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
fn a_burst_counts_as_one_view() {
    // Seen in every frame, but the frames are 3 views: 3 sightings cannot
    // be told from a coincidence of scene details.
    let stats = one_point(110.0, 10.0, 400, 0, seen_bright(24, 0));
    let mut ctx = Context::unknown(FRAMES);
    ctx.tiles = crate::similarity::TileViews::uniform(3.0, 0.2);
    assert!(detect(&stats, &ctx, None).defects.is_empty());
    ctx.tiles = crate::similarity::TileViews::uniform(8.0, 0.1);
    assert_eq!(detect(&stats, &ctx, None).defects.len(), 1);
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
