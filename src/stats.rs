//! Per-subpixel statistics over a series of frames: exact integer moments per
//! worker, and the Welford form (count, mean, M2) with the Chan et al. merge.
//!
//! Why integers inside a worker: the frames are 8-bit, so Σx and Σx² are
//! exact in u32 for up to [`Accumulator::MAX_FRAMES`] frames. Exact sums are
//! independent of which worker saw which frame and in what order, so the
//! report is byte-identical for any `-j` even though workers take files
//! dynamically; float Welford (f32 or f64) rounds differently for each split
//! and cannot promise that. They are also cheaper per frame (an add and a
//! multiply-add on integers, no division), and with the votes packed beside
//! Σx they take 8 bytes a subpixel, what f32 mean + M2 alone would.
//! `benches/kernels.rs` measures the kernels side by side.
//!
//! The merged result is converted once to the Welford form [`Stats`], with a
//! single rounding to f32 per value (relative error below 1e-7, far inside
//! the 1e-4 accuracy target). Stats from different runs or from accumulators
//! that would overflow are merged with the parallel-variance formula of Chan,
//! Golub and LeVeque (1979), "Updating formulae and a pairwise algorithm for
//! computing sample variances":
//!   n = nA + nB, d = meanB - meanA, mean = meanA + d*nB/n,
//!   M2 = M2A + M2B + d*d*nA*nB/n.

use ndarray::Array3;
use rayon::prelude::*;

use crate::error::Error;
use crate::evidence;

/// Colour channels a pixel has (RGB).
pub const CHANNELS: usize = 3;

/// Bits of a packed word that hold Σx; the subpixel's net votes sit above.
const SUM_BITS: u32 = 19;
const SUM_MASK: u32 = (1 << SUM_BITS) - 1;
/// Frames a packed word holds exactly: Σx ≤ 255 × 2047 < 2¹⁹, and the net
/// votes, in ±2047, are stored biased by 2047 in the 13 bits above.
pub const PACKED_FRAMES: u32 = 2047;
/// A packed word with Σx = 0 and net votes 0.
const PACKED_ZERO: u32 = PACKED_FRAMES << SUM_BITS;
const ONE_VOTE: u32 = 1 << SUM_BITS;

/// A worker's exact running sums over the frames it has decoded, and its
/// per-subpixel defect votes (see [`evidence`]).
///
/// Eight bytes a subpixel: Σx² in a u32, and Σx with the net votes packed in
/// one u32 (Σx in the low 19 bits, the biased votes above). One frame is one
/// pass over two arrays, a wrapping add of `x ± vote << 19` and of `x²`, and
/// the memory is what a 3872x2592 worker can afford (241 MB; issue 6 budgets
/// 300 MiB a worker). After [`PACKED_FRAMES`] frames in one accumulator (or
/// when merging two would pass that) the packed words are flushed into wider
/// exact sums, allocated only then: 6 more bytes a subpixel, 14 in all, for
/// series of thousands of frames.
#[derive(Debug, Clone)]
pub struct Accumulator {
    width: u32,
    height: u32,
    frames: u32,
    /// Frames in `packed` since the last flush.
    packed_frames: u32,
    sum_sq: Vec<u32>,
    packed: Vec<u32>,
    wide: Option<Wide>,
}

/// Exact sums flushed out of the packed words.
#[derive(Debug, Clone)]
struct Wide {
    sum: Vec<u32>,
    votes: Vec<i16>,
}

impl Accumulator {
    /// The net votes are i16 once flushed, so at most 32767 frames; Σx² of
    /// 8-bit values would fit a u32 for 66051 (255² × 66051 < 2³²).
    pub const MAX_FRAMES: u32 = i16::MAX as u32;

