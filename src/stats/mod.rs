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
//! The run builds its sums in one [`Accumulator`] (16 bytes a subpixel,
//! whatever the number of workers); for a series of at most
//! [`PACKED_FRAMES`] frames the statistics keep its packed words as they
//! are, with no copy, and longer series (or merges of states) keep one
//! array a field (the wide form, [`Stats::WIDE_BYTES`] a subpixel). A run
//! takes at most [`EXACT_FRAMES`] frames; a longer series is several runs
//! whose saved states are merged.

mod accumulator;
mod fields;
mod packed;

pub use accumulator::{Accumulator, Band, FrameRef, Scratch, MAX_BATCH};
pub use packed::PACKED_FRAMES;

use rayon::prelude::*;

use crate::error::Error;
use crate::evidence::{Evidence, Layout, CLAMP, DARK_WEIGHT_MAX, EVIDENCE_BYTES};
use packed::Packed;

/// Frames whose Σx² of 8-bit values still fits a u32 (255² × 66,051 < 2³²).
pub const EXACT_FRAMES: u64 = 66_051;

/// Frames whose evidence sums fit an i32 (15 × 127 × 1,127,000 < 2³¹).
pub const MAX_FRAMES: u64 = (i32::MAX as u64) / (CLAMP as u64 * DARK_WEIGHT_MAX as u64);

/// The first two moments of every subpixel in the wide form, flat in
/// `[y, x, channel]` order.
#[derive(Debug, Clone, PartialEq)]
pub enum Moments {
    /// Σx and Σx², exact (at most [`EXACT_FRAMES`] frames).
    Exact { sum: Vec<u32>, sum_sq: Vec<u32> },
    /// Mean and M2 = Σ(x − mean)², rounded to f32.
    Welford { mean: Vec<f32>, m2: Vec<f32> },
}

/// A field of the statistics, as a state file holds one a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Sum,
    SumSq,
    Mean,
    M2,
    /// [`crate::evidence::MEMBERS`]`[k]`.
    Evidence(usize),
}

/// The statistics of one subpixel, as [`Stats::subpixel`] gives them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Subpixel {
    /// Σx and Σx² when exact, else `None`.
    pub exact: Option<(u32, u32)>,
    pub mean: f64,
    pub m2: f64,
    pub evidence: Evidence,
}

/// Statistics of a series: the frame count and, per subpixel (flat in
/// `[y, x, channel]` order), its moments and its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub frames: u64,
    layout: Layout,
    data: Data,
}

#[derive(Debug, Clone, PartialEq)]
enum Data {
    /// At most [`PACKED_FRAMES`] frames, exact: the accumulator's words.
    Packed(Vec<Packed>),
    /// One array a field.
    Wide {
        moments: Moments,
        evidence: Vec<Evidence>,
    },
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
    /// Bytes a subpixel the wide form takes: Σx and Σx² (or mean and M2) and
    /// the evidence record.
    pub const WIDE_BYTES: u64 = 8 + EVIDENCE_BYTES as u64;

    /// Bytes a subpixel the statistics of `frames` frames take.
    pub fn bytes_per_subpixel(frames: u64) -> u64 {
        if frames <= u64::from(PACKED_FRAMES) {
            std::mem::size_of::<Packed>() as u64
        } else {
            Self::WIDE_BYTES
        }
    }

    /// Statistics of no frames, for frames of `layout`.
    pub fn empty(layout: Layout) -> Result<Stats, Error> {
        Ok(Stats {
            frames: 0,
            layout,
            data: Data::Packed(filled(layout.len(), Packed::ZERO, "the statistics")?),
        })
    }

    /// Statistics from their wide form (a state file's arrays, flat in
    /// `[y, x, channel]` order), kept packed when the series is short enough.
    pub fn from_parts(
        frames: u64,
        layout: Layout,
        moments: Moments,
        evidence: Vec<Evidence>,
    ) -> Stats {
        assert_eq!(evidence.len(), layout.len(), "one record a subpixel");
        let data = match moments {
            Moments::Exact { sum, sum_sq } if frames <= u64::from(PACKED_FRAMES) => Data::Packed(
                sum.iter()
                    .zip(&sum_sq)
                    .zip(&evidence)
                    .map(|((&s, &q), e)| Packed::of(s, q, e))
                    .collect(),
            ),
            moments => Data::Wide { moments, evidence },
        };
        Stats {
            frames,
            layout,
            data,
        }
    }

