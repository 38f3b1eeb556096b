//! Ranks subpixels by variance: the lowest (stuck candidates) and the highest.
//!
//! Ties are broken by position (y, x, channel), i.e. by flat index, so that the
//! ranking is a total order and the output is the same for any number of
//! workers.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::Serialize;

use crate::stats::Stats;

/// A colour channel of an RGB frame, or `L` for the one channel of a
/// greyscale frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Channel {
    R,
    G,
    B,
    L,
}

impl Channel {
    /// The channels of an RGB frame, in order.
    pub const ALL: [Channel; 3] = [Channel::R, Channel::G, Channel::B];

    /// Channel `c` of a frame with `channels` channels.
    pub fn of(channels: usize, c: usize) -> Channel {
        if channels == 1 {
            Channel::L
        } else {
            Channel::ALL[c]
        }
    }

    /// Index of the channel in its pixel (0 for `L`).
    pub fn index(self) -> usize {
        match self {
            Channel::L => 0,
            c => c as usize,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Channel::R => "R",
            Channel::G => "G",
            Channel::B => "B",
            Channel::L => "L",
        }
    }
}

/// One ranked subpixel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedSubpixel {
    /// Column, 0 at the left of the stored (unrotated) frame.
    pub x: u32,
    /// Row, 0 at the top of the stored frame.
    pub y: u32,
    /// Colour channel.
    pub channel: Channel,
    /// Mean 8-bit value over the frames.
    pub mean: f32,
    /// Sample variance (n − 1 in the denominator).
    pub variance: f32,
    /// Standard deviation, the square root of `variance`.
    pub stddev: f32,
}

/// Which end of the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Lowest,
    Highest,
}

/// A candidate under the total order of the ranking: "less" is better.
#[derive(Debug, Clone, Copy)]
struct Key {
    /// M2, which orders like the variance (M2 / (n − 1), one n for all).
    m2: f64,
    index: usize,
    end: End,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_variance = match self.end {
            End::Lowest => self.m2.total_cmp(&other.m2),
            End::Highest => other.m2.total_cmp(&self.m2),
        };
        by_variance.then(self.index.cmp(&other.index))
    }
}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}

/// The `top` best subpixels at `end` of the variance ranking, best first.
pub fn rank(stats: &Stats, end: End, top: usize) -> Vec<RankedSubpixel> {
    if top == 0 {
        return Vec::new();
    }
    let layout = stats.layout();
    let stride = layout.stride();
    let len = layout.len();
    // No list is longer than the subpixels there are (`--top 1e11` must not
    // allocate for them).
    let top = top.min(len);
    // Bands of whole rows; each keeps its own bounded heap (its worst kept
    // candidate on top), and the heaps are combined at the end.
    let rows = 64;
    let heap = (0..layout.height.div_ceil(rows))
        .into_par_iter()
        .map(|b| {
            let band_len = stride * rows;
            let mut heap = BinaryHeap::with_capacity(top.min(band_len) + 1);
            let mut m2 = vec![0f32; stride];
            // M2 orders like the variance (one divisor for all). Indices
            // only grow within a band, so a value no better than the worst
            // kept loses its tie too, and is passed over without a heap.
            let mut worst = None;
            for y in b * rows..((b + 1) * rows).min(layout.height) {
                stats.m2_row(y, &mut m2);
                for (xc, &v) in m2.iter().enumerate() {
                    // (In the total order of the keys, where -0 < +0.)
                    let passed_over = match (worst, end) {
                        (Some(w), End::Lowest) => v.total_cmp(&w).is_ge(),
                        (Some(w), End::Highest) => v.total_cmp(&w).is_le(),
                        (None, _) => false,
                    };
                    if passed_over {
                        continue;
                    }
                    let key = Key {
                        m2: f64::from(v),
                        index: y * stride + xc,
                        end,
                    };
                    offer(&mut heap, top, key);
                    if heap.len() == top {
                        worst = heap.peek().map(|k| k.m2 as f32);
                    }
                }
            }
            heap
        })
        .reduce(BinaryHeap::new, |mut a, b| {
            for key in b {
                offer(&mut a, top, key);
            }
            a
        });
    heap.into_sorted_vec()
        .into_iter()
        .map(|k| describe(stats, k.index))
        .collect()
}

