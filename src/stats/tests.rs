//! The accumulator and the statistics against independent computations: u64
//! sums and a per-subpixel loop over [`evidence::excess`] for the sums, a
//! two-pass float64 mean and variance for the moments.

use super::accumulator::{excess_lanes_for_test, observe_lanes_for_test};
use super::*;
use crate::evidence::{self, ring_stats_row};
use rand::{RngExt, SeedableRng};

fn layout(width: usize, height: usize, channels: usize) -> Layout {
    Layout {
        width,
        height,
        channels,
    }
}

/// Frames where some subpixels stand out (bright, dark, or neither), with
/// clipped and black areas, so that every rule of the excess is exercised.
fn speckled_frames(seed: u64, count: usize, layout: Layout) -> Vec<Vec<u8>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (0..layout.len())
                .map(|i| match (i * 7 + rng.random_range(0..4)) % 13 {
                    0 => 250,
                    1 => 5,
                    2 => 255,
                    3 => 0,
                    _ => 100 + rng.random_range(0..40u8),
                })
                .collect()
        })
        .collect()
}

fn weights(count: usize) -> Vec<u8> {
    (0..count).map(|i| (i * 7 % 16) as u8).collect()
}

/// The simplest possible code: u64 sums, and per frame the ring reference
/// and spread of every subpixel through the row routine, its observation
/// through `evidence::observe` and the record's own `add`.
struct Reference {
    sum: Vec<u64>,
    sum_sq: Vec<u64>,
    evidence: Vec<Evidence>,
}

#[allow(clippy::needless_range_loop)]
fn reference(layout: Layout, frames: &[Vec<u8>], weights: &[u8]) -> Reference {
    let len = layout.len();
    let mut r = Reference {
        sum: vec![0; len],
        sum_sq: vec![0; len],
        evidence: vec![Evidence::default(); len],
    };
    let stride = layout.stride();
    let (mut refs, mut spreads) = (vec![0u8; stride], vec![0u8; stride]);
    for (f, &w) in frames.iter().zip(weights) {
        for y in 0..layout.height {
            ring_stats_row(f, layout, y, &mut refs, &mut spreads);
            for xc in 0..stride {
                let i = y * stride + xc;
                r.evidence[i].add(evidence::observe(f[i], refs[xc], spreads[xc]), w);
                r.sum[i] += u64::from(f[i]);
                r.sum_sq[i] += u64::from(f[i]) * u64::from(f[i]);
            }
        }
    }
    r
}

fn accumulate(layout: Layout, frames: &[Vec<u8>], weights: &[u8], batch: usize) -> Stats {
    let mut acc = Accumulator::new(layout, frames.len() as u64).unwrap();
    let refs: Vec<FrameRef> = frames
        .iter()
        .zip(weights)
        .map(|(f, &w)| FrameRef {
            pixels: f,
            dark_weight: w,
        })
        .collect();
    for chunk in refs.chunks(batch) {
        acc.add_batch(chunk).unwrap();
    }
    acc.into_stats().unwrap()
}

fn assert_matches(stats: &Stats, r: &Reference, frames: usize) {
    assert_eq!(stats.frames, frames as u64);
    for i in 0..r.sum.len() {
        let sub = stats.subpixel(i);
        let (sum, sum_sq) = sub.exact.expect("exact sums expected");
        assert_eq!(u64::from(sum), r.sum[i], "Σx at {i}");
        assert_eq!(u64::from(sum_sq), r.sum_sq[i], "Σx² at {i}");
        assert_eq!(sub.evidence, r.evidence[i], "evidence at {i}");
    }
}

#[test]
fn the_vectorised_excess_is_the_definition() {
    for v in 0..=255u8 {
        for r in 0..=255u8 {
            assert_eq!(
                excess_lanes_for_test(v, r),
                evidence::excess(v, r),
                "{v} {r}"
            );
        }
    }
}

#[test]
fn the_vectorised_observation_is_the_definition() {
    for v in 0..=255u8 {
        for r in 0..=255u8 {
            for spread in 0..=255u8 {
                let o = evidence::observe(v, r, spread);
                let want = [o.bright, o.could_bright, o.dark, o.could_dark].map(u8::from);
                assert_eq!(
                    observe_lanes_for_test(v, r, spread),
                    want,
                    "{v} {r} {spread}"
                );
            }
        }
    }
}