    /// A zeroed accumulator for frames of `width` x `height` RGB pixels.
    pub fn new(width: u32, height: u32) -> Result<Self, Error> {
        let len = subpixels(width, height);
        let alloc_error = || Error::Allocation {
            width,
            height,
            bytes: len as u64 * 8,
        };
        Ok(Accumulator {
            width,
            height,
            frames: 0,
            packed_frames: 0,
            sum_sq: filled(len, 0).ok_or_else(alloc_error)?,
            packed: filled(len, PACKED_ZERO).ok_or_else(alloc_error)?,
            wide: None,
        })
    }

    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// True when one more frame could overflow the exact sums.
    pub fn is_full(&self) -> bool {
        self.frames >= Self::MAX_FRAMES
    }

    /// Adds one frame (row-major RGB, the accumulator's size) to the sums and
    /// the votes.
    pub fn push(&mut self, frame: &[u8]) -> Result<(), Error> {
        assert_eq!(
            frame.len(),
            self.sum_sq.len(),
            "frame size differs from the accumulator"
        );
        assert!(!self.is_full(), "accumulator is full; spill it first");
        if self.packed_frames == PACKED_FRAMES {
            self.flush()?;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        fold_frames(&mut self.packed, &mut self.sum_sq, &[frame], w, h);
        self.frames += 1;
        self.packed_frames += 1;
        Ok(())
    }

    /// [`Accumulator::push`] for two frames at once: the same result as
    /// pushing them one by one, at about half the memory traffic.
    pub fn push_pair(&mut self, a: &[u8], b: &[u8]) -> Result<(), Error> {
        assert_eq!(
            a.len(),
            self.sum_sq.len(),
            "frame size differs from the accumulator"
        );
        assert_eq!(
            b.len(),
            self.sum_sq.len(),
            "frame size differs from the accumulator"
        );
        assert!(
            self.frames + 2 <= Self::MAX_FRAMES,
            "accumulator is full; spill it first"
        );
        if self.packed_frames + 2 > PACKED_FRAMES {
            self.flush()?;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        fold_frames(&mut self.packed, &mut self.sum_sq, &[a, b], w, h);
        self.frames += 2;
        self.packed_frames += 2;
        Ok(())
    }

    /// Moves the packed sums and votes into the wide ones.
    fn flush(&mut self) -> Result<(), Error> {
        if self.packed_frames == 0 {
            return Ok(());
        }
        self.ensure_wide()?;
        let wide = self.wide.as_mut().expect("ensured");
        for ((p, s), v) in self
            .packed
            .iter_mut()
            .zip(&mut wide.sum)
            .zip(&mut wide.votes)
        {
            let (sum, votes) = unpack(*p);
            *s += sum;
            *v += votes as i16;
            *p = PACKED_ZERO;
        }
        self.packed_frames = 0;
        Ok(())
    }

    fn ensure_wide(&mut self) -> Result<(), Error> {
        if self.wide.is_none() {
            let len = self.packed.len();
            let alloc_error = || Error::Allocation {
                width: self.width,
                height: self.height,
                bytes: len as u64 * 6,
            };
            self.wide = Some(Wide {
                sum: filled(len, 0).ok_or_else(alloc_error)?,
                votes: filled(len, 0).ok_or_else(alloc_error)?,
            });
        }
        Ok(())
    }

    /// Σx and the net votes of the subpixel at flat index `i`.
    fn sum_and_votes(&self, i: usize) -> (u32, i32) {
        let (sum, votes) = unpack(self.packed[i]);
        match &self.wide {
            Some(w) => (sum + w.sum[i], votes + i32::from(w.votes[i])),
            None => (sum, votes),
        }
    }

    /// Adds another accumulator's sums: exact, so order does not matter.
    /// Returns false (and changes nothing) if the sum could overflow.
    pub fn absorb(&mut self, other: &Accumulator) -> Result<bool, Error> {
        assert_eq!((self.width, self.height), (other.width, other.height));
        if u64::from(self.frames) + u64::from(other.frames) > u64::from(Self::MAX_FRAMES) {
            return Ok(false);
        }
        if other.wide.is_none() && self.packed_frames + other.packed_frames <= PACKED_FRAMES {
            self.packed
                .par_iter_mut()
                .zip(&other.packed)
                .for_each(|(a, b)| *a = a.wrapping_add(*b).wrapping_sub(PACKED_ZERO));
            self.packed_frames += other.packed_frames;
        } else {
            self.flush()?;
            self.ensure_wide()?;
            let wide = self.wide.as_mut().expect("ensured");
            for (i, (s, v)) in wide.sum.iter_mut().zip(&mut wide.votes).enumerate() {
                let (sum, votes) = other.sum_and_votes(i);
                *s += sum;
                *v += votes as i16;
            }
        }
        self.sum_sq
            .par_iter_mut()
            .zip(&other.sum_sq)
            .for_each(|(a, b)| *a += b);
        self.frames += other.frames;
        Ok(true)
    }

    /// Converts to the Welford form, reusing the buffers it has (u32, i32
    /// and f32 have the same layout, and collecting a mapped `Vec` into a
    /// `Vec` of the same layout reuses its allocation): with wide sums, the
    /// packed words become the whole Σx and the wide Σx the votes, so
    /// nothing is allocated; without, only the i32 votes are new.
    pub fn into_stats(self) -> Stats {
        let n = u64::from(self.frames);
        let (mut packed, mut sum_sq) = (self.packed, self.sum_sq);
        // With wide sums the packed words are made the whole Σx below.
        let whole_sums = self.wide.is_some();
        let votes: Vec<i32> = match self.wide {
            None => packed.par_iter().map(|&p| unpack(p).1).collect(),
            Some(Wide {
                sum: mut wide_sum,
                votes: wide_votes,
            }) => {
                packed
                    .par_iter_mut()
                    .zip(wide_sum.par_iter_mut())
                    .zip(wide_votes.par_iter())
                    .for_each(|((p, s), &v)| {
                        let (sum, votes) = unpack(*p);
                        *p = sum + *s;
                        *s = (votes + i32::from(v)) as u32;
                    });
                wide_sum.into_iter().map(|v| v as i32).collect()
            }
        };
        packed
            .par_iter_mut()
            .zip(sum_sq.par_iter_mut())
            .for_each(|(p, q)| {
                let sum = if whole_sums { *p } else { unpack(*p).0 };
                let (mean, m2) = exact_mean_m2(n, sum, *q);
                *p = mean.to_bits();
                *q = m2.to_bits();
            });
        let shape = (self.height as usize, self.width as usize, CHANNELS);
        let mean: Vec<f32> = packed.into_iter().map(f32::from_bits).collect();
        let m2: Vec<f32> = sum_sq.into_iter().map(f32::from_bits).collect();
        Stats {
            frames: n,
            mean: Array3::from_shape_vec(shape, mean).expect("shape matches length"),
            m2: Array3::from_shape_vec(shape, m2).expect("shape matches length"),
            votes: Array3::from_shape_vec(shape, votes).expect("shape matches length"),
        }
    }
}

/// Σx and the net votes held in a packed word.
#[inline(always)]
fn unpack(p: u32) -> (u32, i32) {
    (p & SUM_MASK, (p >> SUM_BITS) as i32 - PACKED_FRAMES as i32)
}

/// Folds one or two frames into the packed sums and votes and into Σx²: row
/// by row, the ring medians of the row in each frame (see [`evidence`]), then
/// one pass over the row's accumulators, so each frame is read once and each
/// accumulator word is read and written once per call. Two frames a call
/// halve that traffic, which is what bounds the loop. Chosen at run time:
/// compiled for AVX2 where the CPU has it (release builds target baseline
/// x86-64).
fn fold_frames(
    packed: &mut [u32],
    sum_sq: &mut [u32],
    frames: &[&[u8]],
    width: usize,
    height: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { fold_frames_avx2(packed, sum_sq, frames, width, height) };
            return;
        }
    }
    fold_frames_generic(packed, sum_sq, frames, width, height);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_frames_avx2(
    packed: &mut [u32],
    sum_sq: &mut [u32],
    frames: &[&[u8]],
    width: usize,
    height: usize,
) {
    fold_frames_generic(packed, sum_sq, frames, width, height);
}

#[inline(always)]
fn fold_frames_generic(
    packed: &mut [u32],
    sum_sq: &mut [u32],
    frames: &[&[u8]],
    width: usize,
    height: usize,
) {
    let stride = width * CHANNELS;
    let ring = evidence::RING;
    let s = ring * CHANNELS;
    let has_interior = width > 2 * ring && height > 2 * ring;
    let mut references = [vec![0u8; stride], vec![0u8; stride]];
    for y in 0..height {
        let range = y * stride..(y + 1) * stride;
        for (frame, reference) in frames.iter().zip(&mut references) {
            let row = &frame[range.clone()];
            // A subpixel is its own reference where it has no full ring: no vote.
            if has_interior && (ring..height - ring).contains(&y) {
                evidence::ring_medians_row(frame, stride, y, reference);
                reference[..s].copy_from_slice(&row[..s]);
                reference[stride - s..].copy_from_slice(&row[stride - s..]);
            } else {
                reference.copy_from_slice(row);
            }
        }
        let (p, q) = (&mut packed[range.clone()], &mut sum_sq[range.clone()]);
        match frames {
            [a] => fold_row(p, q, &a[range], &references[0]),
            [a, b] => fold_row2(p, q, [&a[range.clone()], &b[range]], &references),
            _ => unreachable!("one or two frames a call"),
        }
    }
}

/// The net vote of `x` against its reference, as an addend to a packed word.
#[inline(always)]
fn packed_addend(x: u8, reference: u8) -> u32 {
    let (bright, dark) = evidence::stands_out(x, reference);
    (u32::from(x) + u32::from(bright) * ONE_VOTE).wrapping_sub(u32::from(dark) * ONE_VOTE)
}

/// x², squared in u16 (255² fits): a 16-bit multiply vectorises on baseline
/// x86-64 (SSE2), a 32-bit one needs SSE4.1.
#[inline(always)]
fn square(x: u8) -> u32 {
    let x16 = u16::from(x);
    u32::from(x16 * x16)
}

/// Branch-free over plain slices so that it auto-vectorises.
#[inline(always)]
fn fold_row(packed: &mut [u32], sum_sq: &mut [u32], row: &[u8], reference: &[u8]) {
    for (((p, q), &x), &r) in packed
        .iter_mut()
        .zip(sum_sq.iter_mut())
        .zip(row)
        .zip(reference)
    {
        *p = p.wrapping_add(packed_addend(x, r));
        *q += square(x);
    }
}

/// [`fold_row`] for two frames at once.
#[inline(always)]
fn fold_row2(packed: &mut [u32], sum_sq: &mut [u32], rows: [&[u8]; 2], references: &[Vec<u8>; 2]) {
    let pairs = rows[0].iter().zip(rows[1]);
    let refs = references[0].iter().zip(&references[1]);
    for (((p, q), (&x, &y)), (&rx, &ry)) in packed
        .iter_mut()
        .zip(sum_sq.iter_mut())
        .zip(pairs)
        .zip(refs)
    {
        *p = p
            .wrapping_add(packed_addend(x, rx))
            .wrapping_add(packed_addend(y, ry));
        *q += square(x) + square(y);
    }
}

/// Mean and M2 = Σ(x - mean)² from exact sums. n·Σx² − (Σx)² is computed in
/// integers (both terms < 2⁴⁹ for n ≤ MAX_FRAMES), so the only rounding is the
/// final division and the narrowing to f32.
fn exact_mean_m2(n: u64, sum: u32, sum_sq: u32) -> (f32, f32) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let (s, q) = (u64::from(sum), u64::from(sum_sq));
    let n_m2 = n * q - s * s;
    (
        (s as f64 / n as f64) as f32,
        (n_m2 as f64 / n as f64) as f32,
    )
}

