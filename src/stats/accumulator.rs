//! The run's one accumulator: exact sums and evidence of every subpixel, in
//! 12 bytes a subpixel, updated a batch of frames at a time over disjoint
//! bands of rows.
//!
//! Layout per subpixel: Σx² in a u32, and a u64 packing Σx (bits 0..19),
//! Σ excess (19 bits from bit 19) and Σ weight × excess (23 bits from bit 38),
//! the two signed sums stored with a bias. Every addend is a wrapping add of
//! the signed contributions shifted into place: the sum of the addends is the
//! packed value of the sums, whatever the order, as long as each field's
//! final value is in range, which [`PACKED_FRAMES`] frames guarantee. Past
//! that, the packed words are flushed into wider exact sums (u32 Σx, i32
//! evidence) and start again; Σx² in a u32 is exact up to [`EXACT_FRAMES`],
//! the most one run takes (more frames: several runs, merged as states).
//!
//! A batch of frames is folded in row by row: for each row, every frame's
//! ring references and excesses are added into 16-bit staging sums that stay
//! in the first-level cache, and only then into the row's packed words. Each
//! accumulator word is read and written once per batch, not once per frame,
//! which is what bounded the update when every worker had its own
//! accumulator.

use super::{filled, Evidence, Moments, Stats, EXACT_FRAMES};
use crate::error::Error;
use crate::evidence::{excess, ring_medians_row, Layout, CLAMP, CLIPPED, DARK_WEIGHT_MAX};
use ndarray::Array3;

/// Frames the packed words hold exactly: Σx ≤ 255 × 2047 < 2¹⁹, and the
/// biased evidence sums fit their 19 and 23 bits. Past that, each band
/// flushes its packed words into wider sums and starts again.
pub const PACKED_FRAMES: u32 = 2047;

/// Most frames in one batch: the 16-bit staging sums hold 16 × 15 × 127.
pub const MAX_BATCH: usize = 16;

const EXCESS_SHIFT: u32 = 19;
const DARK_SHIFT: u32 = 38;
const SUM_MASK: u64 = (1 << EXCESS_SHIFT) - 1;
const EXCESS_MASK: u64 = (1 << 19) - 1;
const DARK_MASK: u64 = (1 << 23) - 1;
const EXCESS_BIAS: u64 = PACKED_FRAMES as u64 * CLAMP as u64;
const DARK_BIAS: u64 = EXCESS_BIAS * DARK_WEIGHT_MAX as u64;
/// A packed word with all three sums 0.
const PACKED_ZERO: u64 = (EXCESS_BIAS << EXCESS_SHIFT) | (DARK_BIAS << DARK_SHIFT);

const _: () = assert!(2 * EXCESS_BIAS <= EXCESS_MASK);
const _: () = assert!(2 * DARK_BIAS <= DARK_MASK);
const _: () = assert!(255 * PACKED_FRAMES as u64 <= SUM_MASK);
const _: () = assert!(MAX_BATCH as i64 * CLAMP as i64 * DARK_WEIGHT_MAX as i64 <= i16::MAX as i64);

/// One decoded frame of a batch: its pixels (row-major, the accumulator's
/// layout) and its dark-current weight ([`crate::evidence::dark_weight`]).
#[derive(Debug, Clone, Copy)]
pub struct FrameRef<'a> {
    pub pixels: &'a [u8],
    pub dark_weight: u8,
}

/// The exact sums of the frames added so far.
#[derive(Debug)]
pub struct Accumulator {
    layout: Layout,
    /// Rows a band holds.
    band_rows: usize,
    packed: Vec<u64>,
    sum_sq: Vec<u32>,
    /// Wider exact sums the packed words are flushed into, for series of
    /// more than [`PACKED_FRAMES`] frames (12 more bytes a subpixel).
    wide: Option<Wide>,
    /// Per band: frames in its packed words, and frames in all.
    band_frames: Vec<(u32, u32)>,
}