#[test]
fn sums_and_evidence_match_the_simple_code_for_any_batch_size() {
    for channels in [1, 3] {
        let l = layout(11, 9, channels);
        let frames = speckled_frames(4, 23, l);
        let w = weights(frames.len());
        let r = reference(l, &frames, &w);
        for batch in [1, 2, 5, MAX_BATCH] {
            assert_matches(&accumulate(l, &frames, &w, batch), &r, frames.len());
        }
    }
}

#[test]
fn bands_folded_in_any_order_give_the_same_sums() {
    // Three bands, the last one short.
    let l = layout(40, 2 * Accumulator::BAND_ROWS + 5, 3);
    let frames = speckled_frames(9, 6, l);
    let w = weights(6);
    let refs: Vec<FrameRef> = frames
        .iter()
        .zip(&w)
        .map(|(f, &dark_weight)| FrameRef {
            pixels: f,
            dark_weight,
        })
        .collect();
    let mut acc = Accumulator::new(l, 6).unwrap();
    let mut scratch = Scratch::default();
    let mut bands = acc.bands();
    assert_eq!(bands.len(), 3);
    // In reverse order, as workers may take them, in two batches.
    for batch in refs.chunks(4) {
        for band in bands.iter_mut().rev() {
            band.fold(batch, &mut scratch);
        }
    }
    drop(bands);
    assert_matches(&acc.into_stats().unwrap(), &reference(l, &frames, &w), 6);
}

#[test]
fn past_the_packed_limit_the_sums_spill_and_stay_exact() {
    let l = layout(6, 5, 3);
    let count = PACKED_FRAMES as usize + 40;
    let frames = speckled_frames(5, count, l);
    let w = weights(count);
    let stats = accumulate(l, &frames, &w, MAX_BATCH);
    assert_matches(&stats, &reference(l, &frames, &w), count);
}

/// Two-pass float64 mean and sample variance of subpixel `i`.
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

/// Relative error, with an absolute floor for values near zero.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-3)
}

#[test]
fn moments_match_two_pass_f64_exact_and_welford() {
    let l = layout(7, 5, 3);
    let frames = random_frames(1, 50, l.len());
    let mut stats = accumulate(l, &frames, &[0; 50], 8);
    for welford in [false, true] {
        if welford {
            stats.to_welford();
        }
        for i in 0..l.len() {
            let (mean, var) = two_pass(&frames, i);
            assert!(close(stats.mean_at(i), mean, 1e-6), "mean {i}");
            assert!(close(stats.variance_at(i), var, 1e-6), "var {i}");
        }
    }
}

#[test]
fn constant_subpixel_has_variance_exactly_zero() {
    let l = layout(1, 1, 3);
    let frames = vec![vec![201u8; 3]; 40];
    let whole = accumulate(l, &frames, &[0; 40], 16);
    assert_eq!(whole.variance_at(0), 0.0);
    assert_eq!(whole.mean_at(0), 201.0);
    // And through the Chan merge of Welford forms.
    let mut a = accumulate(l, &frames[..13], &[0; 13], 16);
    let mut b = accumulate(l, &frames[13..], &[0; 27], 16);
    a.to_welford();
    b.to_welford();
    a.merge(&b).unwrap();
    assert_eq!(a.variance_at(0), 0.0);
}

#[test]
fn chan_merge_of_welford_forms_matches_two_pass_f64() {
    let l = layout(4, 3, 3);
    let frames = random_frames(2, 90, l.len());
    let zeros = [0u8; 90];
    let parts = [0..10, 10..11, 11..60, 60..90];
    let mut merged: Option<Stats> = None;
    for p in parts {
        let mut s = accumulate(l, &frames[p.clone()], &zeros[p], 16);
        s.to_welford();
        match &mut merged {
            None => merged = Some(s),
            Some(m) => m.merge(&s).unwrap(),
        }
    }
    let merged = merged.unwrap();
    assert_eq!(merged.frames, 90);
    for i in 0..l.len() {
        let (mean, var) = two_pass(&frames, i);
        assert!(close(merged.mean_at(i), mean, 1e-6));
        assert!(close(merged.variance_at(i), var, 1e-5));
    }
}