fn subpixels(width: u32, height: u32) -> usize {
    width as usize * height as usize * CHANNELS
}

/// A buffer filled with `value`, written through now rather than lazily
/// faulted in (first-touch page faults inside the first frame's update cost
/// over a second per worker at full size), and `None` rather than an abort
/// when memory is short.
fn filled<T: Copy>(len: usize, value: T) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, value);
    Some(v)
}

/// Welford-form statistics of a series: frame count, and per subpixel
/// (indexed `[y, x, channel]`) the mean, M2 = Σ(x − mean)², and the net votes
/// (frames standing out bright minus frames standing out dark, see
/// [`evidence`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub frames: u64,
    pub mean: Array3<f32>,
    pub m2: Array3<f32>,
    pub votes: Array3<i32>,
}

impl Stats {
    pub fn width(&self) -> u32 {
        self.mean.dim().1 as u32
    }

    pub fn height(&self) -> u32 {
        self.mean.dim().0 as u32
    }

    /// Sample variance (n − 1 in the denominator) of the subpixel at flat index `i`.
    pub fn variance_at(&self, i: usize) -> f64 {
        if self.frames < 2 {
            return 0.0;
        }
        f64::from(self.m2.as_slice().expect("standard layout")[i]) / (self.frames - 1) as f64
    }

