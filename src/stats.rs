//! Per-subpixel statistics over a series of frames: exact integer moments per
//! worker, and the Welford form (count, mean, M2) with the Chan et al. merge.
//!
//! Why integers inside a worker: the frames are 8-bit, so Σx and Σx² are
//! exact in u32 for up to [`Accumulator::MAX_FRAMES`] frames. Exact sums are
//! independent of which worker saw which frame and in what order, so the
//! report is byte-identical for any `-j` even though workers take files
//! dynamically; float Welford (f32 or f64) rounds differently for each split
//! and cannot promise that. They are also cheaper per frame (an add and a
//! multiply-add on integers, no division) and use the same 8 bytes a subpixel
//! as f32 mean + M2. `benches/kernels.rs` measures both kernels side by side.
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

use crate::error::Error;
use crate::evidence;

/// Colour channels a pixel has (RGB).
pub const CHANNELS: usize = 3;

/// A worker's exact running sums over the frames it has decoded, and its
/// per-pixel defect votes (see [`evidence`]).
#[derive(Debug, Clone)]
pub struct Accumulator {
    width: u32,
    height: u32,
    frames: u32,
    sum: Vec<u32>,
    sum_sq: Vec<u32>,
    votes: Vec<i16>,
}

impl Accumulator {
    /// The net votes are i16, so at most 32767 frames; Σx² of 8-bit values
    /// would fit a u32 for 66051 (255² × 66051 < 2³²).
    pub const MAX_FRAMES: u32 = i16::MAX as u32;

    /// A zeroed accumulator for frames of `width` x `height` RGB pixels.
    pub fn new(width: u32, height: u32) -> Result<Self, Error> {
        let len = subpixels(width, height);
        let alloc_error = || Error::Allocation {
            width,
            height,
            bytes: len as u64 * 10,
        };
        Ok(Accumulator {
            width,
            height,
            frames: 0,
            sum: zeroed(len).ok_or_else(alloc_error)?,
            sum_sq: zeroed(len).ok_or_else(alloc_error)?,
            votes: zeroed(len).ok_or_else(alloc_error)?,
        })
    }

    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// True when one more frame could overflow Σx².
    pub fn is_full(&self) -> bool {
        self.frames >= Self::MAX_FRAMES
    }

    /// Adds one frame (row-major RGB, the accumulator's size) to the sums and
    /// the votes.
    pub fn push(&mut self, frame: &[u8]) {
        assert_eq!(
            frame.len(),
            self.sum.len(),
            "frame size differs from the accumulator"
        );
        assert!(!self.is_full(), "accumulator is full; spill it first");
        add_sums(&mut self.sum, &mut self.sum_sq, frame);
        let (w, h) = (self.width as usize, self.height as usize);
        evidence::add_votes(frame, w, h, &mut self.votes);
        self.frames += 1;
    }

    /// Adds another accumulator's sums: exact, so order does not matter.
    /// Returns false (and changes nothing) if the sum could overflow.
    pub fn absorb(&mut self, other: &Accumulator) -> bool {
        assert_eq!((self.width, self.height), (other.width, other.height));
        if u64::from(self.frames) + u64::from(other.frames) > u64::from(Self::MAX_FRAMES) {
            return false;
        }
        for (a, b) in self.sum.iter_mut().zip(&other.sum) {
            *a += b;
        }
        for (a, b) in self.sum_sq.iter_mut().zip(&other.sum_sq) {
            *a += b;
        }
        for (a, b) in self.votes.iter_mut().zip(&other.votes) {
            *a += b;
        }
        self.frames += other.frames;
        true
    }

    /// Converts to the Welford form, reusing the two buffers (no new 8 bytes a
    /// subpixel are allocated: u32 and f32 have the same layout, and collecting
    /// a mapped `Vec` into a `Vec` of the same layout reuses its allocation).
    pub fn into_stats(self) -> Stats {
        let n = u64::from(self.frames);
        let (mut sum, mut sum_sq) = (self.sum, self.sum_sq);
        for (s, q) in sum.iter_mut().zip(sum_sq.iter_mut()) {
            let (mean, m2) = exact_mean_m2(n, *s, *q);
            *s = mean.to_bits();
            *q = m2.to_bits();
        }
        let shape = (self.height as usize, self.width as usize, CHANNELS);
        let mean: Vec<f32> = sum.into_iter().map(f32::from_bits).collect();
        let m2: Vec<f32> = sum_sq.into_iter().map(f32::from_bits).collect();
        let votes: Vec<i32> = self.votes.into_iter().map(i32::from).collect();
        Stats {
            frames: n,
            mean: Array3::from_shape_vec(shape, mean).expect("shape matches length"),
            m2: Array3::from_shape_vec(shape, m2).expect("shape matches length"),
            votes: Array3::from_shape_vec(shape, votes).expect("shape matches length"),
        }
    }
}

