//! The defect score of the whole frame at a viewable size: each map pixel is
//! the highest score of the subpixels in its `factor` × `factor` block, so a
//! single bad subpixel survives any reduction (an average would dilute it by
//! factor² × 3).
//!
//! The scores are computed and pooled row block by row block in parallel; no
//! full-size plane is allocated (a 3872x2592 frame has 30 million subpixels).

use rayon::prelude::*;

use crate::detect::score_row;
use crate::stats::{Stats, CHANNELS};

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
pub fn score_map(stats: &Stats, similarity: Option<f64>, factor: usize) -> ScoreMap {
    let factor = factor.max(1);
    let (w, h) = (stats.width() as usize, stats.height() as usize);
    let (mw, mh) = (w.div_ceil(factor), h.div_ceil(factor));
    let mut values = vec![0f32; mw * mh];
    if mw > 0 {
        values.par_chunks_mut(mw).enumerate().for_each(|(my, row)| {
            let mut scores = vec![0f32; w * CHANNELS];
            for y in my * factor..((my + 1) * factor).min(h) {
                score_row(stats, similarity, y, &mut scores);
                for (x, pixel) in scores.chunks_exact(CHANNELS).enumerate() {
                    let best = pixel.iter().fold(0f32, |a, &b| a.max(b));
                    let cell = &mut row[x / factor];
                    *cell = cell.max(best);
                }
            }
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
    use crate::detect::score_at;
    use ndarray::Array3;

    /// A flat grey series with one hot subpixel.
    fn stats_with_hot_pixel(w: usize, h: usize, (hx, hy): (usize, usize)) -> Stats {
        let frames = 10u64;
        let mut mean = Array3::from_elem((h, w, CHANNELS), 100f32);
        // A varying scene: each subpixel moves by σ = 10 over the frames.
        let m2 = Array3::from_elem((h, w, CHANNELS), 100f32 * (frames - 1) as f32);
        let mut votes = Array3::zeros((h, w, CHANNELS));
        mean[[hy, hx, 1]] = 200.0;
        votes[[hy, hx, 1]] = frames as i32;
        Stats {
            frames,
            mean,
            m2,
            votes,
        }
    }

    #[test]
    fn one_hot_subpixel_survives_pooling() {
        let stats = stats_with_hot_pixel(50, 40, (23, 17));
        let full = score_at(&stats, None, 23, 17, 1);
        assert!(full > 1.0, "the hot subpixel scores {full}");
        for factor in [1, 2, 3, 7, 50] {
            let map = score_map(&stats, None, factor);
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
        let stats = stats_with_hot_pixel(30, 20, (9, 9));
        let full = score_map(&stats, None, 1);
        let pooled = score_map(&stats, None, 4);
        for my in 0..pooled.height {
            for mx in 0..pooled.width {
                let mut best = 0f32;
                for y in my * 4..((my + 1) * 4).min(20) {
                    for x in mx * 4..((mx + 1) * 4).min(30) {
                        best = best.max(full.at(x, y));
                    }
                }
                assert_eq!(pooled.at(mx, my), best);
            }
        }
    }

    #[test]
    fn border_scores_nothing() {
        let stats = stats_with_hot_pixel(20, 20, (10, 10));
        assert_eq!(score_at(&stats, None, 0, 0, 0), 0.0);
        assert_eq!(score_at(&stats, None, 19, 10, 2), 0.0);
        assert_eq!(score_at(&stats, None, 25, 10, 0), 0.0);
    }
}