#[test]
fn row_accessors_agree_with_the_flat_ones() {
    let l = layout(5, 4, 3);
    let frames = random_frames(3, 9, l.len());
    let mut stats = accumulate(l, &frames, &[3; 9], 4);
    for welford in [false, true] {
        if welford {
            stats.to_welford();
        }
        let mut mean = vec![0f32; l.stride()];
        let mut m2 = vec![0f32; l.stride()];
        for y in 0..l.height {
            stats.mean_row(y, &mut mean);
            stats.m2_row(y, &mut m2);
            for xc in 0..l.stride() {
                let i = y * l.stride() + xc;
                assert_eq!(f64::from(mean[xc]), f64::from(stats.mean_at(i) as f32));
                assert_eq!(f64::from(m2[xc]), stats.m2_at(i));
            }
        }
    }
}

proptest::proptest! {
    /// Any split of the frames into parts, merged in any order, gives the
    /// same statistics as one run, bit for bit, while the sums are exact;
    /// through the Chan merge of Welford forms, within 1e-5 relative.
    #[test]
    fn any_split_and_merge_order_agrees(
        seed in 0u64..1000,
        count in 2usize..40,
        cuts in proptest::collection::vec(0usize..40, 0..6),
        order_seed in 0u64..1000,
    ) {
        let l = layout(5, 5, 3);
        let frames = speckled_frames(seed, count, l);
        let w = weights(count);
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % count).collect();
        bounds.push(0);
        bounds.push(count);
        bounds.sort();
        bounds.dedup();
        let mut parts: Vec<Stats> = bounds
            .windows(2)
            .map(|b| accumulate(l, &frames[b[0]..b[1]], &w[b[0]..b[1]], 3))
            .collect();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(order_seed);
        for i in (1..parts.len()).rev() {
            parts.swap(i, rng.random_range(0..=i));
        }
        let whole = accumulate(l, &frames, &w, 7);
        let mut exact = Stats::empty(l).unwrap();
        for p in &parts {
            exact.merge(p).unwrap();
        }
        proptest::prop_assert_eq!(&exact, &whole);

        let mut chan = Stats::empty(l).unwrap();
        chan.to_welford();
        for mut p in parts {
            p.to_welford();
            chan.merge(&p).unwrap();
        }
        for i in 0..l.len() {
            proptest::prop_assert_eq!(chan.evidence_at(i), whole.evidence_at(i));
            proptest::prop_assert!(close(chan.mean_at(i), whole.mean_at(i), 1e-5));
            proptest::prop_assert!(close(chan.variance_at(i), whole.variance_at(i), 1e-5));
        }
    }
}

/// A field read or written a run at a time (what a state file does) is the
/// field value by value, in the packed form and in the wide one.
#[test]
fn runs_of_a_field_are_its_values() {
    let layout = layout(7, 5, 3);
    let fields: Vec<Field> = [Field::Sum, Field::SumSq]
        .into_iter()
        .chain((0..evidence::MEMBERS.len()).map(Field::Evidence))
        .collect();
    // 20 frames: packed; 600: past the packed words, one array a field.
    for frames in [20u64, 600] {
        let mut stats = Stats::zeroed(frames, layout, true).unwrap();
        for (f, &field) in fields.iter().enumerate() {
            let values: Vec<i64> = (0..layout.len())
                .map(|i| ((i * 31 + f * 7) % 20) as i64)
                .collect();
            for start in (0..layout.len()).step_by(8) {
                let end = (start + 8).min(layout.len());
                stats.set_ints(field, start, &values[start..end]);
            }
            let mut back = vec![0; layout.len()];
            for start in (0..layout.len()).step_by(6) {
                let end = (start + 6).min(layout.len());
                stats.ints_run(field, start, &mut back[start..end]);
            }
            assert_eq!(back, values, "{field:?}, {frames} frames");
            assert_eq!(stats.ints(field).collect::<Vec<_>>(), values);
        }
    }
}