    /// Mean of the subpixel at flat index `i`.
    pub fn mean_at(&self, i: usize) -> f64 {
        f64::from(self.mean.as_slice().expect("standard layout")[i])
    }

    /// Merges `other` into `self` with the Chan et al. formula (see module docs).
    /// The arithmetic is done in f64 and stored as f32.
    pub fn merge(&mut self, other: &Stats) {
        assert_eq!(self.mean.dim(), other.mean.dim(), "frame sizes differ");
        if other.frames == 0 {
            return;
        }
        if self.frames == 0 {
            *self = other.clone();
            return;
        }
        let (na, nb) = (self.frames as f64, other.frames as f64);
        let n = na + nb;
        let (weight_b, cross) = (nb / n, na * nb / n);
        ndarray::Zip::from(&mut self.mean)
            .and(&mut self.m2)
            .and(&other.mean)
            .and(&other.m2)
            .for_each(|ma, m2a, &mb, &m2b| {
                let d = f64::from(mb) - f64::from(*ma);
                *ma = (f64::from(*ma) + d * weight_b) as f32;
                *m2a = (f64::from(*m2a) + f64::from(m2b) + d * d * cross) as f32;
            });
        self.votes += &other.votes;
        self.frames += other.frames;
    }
}

/// One worker's partial result: exact sums, plus Welford stats of earlier sums
/// that were spilled because one more frame could have overflowed them.
#[derive(Debug)]
pub struct Partial {
    pub exact: Accumulator,
    pub spilled: Option<Stats>,
}

