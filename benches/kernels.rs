//! Kernel benchmarks on full-size (3872x2592 RGB) frames: the fold of a
//! batch of frames into the run's accumulators (sums and evidence) for each
//! batch size, against the float Welford updates exact sums were chosen
//! over; the conversion to statistics, the merges, detection and ranking.
//! Run with `cargo bench --bench kernels`.
//!
//! The batch sizes are what `src/engine/memory.rs` chooses from: the time a
//! frame costs as the batch grows is the speed bought with frame buffers.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use hotpix::detect::{detect, Context};
use hotpix::evidence::Layout;
use hotpix::rank::{rank, End};
use hotpix::stats::{Accumulator, FrameRef, Scratch, Stats};

const W: usize = 3872;
const H: usize = 2592;
const LAYOUT: Layout = Layout {
    width: W,
    height: H,
    channels: 3,
};
const LEN: usize = W * H * 3;

/// A frame like a photograph to these loops: smooth gradients with texture
/// and noise (xorshift), so the medians and excesses take realistic values.
fn frame(seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..LEN)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let (x, y) = ((i / 3) % W, i / 3 / W);
            let smooth = (x * 97 / W + y * 61 / H + seed as usize * 37) % 160 + 40;
            (smooth as u32 + (s % 9)) as u8
        })
        .collect()
}

/// The alternative measured against: Welford's update in f32 or f64.
fn welford<
    F: Copy + std::ops::Sub<Output = F> + std::ops::Add<Output = F> + std::ops::Mul<Output = F>,
>(
    mean: &mut [F],
    m2: &mut [F],
    frame: &[u8],
    inv_n: F,
    widen: impl Fn(u8) -> F,
) {
    for ((m, q), &v) in mean.iter_mut().zip(m2.iter_mut()).zip(frame) {
        let x = widen(v);
        let d = x - *m;
        *m = *m + d * inv_n;
        *q = *q + d * (x - *m);
    }
}

fn fold(c: &mut Criterion) {
    let frames: Vec<Vec<u8>> = (0..16).map(frame).collect();
    let mut g = c.benchmark_group("fold_full_frame");
    g.sample_size(10);
    for batch in [1usize, 2, 4, 6, 8, 12, 16] {
        let refs: Vec<FrameRef> = frames[..batch]
            .iter()
            .enumerate()
            .map(|(k, f)| FrameRef {
                pixels: f,
                dark_weight: (k % 16) as u8,
            })
            .collect();
        g.throughput(Throughput::Bytes((batch * LEN) as u64));
        let mut acc = Accumulator::new(LAYOUT, 2000).unwrap();
        let mut scratch = Scratch::default();
        g.bench_function(format!("batch_{batch:02}"), |b| {
            b.iter(|| {
                if acc.frames() + batch as u64 > 2000 {
                    acc = Accumulator::new(LAYOUT, 2000).unwrap();
                }
                for mut band in acc.bands() {
                    band.fold(black_box(&refs), &mut scratch);
                }
            })
        });
    }
    g.throughput(Throughput::Bytes(LEN as u64));
    let f = &frames[0];
    {
        let (mut mean, mut m2) = (vec![0f32; LEN], vec![0f32; LEN]);
        g.bench_function("welford_f32_sums_only", |b| {
            b.iter(|| welford(&mut mean, &mut m2, black_box(f), 0.01f32, f32::from))
        });
    }
    {
        let (mut mean, mut m2) = (vec![0f64; LEN], vec![0f64; LEN]);
        g.bench_function("welford_f64_sums_only", |b| {
            b.iter(|| welford(&mut mean, &mut m2, black_box(f), 0.01f64, f64::from))
        });
    }
    g.bench_function("thumbnail", |b| {
        b.iter(|| hotpix::similarity::thumbnail(black_box(f), W, H))
    });
    g.bench_function("tile_signatures", |b| {
        b.iter(|| hotpix::similarity::tile_signatures(black_box(f), W, H))
    });
    g.finish();
}

fn statistics(seed: u32) -> Stats {
    let frames: Vec<Vec<u8>> = (0..6).map(|k| frame(seed + k)).collect();
    let refs: Vec<FrameRef> = frames
        .iter()
        .enumerate()
        .map(|(k, f)| FrameRef {
            pixels: f,
            dark_weight: (k * 3) as u8,
        })
        .collect();
    let mut acc = Accumulator::new(LAYOUT, 6).unwrap();
    acc.add_batch(&refs).unwrap();
    acc.into_stats().unwrap()
}

fn end_of_run(c: &mut Criterion) {
    let mut g = c.benchmark_group("full_frame");
    g.sample_size(10);
    g.bench_function("accumulator_into_stats", |b| {
        b.iter_batched(
            || {
                let mut acc = Accumulator::new(LAYOUT, 2).unwrap();
                let f = frame(1);
                acc.add_batch(&[FrameRef {
                    pixels: &f,
                    dark_weight: 0,
                }])
                .unwrap();
                acc
            },
            |acc| acc.into_stats().unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    let stats = statistics(1);
    let other = statistics(11);
    g.bench_function("exact_merge", |b| {
        b.iter_batched(
            || stats.clone(),
            |mut s| s.merge(black_box(&other)).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    let (mut welford_a, mut welford_b) = (stats.clone(), other.clone());
    welford_a.to_welford();
    welford_b.to_welford();
    g.bench_function("chan_merge", |b| {
        b.iter_batched(
            || welford_a.clone(),
            |mut s| s.merge(black_box(&welford_b)).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    let ctx = Context::unknown(stats.frames);
    g.bench_function("detect_auto_threshold", |b| {
        b.iter(|| detect(black_box(&stats), &ctx, None))
    });
    g.bench_function("rank_top10_both_ends", |b| {
        b.iter(|| {
            (
                rank(&stats, End::Lowest, 10),
                rank(&stats, End::Highest, 10),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, fold, end_of_run);
criterion_main!(benches);