fn offer(heap: &mut BinaryHeap<Key>, top: usize, key: Key) {
    if heap.len() < top {
        heap.push(key);
    } else if let Some(mut worst) = heap.peek_mut() {
        if key < *worst {
            *worst = key;
        }
    }
}

/// The report line for the subpixel at flat index `index`.
pub fn describe(stats: &Stats, index: usize) -> RankedSubpixel {
    let (x, y, channel) = position(stats.width(), stats.channels(), index);
    // Reported as f32, the precision they are stored in, so that the text
    // shows no digits the statistics do not have.
    let variance = stats.variance_at(index);
    RankedSubpixel {
        x,
        y,
        channel,
        mean: stats.mean_at(index) as f32,
        variance: variance as f32,
        stddev: variance.sqrt() as f32,
    }
}

/// (x, y, channel) of a flat `[y, x, channel]` index.
pub fn position(width: u32, channels: usize, index: usize) -> (u32, u32, Channel) {
    let pixel = index / channels;
    let width = width as usize;
    (
        (pixel % width) as u32,
        (pixel / width) as u32,
        Channel::of(channels, index % channels),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{Evidence, Layout};
    use crate::stats::Moments;

    fn stats_from_m2(width: usize, height: usize, m2: Vec<f32>) -> Stats {
        let layout = Layout {
            width,
            height,
            channels: 3,
        };
        let mean = vec![0.0; layout.len()];
        let evidence = vec![Evidence::default(); layout.len()];
        Stats::from_parts(2, layout, Moments::Welford { mean, m2 }, evidence)
    }

    #[test]
    fn ties_are_broken_by_position_and_match_a_full_sort() {
        let (w, h) = (50, 40);
        // Few distinct values, so ties are everywhere.
        let m2: Vec<f32> = (0..w * h * 3).map(|i| ((i * 7919) % 13) as f32).collect();
        let stats = stats_from_m2(w, h, m2.clone());
        let mut all: Vec<usize> = (0..m2.len()).collect();
        all.sort_by(|&a, &b| m2[a].total_cmp(&m2[b]).then(a.cmp(&b)));
        let lowest = rank(&stats, End::Lowest, 25);
        let expected: Vec<_> = all[..25].iter().map(|&i| describe(&stats, i)).collect();
        assert_eq!(lowest, expected);

        all.sort_by(|&a, &b| m2[b].total_cmp(&m2[a]).then(a.cmp(&b)));
        let highest = rank(&stats, End::Highest, 25);
        let expected: Vec<_> = all[..25].iter().map(|&i| describe(&stats, i)).collect();
        assert_eq!(highest, expected);
    }

    #[test]
    fn positions_are_row_major_rgb() {
        assert_eq!(position(10, 3, 0), (0, 0, Channel::R));
        assert_eq!(position(10, 3, 5), (1, 0, Channel::B));
        assert_eq!(position(10, 3, 31), (0, 1, Channel::G));
        assert_eq!(position(10, 1, 31), (1, 3, Channel::L));
    }

    /// Regression guard (issue 12): `--top 100000000000` aborted on
    /// allocating room for that many.
    #[test]
    fn top_larger_than_frame_returns_everything() {
        let stats = stats_from_m2(1, 1, vec![3.0, 1.0, 2.0]);
        assert_eq!(rank(&stats, End::Highest, 100_000_000_000).len(), 3);
        let r = rank(&stats, End::Lowest, 10);
        assert_eq!(
            r.iter().map(|s| s.channel).collect::<Vec<_>>(),
            [Channel::G, Channel::B, Channel::R]
        );
    }
}
