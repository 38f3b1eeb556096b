//! Per-subpixel statistics over a series of frames: exact integer sums while
//! they fit, the Welford form (count, mean, M2) with the Chan et al. merge
//! beyond, and the defect evidence of [`crate::evidence`].
//!
//! Why integers: the frames are 8-bit, so Σx and Σx² of a subpixel are exact
//! in u32 for up to [`EXACT_FRAMES`] frames. Exact sums do not depend on which
//! worker decoded which frame, on the order frames were added, or on how a
//! series was split into saved states and merged again, so the report is
//! byte-identical for any `-j` and any split. Float Welford (f32 or f64)
//! rounds differently for each split and cannot promise that.
//!
//! Merging two sets of exact sums is integer addition, which is what the
//! parallel-variance formula of Chan, Golub and LeVeque (1979), "Updating
//! formulae and a pairwise algorithm for computing sample variances", reduces
//! to when evaluated exactly. Past the exact range (more than 66,051 frames)
//! the statistics turn into the Welford form and are merged with that formula
//! in f64:
//!   n = nA + nB, d = meanB - meanA, mean = meanA + d*nB/n,
//!   M2 = M2A + M2B + d*d*nA*nB/n.
//!
//! The run builds its sums in one [`Accumulator`] (12 bytes a subpixel,
//! whatever the number of workers) and turns it into [`Stats`] (18 bytes a
//! subpixel) in place. A run takes at most [`EXACT_FRAMES`] frames; a longer
//! series is several runs whose saved states are merged.

mod accumulator;

pub use accumulator::{Accumulator, Band, FrameRef, Scratch, MAX_BATCH, PACKED_FRAMES};

use ndarray::Array3;
use rayon::prelude::*;

use crate::error::Error;
use crate::evidence::{Layout, CLAMP, DARK_WEIGHT_MAX};

/// Frames whose Σx² of 8-bit values still fits a u32 (255² × 66,051 < 2³²).
pub const EXACT_FRAMES: u64 = 66_051;

/// Frames whose evidence sums fit an i32 (15 × 127 × 1,127,000 < 2³¹).
pub const MAX_FRAMES: u64 = (i32::MAX as u64) / (CLAMP as u64 * DARK_WEIGHT_MAX as u64);

/// The evidence sums of one subpixel (see [`crate::evidence`]). Eight bytes
/// aligned as a u64, so the accumulator's packed words become these in place.
#[repr(C, align(8))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Σ excess over the frames, in linear levels (255 = full scale).
    pub excess: i32,
    /// Σ dark-current weight × excess.
    pub dark: i32,
}

/// The largest bright and dark excess of any one frame of a subpixel, as
/// [`crate::evidence::peak_code`]s (twice the code is never below the
/// excess, in linear levels). A maximum, so merged exactly in any order.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Peaks {
    pub bright: u8,
    pub dark: u8,
}

impl Peaks {
    /// The largest bright excess, in linear levels (an upper bound).
    pub fn bright_levels(self) -> f32 {
        f32::from(self.bright) * 2.0
    }

    /// The largest dark excess magnitude, in linear levels (an upper bound).
    pub fn dark_levels(self) -> f32 {
        f32::from(self.dark) * 2.0
    }
}

/// The first two moments of every subpixel.
#[derive(Debug, Clone, PartialEq)]
pub enum Moments {
    /// Σx and Σx², exact (at most [`EXACT_FRAMES`] frames).
    Exact {
        sum: Array3<u32>,
        sum_sq: Array3<u32>,
    },
    /// Mean and M2 = Σ(x − mean)², rounded to f32.
    Welford { mean: Array3<f32>, m2: Array3<f32> },
}

/// Statistics of a series: the frame count and, per subpixel (indexed
/// `[y, x, channel]`), its moments, its evidence sums and its peaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub frames: u64,
    pub moments: Moments,
    pub evidence: Array3<Evidence>,
    pub peaks: Array3<Peaks>,
}

/// Asks Linux to back a large buffer with 2 MiB pages where it can: the
/// statistics and frame buffers are hundreds of megabytes written through
/// once and then streamed, and 4 KiB pages cost one fault each to write them
/// and a TLB miss every few kilobytes to stream them. Only a hint: without
/// transparent huge pages nothing changes. (Where transparent huge pages
/// compact memory on a fault, as with the common `defrag=madvise`, writing
/// such a buffer through may wait for it on a fragmented machine.)
fn advise_huge_pages<T>(buffer: &mut [std::mem::MaybeUninit<T>]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            p if p > 0 => p as usize,
            _ => return,
        };
        let start = buffer.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(buffer);
        let (from, to) = (start.next_multiple_of(page), end / page * page);
        if to >= from + (2 << 20) {
            // SAFETY: the range lies inside `buffer`, which this function
            // borrows mutably, and MADV_HUGEPAGE changes no contents.
            unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

/// A vector of `len` copies of `value`, written through now, or an
/// allocation error naming `what` instead of an abort.
pub(crate) fn filled<T: Copy>(len: usize, value: T, what: &'static str) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| Error::Allocation {
        what,
        bytes: (len * std::mem::size_of::<T>()) as u64,
    })?;
    advise_huge_pages(v.spare_capacity_mut());
    v.resize(len, value);
    Ok(v)
}

