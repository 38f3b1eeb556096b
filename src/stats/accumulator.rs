//! The run's one accumulator: the exact sums and evidence of every subpixel
//! in the packed words of [`super::packed`] (16 bytes a subpixel), updated
//! a batch of frames at a time over disjoint bands of rows.
//!
//! A batch of frames is folded in row by row: for each row, every frame's
//! ring references and spreads, and from them its observations (see
//! [`crate::evidence::frame`]), are added into narrow staging sums that stay
//! in cache, two frames a pass, and only then into the row's packed words.
//! Each accumulator word is read and written once per batch, not once per
//! frame, which is what bounds the update: the fold streams the packed
//! words from memory and back once a batch.
//!
//! Past [`PACKED_FRAMES`] frames each band flushes its packed words into
//! wide sums (36 more bytes a subpixel, for series that long) and starts
//! again; Σx² in a u32 is exact up to [`EXACT_FRAMES`], the most one run
//! takes (more frames: several runs, merged as states).

use super::packed::{Packed, Staged, PACKED_FRAMES};
use super::{filled, Data, Moments, Stats, EXACT_FRAMES};
use crate::error::Error;
use crate::evidence::{excess, ring_stats_row, Evidence, Layout, CLAMP, DARK_WEIGHT_MAX};
use crate::params::{CLIPPED, SEEN_MIN, SEEN_SPREADS};

/// Most frames in one batch: the 16-bit staging sums hold 16 × 15 × 126.
pub const MAX_BATCH: usize = 16;

const _: () = assert!(MAX_BATCH as i64 * CLAMP as i64 * DARK_WEIGHT_MAX as i64 <= i16::MAX as i64);
const _: () = assert!(MAX_BATCH as u32 <= PACKED_FRAMES);

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
    packed: Vec<Packed>,
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
}

/// The wide sums of one band.
#[derive(Debug)]
struct WideBand<'a> {
    sum: &'a mut [u32],
    sum_sq: &'a mut [u32],
    evidence: &'a mut [Evidence],
}

/// A band of rows of the accumulator: a batch is folded into each band by
/// one thread while other threads fold the same batch into other bands.
#[derive(Debug)]
pub struct Band<'a> {
    layout: Layout,
    first_row: usize,
    frames: &'a mut (u32, u32),
    packed: &'a mut [Packed],
    wide: Option<WideBand<'a>>,
}

/// Buffers one thread reuses from band to band: one row's references and
/// spreads for two frames, and the batch's staging sums of one row.
#[derive(Debug, Default)]
pub struct Scratch {
    references: [Vec<u8>; 2],
    spreads: [Vec<u8>; 2],
    sum: Vec<u16>,
    sum_sq: Vec<u32>,
    excess: Vec<i16>,
    dark: Vec<i16>,
    /// Frames seen bright, could bright, seen dark, could dark, seen hot.
    counts: [Vec<u8>; 5],
}

impl Accumulator {
    /// Rows a band holds: a few hundred kilobytes of accumulators, so that a
    /// band is a unit of work small enough to share out evenly.
    pub const BAND_ROWS: usize = 16;

