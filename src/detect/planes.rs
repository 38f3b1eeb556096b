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
        let l = self.local;
        let stride = l.stride();
        let (y, x, c) = (i / stride, i % stride / l.channels, i % l.channels);
        let r = MARGIN as isize;
        let mut sum = Seen::default();
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
                let s = &self.seen[(yy as usize * l.width + xx as usize) * l.channels + c];
                sum.bright += s.bright;
                sum.could_bright += s.could_bright;
                sum.dark += s.dark;
                sum.could_dark += s.could_dark;
                sum.hot += s.hot;
            }
        }
        sum
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