#[derive(Debug)]
struct Wide {
    sum: Vec<u32>,
    evidence: Vec<Evidence>,
}

/// A band of rows of the accumulator: a batch is folded into each band by
/// one thread while other threads fold the same batch into other bands.
#[derive(Debug)]
pub struct Band<'a> {
    layout: Layout,
    first_row: usize,
    frames: &'a mut (u32, u32),
    packed: &'a mut [u64],
    sum_sq: &'a mut [u32],
    wide: Option<(&'a mut [u32], &'a mut [Evidence])>,
}

/// Buffers one thread reuses from band to band.
#[derive(Debug, Default)]
pub struct Scratch {
    references: Vec<u8>,
    sum: Vec<u16>,
    excess: Vec<i16>,
    dark: Vec<i16>,
}

impl Accumulator {
    /// Rows a band holds: a few hundred kilobytes of accumulators, so that a
    /// band is a unit of work small enough to share out evenly.
    pub const BAND_ROWS: usize = 16;

    /// Zeroed sums for `frames` frames of `layout`, at most [`EXACT_FRAMES`]:
    /// 12 bytes a subpixel (24 past [`PACKED_FRAMES`]), allocated and written
    /// through now (first-touch page faults inside the first batch would land
    /// on the workers), or an error saying what could not be allocated.
    pub fn new(layout: Layout, frames: u64) -> Result<Self, Error> {
        if frames > EXACT_FRAMES {
            return Err(Error::TooManyFrames { frames });
        }
        let len = layout.len();
        let wide = if frames > u64::from(PACKED_FRAMES) {
            Some(Wide {
                sum: filled(len, 0, "the accumulators")?,
                evidence: filled(len, Evidence::default(), "the accumulators")?,
            })
        } else {
            None
        };
        let band_rows = Self::BAND_ROWS;
        Ok(Accumulator {
            layout,
            band_rows,
            packed: filled(len, PACKED_ZERO, "the accumulators")?,
            sum_sq: filled(len, 0, "the accumulators")?,
            wide,
            band_frames: vec![(0, 0); layout.height.div_ceil(band_rows).max(1)],
        })
    }

    /// Bytes a subpixel the accumulators of `frames` frames take.
    pub fn bytes_per_subpixel(frames: u64) -> u64 {
        if frames > u64::from(PACKED_FRAMES) {
            24
        } else {
            12
        }
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Frames added so far.
    pub fn frames(&self) -> u64 {
        u64::from(self.band_frames[0].1)
    }

    /// The accumulator cut into its bands, each to be folded by one thread.
    pub fn bands(&mut self) -> Vec<Band<'_>> {
        let per_band = self.band_rows * self.layout.stride();
        let layout = self.layout;
        let band_rows = self.band_rows;
        let mut wide: Vec<Option<(&mut [u32], &mut [Evidence])>> = match &mut self.wide {
            Some(w) => w
                .sum
                .chunks_mut(per_band)
                .zip(w.evidence.chunks_mut(per_band))
                .map(Some)
                .collect(),
            None => Vec::new(),
        };
        wide.resize_with(self.band_frames.len(), || None);
        self.packed
            .chunks_mut(per_band)
            .zip(self.sum_sq.chunks_mut(per_band))
            .zip(self.band_frames.iter_mut())
            .zip(wide)
            .enumerate()
            .map(|(k, (((packed, sum_sq), frames), wide))| Band {
                layout,
                first_row: k * band_rows,
                frames,
                packed,
                sum_sq,
                wide,
            })
            .collect()
    }

    /// Folds a batch into every band on this thread (for tests and small
    /// callers; the engine shares the bands out among its workers).
    pub fn add_batch(&mut self, frames: &[FrameRef]) -> Result<(), Error> {
        if self.frames() + frames.len() as u64 > EXACT_FRAMES
            || (self.wide.is_none()
                && self.frames() + frames.len() as u64 > u64::from(PACKED_FRAMES))
        {
            return Err(Error::TooManyFrames {
                frames: self.frames() + frames.len() as u64,
            });
        }
        let mut scratch = Scratch::default();
        for mut band in self.bands() {
            band.fold(frames, &mut scratch);
        }
        Ok(())
    }

