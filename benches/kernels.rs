//! Kernel benchmarks on one full-size (3872x2592 RGB) frame: the per-frame
//! update hotpix uses (exact u32 sums) against the float Welford updates it
//! was chosen over, the merge of two partials, the conversion to Welford form,
//! and the ranking. Run with `cargo bench --bench kernels`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use hotpix::rank::{rank, End};
use hotpix::stats::{merge_partials, Accumulator, Partial};

const W: u32 = 3872;
const H: u32 = 2592;
const LEN: usize = W as usize * H as usize * 3;

fn frame(seed: u32) -> Vec<u8> {
    // A cheap deterministic pseudo-random frame (xorshift); content does not
    // change the cost of these branch-free loops.
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..LEN)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as u8
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

fn update(c: &mut Criterion) {
    let f = frame(1);
    let mut g = c.benchmark_group("update_full_frame");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.sample_size(20);
    {
        let mut acc = Accumulator::new(W, H).unwrap();
        g.bench_function("hotpix_push_sums_and_votes", |b| {
            b.iter(|| {
                if acc.is_full() {
                    acc = Accumulator::new(W, H).unwrap();
                }
                acc.push(black_box(&f)).unwrap()
            })
        });
    }
    {
        let mut acc = Accumulator::new(W, H).unwrap();
        let f2 = frame(2);
        g.throughput(Throughput::Bytes(2 * LEN as u64));
        g.bench_function("hotpix_push_pair_sums_and_votes", |b| {
            b.iter(|| {
                if acc.frames() + 2 > Accumulator::MAX_FRAMES {
                    acc = Accumulator::new(W, H).unwrap();
                }
                acc.push_pair(black_box(&f), black_box(&f2)).unwrap()
            })
        });
        g.throughput(Throughput::Bytes(LEN as u64));
    }
    {
        let (mut mean, mut m2) = (vec![0f32; LEN], vec![0f32; LEN]);
        g.bench_function("welford_f32", |b| {
            b.iter(|| welford(&mut mean, &mut m2, black_box(&f), 1.0 / 7.0, f32::from))
        });
    }
    {
        let (mut mean, mut m2) = (vec![0f64; LEN], vec![0f64; LEN]);
        g.bench_function("welford_f64", |b| {
            b.iter(|| welford(&mut mean, &mut m2, black_box(&f), 1.0 / 7.0, f64::from))
        });
    }
    g.finish();
}

fn evidence(c: &mut Criterion) {
    let f = frame(1);
    let mut g = c.benchmark_group("evidence_full_frame");
    g.sample_size(10);
    let mut net = vec![0i16; LEN];
    g.bench_function("ring_median_votes", |b| {
        b.iter(|| hotpix::evidence::add_votes(black_box(&f), W as usize, H as usize, &mut net))
    });
    g.bench_function("thumbnail", |b| {
        b.iter(|| hotpix::similarity::thumbnail(black_box(&f), W as usize, H as usize))
    });
    g.finish();
}

fn merge_and_rank(c: &mut Criterion) {
    let partial = |seed| {
        let mut p = Partial::new(W, H).unwrap();
        p.push(&frame(seed)).unwrap();
        p.push(&frame(seed + 1)).unwrap();
        p
    };
    let mut g = c.benchmark_group("full_frame");
    g.sample_size(10);
    g.bench_function("merge_two_partials_to_stats", |b| {
        b.iter_batched(
            || vec![partial(1), partial(3)],
            |p| merge_partials(p).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    let stats = merge_partials(vec![partial(1), partial(3)])
        .unwrap()
        .unwrap();
    let mut other = stats.clone();
    g.bench_function("chan_merge_stats", |b| {
        b.iter(|| other.merge(black_box(&stats)))
    });
    g.bench_function("detect_auto_threshold", |b| {
        b.iter(|| hotpix::detect::detect(black_box(&stats), None, None))
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

criterion_group!(benches, update, evidence, merge_and_rank);
criterion_main!(benches);
