//! The statistics of a band of rows as the detector reads them: mean,
//! sample variance and the two evidence sums in f32, and the frame counts.
//! Only a band is held at a time (its rows and [`MARGIN`] more above and
//! below for the rings and windows), so detection allocates nothing
//! full-size.

use crate::evidence::{ring_medians_row, Evidence, Layout, Seen};
use crate::stats::Stats;

/// Rows held above and below a band: what the widest neighbourhood the
/// detector reads (the spread ring, the base-rate window) reaches.
pub const MARGIN: usize = 4;

/// The planes of rows `lo..hi` of the frame.
pub(super) struct Planes {
    /// The frame's layout.
    pub frame: Layout,
    /// Rows held, as a layout of their own (height `hi − lo`).
    pub local: Layout,
    pub lo: usize,
    pub mean: Vec<f32>,
    pub var: Vec<f32>,
    pub excess: Vec<f32>,
    pub dark: Vec<f32>,
    pub seen: Vec<Seen>,
}

impl Planes {
    /// Rows `rows` of the frame, with the [`MARGIN`] rows around them that exist.
    pub fn around(stats: &Stats, rows: std::ops::Range<usize>) -> Planes {
        let frame = stats.layout();
        let lo = rows.start.saturating_sub(MARGIN);
        let hi = (rows.end + MARGIN).min(frame.height);
        let local = Layout {
            height: hi - lo,
            ..frame
        };
        let stride = frame.stride();
        let len = local.len();
        let mut p = Planes {
            frame,
            local,
            lo,
            mean: vec![0.0; len],
            var: vec![0.0; len],
            excess: vec![0.0; len],
            dark: vec![0.0; len],
            seen: vec![Seen::default(); len],
        };
        let inv_n1 = 1.0 / (stats.frames.max(2) - 1) as f32;
        let mut row = vec![Evidence::default(); stride];
        for y in lo..hi {
            let local_row = (y - lo) * stride..(y - lo + 1) * stride;
            stats.mean_row(y, &mut p.mean[local_row.clone()]);
            let var = &mut p.var[local_row.clone()];
            stats.m2_row(y, var);
            for v in var.iter_mut() {
                *v *= inv_n1;
            }
            stats.evidence_row(y, &mut row);
            for (k, e) in row.iter().enumerate() {
                let i = local_row.start + k;
                p.excess[i] = e.excess as f32;
                p.dark[i] = e.dark as f32;
                p.seen[i] = e.seen;
            }
        }
        p
    }

    /// Ring medians of `plane` along frame row `y`, into `out`.
    pub fn ring_row(&self, plane: &[f32], y: usize, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { ring_row_avx2(plane, self.local, y - self.lo, out) };
                return;
            }
        }
        ring_medians_row(plane, self.local, y - self.lo, out);
    }

    /// Index in the local planes of frame row `y`, column-channel `xc`.
    pub fn at(&self, y: usize, xc: usize) -> usize {
        (y - self.lo) * self.frame.stride() + xc
    }

    /// The counts of the same channel's subpixels around local index `i`
    /// within [`MARGIN`] pixels, less those within 2 (a defect's own
    /// footprint: demosaicing and JPEG spread it that far), summed: what the
    /// scene does there by chance. At the edges, those that exist.
    pub fn window(&self, i: usize) -> Seen {
        let mut sum = Seen::default();
        self.each_in_window(i, |j| {
            let s = &self.seen[j];
            sum.bright += s.bright;
            sum.could_bright += s.could_bright;
            sum.dark += s.dark;
            sum.could_dark += s.could_dark;
            sum.hot += s.hot;
        });
        sum
    }

    /// At most the share of the frames in which the members of
    /// [`Planes::window`] at local index `i` stood at or beyond `level`
    /// (8-bit), above it where `sign` is +1, below where −1, over `frames`
    /// frames. Per member, by Cantelli's inequality on its own frames: no
    /// more than σ²/(σ² + t²) of values lie t or more beyond their mean (σ²
    /// their variance about it). Exact for the frames at hand, whatever the
    /// scene did; 1 for a member whose mean is at or beyond the level.
    pub fn share_beyond(&self, i: usize, level: f32, sign: f32, frames: u32) -> f64 {
        let n = f64::from(frames.max(2));
        let (mut sum, mut members) = (0.0, 0u32);
        self.each_in_window(i, |j| {
            let t = f64::from((level - self.mean[j]) * sign);
            let var = f64::from(self.var[j].max(0.0)) * (n - 1.0) / n;
            sum += if t <= 0.0 { 1.0 } else { var / (var + t * t) };
            members += 1;
        });
        sum / f64::from(members.max(1))
    }

    /// Calls `f` with the local index of each member of
    /// [`Planes::window`] at local index `i`.
    fn each_in_window(&self, i: usize, mut f: impl FnMut(usize)) {
        let l = self.local;
        let stride = l.stride();
        let (y, x, c) = (i / stride, i % stride / l.channels, i % l.channels);
        let r = MARGIN as isize;
        for dy in -r..=r {
            let yy = y as isize + dy;
            if yy < 0 || yy >= l.height as isize {
                continue;
            }
            for dx in -r..=r {
                let xx = x as isize + dx;
                if xx < 0 || xx >= l.width as isize || (dx.abs() <= 2 && dy.abs() <= 2) {
                    continue;
                }
                f((yy as usize * l.width + xx as usize) * l.channels + c);
            }
        }
    }

    /// How many same-channel subpixels [`Planes::window`] sums at local
    /// index `i`.
    pub fn window_members(&self, i: usize) -> u32 {
        let l = self.local;
        let stride = l.stride();
        let (y, x) = ((i / stride) as isize, (i % stride / l.channels) as isize);
        let span = |v: isize, n: usize, r: isize| (v - r).max(0)..=(v + r).min(n as isize - 1);
        let r = MARGIN as isize;
        let outer = span(y, l.height, r).count() * span(x, l.width, r).count();
        let inner = span(y, l.height, 2).count() * span(x, l.width, 2).count();
        (outer - inner) as u32
    }
}