    pub fn width(&self) -> u32 {
        self.layout.width as u32
    }

    pub fn height(&self) -> u32 {
        self.layout.height as u32
    }

    pub fn channels(&self) -> usize {
        self.layout.channels
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether the moments are exact sums (else the Welford form).
    pub fn is_exact(&self) -> bool {
        !matches!(
            self.data,
            Data::Wide {
                moments: Moments::Welford { .. },
                ..
            }
        )
    }

    /// Everything known of the subpixel at flat index `i`.
    pub fn subpixel(&self, i: usize) -> Subpixel {
        let n = self.frames;
        let exact = |s: u32, q: u32, evidence| Subpixel {
            exact: Some((s, q)),
            mean: exact_mean(n, s),
            m2: f64::from(exact_m2(n, s, q)),
            evidence,
        };
        match &self.data {
            Data::Packed(p) => exact(p[i].sum(), p[i].sum_sq(), p[i].evidence()),
            Data::Wide { moments, evidence } => match moments {
                Moments::Exact { sum, sum_sq } => exact(sum[i], sum_sq[i], evidence[i]),
                Moments::Welford { mean, m2 } => Subpixel {
                    exact: None,
                    mean: f64::from(mean[i]),
                    m2: f64::from(m2[i]),
                    evidence: evidence[i],
                },
            },
        }
    }

    /// The evidence of the subpixel at flat index `i`.
    pub fn evidence_at(&self, i: usize) -> Evidence {
        match &self.data {
            Data::Packed(p) => p[i].evidence(),
            Data::Wide { evidence, .. } => evidence[i],
        }
    }

    /// Mean of the subpixel at flat index `i`.
    pub fn mean_at(&self, i: usize) -> f64 {
        self.subpixel(i).mean
    }

    /// M2 = Σ(x − mean)² of the subpixel at flat index `i`.
    pub fn m2_at(&self, i: usize) -> f64 {
        self.subpixel(i).m2
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
        let inv = 1.0 / self.frames.max(1) as f64;
        let exact = |s: u32| (f64::from(s) * inv) as f32;
        match &self.data {
            Data::Packed(p) => {
                for (o, w) in out.iter_mut().zip(&p[range]) {
                    *o = exact(w.sum());
                }
            }
            Data::Wide { moments, .. } => match moments {
                Moments::Exact { sum, .. } => {
                    for (o, &s) in out.iter_mut().zip(&sum[range]) {
                        *o = exact(s);
                    }
                }
                Moments::Welford { mean, .. } => out.copy_from_slice(&mean[range]),
            },
        }
    }

    /// M2 of row `y`, as f32 (one per subpixel of the row).
    pub fn m2_row(&self, y: usize, out: &mut [f32]) {
        let range = self.row_range(y);
        let n = self.frames;
        match &self.data {
            Data::Packed(p) => {
                for (o, w) in out.iter_mut().zip(&p[range]) {
                    *o = exact_m2(n, w.sum(), w.sum_sq());
                }
            }
            Data::Wide { moments, .. } => match moments {
                Moments::Exact { sum, sum_sq } => {
                    for ((o, &s), &q) in out.iter_mut().zip(&sum[range.clone()]).zip(&sum_sq[range])
                    {
                        *o = exact_m2(n, s, q);
                    }
                }
                Moments::Welford { m2, .. } => out.copy_from_slice(&m2[range]),
            },
        }
    }

    /// The evidence of row `y` (one record per subpixel of the row).
    pub fn evidence_row(&self, y: usize, out: &mut [Evidence]) {
        let range = self.row_range(y);
        match &self.data {
            Data::Packed(p) => {
                for (o, w) in out.iter_mut().zip(&p[range]) {
                    *o = w.evidence();
                }
            }
            Data::Wide { evidence, .. } => out.copy_from_slice(&evidence[range]),
        }
    }

    fn row_range(&self, y: usize) -> std::ops::Range<usize> {
        let stride = self.layout.stride();
        y * stride..(y + 1) * stride
    }

    /// Adds `other`'s frames (same frame layout): exactly while the sums fit,
    /// else with the Chan et al. formula (see the module docs). Statistics
    /// of at most [`PACKED_FRAMES`] frames in all stay packed.
    pub fn merge(&mut self, other: &Stats) -> Result<(), Error> {
        assert_eq!(self.layout, other.layout, "frame layouts differ");
        let n = self.frames + other.frames;
        if n > MAX_FRAMES {
            return Err(Error::TooManyFrames { frames: n });
        }
        if other.frames == 0 {
            return Ok(());
        }
        if self.frames == 0 {
            self.data = other.data.clone();
            self.frames = n;
            return Ok(());
        }
        if n <= u64::from(PACKED_FRAMES) {
            if let (Data::Packed(a), Data::Packed(b)) = (&mut self.data, &other.data) {
                a.par_iter_mut()
                    .zip(b.par_iter())
                    .for_each(|(a, &b)| a.merge(b));
                self.frames = n;
                return Ok(());
            }
        }
        self.widen();
        let Data::Wide { moments, evidence } = &mut self.data else {
            unreachable!("widened above")
        };
        evidence
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, e)| e.merge(&other.evidence_at(i)));
        match moments {
            Moments::Exact { sum, sum_sq } if n <= EXACT_FRAMES && other.is_exact() => {
                sum.par_iter_mut()
                    .zip(sum_sq.par_iter_mut())
                    .enumerate()
                    .for_each(|(i, (s, q))| {
                        let (s2, q2) = other.subpixel(i).exact.expect("exact");
                        *s += s2;
                        *q += q2;
                    });
            }
            _ => {
                self.to_welford();
                let Data::Wide {
                    moments: Moments::Welford { mean, m2 },
                    ..
                } = &mut self.data
                else {
                    unreachable!("converted above")
                };
                chan_merge(mean, m2, self.frames, other, n - self.frames);
            }
        }
        self.frames = n;
        Ok(())
    }

    /// Turns the packed form into the wide one, in place.
    fn widen(&mut self) {
        if let Data::Packed(p) = &self.data {
            let sum = p.iter().map(|w| w.sum()).collect();
            let sum_sq = p.iter().map(|w| w.sum_sq()).collect();
            let evidence = p.iter().map(|w| w.evidence()).collect();
            self.data = Data::Wide {
                moments: Moments::Exact { sum, sum_sq },
                evidence,
            };
        }
    }

    /// Turns exact sums into the Welford form, in place.
    pub fn to_welford(&mut self) {
        self.widen();
        let n = self.frames;
        let Data::Wide { moments, .. } = &mut self.data else {
            unreachable!("widened above")
        };
        if let Moments::Exact { sum, sum_sq } = moments {
            let (sums, squares) = (std::mem::take(sum), std::mem::take(sum_sq));
            // Σx² first, while Σx is still there; each collect reuses its
            // buffer (u32 and f32 have one layout).
            let m2: Vec<f32> = squares
                .into_iter()
                .zip(&sums)
                .map(|(q, &s)| exact_m2(n, s, q))
                .collect();
            let mean: Vec<f32> = sums.into_iter().map(|s| exact_mean(n, s) as f32).collect();
            *moments = Moments::Welford { mean, m2 };
        }
    }
}

