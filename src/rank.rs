//! Ranks subpixels by variance: the lowest (stuck candidates) and the highest.
//!
//! A subpixel is a stuck candidate only where the scene was seen to move
//! around it: one that is still because its neighbours are just as still (a
//! constant border row, a sky clipped to black or white in every frame, a
//! night sky) says nothing about its photosite, so the lowest-variance list
//! leaves it out. The rule is the detector's own ([`scene_moved`], on the
//! same ring and the same σ), so the list and the stuck defects answer the
//! question alike.
//!
//! Ties are broken by position (y, x, channel), i.e. by flat index, so that the
//! ranking is a total order and the output is the same for any number of
//! workers.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use crate::detect::scene_moved;
use crate::evidence::{ring_medians_row, Layout, RING};
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

/// The variances of a band of rows, with the [`RING`] rows around it that
/// exist, and the ring medians of one row: whether the scene was seen to
/// move around each of its subpixels.
struct Scene {
    /// Sample variances, M2 / (n − 1) in f32 as the detector takes them
    /// (`detect::planes`), of rows `lo..` of the frame.
    var: Vec<f32>,
    /// The rows held, as a layout of their own.
    local: Layout,
    lo: usize,
    /// The ring medians of the variances along the loaded row.
    ring: Vec<f32>,
}

impl Scene {
    fn around(stats: &Stats, rows: Range<usize>) -> Scene {
        let frame = stats.layout();
        let lo = rows.start.saturating_sub(RING);
        let hi = (rows.end + RING).min(frame.height);
        let local = Layout {
            height: hi - lo,
            ..frame
        };
        let inv_n1 = 1.0 / (stats.frames.max(2) - 1) as f32;
        let mut var = vec![0.0; local.len()];
        for (k, row) in var.chunks_exact_mut(frame.stride()).enumerate() {
            stats.m2_row(lo + k, row);
            for v in row.iter_mut() {
                *v *= inv_n1;
            }
        }
        Scene {
            var,
            local,
            lo,
            ring: vec![0.0; frame.stride()],
        }
    }

    /// Computes the ring medians along frame row `y`.
    fn load(&mut self, y: usize) {
        ring_medians_row(&self.var, self.local, y - self.lo, &mut self.ring);
    }

    /// Whether the scene was seen to move (fully) around subpixel `xc` of
    /// the loaded row: its ring's σ over the frames.
    fn moved(&self, xc: usize) -> bool {
        scene_moved(self.ring[xc].max(0.0).sqrt()) >= 1.0
    }
}

