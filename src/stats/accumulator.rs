//! The run's one accumulator: exact sums and evidence of every subpixel, in
//! 12 bytes a subpixel, updated a batch of frames at a time over disjoint
//! bands of rows.
//!
//! Layout per subpixel: a u32 holding Σx² (bits 0..26) and the bright peak
//! code (bits 26..32), and a u64 packing Σx (bits 0..18), Σ excess (18 bits
//! from bit 18), Σ weight × excess (22 bits from bit 36) and the dark peak
//! code (bits 58..64); the two signed sums are stored with a bias. Sums are
//! added as one wrapping add of the signed contributions shifted into place:
//! the sum of the addends is the packed value of the sums, whatever the
//! order. Every field stays in range after every batch (its bias covers the
//! most [`PACKED_FRAMES`] frames can subtract), so no carry or borrow ever
//! crosses into the next field, and the peak codes (a maximum, not a sum)
//! can share the words. Past [`PACKED_FRAMES`] frames each band flushes its
//! packed words into wider exact sums (18 more bytes a subpixel) and starts
//! again; Σx² in a u32 is exact up to [`EXACT_FRAMES`], the most one run takes
//! (more frames: several runs, merged as states).
//!
//! A batch of frames is folded in row by row: for each row, every frame's
//! ring references and excesses are added into 16-bit staging sums (and
//! 16-bit extremes, coded as peaks only then) that stay in cache, two frames
//! a pass, and only then into the row's packed words. Each accumulator word
//! is read and written once per batch, not once per frame, which is what
//! bounded the update when every worker had its own accumulator.

use super::{filled, Evidence, Moments, Peaks, Stats, EXACT_FRAMES};
use crate::error::Error;
use crate::evidence::{
    excess, peak_code, ring_medians_row, Layout, CLAMP, CLIPPED, DARK_WEIGHT_MAX,
};
use ndarray::Array3;

/// Frames the packed words hold exactly: Σx ≤ 255 × 1023 < 2¹⁸, Σx² ≤
/// 255² × 1023 < 2²⁶, and the biased evidence sums fit their 18 and 22 bits.
pub const PACKED_FRAMES: u32 = 1023;

/// Most frames in one batch: the 16-bit staging sums hold 16 × 15 × 126.
pub const MAX_BATCH: usize = 16;

const EXCESS_SHIFT: u32 = 18;
const DARK_SHIFT: u32 = 36;
const PEAK_SHIFT_64: u32 = 58;
const PEAK_SHIFT_32: u32 = 26;
const SUM_MASK: u64 = (1 << EXCESS_SHIFT) - 1;
const EXCESS_MASK: u64 = (1 << 18) - 1;
const DARK_MASK: u64 = (1 << 22) - 1;
const SQ_MASK: u32 = (1 << PEAK_SHIFT_32) - 1;
const EXCESS_BIAS: u64 = PACKED_FRAMES as u64 * CLAMP as u64;
const DARK_BIAS: u64 = EXCESS_BIAS * DARK_WEIGHT_MAX as u64;
/// A packed word with its sums 0 and its peak 0.
const PACKED_ZERO: u64 = (EXCESS_BIAS << EXCESS_SHIFT) | (DARK_BIAS << DARK_SHIFT);

const _: () = assert!(2 * EXCESS_BIAS <= EXCESS_MASK);
const _: () = assert!(2 * DARK_BIAS <= DARK_MASK);
const _: () = assert!(DARK_SHIFT + 22 <= PEAK_SHIFT_64);
const _: () = assert!(255 * PACKED_FRAMES as u64 <= SUM_MASK);
const _: () = assert!(255 * 255 * PACKED_FRAMES as u64 <= SQ_MASK as u64);
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
    /// more than [`PACKED_FRAMES`] frames.
    wide: Option<Wide>,
    /// Per band: frames in its packed words, and frames in all.
    band_frames: Vec<(u32, u32)>,
}

#[derive(Debug)]
struct Wide {
    sum: Vec<u32>,
    sum_sq: Vec<u32>,
    evidence: Vec<Evidence>,
    peaks: Vec<Peaks>,
}

/// The wide sums of one band.
#[derive(Debug)]
struct WideBand<'a> {
    sum: &'a mut [u32],
    sum_sq: &'a mut [u32],
    evidence: &'a mut [Evidence],
    peaks: &'a mut [Peaks],
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
    wide: Option<WideBand<'a>>,
}

