//! The defect score of the whole frame at a viewable size: each map pixel is
//! the highest score of the subpixels in its `factor` × `factor` block, so a
//! single bad subpixel survives any reduction (an average would dilute it by
//! factor² × 3).
//!
//! The scores are computed and pooled row block by row block in parallel; no
//! full-size plane is allocated (a 3872x2592 frame has 30 million subpixels).

use rayon::prelude::*;

use crate::detect::{Context, Scores};
use crate::stats::Stats;

/// Max-pooled scores, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreMap {
    /// Map width: ceil(frame width / factor).
    pub width: usize,
    /// Map height: ceil(frame height / factor).
    pub height: usize,
    /// Frame pixels per map pixel along each axis.
    pub factor: usize,
    /// The highest score over the block's pixels and channels.
    pub values: Vec<f32>,
}

impl ScoreMap {
    /// The pooled score of map pixel (x, y).
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.values[y * self.width + x]
    }
}

/// The score map of `stats`, max-pooled over blocks of `factor` × `factor`
/// frame pixels (`factor` 1 keeps every pixel, with the highest of its channels).
pub fn score_map(stats: &Stats, ctx: &Context, threshold: f64, factor: usize) -> ScoreMap {
    let factor = factor.max(1);
    let (w, h) = (stats.width() as usize, stats.height() as usize);
    let channels = stats.channels();
    let (mw, mh) = (w.div_ceil(factor), h.div_ceil(factor));
    let mut values = vec![0f32; mw * mh];
    let scores = Scores::new(stats, ctx, threshold);
    // Map rows in groups of at least 32 frame rows, so each task reads its
    // rows' neighbourhood once.
    let per_task = 32usize.div_ceil(factor).max(1);
    if mw > 0 {
        values
            .par_chunks_mut(mw * per_task)
            .enumerate()
            .for_each(|(t, rows)| {
                let first = t * per_task * factor;
                let last = (first + per_task * factor).min(h);
                scores.rows(first..last, |y, row| {
                    let cells = &mut rows[(y - first) / factor * mw..][..mw];
                    for (x, pixel) in row.chunks_exact(channels).enumerate() {
                        let best = pixel.iter().fold(0f32, |a, &b| a.max(b));
                        let cell = &mut cells[x / factor];
                        *cell = cell.max(best);
                    }
                });
            });
    }
    ScoreMap {
        width: mw,
        height: mh,
        factor,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::features_at;
    use crate::evidence::{Evidence, Layout, Seen};
    use crate::stats::Moments;

    /// A grey series with one bright subpixel, consistent in every frame
    /// and seen in every frame, where its neighbourhood was seen in none.
    fn stats_with_hot_pixel(w: usize, h: usize, (hx, hy): (usize, usize)) -> Stats {
        let frames = 10u64;
        let layout = Layout {
            width: w,
            height: h,
            channels: 3,
        };
        let mut mean = vec![100f32; layout.len()];
        // A varying scene: each subpixel moves by σ = 10 over the frames.
        let m2 = vec![100f32 * (frames - 1) as f32; layout.len()];
        let could = Seen {
            could_bright: 10,
            could_dark: 10,
            ..Seen::default()
        };
        let mut evidence: Vec<Evidence> = (0..layout.len())
            .map(|i| {
                let (y, x, c) = (i / 3 / w, i / 3 % w, i % 3);
                Evidence {
                    excess: ((y * 7 + x * 13 + c * 5) % 11) as i32 - 5,
                    dark: 0,
                    seen: could,
                }
            })
            .collect();
        let hot = (hy * w + hx) * 3 + 1;
        mean[hot] = 200.0;
        evidence[hot].excess = 1000;
        evidence[hot].seen.bright = 10;
        Stats::from_parts(frames, layout, Moments::Welford { mean, m2 }, evidence)
    }

    #[test]
    fn one_hot_subpixel_survives_pooling() {
        let stats = stats_with_hot_pixel(50, 40, (23, 17));
        let ctx = Context::unknown(10);
        let full = features_at(&stats, &ctx, 8.0, (23, 17, 1)).score;
        assert!(full > 10.0, "the hot subpixel scores {full}");
        for factor in [1, 2, 3, 7, 50] {
            let map = score_map(&stats, &ctx, 8.0, factor);
            assert_eq!(
                (map.width, map.height),
                (50usize.div_ceil(factor), 40usize.div_ceil(factor))
            );
            let peak = map.at(23 / factor, 17 / factor);
            assert_eq!(peak, full, "factor {factor}");
            let max = map.values.iter().copied().fold(0f32, f32::max);
            assert_eq!(max, full, "factor {factor}");
        }
    }

    #[test]
    fn pooling_is_the_maximum_of_the_full_map() {
        let stats = stats_with_hot_pixel(30, 70, (9, 39));
        let ctx = Context::unknown(10);
        let full = score_map(&stats, &ctx, 8.0, 1);
        let pooled = score_map(&stats, &ctx, 8.0, 4);
        for my in 0..pooled.height {
            for mx in 0..pooled.width {
                let mut best = 0f32;
                for y in my * 4..((my + 1) * 4).min(70) {
                    for x in mx * 4..((mx + 1) * 4).min(30) {
                        best = best.max(full.at(x, y));
                    }
                }
                assert_eq!(pooled.at(mx, my), best);
            }
        }
    }

    #[test]
    fn a_defect_at_the_corner_is_scored() {
        let stats = stats_with_hot_pixel(20, 20, (0, 0));
        let ctx = Context::unknown(10);
        assert!(score_map(&stats, &ctx, 8.0, 1).at(0, 0) > 10.0);
    }
}