impl Partial {
    pub fn new(width: u32, height: u32) -> Result<Self, Error> {
        Ok(Partial {
            exact: Accumulator::new(width, height)?,
            spilled: None,
        })
    }

    pub fn frames(&self) -> u64 {
        u64::from(self.exact.frames()) + self.spilled.as_ref().map_or(0, |s| s.frames)
    }

    pub fn push(&mut self, frame: &[u8]) -> Result<(), Error> {
        if self.exact.is_full() {
            let fresh = Accumulator::new(self.exact.width, self.exact.height)?;
            let full = std::mem::replace(&mut self.exact, fresh);
            merge_into(&mut self.spilled, full.into_stats());
        }
        self.exact.push(frame)
    }

    /// Adds two frames at once (see [`Accumulator::push_pair`]).
    pub fn push_pair(&mut self, a: &[u8], b: &[u8]) -> Result<(), Error> {
        if self.exact.frames() + 2 > Accumulator::MAX_FRAMES {
            self.push(a)?;
            return self.push(b);
        }
        self.exact.push_pair(a, b)
    }
}

fn merge_into(target: &mut Option<Stats>, stats: Stats) {
    match target {
        Some(t) => t.merge(&stats),
        None => *target = Some(stats),
    }
}

/// Merges workers' partials in the order given. Exact sums are added exactly
/// while they fit; only sums that would overflow, and spilled stats, go
/// through the Chan merge. With at most `MAX_FRAMES` frames in all, the
/// result does not depend on how frames were split among workers.
pub fn merge_partials(partials: Vec<Partial>) -> Result<Option<Stats>, Error> {
    let mut exact: Option<Accumulator> = None;
    let mut welford: Option<Stats> = None;
    for partial in partials {
        if let Some(spilled) = partial.spilled {
            merge_into(&mut welford, spilled);
        }
        match &mut exact {
            None => exact = Some(partial.exact),
            Some(acc) => {
                if !acc.absorb(&partial.exact)? {
                    let full = std::mem::replace(acc, partial.exact);
                    merge_into(&mut welford, full.into_stats());
                }
            }
        }
    }
    if let Some(acc) = exact {
        if acc.frames() > 0 {
            merge_into(&mut welford, acc.into_stats());
        }
    }
    Ok(welford)
}