/// Buffers one thread reuses from band to band.
#[derive(Debug, Default)]
pub struct Scratch {
    references: Vec<u8>,
    references_2: Vec<u8>,
    sum: Vec<u16>,
    excess: Vec<i16>,
    dark: Vec<i16>,
    /// The batch's largest and smallest excess, bounded by 0 (where they
    /// start).
    bright_peak: Vec<i16>,
    dark_peak: Vec<i16>,
}

impl Accumulator {
    /// Rows a band holds: a few hundred kilobytes of accumulators, so that a
    /// band is a unit of work small enough to share out evenly.
    pub const BAND_ROWS: usize = 16;

    /// Zeroed sums for `frames` frames of `layout`, at most [`EXACT_FRAMES`]:
    /// 12 bytes a subpixel (30 past [`PACKED_FRAMES`]), allocated and written
    /// through now (first-touch page faults inside the first batch would land
    /// on the workers), or an error saying what could not be allocated.
    pub fn new(layout: Layout, frames: u64) -> Result<Self, Error> {
        if frames > EXACT_FRAMES {
            return Err(Error::TooManyFrames { frames });
        }
        let len = layout.len();
        let what = "the accumulators";
        let wide = if frames > u64::from(PACKED_FRAMES) {
            Some(Wide {
                sum: filled(len, 0, what)?,
                sum_sq: filled(len, 0, what)?,
                evidence: filled(len, Evidence::default(), what)?,
                peaks: filled(len, Peaks::default(), what)?,
            })
        } else {
            None
        };
        let band_rows = Self::BAND_ROWS;
        Ok(Accumulator {
            layout,
            band_rows,
            packed: filled(len, PACKED_ZERO, what)?,
            sum_sq: filled(len, 0, what)?,
            wide,
            band_frames: vec![(0, 0); layout.height.div_ceil(band_rows).max(1)],
        })
    }

    /// Bytes a subpixel the accumulators of `frames` frames take.
    pub fn bytes_per_subpixel(frames: u64) -> u64 {
        if frames > u64::from(PACKED_FRAMES) {
            30
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
        let mut wide: Vec<Option<WideBand>> = match &mut self.wide {
            Some(w) => w
                .sum
                .chunks_mut(per_band)
                .zip(w.sum_sq.chunks_mut(per_band))
                .zip(w.evidence.chunks_mut(per_band))
                .zip(w.peaks.chunks_mut(per_band))
                .map(|(((sum, sum_sq), evidence), peaks)| {
                    Some(WideBand {
                        sum,
                        sum_sq,
                        evidence,
                        peaks,
                    })
                })
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
        let after = self.frames() + frames.len() as u64;
        if after > EXACT_FRAMES || (self.wide.is_none() && after > u64::from(PACKED_FRAMES)) {
            return Err(Error::TooManyFrames { frames: after });
        }
        let mut scratch = Scratch::default();
        for mut band in self.bands() {
            band.fold(frames, &mut scratch);
        }
        Ok(())
    }

    /// The finished statistics, made in place: Σx² stays where it is, the
    /// packed words become the evidence sums, and Σx and the peaks get new
    /// buffers (18 bytes a subpixel at the end, from 12).
    pub fn into_stats(mut self) -> Result<Stats, Error> {
        let frames = self.frames();
        debug_assert!(self.band_frames.iter().all(|f| u64::from(f.1) == frames));
        let shape = (self.layout.height, self.layout.width, self.layout.channels);
        let (sum, sum_sq, evidence, peaks) = match self.wide.take() {
            Some(mut w) => {
                let mut wide = WideBand {
                    sum: &mut w.sum,
                    sum_sq: &mut w.sum_sq,
                    evidence: &mut w.evidence,
                    peaks: &mut w.peaks,
                };
                drain(&mut self.packed, &mut self.sum_sq, &mut wide);
                drop((self.packed, self.sum_sq));
                (w.sum, w.sum_sq, w.evidence, w.peaks)
            }
            None => {
                let what = "the statistics";
                let mut sum = filled(self.packed.len(), 0u32, what)?;
                let mut peaks = filled(self.packed.len(), Peaks::default(), what)?;
                for (((s, pk), &p), q) in sum
                    .iter_mut()
                    .zip(&mut peaks)
                    .zip(&self.packed)
                    .zip(&mut self.sum_sq)
                {
                    let (sum, _, dark_peak) = unpack(p);
                    *s = sum;
                    *pk = Peaks {
                        bright: (*q >> PEAK_SHIFT_32) as u8,
                        dark: dark_peak,
                    };
                    *q &= SQ_MASK;
                }
                // The same size and alignment, so the collect reuses the buffer.
                let evidence: Vec<Evidence> =
                    self.packed.into_iter().map(|p| unpack(p).1).collect();
                (sum, self.sum_sq, evidence, peaks)
            }
        };
        let array = |v| Array3::from_shape_vec(shape, v).expect("shape matches length");
        Ok(Stats {
            frames,
            moments: Moments::Exact {
                sum: array(sum),
                sum_sq: array(sum_sq),
            },
            evidence: Array3::from_shape_vec(shape, evidence).expect("shape matches length"),
            peaks: Array3::from_shape_vec(shape, peaks).expect("shape matches length"),
        })
    }
}

/// Σx, the evidence sums and the dark peak code held in a packed word.
#[inline(always)]
fn unpack(p: u64) -> (u32, Evidence, u8) {
    (
        (p & SUM_MASK) as u32,
        Evidence {
            excess: ((p >> EXCESS_SHIFT) & EXCESS_MASK) as i32 - EXCESS_BIAS as i32,
            dark: ((p >> DARK_SHIFT) & DARK_MASK) as i32 - DARK_BIAS as i32,
        },
        (p >> PEAK_SHIFT_64) as u8,
    )
}

/// Adds packed words and their Σx² words into wide sums and zeroes them.
fn drain(packed: &mut [u64], sum_sq: &mut [u32], wide: &mut WideBand) {
    for (i, (p, q)) in packed.iter_mut().zip(sum_sq.iter_mut()).enumerate() {
        let (sum, e, dark_peak) = unpack(*p);
        wide.sum[i] += sum;
        wide.sum_sq[i] += *q & SQ_MASK;
        wide.evidence[i].excess += e.excess;
        wide.evidence[i].dark += e.dark;
        let pk = &mut wide.peaks[i];
        pk.bright = pk.bright.max((*q >> PEAK_SHIFT_32) as u8);
        pk.dark = pk.dark.max(dark_peak);
        *p = PACKED_ZERO;
        *q = 0;
    }
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
            let wide = self
                .wide
                .as_mut()
                .expect("wide sums exist for series past the packed limit");
            drain(self.packed, self.sum_sq, wide);
            self.frames.0 = 0;
        }
        fold(self, frames, scratch);
        self.frames.0 += n;
        self.frames.1 += n;
    }
}