/// Adds a frame to Σx and Σx². Chosen at run time: the loop compiled for
/// AVX2 where the CPU has it (release builds target baseline x86-64).
fn add_sums(sum: &mut [u32], sum_sq: &mut [u32], frame: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { add_sums_avx2(sum, sum_sq, frame) };
            return;
        }
    }
    add_sums_generic(sum, sum_sq, frame);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_sums_avx2(sum: &mut [u32], sum_sq: &mut [u32], frame: &[u8]) {
    add_sums_generic(sum, sum_sq, frame);
}

/// Branch-free over plain slices so that it auto-vectorises.
#[inline(always)]
fn add_sums_generic(sum: &mut [u32], sum_sq: &mut [u32], frame: &[u8]) {
    for ((s, q), &v) in sum.iter_mut().zip(sum_sq.iter_mut()).zip(frame) {
        // Squared in u16 (255² fits): a 16-bit multiply vectorises on
        // baseline x86-64 (SSE2), a 32-bit one needs SSE4.1.
        let v16 = u16::from(v);
        *s += u32::from(v);
        *q += u32::from(v16 * v16);
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

/// A zero-filled buffer, written through now rather than lazily faulted in
/// (first-touch page faults inside the first frame's update cost over a
/// second per worker at full size), and `None` rather than an abort when
/// memory is short.
fn zeroed<T: Copy + Default>(len: usize) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, T::default());
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
        self.exact.push(frame);
        Ok(())
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
pub fn merge_partials(partials: Vec<Partial>) -> Option<Stats> {
    let mut exact: Option<Accumulator> = None;
    let mut welford: Option<Stats> = None;
    for partial in partials {
        if let Some(spilled) = partial.spilled {
            merge_into(&mut welford, spilled);
        }
        match &mut exact {
            None => exact = Some(partial.exact),
            Some(acc) => {
                if !acc.absorb(&partial.exact) {
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
    welford
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
        let stats = merge_partials(vec![accumulate(w, h, &frames)]).unwrap();
        assert_eq!(stats.frames, 50);
        for i in 0..subpixels(w, h) {
            let (mean, var) = two_pass(&frames, i);
            assert!(close(stats.mean_at(i), mean, 1e-6), "mean {i}");
            assert!(close(stats.variance_at(i), var, 1e-6), "var {i}");
        }
    }

    #[test]
    fn constant_subpixel_has_variance_exactly_zero() {
        let frames = vec![vec![201u8; 3]; 40];
        let stats = merge_partials(vec![accumulate(1, 1, &frames)]).unwrap();
        assert_eq!(stats.variance_at(0), 0.0);
        assert_eq!(stats.mean_at(0), 201.0);
        // And through the Chan merge too.
        let mut a = merge_partials(vec![accumulate(1, 1, &frames[..13])]).unwrap();
        a.merge(&merge_partials(vec![accumulate(1, 1, &frames[13..])]).unwrap());
        assert_eq!(a.variance_at(0), 0.0);
    }

    #[test]
    fn chan_merge_matches_two_pass_f64() {
        let (w, h) = (4, 3);
        let frames = random_frames(2, 90, subpixels(w, h));
        let mut merged = merge_partials(vec![accumulate(w, h, &frames[..10])]).unwrap();
        for chunk in [&frames[10..11], &frames[11..60], &frames[60..]] {
            merged.merge(&merge_partials(vec![accumulate(w, h, chunk)]).unwrap());
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
        let stats = merge_partials(vec![p]).unwrap();
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
            let whole = merge_partials(vec![accumulate(w, h, &frames)]).unwrap();
            let welford_shards: Vec<Stats> = shards
                .iter()
                .map(|p| p.exact.clone().into_stats())
                .collect();
            let exact = merge_partials(shards).unwrap();
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