impl Stats {
    /// Statistics of no frames, for frames of `layout`.
    pub fn empty(layout: Layout) -> Result<Stats, Error> {
        let shape = (layout.height, layout.width, layout.channels);
        let len = layout.len();
        let plane = || -> Result<Array3<u32>, Error> {
            Ok(
                Array3::from_shape_vec(shape, filled(len, 0u32, "the statistics")?)
                    .expect("shape matches length"),
            )
        };
        Ok(Stats {
            frames: 0,
            moments: Moments::Exact {
                sum: plane()?,
                sum_sq: plane()?,
            },
            evidence: Array3::from_shape_vec(
                shape,
                filled(len, Evidence::default(), "the statistics")?,
            )
            .expect("shape matches length"),
            peaks: Array3::from_shape_vec(shape, filled(len, Peaks::default(), "the statistics")?)
                .expect("shape matches length"),
        })
    }

    pub fn width(&self) -> u32 {
        self.evidence.dim().1 as u32
    }

    pub fn height(&self) -> u32 {
        self.evidence.dim().0 as u32
    }

    pub fn channels(&self) -> usize {
        self.evidence.dim().2
    }

    pub fn layout(&self) -> Layout {
        let (height, width, channels) = self.evidence.dim();
        Layout {
            width,
            height,
            channels,
        }
    }

    /// The evidence sums, flat (`[y, x, channel]` order).
    pub fn evidence(&self) -> &[Evidence] {
        self.evidence.as_slice().expect("standard layout")
    }

    /// The peaks, flat (`[y, x, channel]` order).
    pub fn peaks(&self) -> &[Peaks] {
        self.peaks.as_slice().expect("standard layout")
    }

    /// Mean of the subpixel at flat index `i`.
    pub fn mean_at(&self, i: usize) -> f64 {
        match &self.moments {
            Moments::Exact { sum, .. } => exact_mean(self.frames, flat(sum)[i]),
            Moments::Welford { mean, .. } => f64::from(flat(mean)[i]),
        }
    }

    /// M2 = Σ(x − mean)² of the subpixel at flat index `i`.
    pub fn m2_at(&self, i: usize) -> f64 {
        match &self.moments {
            Moments::Exact { sum, sum_sq } => {
                f64::from(exact_m2(self.frames, flat(sum)[i], flat(sum_sq)[i]))
            }
            Moments::Welford { m2, .. } => f64::from(flat(m2)[i]),
        }
    }

    /// Sample variance (n − 1 in the denominator) of the subpixel at flat index `i`.
    pub fn variance_at(&self, i: usize) -> f64 {
        if self.frames < 2 {
            return 0.0;
        }
        self.m2_at(i) / (self.frames - 1) as f64
    }

    /// The means of row `y`, as f32 (one per subpixel of the row).
    pub fn mean_row(&self, y: usize, out: &mut [f32]) {
        let range = self.row_range(y);
        match &self.moments {
            Moments::Exact { sum, .. } => {
                let inv = 1.0 / self.frames.max(1) as f64;
                for (o, &s) in out.iter_mut().zip(&flat(sum)[range]) {
                    *o = (f64::from(s) * inv) as f32;
                }
            }
            Moments::Welford { mean, .. } => out.copy_from_slice(&flat(mean)[range]),
        }
    }

    /// M2 of row `y`, as f32 (one per subpixel of the row).
    pub fn m2_row(&self, y: usize, out: &mut [f32]) {
        let range = self.row_range(y);
        match &self.moments {
            Moments::Exact { sum, sum_sq } => {
                let n = self.frames;
                for ((o, &s), &q) in out
                    .iter_mut()
                    .zip(&flat(sum)[range.clone()])
                    .zip(&flat(sum_sq)[range])
                {
                    *o = exact_m2(n, s, q);
                }
            }
            Moments::Welford { m2, .. } => out.copy_from_slice(&flat(m2)[range]),
        }
    }

    fn row_range(&self, y: usize) -> std::ops::Range<usize> {
        let stride = self.layout().stride();
        y * stride..(y + 1) * stride
    }