    /// The finished statistics, made in place: Σx² stays where it is, the
    /// packed words become the evidence sums, and only Σx gets a new buffer
    /// (16 bytes a subpixel at the end, from 12).
    pub fn into_stats(mut self) -> Result<Stats, Error> {
        let frames = self.frames();
        debug_assert!(self.band_frames.iter().all(|f| f.1 as u64 == frames));
        let shape = (self.layout.height, self.layout.width, self.layout.channels);
        let (sum, evidence) = match self.wide.take() {
            Some(mut wide) => {
                for ((s, e), &p) in wide
                    .sum
                    .iter_mut()
                    .zip(&mut wide.evidence)
                    .zip(&self.packed)
                {
                    add_packed(s, e, p);
                }
                drop(self.packed);
                (wide.sum, wide.evidence)
            }
            None => {
                let mut sum = filled(self.packed.len(), 0u32, "the statistics")?;
                for (s, &p) in sum.iter_mut().zip(&self.packed) {
                    *s = unpack(p).0;
                }
                // The same size and alignment, so the collect reuses the buffer.
                let evidence: Vec<Evidence> =
                    self.packed.into_iter().map(|p| unpack(p).1).collect();
                (sum, evidence)
            }
        };
        Ok(Stats {
            frames,
            moments: Moments::Exact {
                sum: Array3::from_shape_vec(shape, sum).expect("shape matches length"),
                sum_sq: Array3::from_shape_vec(shape, self.sum_sq).expect("shape matches length"),
            },
            evidence: Array3::from_shape_vec(shape, evidence).expect("shape matches length"),
        })
    }
}

/// Σx and the evidence sums held in a packed word.
#[inline(always)]
fn unpack(p: u64) -> (u32, Evidence) {
    (
        (p & SUM_MASK) as u32,
        Evidence {
            excess: ((p >> EXCESS_SHIFT) & EXCESS_MASK) as i32 - EXCESS_BIAS as i32,
            dark: ((p >> DARK_SHIFT) & DARK_MASK) as i32 - DARK_BIAS as i32,
        },
    )
}

/// Adds a packed word's sums to wide ones.
#[inline(always)]
fn add_packed(sum: &mut u32, evidence: &mut Evidence, p: u64) {
    let (s, e) = unpack(p);
    *sum += s;
    evidence.excess += e.excess;
    evidence.dark += e.dark;
}

impl Band<'_> {
    /// Folds a batch of frames into the band's rows (see the module docs).
    pub fn fold(&mut self, frames: &[FrameRef], scratch: &mut Scratch) {
        assert!(
            frames.len() <= MAX_BATCH,
            "batch of {} frames",
            frames.len()
        );
        for f in frames {
            assert_eq!(f.pixels.len(), self.layout.len(), "frame size differs");
            assert!(f.dark_weight <= DARK_WEIGHT_MAX);
        }
        let n = frames.len() as u32;
        if self.frames.0 + n > PACKED_FRAMES {
            let (sum, evidence) = self
                .wide
                .as_mut()
                .expect("wide sums exist for series past the packed limit");
            for ((s, e), p) in sum
                .iter_mut()
                .zip(evidence.iter_mut())
                .zip(self.packed.iter_mut())
            {
                add_packed(s, e, *p);
                *p = PACKED_ZERO;
            }
            self.frames.0 = 0;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { fold_avx2(self, frames, scratch) };
                self.frames.0 += n;
                self.frames.1 += n;
                return;
            }
        }
        fold_generic(self, frames, scratch);
        self.frames.0 += n;
        self.frames.1 += n;
    }
}