#[cfg(test)]
impl Accumulator {
    /// Test hook: pretend the accumulator is nearly full to exercise spilling.
    pub(crate) fn set_frames_for_test(&mut self, frames: u32) {
        self.frames = frames;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The independent reference: two-pass float64 mean and sample variance.
    fn two_pass(frames: &[Vec<u8>], i: usize) -> (f64, f64) {
        let n = frames.len() as f64;
        let mean = frames.iter().map(|f| f64::from(f[i])).sum::<f64>() / n;
        let ss = frames
            .iter()
            .map(|f| (f64::from(f[i]) - mean).powi(2))
            .sum::<f64>();
        (mean, ss / (n - 1.0))
    }

    fn random_frames(seed: u64, count: usize, len: usize) -> Vec<Vec<u8>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|_| (0..len).map(|_| rng.random::<u8>()).collect())
            .collect()
    }

    fn accumulate(width: u32, height: u32, frames: &[Vec<u8>]) -> Partial {
        let mut p = Partial::new(width, height).unwrap();
        for f in frames {
            p.push(f).unwrap();
        }
        p
    }

    /// Relative error, with an absolute floor for values near zero.
    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-3)
    }

    #[test]
    fn matches_two_pass_f64() {
        let (w, h) = (7, 5);
        let frames = random_frames(1, 50, subpixels(w, h));
        let stats = merge_partials(vec![accumulate(w, h, &frames)])
            .unwrap()
            .unwrap();
        assert_eq!(stats.frames, 50);
        for i in 0..subpixels(w, h) {
            let (mean, var) = two_pass(&frames, i);
            assert!(close(stats.mean_at(i), mean, 1e-6), "mean {i}");
            assert!(close(stats.variance_at(i), var, 1e-6), "var {i}");
        }
    }

    /// Stats from the simplest possible code: Σx and Σx² in u64 and the
    /// votes of `evidence::add_votes`, frame by frame.
    fn reference_sums(w: u32, h: u32, frames: &[Vec<u8>]) -> (Vec<u64>, Vec<u64>, Vec<i32>) {
        let len = subpixels(w, h);
        let (mut sum, mut sq, mut votes) = (vec![0u64; len], vec![0u64; len], vec![0i32; len]);
        for f in frames {
            let mut v = vec![0i16; len];
            evidence::add_votes(f, w as usize, h as usize, &mut v);
            for i in 0..len {
                sum[i] += u64::from(f[i]);
                sq[i] += u64::from(f[i]) * u64::from(f[i]);
                votes[i] += i32::from(v[i]);
            }
        }
        (sum, sq, votes)
    }

    fn assert_matches_reference(acc: &Accumulator, frames: &[Vec<u8>]) {
        let (sum, sq, votes) = reference_sums(acc.width, acc.height, frames);
        assert_eq!(acc.frames() as usize, frames.len());
        for i in 0..sum.len() {
            let (s, v) = acc.sum_and_votes(i);
            assert_eq!(u64::from(s), sum[i], "Σx at {i}");
            assert_eq!(u64::from(acc.sum_sq[i]), sq[i], "Σx² at {i}");
            assert_eq!(v, votes[i], "votes at {i}");
        }
    }

    /// Frames where some subpixels stand out (bright, dark, or neither) so
    /// that votes of both signs occur.
    fn speckled_frames(seed: u64, count: usize, w: u32, h: u32) -> Vec<Vec<u8>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..count)
            .map(|_| {
                (0..subpixels(w, h))
                    .map(|i| match (i * 7 + rng.random_range(0..3)) % 11 {
                        0 => 250,
                        1 => 5,
                        _ => 100 + rng.random_range(0..8u8),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn packed_sums_and_votes_match_the_simple_code_one_or_two_frames_at_a_time() {
        let (w, h) = (9, 7);
        let frames = speckled_frames(4, 9, w, h);
        let mut singly = Accumulator::new(w, h).unwrap();
        for f in &frames {
            singly.push(f).unwrap();
        }
        assert_matches_reference(&singly, &frames);
        let mut paired = Accumulator::new(w, h).unwrap();
        for pair in frames.chunks(2) {
            match pair {
                [a, b] => paired.push_pair(a, b).unwrap(),
                [a] => paired.push(a).unwrap(),
                _ => unreachable!(),
            }
        }
        assert_eq!(paired.into_stats(), singly.into_stats());
    }

    #[test]
    fn past_the_packed_limit_the_sums_stay_exact() {
        // More frames than a packed word holds, so the words are flushed into
        // the wide sums; pushed and absorbed both ways across the limit.
        let (w, h) = (6, 5);
        let count = PACKED_FRAMES as usize + 300;
        let frames = speckled_frames(5, count, w, h);
        let mut whole = Accumulator::new(w, h).unwrap();
        for pair in frames.chunks(2) {
            match pair {
                [a, b] => whole.push_pair(a, b).unwrap(),
                [a] => whole.push(a).unwrap(),
                _ => unreachable!(),
            }
        }
        assert!(whole.wide.is_some());
        assert_matches_reference(&whole, &frames);
        let (sum, sq, votes) = reference_sums(w, h, &frames);
        let stats = whole.clone().into_stats();
        let n = count as u64;
        for i in 0..sum.len() {
            let n_m2 = n * sq[i] - sum[i] * sum[i];
            assert_eq!(stats.votes.as_slice().unwrap()[i], votes[i], "votes at {i}");
            assert_eq!(
                stats.mean_at(i),
                f64::from((sum[i] as f64 / n as f64) as f32)
            );
            let m2 = f64::from((n_m2 as f64 / n as f64) as f32);
            assert_eq!(f64::from(stats.m2.as_slice().unwrap()[i]), m2, "M2 at {i}");
        }

        let half = count / 2 + 7;
        let mut a = Accumulator::new(w, h).unwrap();
        let mut b = Accumulator::new(w, h).unwrap();
        frames[..half].iter().for_each(|f| a.push(f).unwrap());
        frames[half..].iter().for_each(|f| b.push(f).unwrap());
        assert!(a.absorb(&b).unwrap());
        assert_matches_reference(&a, &frames);
        assert_eq!(a.into_stats(), whole.into_stats());
    }

    #[test]
    fn constant_subpixel_has_variance_exactly_zero() {
        let frames = vec![vec![201u8; 3]; 40];
        let stats = merge_partials(vec![accumulate(1, 1, &frames)])
            .unwrap()
            .unwrap();
        assert_eq!(stats.variance_at(0), 0.0);
        assert_eq!(stats.mean_at(0), 201.0);
        // And through the Chan merge too.
        let mut a = merge_partials(vec![accumulate(1, 1, &frames[..13])])
            .unwrap()
            .unwrap();
        a.merge(
            &merge_partials(vec![accumulate(1, 1, &frames[13..])])
                .unwrap()
                .unwrap(),
        );
        assert_eq!(a.variance_at(0), 0.0);
    }

    #[test]
    fn chan_merge_matches_two_pass_f64() {
        let (w, h) = (4, 3);
        let frames = random_frames(2, 90, subpixels(w, h));
        let mut merged = merge_partials(vec![accumulate(w, h, &frames[..10])])
            .unwrap()
            .unwrap();
        for chunk in [&frames[10..11], &frames[11..60], &frames[60..]] {
            merged.merge(
                &merge_partials(vec![accumulate(w, h, chunk)])
                    .unwrap()
                    .unwrap(),
            );
        }
        assert_eq!(merged.frames, 90);
        for i in 0..subpixels(w, h) {
            let (mean, var) = two_pass(&frames, i);
            assert!(close(merged.mean_at(i), mean, 1e-6));
            assert!(close(merged.variance_at(i), var, 1e-5));
        }
    }

    #[test]
    fn spilling_at_the_overflow_limit_keeps_the_statistics() {
        // Frames far beyond the limit cannot be pushed in a unit test, so the
        // counter is moved near the limit on zero sums: that is exactly the
        // state after MAX_FRAMES frames of zeros.
        let (w, h) = (3, 2);
        let frames = random_frames(3, 20, subpixels(w, h));
        let mut p = Partial::new(w, h).unwrap();
        p.exact.set_frames_for_test(Accumulator::MAX_FRAMES - 5);
        for f in &frames {
            p.push(f).unwrap();
        }
        assert!(p.spilled.is_some());
        let zeros = u64::from(Accumulator::MAX_FRAMES - 5);
        let stats = merge_partials(vec![p]).unwrap().unwrap();
        assert_eq!(stats.frames, zeros + 20);
        let n = stats.frames as f64;
        for i in 0..subpixels(w, h) {
            let s: f64 = frames.iter().map(|f| f64::from(f[i])).sum();
            let q: f64 = frames.iter().map(|f| f64::from(f[i]).powi(2)).sum();
            let mean = s / n;
            let var = (q - s * s / n) / (n - 1.0);
            assert!(
                close(stats.mean_at(i), mean, 1e-5),
                "{} vs {}",
                stats.mean_at(i),
                mean
            );
            assert!(close(stats.variance_at(i), var, 1e-4));
        }
    }

    proptest::proptest! {
        /// Any split of the frames into shards, merged in any order, gives the
        /// same statistics: bit-identical while the exact sums fit (here), and
        /// within 1e-5 relative when the shards go through the Chan merge.
        #[test]
        fn any_split_and_merge_order_agrees(
            seed in 0u64..1000,
            count in 2usize..40,
            cuts in proptest::collection::vec(0usize..40, 0..6),
            order_seed in 0u64..1000,
        ) {
            let (w, h) = (3, 2);
            let frames = random_frames(seed, count, subpixels(w, h));
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % count).collect();
            bounds.push(0);
            bounds.push(count);
            bounds.sort();
            bounds.dedup();
            let mut shards: Vec<Partial> =
                bounds.windows(2).map(|b| accumulate(w, h, &frames[b[0]..b[1]])).collect();
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(order_seed);
            for i in (1..shards.len()).rev() {
                shards.swap(i, rng.random_range(0..=i));
            }
            let whole = merge_partials(vec![accumulate(w, h, &frames)]).unwrap().unwrap();
            let welford_shards: Vec<Stats> = shards
                .iter()
                .map(|p| p.exact.clone().into_stats())
                .collect();
            let exact = merge_partials(shards).unwrap().unwrap();
            proptest::prop_assert_eq!(&exact, &whole);

            let mut chan: Option<Stats> = None;
            for s in welford_shards {
                merge_into(&mut chan, s);
            }
            let chan = chan.unwrap();
            for i in 0..subpixels(w, h) {
                proptest::prop_assert!(close(chan.mean_at(i), whole.mean_at(i), 1e-5));
                proptest::prop_assert!(close(chan.variance_at(i), whole.variance_at(i), 1e-5));
            }
        }
    }
}