    /// Adds `other`'s frames (same frame layout): exactly while the sums fit,
    /// else with the Chan et al. formula (see the module docs).
    pub fn merge(&mut self, other: &Stats) -> Result<(), Error> {
        assert_eq!(
            self.evidence.dim(),
            other.evidence.dim(),
            "frame layouts differ"
        );
        let n = self.frames + other.frames;
        if n > MAX_FRAMES {
            return Err(Error::TooManyFrames { frames: n });
        }
        if other.frames == 0 {
            return Ok(());
        }
        for (a, b) in self.evidence.iter_mut().zip(other.evidence.iter()) {
            a.excess += b.excess;
            a.dark += b.dark;
        }
        for (a, b) in self.peaks.iter_mut().zip(other.peaks.iter()) {
            a.bright = a.bright.max(b.bright);
            a.dark = a.dark.max(b.dark);
        }
        if self.frames == 0 {
            self.moments = other.moments.clone();
            self.frames = n;
            return Ok(());
        }
        match (&mut self.moments, &other.moments) {
            (
                Moments::Exact { sum, sum_sq },
                Moments::Exact {
                    sum: s2,
                    sum_sq: q2,
                },
            ) if n <= EXACT_FRAMES => {
                let (s2, q2) = (flat(s2), flat(q2));
                flat_mut(sum)
                    .par_iter_mut()
                    .zip(flat_mut(sum_sq).par_iter_mut())
                    .zip(s2.par_iter().zip(q2))
                    .for_each(|((s, q), (&s2, &q2))| {
                        *s += s2;
                        *q += q2;
                    });
            }
            _ => {
                self.to_welford();
                let other = other.welford_view();
                let (Moments::Welford { mean, m2 }, (mean_b, m2_b)) = (&mut self.moments, other)
                else {
                    unreachable!("converted above")
                };
                chan_merge(mean, m2, self.frames, &mean_b, &m2_b, n - self.frames);
            }
        }
        self.frames = n;
        Ok(())
    }

    /// Turns exact sums into the Welford form, in place.
    pub fn to_welford(&mut self) {
        let n = self.frames;
        let moments = std::mem::replace(
            &mut self.moments,
            Moments::Welford {
                mean: Array3::zeros((0, 0, 0)),
                m2: Array3::zeros((0, 0, 0)),
            },
        );
        self.moments = match moments {
            Moments::Exact { sum, sum_sq } => {
                let shape = sum.raw_dim();
                let (sums, _) = sum.into_raw_vec_and_offset();
                let (squares, _) = sum_sq.into_raw_vec_and_offset();
                // Σx² first, while Σx is still there; each collect reuses its
                // buffer (u32 and f32 have one layout).
                let m2: Vec<f32> = squares
                    .into_iter()
                    .zip(&sums)
                    .map(|(q, &s)| exact_m2(n, s, q))
                    .collect();
                let mean: Vec<f32> = sums.into_iter().map(|s| exact_mean(n, s) as f32).collect();
                Moments::Welford {
                    mean: Array3::from_shape_vec(shape, mean).expect("same shape"),
                    m2: Array3::from_shape_vec(shape, m2).expect("same shape"),
                }
            }
            welford => welford,
        };
    }

    /// Mean and M2 in f32, borrowed or computed.
    fn welford_view(
        &self,
    ) -> (
        std::borrow::Cow<'_, Array3<f32>>,
        std::borrow::Cow<'_, Array3<f32>>,
    ) {
        use std::borrow::Cow;
        match &self.moments {
            Moments::Welford { mean, m2 } => (Cow::Borrowed(mean), Cow::Borrowed(m2)),
            Moments::Exact { sum, sum_sq } => {
                let n = self.frames;
                (
                    Cow::Owned(sum.mapv(|s| exact_mean(n, s) as f32)),
                    Cow::Owned(
                        ndarray::Zip::from(sum)
                            .and(sum_sq)
                            .map_collect(|&s, &q| exact_m2(n, s, q)),
                    ),
                )
            }
        }
    }
}

/// The Chan et al. merge of (nb, mean_b, m2_b) into (na, mean, m2), in f64,
/// stored as f32.
fn chan_merge(
    mean: &mut Array3<f32>,
    m2: &mut Array3<f32>,
    na: u64,
    mean_b: &Array3<f32>,
    m2_b: &Array3<f32>,
    nb: u64,
) {
    let (na, nb) = (na as f64, nb as f64);
    let n = na + nb;
    let (weight_b, cross) = (nb / n, na * nb / n);
    flat_mut(mean)
        .par_iter_mut()
        .zip(flat_mut(m2).par_iter_mut())
        .zip(flat(mean_b).par_iter().zip(flat(m2_b)))
        .for_each(|((ma, m2a), (&mb, &m2b))| {
            let d = f64::from(mb) - f64::from(*ma);
            *ma = (f64::from(*ma) + d * weight_b) as f32;
            *m2a = (f64::from(*m2a) + f64::from(m2b) + d * d * cross) as f32;
        });
}

fn flat<T>(a: &Array3<T>) -> &[T] {
    a.as_slice().expect("standard layout")
}

fn flat_mut<T>(a: &mut Array3<T>) -> &mut [T] {
    a.as_slice_mut().expect("standard layout")
}

/// Σx / n.
#[inline(always)]
pub(crate) fn exact_mean(n: u64, sum: u32) -> f64 {
    if n == 0 {
        0.0
    } else {
        f64::from(sum) / n as f64
    }
}

/// M2 = Σ(x − mean)² = (n·Σx² − (Σx)²) / n, from exact sums: the difference
/// is computed in integers (both terms below 2⁴⁹), so the only roundings are
/// the final division and the narrowing to f32.
#[inline(always)]
pub(crate) fn exact_m2(n: u64, sum: u32, sum_sq: u32) -> f32 {
    if n == 0 {
        return 0.0;
    }
    let (s, q) = (u64::from(sum), u64::from(sum_sq));
    ((n * q - s * s) as f64 / n as f64) as f32
}

#[cfg(test)]
mod tests;