/// Chosen at run time: compiled for AVX2 where the CPU has it (release
/// builds target baseline x86-64).
fn fold(band: &mut Band, frames: &[FrameRef], scratch: &mut Scratch) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { fold_avx2(band, frames, scratch) };
            return;
        }
    }
    fold_generic(band, frames, scratch);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_avx2(band: &mut Band, frames: &[FrameRef], scratch: &mut Scratch) {
    fold_generic(band, frames, scratch);
}

#[inline(always)]
fn fold_generic<'f>(band: &mut Band, frames: &[FrameRef<'f>], scratch: &mut Scratch) {
    let layout = band.layout;
    let stride = layout.stride();
    scratch.references.resize(stride, 0);
    scratch.references_2.resize(stride, 0);
    scratch.sum.resize(stride, 0);
    for buffer in [
        &mut scratch.excess,
        &mut scratch.dark,
        &mut scratch.bright_peak,
        &mut scratch.dark_peak,
    ] {
        buffer.resize(stride, 0);
    }
    let zeros = vec![0u8; if frames.len() % 2 == 1 { stride } else { 0 }];
    let rows = band.packed.len() / stride;
    for r in 0..rows {
        let y = band.first_row + r;
        let range = r * stride..(r + 1) * stride;
        scratch.sum.fill(0);
        scratch.excess.fill(0);
        scratch.dark.fill(0);
        scratch.bright_peak.fill(0);
        scratch.dark_peak.fill(0);
        let sum_sq = &mut band.sum_sq[range.clone()];
        let line = |f: &FrameRef<'f>| -> &'f [u8] { &f.pixels[y * stride..(y + 1) * stride] };
        // Two frames a pass: the staging sums and Σx² are read and written
        // once for both.
        let mut pairs = frames.chunks_exact(2);
        for pair in &mut pairs {
            let (f, g) = (&pair[0], &pair[1]);
            ring_medians_row(f.pixels, layout, y, &mut scratch.references);
            ring_medians_row(g.pixels, layout, y, &mut scratch.references_2);
            let weights = [i16::from(f.dark_weight), i16::from(g.dark_weight)];
            fold_pair_row(scratch, sum_sq, [line(f), line(g)], weights);
        }
        if let [f] = pairs.remainder() {
            // The last frame of an odd batch is paired with a frame of zeros
            // against references of zeros, which adds nothing to any sum and
            // moves neither extreme (both start at 0).
            ring_medians_row(f.pixels, layout, y, &mut scratch.references);
            scratch.references_2.fill(0);
            let weights = [i16::from(f.dark_weight), 0];
            fold_pair_row(scratch, sum_sq, [line(f), &zeros], weights);
        }
        flush_row(&mut band.packed[range], sum_sq, scratch);
    }
}