/// The `top` best subpixels at `end` of the variance ranking, best first.
/// At the lowest end, only subpixels the scene was seen to move around
/// (see the module's documentation): the list may be shorter than `top`.
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
            let band = b * rows..((b + 1) * rows).min(layout.height);
            let mut heap = BinaryHeap::with_capacity(top.min(stride * band.len()) + 1);
            let mut m2 = vec![0f32; stride];
            let mut scene = (end == End::Lowest).then(|| Scene::around(stats, band.clone()));
            // M2 orders like the variance (one divisor for all). Indices
            // only grow within a band, so a value no better than the worst
            // kept loses its tie too, and is passed over without a heap.
            let mut worst = None;
            for y in band {
                stats.m2_row(y, &mut m2);
                if let Some(scene) = &mut scene {
                    scene.load(y);
                }
                for (xc, &v) in m2.iter().enumerate() {
                    // (In the total order of the keys, where -0 < +0.)
                    let passed_over = match (worst, end) {
                        (Some(w), End::Lowest) => v.total_cmp(&w).is_ge(),
                        (Some(w), End::Highest) => v.total_cmp(&w).is_le(),
                        (None, _) => false,
                    };
                    if passed_over || scene.as_ref().is_some_and(|s| !s.moved(xc)) {
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

    /// Statistics of `frames` frames with these M2s (RGB, `[y, x, channel]`).
    fn stats_of(frames: u64, width: usize, height: usize, m2: Vec<f32>) -> Stats {
        let layout = Layout {
            width,
            height,
            channels: 3,
        };
        let mean = vec![0.0; layout.len()];
        let evidence = vec![Evidence::default(); layout.len()];
        Stats::from_parts(frames, layout, Moments::Welford { mean, m2 }, evidence)
    }

    fn stats_from_m2(width: usize, height: usize, m2: Vec<f32>) -> Stats {
        stats_of(2, width, height, m2)
    }

    #[test]
    fn ties_are_broken_by_position_and_match_a_full_sort() {
        let (w, h) = (50, 40);
        // Few distinct values, so ties are everywhere; a σ of 10 levels or
        // more everywhere, so the scene moved around every subpixel.
        let m2: Vec<f32> = (0..w * h * 3)
            .map(|i| (100 + (i * 7919) % 13) as f32)
            .collect();
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
        // (A lone pixel's ring is itself: σ of 10 levels and more, moving.)
        let stats = stats_from_m2(1, 1, vec![300.0, 100.0, 200.0]);
        assert_eq!(rank(&stats, End::Highest, 100_000_000_000).len(), 3);
        let r = rank(&stats, End::Lowest, 10);
        assert_eq!(
            r.iter().map(|s| s.channel).collect::<Vec<_>>(),
            [Channel::G, Channel::B, Channel::R]
        );
    }

    /// Regression guard (issue 19, item 10): on a night series the
    /// lowest-variance list opened with row 0, constant in every frame, and
    /// would have gone on with whatever was clipped to white: still because
    /// their neighbours are just as still, not stuck. Left out; a pinned
    /// subpixel where the scene moves around it still tops the list.
    #[test]
    fn still_neighbourhoods_are_left_out_of_the_lowest_variance() {
        let (w, h, frames) = (40, 30, 10);
        let m2_of_sd = |sd: f32| sd * sd * (frames - 1) as f32;
        let layout = Layout {
            width: w,
            height: h,
            channels: 3,
        };
        let mut m2 = vec![0f32; layout.len()];
        for y in 0..h {
            for x in 0..w {
                let sd = match (x, y) {
                    // A constant border row over a night sky.
                    (_, 0) => 0.0,
                    (_, 1..=4) => 2.0,
                    // Ground clipped to white in every frame (snow in
                    // the sun), across the frame.
                    (_, 24..) => 0.0,
                    // A landscape that changes from frame to frame, with
                    // a little variety so that the order is not by position.
                    _ => 20.0 + ((x * 7 + y * 13) % 5) as f32,
                };
                for c in 0..3 {
                    m2[(y * w + x) * 3 + c] = m2_of_sd(sd);
                }
            }
        }
        // A pinned photosite in the landscape: it moves by noise only.
        let pinned = (12 * w + 10) * 3 + 1;
        m2[pinned] = m2_of_sd(0.3);
        let stats = stats_of(frames, w, h, m2.clone());
        let top = 40;

        // What the old ranking gave: the still places first, by position.
        let mut by_variance: Vec<usize> = (0..m2.len()).collect();
        by_variance.sort_by(|&a, &b| m2[a].total_cmp(&m2[b]).then(a.cmp(&b)));
        assert_eq!(position(w as u32, 3, by_variance[0]), (0, 0, Channel::R));
        assert!(by_variance[..top].iter().all(|&i| m2[i] == 0.0));

        let lowest = rank(&stats, End::Lowest, top);
        assert_eq!(lowest[0], describe(&stats, pinned));
        assert_eq!(
            (lowest[0].x, lowest[0].y, lowest[0].channel),
            (10, 12, Channel::G)
        );
        assert_eq!(lowest.len(), top);
        for r in &lowest {
            let still = r.y <= 4 || r.y >= 24;
            assert!(!still, "{r:?} is in a still neighbourhood");
        }
        // The highest-variance list is not filtered.
        assert_eq!(rank(&stats, End::Highest, top).len(), top);
    }

    /// The lowest list is a full sort of the subpixels whose ring's median
    /// variance (taken member by member here, not row by row) is that of a
    /// moving scene, whatever the band boundaries.
    #[test]
    fn lowest_matches_a_full_sort_of_the_moving_subpixels() {
        let (w, h, frames) = (23, 150, 5);
        let layout = Layout {
            width: w,
            height: h,
            channels: 3,
        };
        let mut state = 99u32;
        let m2: Vec<f32> = (0..layout.len())
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                // σ from 0 to 15 levels: some rings moving, some not, some between.
                let sd = (state % 1600) as f32 / 100.0;
                sd * sd * (frames - 1) as f32
            })
            .collect();
        let stats = stats_of(frames, w, h, m2.clone());
        let var: Vec<f32> = m2.iter().map(|v| v * (1.0 / (frames - 1) as f32)).collect();
        let moving = |i: usize| {
            let mut ring = [0f32; 8];
            let n = layout.ring_members(&var, i, RING, &mut ring);
            let median = if n == 0 {
                var[i]
            } else {
                crate::evidence::median_of(&mut ring[..n])
            };
            scene_moved(median.sqrt()) >= 1.0
        };
        let mut all: Vec<usize> = (0..m2.len()).filter(|&i| moving(i)).collect();
        assert!(
            all.len() > 100 && all.len() < m2.len() - 100,
            "{}",
            all.len()
        );
        all.sort_by(|&a, &b| m2[a].total_cmp(&m2[b]).then(a.cmp(&b)));
        let expected: Vec<_> = all[..60].iter().map(|&i| describe(&stats, i)).collect();
        assert_eq!(rank(&stats, End::Lowest, 60), expected);
    }
}