/// The same loops compiled for AVX2 (release builds target baseline x86-64).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_avx2(band: &mut Band, frames: &[FrameRef], scratch: &mut Scratch) {
    fold_generic(band, frames, scratch);
}

#[inline(always)]
fn fold_generic(band: &mut Band, frames: &[FrameRef], scratch: &mut Scratch) {
    let layout = band.layout;
    let stride = layout.stride();
    scratch.references.resize(stride, 0);
    scratch.sum.resize(stride, 0);
    scratch.excess.resize(stride, 0);
    scratch.dark.resize(stride, 0);
    let rows = band.packed.len() / stride;
    for r in 0..rows {
        let y = band.first_row + r;
        let range = r * stride..(r + 1) * stride;
        scratch.sum.fill(0);
        scratch.excess.fill(0);
        scratch.dark.fill(0);
        let sum_sq = &mut band.sum_sq[range.clone()];
        for f in frames {
            ring_medians_row(f.pixels, layout, y, &mut scratch.references);
            let row = &f.pixels[y * stride..(y + 1) * stride];
            fold_frame_row(
                (&mut scratch.sum, &mut scratch.excess, &mut scratch.dark),
                sum_sq,
                row,
                &scratch.references,
                i16::from(f.dark_weight),
            );
        }
        flush_row(
            &mut band.packed[range],
            &scratch.sum,
            &scratch.excess,
            &scratch.dark,
        );
    }
}

/// Adds one frame's row to the staging sums and to Σx². Branch-free over
/// plain slices, 16-bit lanes, so that it vectorises.
#[inline(always)]
fn fold_frame_row(
    stage: (&mut Vec<u16>, &mut Vec<i16>, &mut Vec<i16>),
    sum_sq: &mut [u32],
    row: &[u8],
    references: &[u8],
    weight: i16,
) {
    let (sum, exc, dark) = stage;
    let (sum, exc) = (&mut sum[..row.len()], &mut exc[..row.len()]);
    let dark = &mut dark[..row.len()];
    let (sum_sq, references) = (&mut sum_sq[..row.len()], &references[..row.len()]);
    for k in 0..row.len() {
        let (v, r) = (row[k], references[k]);
        let e = excess_lanes(v, r);
        sum[k] += u16::from(v);
        exc[k] += e;
        dark[k] += e * weight;
        let v16 = u16::from(v);
        sum_sq[k] += u32::from(v16 * v16);
    }
}

/// [`excess`] in the shape that vectorises: (v − r)(v + r) / 256 as one
/// high-half 16-bit multiply of ×16 operands (pmulhw), then the clamp and
/// the clipped-reference rule as selects. Tested equal to [`excess`].
#[inline(always)]
fn excess_lanes(v: u8, r: u8) -> i16 {
    let (v, r) = (i16::from(v), i16::from(r));
    let e = ((i32::from((v - r) * 16) * i32::from((v + r) * 16)) >> 16) as i16;
    let e = e.clamp(-CLAMP, CLAMP);
    if r >= i16::from(CLIPPED) {
        e.min(0)
    } else {
        e
    }
}

/// Adds a row's staging sums to its packed words.
#[inline(always)]
fn flush_row(packed: &mut [u64], sum: &[u16], exc: &[i16], dark: &[i16]) {
    let n = packed.len();
    let (sum, exc, dark) = (&sum[..n], &exc[..n], &dark[..n]);
    for k in 0..n {
        let add = u64::from(sum[k])
            .wrapping_add((i64::from(exc[k]) as u64) << EXCESS_SHIFT)
            .wrapping_add((i64::from(dark[k]) as u64) << DARK_SHIFT);
        packed[k] = packed[k].wrapping_add(add);
    }
}

// `excess` is the definition the kernel must match.
const _: fn(u8, u8) -> i16 = excess;

#[cfg(test)]
pub(crate) fn excess_lanes_for_test(v: u8, r: u8) -> i16 {
    excess_lanes(v, r)
}