/// Adds two frames' rows to the staging sums and extremes and to Σx²
/// (`rows[1]`'s references in `scratch.references_2`). Branch-free over
/// plain slices so that it vectorises: the 16-bit work in one loop and the
/// 32-bit Σx² in another, so that the first runs sixteen lanes at a time
/// rather than the eight the widest type would allow.
#[inline(always)]
fn fold_pair_row(scratch: &mut Scratch, sum_sq: &mut [u32], rows: [&[u8]; 2], weights: [i16; 2]) {
    // Most frames (short exposures at low ISO) carry no dark-current weight.
    if weights == [0, 0] {
        fold_evidence_pair::<false>(scratch, rows, weights);
    } else {
        fold_evidence_pair::<true>(scratch, rows, weights);
    }
    let n = rows[0].len();
    let (a, b) = (&rows[0][..n], &rows[1][..n]);
    let sum_sq = &mut sum_sq[..n];
    for k in 0..n {
        // Two squares of values under 2⁸, summed in i32 (pmaddwd lanes).
        let (x, y) = (i32::from(i16::from(a[k])), i32::from(i16::from(b[k])));
        sum_sq[k] += (x * x + y * y) as u32;
    }
}

/// The sums, the evidence and the extremes of two frames' rows, in 16-bit
/// lanes.
#[inline(always)]
fn fold_evidence_pair<const DARK: bool>(
    scratch: &mut Scratch,
    rows: [&[u8]; 2],
    weights: [i16; 2],
) {
    let n = rows[0].len();
    let (a, b) = (&rows[0][..n], &rows[1][..n]);
    let (ra, rb) = (&scratch.references[..n], &scratch.references_2[..n]);
    let (sum, exc) = (&mut scratch.sum[..n], &mut scratch.excess[..n]);
    let dark = &mut scratch.dark[..n];
    let (bright_peak, dark_peak) = (&mut scratch.bright_peak[..n], &mut scratch.dark_peak[..n]);
    for k in 0..n {
        let (ea, eb) = (excess_lanes(a[k], ra[k]), excess_lanes(b[k], rb[k]));
        sum[k] += u16::from(a[k]) + u16::from(b[k]);
        exc[k] += ea + eb;
        if DARK {
            dark[k] += ea * weights[0] + eb * weights[1];
        }
        bright_peak[k] = bright_peak[k].max(ea.max(eb));
        dark_peak[k] = dark_peak[k].min(ea.min(eb));
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

/// Adds a row's staging sums to its packed words, and its peaks to theirs.
#[inline(always)]
fn flush_row(packed: &mut [u64], sum_sq: &mut [u32], scratch: &Scratch) {
    let n = packed.len();
    let (sum, exc, dark) = (&scratch.sum[..n], &scratch.excess[..n], &scratch.dark[..n]);
    let (bright_peak, dark_peak) = (&scratch.bright_peak[..n], &scratch.dark_peak[..n]);
    let sum_sq = &mut sum_sq[..n];
    for k in 0..n {
        let add = u64::from(sum[k])
            .wrapping_add((i64::from(exc[k]) as u64) << EXCESS_SHIFT)
            .wrapping_add((i64::from(dark[k]) as u64) << DARK_SHIFT);
        let p = packed[k].wrapping_add(add);
        let old_dark = (p >> PEAK_SHIFT_64) as u8;
        // The code of the batch's extreme is the largest of its frames'
        // codes (`peak_code` never decreases).
        let (bright, dark) = (peak_code(bright_peak[k]), peak_code(-dark_peak[k]));
        packed[k] =
            (p & !(u64::MAX << PEAK_SHIFT_64)) | (u64::from(old_dark.max(dark)) << PEAK_SHIFT_64);
        let q = sum_sq[k];
        let old_bright = (q >> PEAK_SHIFT_32) as u8;
        sum_sq[k] = (q & SQ_MASK) | (u32::from(old_bright.max(bright)) << PEAK_SHIFT_32);
    }
}

// `excess` and `peak_code` are the definitions the kernel must match.
const _: fn(u8, u8) -> i16 = excess;
const _: fn(i16) -> u8 = peak_code;

#[cfg(test)]
pub(crate) fn excess_lanes_for_test(v: u8, r: u8) -> i16 {
    excess_lanes(v, r)
}