/// The Chan et al. merge of `other`'s `nb` frames into (na, mean, m2), in
/// f64, stored as f32.
fn chan_merge(mean: &mut [f32], m2: &mut [f32], na: u64, other: &Stats, nb: u64) {
    let (na, nb) = (na as f64, nb as f64);
    let n = na + nb;
    let (weight_b, cross) = (nb / n, na * nb / n);
    mean.par_iter_mut()
        .zip(m2.par_iter_mut())
        .enumerate()
        .for_each(|(i, (ma, m2a))| {
            let b = other.subpixel(i);
            let d = b.mean - f64::from(*ma);
            *ma = (f64::from(*ma) + d * weight_b) as f32;
            *m2a = (f64::from(*m2a) + b.m2 + d * d * cross) as f32;
        });
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
/// the final division and the narrowing to f32. Sums no frames can give
/// (n·Σx² < (Σx)², which a state's checks refuse) read as M2 = 0.
#[inline(always)]
pub(crate) fn exact_m2(n: u64, sum: u32, sum_sq: u32) -> f32 {
    if n == 0 {
        return 0.0;
    }
    let (s, q) = (u64::from(sum), u64::from(sum_sq));
    ((n * q).saturating_sub(s * s) as f64 / n as f64) as f32
}

#[cfg(test)]
mod tests;
