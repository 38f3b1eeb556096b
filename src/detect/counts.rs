//! How sure a count of frames makes us: a subpixel seen in `k` of the `m`
//! frames that could show it, where its neighbourhood's subpixels are seen
//! at rate `p` (what the scene does there by chance: texture, stars
//! drifting through, noise), is evidence of a defect only if so many
//! sightings are improbable by chance. The measure is the binomial tail
//! P(X ≥ k | m, p), as a strength −log₁₀ P. It needs no threshold fitted
//! to a generator: 2 or 3 frames can never make a chance coincidence
//! improbable enough, 20 frames of a night sky easily can, and fine
//! texture (a high `p`) needs more frames than a smooth sky.
//!
//! Counts are scaled to independent views first (see
//! [`super::Context::views`]): a burst of 5 frames of one view is seen 5
//! times but is one look.

use crate::params::{CHANCE_MIN, STRENGTH_MIN};

/// The fewest views of different scenes that can make a defect sure,
/// however smooth the scene: a view in which it stood out is at best a
/// chance of [`CHANCE_MIN`], so it takes ⌈[`STRENGTH_MIN`] / −log₁₀
/// [`CHANCE_MIN`]⌉ of them (4: 3 reach at most 10^−4.97). A kind of defect
/// that shows in fewer frames than this (a hot pixel with fewer long
/// frames) can be told from the scene only by stillness and shape.
pub fn fewest_sure_views() -> u64 {
    (f64::from(STRENGTH_MIN) / -CHANCE_MIN.log10()).ceil() as u64
}

/// −log₁₀ of the binomial tail P(X ≥ k) for X ~ Binomial(m, p), for real
/// `k` and `m` (counts scaled to views), through the regularised incomplete
/// beta function: P(X ≥ k) = I_p(k, m − k + 1). 0 when `k` ≤ 0.
pub fn strength(k: f64, m: f64, p: f64) -> f64 {
    if k <= 0.0 || m <= 0.0 {
        return 0.0;
    }
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let k = k.min(m);
    -ln_beta_inc(p, k, m - k + 1.0) / std::f64::consts::LN_10
}

/// ln I_x(a, b), the regularised incomplete beta function, by its continued
/// fraction (Lentz's method), on the side where it converges fast.
fn ln_beta_inc(x: f64, a: f64, b: f64) -> f64 {
    let front = a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b);
    if x < (a + 1.0) / (a + b + 2.0) {
        front + fraction(x, a, b).ln() - a.ln()
    } else {
        // I_x(a, b) = 1 − I_{1−x}(b, a).
        let rest = (front + fraction(1.0 - x, b, a).ln() - b.ln()).exp();
        (1.0 - rest).max(1e-300).ln()
    }
}

/// The continued fraction of the incomplete beta function.
fn fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for aa in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-12 {
            break;
        }
    }
    h
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: 15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..]
        .iter()
        .enumerate()
        .fold(G[0], |s, (i, g)| s + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewest_sure_views_are_the_fewest_whose_chance_falls_under_the_bar() {
        let n = fewest_sure_views();
        assert_eq!(n, 4);
        let sure = |k: u64| strength(k as f64, k as f64, CHANCE_MIN) >= f64::from(STRENGTH_MIN);
        assert!(sure(n));
        assert!(!sure(n - 1));
    }

    /// P(X ≥ k) summed term by term, in f64 with exact binomial
    /// coefficients: the independent computation.
    fn direct(k: u32, m: u32, p: f64) -> f64 {
        let choose = |m: u32, j: u32| -> f64 {
            (0..j).fold(1.0, |c, i| c * f64::from(m - i) / f64::from(i + 1))
        };
        (k..=m)
            .map(|j| choose(m, j) * p.powi(j as i32) * (1.0 - p).powi((m - j) as i32))
            .sum()
    }

    #[test]
    fn the_tail_matches_the_binomial_sum() {
        for m in 1..=40u32 {
            for k in 1..=m {
                for p in [1e-4, 0.003, 0.05, 0.3, 0.5, 0.9] {
                    let want = -direct(k, m, p).log10();
                    let got = strength(f64::from(k), f64::from(m), p);
                    assert!(
                        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                        "k {k} m {m} p {p}: {got} against {want}"
                    );
                }
            }
        }
        assert_eq!(strength(0.0, 10.0, 0.1), 0.0);
    }

    #[test]
    fn few_frames_cannot_be_sure_and_many_can() {
        // Seen in both of 2 frames where 5% of subpixels are seen by chance:
        // a chance of 1 in 400.
        assert!((strength(2.0, 2.0, 0.05) - 400f64.log10()).abs() < 1e-9);
        // 20 of 20 in a night sky where 2% are: beyond doubt.
        assert!(strength(20.0, 20.0, 0.02) > 30.0);
        // Fractional counts (views) lie between their neighbours.
        let (a, b, c) = (
            strength(3.0, 5.0, 0.1),
            strength(3.5, 5.0, 0.1),
            strength(4.0, 5.0, 0.1),
        );
        assert!(a < b && b < c, "{a} {b} {c}");
    }
}
