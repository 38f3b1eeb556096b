//! The statistics of a band of rows as the detector reads them, in f32: mean,
//! sample variance and the two evidence sums, raw and trimmed of what one
//! view could have contributed (see [`Context::view_excess`]). Only a band
//! is held at a time (its rows and a few more above and below for the
//! rings), so detection allocates nothing full-size.

use super::context::Context;
use crate::evidence::{ring_medians_row, Layout};
use crate::stats::Stats;

/// Rows held above and below a band: what the widest neighbourhood the
/// detector reads (the spread ring) reaches.
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
    /// The evidence sums less what one view could have added.
    pub trimmed_excess: Vec<f32>,
    pub trimmed_dark: Vec<f32>,
}

impl Planes {
    /// Rows `rows` of the frame, with the [`MARGIN`] rows around them that exist.
    pub fn around(stats: &Stats, ctx: &Context, rows: std::ops::Range<usize>) -> Planes {
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
            trimmed_excess: vec![0.0; len],
            trimmed_dark: vec![0.0; len],
        };
        let inv_n1 = 1.0 / (stats.frames.max(2) - 1) as f32;
        let evidence = stats.evidence();
        for y in lo..hi {
            let local_row = (y - lo) * stride..(y - lo + 1) * stride;
            stats.mean_row(y, &mut p.mean[local_row.clone()]);
            let var = &mut p.var[local_row.clone()];
            stats.m2_row(y, var);
            for v in var.iter_mut() {
                *v *= inv_n1;
            }
            let frame_row = y * stride..(y + 1) * stride;
            let ev = &evidence[frame_row.clone()];
            let peaks = &stats.peaks()[frame_row];
            for ((((e0, e1), (t0, t1)), e), pk) in p.excess[local_row.clone()]
                .iter_mut()
                .zip(&mut p.dark[local_row.clone()])
                .zip(
                    p.trimmed_excess[local_row.clone()]
                        .iter_mut()
                        .zip(&mut p.trimmed_dark[local_row.clone()]),
                )
                .zip(ev)
                .zip(peaks)
            {
                *e0 = e.excess as f32;
                *e1 = e.dark as f32;
                let (bright, dark) = (pk.bright_levels(), pk.dark_levels());
                let side = |v: f32| if v >= 0.0 { bright } else { dark };
                *t0 = shrink(*e0, ctx.view_excess(side(*e0)));
                *t1 = shrink(*e1, ctx.view_dark_excess(side(*e1)));
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
}

/// [`ring_medians_row`] compiled for AVX2 (eight lanes, not four), chosen at
/// run time like the accumulator's fold.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn ring_row_avx2(plane: &[f32], local: Layout, y: usize, out: &mut [f32]) {
    ring_medians_row(plane, local, y, out);
}

/// `v` moved towards 0 by `by` (never past it).
#[inline(always)]
pub(super) fn shrink(v: f32, by: f32) -> f32 {
    v.signum() * (v.abs() - by).max(0.0)
}