/// [`ring_medians_row`] compiled for AVX2 (eight lanes, not four), chosen at
/// run time like the accumulator's fold.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn ring_row_avx2(plane: &[f32], local: Layout, y: usize, out: &mut [f32]) {
    ring_medians_row(plane, local, y, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Moments;

    /// Cantelli's bound holds for the frames at hand, whatever they hold:
    /// over a window of pseudo-random frames (a dark sky's noise, and a
    /// trail lighting a subpixel in one frame of six), the share of the
    /// members' frames at or beyond a level, counted frame by frame, never
    /// exceeds [`Planes::share_beyond`], and far from the sky's levels the
    /// bound is small.
    #[test]
    fn share_beyond_bounds_the_frames_that_reach_a_level() {
        let (w, h, n) = (11usize, 11usize, 7usize);
        let layout = Layout {
            width: w,
            height: h,
            channels: 1,
        };
        let mut state = 0x9e37_79b9u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let frames: Vec<Vec<f64>> = (0..w * h)
            .map(|_| {
                (0..n)
                    .map(|_| {
                        let noise = f64::from(next() % 5);
                        let trail = if next() % 6 == 0 { next() % 120 } else { 0 };
                        3.0 + noise + f64::from(trail)
                    })
                    .collect()
            })
            .collect();
        let mean: Vec<f32> = frames
            .iter()
            .map(|v| (v.iter().sum::<f64>() / n as f64) as f32)
            .collect();
        let m2: Vec<f32> = frames
            .iter()
            .zip(&mean)
            .map(|(v, &m)| v.iter().map(|x| (x - f64::from(m)).powi(2)).sum::<f64>() as f32)
            .collect();
        let evidence = vec![Default::default(); w * h];
        let stats = Stats::from_parts(n as u64, layout, Moments::Welford { mean, m2 }, evidence);
        let planes = Planes::around(&stats, 0..h);
        let centre = 5 * w + 5;
        let mut members = Vec::new();
        planes.each_in_window(centre, |j| members.push(j));
        assert_eq!(members.len(), 9 * 9 - 5 * 5);
        for level in [2.0f32, 5.0, 8.0, 20.0, 40.0, 80.0, 110.0] {
            for sign in [1.0f32, -1.0] {
                let reached = members
                    .iter()
                    .flat_map(|&j| &frames[j])
                    .filter(|&&v| (v as f32 - level) * sign >= 0.0)
                    .count();
                let share = reached as f64 / (members.len() * n) as f64;
                let bound = planes.share_beyond(centre, level, sign, n as u32);
                assert!(share <= bound + 1e-6, "{level} {sign}: {share} > {bound}");
            }
        }
        assert!(planes.share_beyond(centre, 110.0, 1.0, n as u32) < 0.1);
    }
}