    /// Zeroed sums for `frames` frames of `layout`, at most [`EXACT_FRAMES`]:
    /// [`Self::bytes_per_subpixel`], allocated and written through now
    /// (first-touch page faults inside the first batch would land on the
    /// workers), or an error saying what could not be allocated.
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
            })
        } else {
            None
        };
        let band_rows = Self::BAND_ROWS;
        Ok(Accumulator {
            layout,
            band_rows,
            packed: filled(len, Packed::ZERO, what)?,
            wide,
            band_frames: vec![(0, 0); layout.height.div_ceil(band_rows).max(1)],
        })
    }

    /// Bytes a subpixel the accumulators of `frames` frames take: the packed
    /// words, and past [`PACKED_FRAMES`] the wide sums beside them.
    pub fn bytes_per_subpixel(frames: u64) -> u64 {
        let packed = std::mem::size_of::<Packed>() as u64;
        if frames > u64::from(PACKED_FRAMES) {
            packed + Stats::WIDE_BYTES
        } else {
            packed
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
                .map(|((sum, sum_sq), evidence)| {
                    Some(WideBand {
                        sum,
                        sum_sq,
                        evidence,
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        wide.resize_with(self.band_frames.len(), || None);
        self.packed
            .chunks_mut(per_band)
            .zip(self.band_frames.iter_mut())
            .zip(wide)
            .enumerate()
            .map(|(k, ((packed, frames), wide))| Band {
                layout,
                first_row: k * band_rows,
                frames,
                packed,
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

    /// The finished statistics: the packed words themselves for a series of
    /// at most [`PACKED_FRAMES`] frames (nothing is copied), else the wide
    /// sums with the last packed words drained into them.
    pub fn into_stats(mut self) -> Result<Stats, Error> {
        let frames = self.frames();
        debug_assert!(self.band_frames.iter().all(|f| u64::from(f.1) == frames));
        let data = match self.wide.take() {
            Some(mut w) => {
                let mut wide = WideBand {
                    sum: &mut w.sum,
                    sum_sq: &mut w.sum_sq,
                    evidence: &mut w.evidence,
                };
                drain(&mut self.packed, &mut wide);
                drop(self.packed);
                Data::Wide {
                    moments: Moments::Exact {
                        sum: w.sum,
                        sum_sq: w.sum_sq,
                    },
                    evidence: w.evidence,
                }
            }
            None => Data::Packed(self.packed),
        };
        Ok(Stats {
            frames,
            layout: self.layout,
            data,
        })
    }
}

/// Adds packed words into wide sums and zeroes them.
fn drain(packed: &mut [Packed], wide: &mut WideBand) {
    for (i, p) in packed.iter_mut().enumerate() {
        wide.sum[i] += p.sum();
        wide.sum_sq[i] += p.sum_sq();
        wide.evidence[i].merge(&p.evidence());
        *p = Packed::ZERO;
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
            drain(self.packed, wide);
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
    scratch.resize(stride);
    let zeros = vec![0u8; if frames.len() % 2 == 1 { stride } else { 0 }];
    let rows = band.packed.len() / stride;
    for r in 0..rows {
        let y = band.first_row + r;
        scratch.clear();
        let line = |f: &FrameRef<'f>| -> &'f [u8] { &f.pixels[y * stride..(y + 1) * stride] };
        let mut pairs = frames.chunks_exact(2);
        for pair in &mut pairs {
            let (f, g) = (&pair[0], &pair[1]);
            scratch.ring(0, f.pixels, layout, y);
            scratch.ring(1, g.pixels, layout, y);
            fold_pair_row(scratch, [line(f), line(g)], [f.dark_weight, g.dark_weight]);
        }
        if let [f] = pairs.remainder() {
            // The last frame of an odd batch is paired with a frame of zeros
            // whose references are zeros and spreads 255: it adds nothing to
            // any sum, and can be seen in no way (its threshold is 255).
            scratch.ring(0, f.pixels, layout, y);
            scratch.references[1].fill(0);
            scratch.spreads[1].fill(u8::MAX);
            fold_pair_row(scratch, [line(f), &zeros], [f.dark_weight, 0]);
            // A zero frame's reference is not clipped and 0 is not twice any
            // threshold: it counts once as a frame that could show brighter.
            for c in &mut scratch.counts[1] {
                *c -= 1;
            }
        }
        flush_row(&mut band.packed[r * stride..(r + 1) * stride], scratch);
    }
}

impl Scratch {
    fn resize(&mut self, stride: usize) {
        for v in self.references.iter_mut().chain(&mut self.spreads) {
            v.resize(stride, 0);
        }
        self.sum.resize(stride, 0);
        self.sum_sq.resize(stride, 0);
        self.excess.resize(stride, 0);
        self.dark.resize(stride, 0);
        for c in &mut self.counts {
            c.resize(stride, 0);
        }
    }

    fn clear(&mut self) {
        self.sum.fill(0);
        self.sum_sq.fill(0);
        self.excess.fill(0);
        self.dark.fill(0);
        for c in &mut self.counts {
            c.fill(0);
        }
    }

    /// The ring references and spreads of row `y` of `pixels`, as frame `k`
    /// (0 or 1) of the pair. Inlined, so that it is compiled for AVX2 with
    /// the fold that calls it.
    #[inline(always)]
    fn ring(&mut self, k: usize, pixels: &[u8], layout: Layout, y: usize) {
        ring_stats_row(
            pixels,
            layout,
            y,
            &mut self.references[k],
            &mut self.spreads[k],
        );
    }
}

/// Adds two frames' rows to the staging sums (frame `k`'s references and
/// spreads in `scratch.references[k]` and `scratch.spreads[k]`).
/// Branch-free over plain slices so that it vectorises: the 16-bit and
/// 8-bit work in one loop and the 32-bit Σx² in another, so that the first
/// runs sixteen lanes at a time rather than the eight the widest type would
/// allow.
#[inline(always)]
fn fold_pair_row(scratch: &mut Scratch, rows: [&[u8]; 2], weights: [u8; 2]) {
    // Most frames (short exposures at low ISO) carry no dark-current weight.
    if weights == [0, 0] {
        fold_evidence_pair::<false>(scratch, rows, weights);
    } else {
        fold_evidence_pair::<true>(scratch, rows, weights);
    }
    let n = rows[0].len();
    let (a, b) = (&rows[0][..n], &rows[1][..n]);
    let sum_sq = &mut scratch.sum_sq[..n];
    for k in 0..n {
        // Two squares of values under 2⁸, summed in i32 (pmaddwd lanes).
        let (x, y) = (i32::from(i16::from(a[k])), i32::from(i16::from(b[k])));
        sum_sq[k] += (x * x + y * y) as u32;
    }
}

/// The sums and counts of two frames' rows: the 16-bit sums in one loop and
/// the 8-bit counts in another, so that each runs as many lanes as its own
/// width allows (mixed in one loop, the counts would be widened to 16 bits
/// and narrowed back).
#[inline(always)]
fn fold_evidence_pair<const DARK: bool>(scratch: &mut Scratch, rows: [&[u8]; 2], weights: [u8; 2]) {
    let n = rows[0].len();
    let (a, b) = (&rows[0][..n], &rows[1][..n]);
    let (ra, rb) = (&scratch.references[0][..n], &scratch.references[1][..n]);
    let (sa, sb) = (&scratch.spreads[0][..n], &scratch.spreads[1][..n]);
    let (sum, exc) = (&mut scratch.sum[..n], &mut scratch.excess[..n]);
    let dark = &mut scratch.dark[..n];
    let (wa, wb) = (i16::from(weights[0]), i16::from(weights[1]));
    for k in 0..n {
        let (ea, eb) = (excess_lanes(a[k], ra[k]), excess_lanes(b[k], rb[k]));
        sum[k] += u16::from(a[k]) + u16::from(b[k]);
        exc[k] += ea + eb;
        if DARK {
            dark[k] += ea * wa + eb * wb;
        }
    }
    let [bright, could_bright, dark_seen, could_dark, hot] = &mut scratch.counts;
    let (bright, could_bright) = (&mut bright[..n], &mut could_bright[..n]);
    let (dark_seen, could_dark, hot) = (&mut dark_seen[..n], &mut could_dark[..n], &mut hot[..n]);
    // 0xff where the frame has a dark-current weight: seen bright there is
    // seen hot.
    let (ha, hb) = (
        0u8.wrapping_sub(u8::from(weights[0] > 0)),
        0u8.wrapping_sub(u8::from(weights[1] > 0)),
    );
    for k in 0..n {
        let oa = observe_lanes(a[k], ra[k], sa[k]);
        let ob = observe_lanes(b[k], rb[k], sb[k]);
        bright[k] += oa[0] + ob[0];
        could_bright[k] += oa[1] + ob[1];
        dark_seen[k] += oa[2] + ob[2];
        could_dark[k] += oa[3] + ob[3];
        hot[k] += (oa[0] & ha) + (ob[0] & hb);
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

/// The counts of [`crate::evidence::observe`] as 0 or 1: seen bright, could
/// bright, seen dark, could dark; in 8-bit lanes only (r ≥ 2t is t ≤ ⌊r/2⌋
/// for integers, and a saturating difference is 0 the other way). Tested
/// equal to it.
#[inline(always)]
fn observe_lanes(v: u8, r: u8, spread: u8) -> [u8; 4] {
    let t = spread.saturating_mul(SEEN_SPREADS).max(SEEN_MIN);
    let could_bright = r < CLIPPED;
    let could_dark = t <= r >> 1;
    [
        u8::from(could_bright & (v.saturating_sub(r) >= t)),
        u8::from(could_bright),
        u8::from(could_dark & (r.saturating_sub(v) >= t)),
        u8::from(could_dark),
    ]
}

/// Adds a row's staging sums to its packed words.
#[inline(always)]
fn flush_row(packed: &mut [Packed], s: &Scratch) {
    let n = packed.len();
    let (sum, sum_sq, exc, dark) = (&s.sum[..n], &s.sum_sq[..n], &s.excess[..n], &s.dark[..n]);
    let [bright, could_bright, dark_seen, could_dark, hot] = &s.counts;
    let (bright, could_bright) = (&bright[..n], &could_bright[..n]);
    let (dark_seen, could_dark, hot) = (&dark_seen[..n], &could_dark[..n], &hot[..n]);
    for k in 0..n {
        packed[k].add(Staged {
            sum: sum[k],
            sum_sq: sum_sq[k],
            excess: exc[k],
            dark: dark[k],
            bright: bright[k].into(),
            could_bright: could_bright[k].into(),
            dark_seen: dark_seen[k].into(),
            could_dark: could_dark[k].into(),
            hot: hot[k].into(),
        });
    }
}

// `excess` and `observe` are the definitions the kernel must match.
const _: fn(u8, u8) -> i16 = excess;
const _: fn(u8, u8, u8) -> crate::evidence::Observation = crate::evidence::observe;

#[cfg(test)]
pub(crate) fn excess_lanes_for_test(v: u8, r: u8) -> i16 {
    excess_lanes(v, r)
}

#[cfg(test)]
pub(crate) fn observe_lanes_for_test(v: u8, r: u8, spread: u8) -> [u8; 4] {
    observe_lanes(v, r, spread)
}
