//! Numerics whose results are fixed by IEEE 754 alone, so the committed fixtures regenerate
//! byte for byte on any platform: `exp`, `ln` and `powf` from libm may differ by an ulp between
//! versions, while `+ - * /` and `sqrt` are correctly rounded everywhere.

use rand::Rng;

/// ln 2 split into a part with trailing zero bits (exact when multiplied by a small integer)
/// and the rest (fdlibm's `ln2_hi`/`ln2_lo`).
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);

/// e^x from `+ - * /` only: x = n ln2 + r with |r| <= ln2/2, then a Taylor series for e^r
/// (terms to r^17 leave an error below 1e-16 relative) and 2^n built from its bits.
pub(crate) fn exp(x: f64) -> f64 {
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -708.0 {
        return 0.0;
    }
    let n = (x / std::f64::consts::LN_2).round();
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=17 {
        term *= r / k as f64;
        sum += term;
    }
    sum * f64::from_bits(((n as i64 + 1023) as u64) << 52)
}

/// ln x for finite x > 0 from `+ - * /` only: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
/// ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, summed to s^27.
pub(crate) fn ln(x: f64) -> f64 {
    assert!(x > 0.0 && x.is_finite() && x.is_normal(), "ln({x})");
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut power = s;
    let mut sum = 0.0;
    for k in 0..14 {
        sum += power / (2 * k + 1) as f64;
        power *= s2;
    }
    e as f64 * LN2_HI + (e as f64 * LN2_LO + 2.0 * sum)
}

/// x^y for x > 0.
pub(crate) fn pow(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    exp(y * ln(x))
}

/// (cos x, sin x) from `+ - * /` only: x reduced to [-pi, pi] by whole turns, halved until
/// |x| <= 1/4, Taylor series to x^16 (terms left out are below 1e-25), then the double-angle
/// formulas. Accurate to a few ulps for the angles the sky turns through (|x| < 100).
pub(crate) fn cos_sin(x: f64) -> (f64, f64) {
    let tau = std::f64::consts::TAU;
    let mut r = x - (x / tau).round() * tau;
    let mut halvings = 0;
    while r.abs() > 0.25 {
        r *= 0.5;
        halvings += 1;
    }
    let r2 = r * r;
    let (mut c, mut s) = (1.0, r);
    let (mut tc, mut ts) = (1.0, r);
    for k in 1..=8 {
        let k = k as f64;
        tc *= -r2 / ((2.0 * k - 1.0) * (2.0 * k));
        ts *= -r2 / ((2.0 * k) * (2.0 * k + 1.0));
        c += tc;
        s += ts;
    }
    for _ in 0..halvings {
        (c, s) = (c * c - s * s, 2.0 * s * c);
    }
    (c, s)
}

/// A draw from [lo, hi] whose logarithm is uniform: defect strengths span orders of
/// magnitude, and a uniform draw would make nearly all of them strong.
pub(crate) fn log_uniform(rng: &mut impl Rng, [lo, hi]: [f32; 2]) -> f32 {
    let u = unit(rng);
    if lo <= 0.0 || hi <= lo {
        return lo;
    }
    (lo as f64 * exp(u * ln(hi as f64 / lo as f64))) as f32
}

/// A uniform draw from [lo, hi].
pub(crate) fn uniform(rng: &mut impl Rng, [lo, hi]: [f32; 2]) -> f32 {
    (lo as f64 + (hi as f64 - lo as f64) * unit(rng)) as f32
}

/// A uniform draw from [0, 1] with 53 bits.
pub(crate) fn unit(rng: &mut impl Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Four 16-bit uniforms of `r` summed (Irwin-Hall) and scaled to unit variance: close to a
/// normal draw but bounded at 2 sqrt(3) = 3.46 sigma, so noise alone never reaches the
/// excursions of a defect.
#[inline]
pub(crate) fn bounded_gauss(r: u64) -> f32 {
    let sum = (r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48);
    (sum as f32 - 131_070.0) * (1.732_050_8 / 65_536.0)
}

/// The largest value [`bounded_gauss`] returns, in standard deviations.
pub const NOISE_BOUND_SIGMAS: f32 = 3.464_102;

/// SplitMix64's finaliser: a cheap, well-mixed hash of a 64-bit value.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Rounds to `digits` significant decimal digits, so drawn parameters read well in
/// `truth.json`; the rounded value is the one used.
pub(crate) fn round_sig(v: f32, digits: i32) -> f32 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let mut scale = 1.0f64;
    let a = (v as f64).abs();
    let mut magnitude = 0;
    let mut t = a;
    while t >= 10.0 {
        t /= 10.0;
        magnitude += 1;
    }
    while t < 1.0 {
        t *= 10.0;
        magnitude -= 1;
    }
    let shift = digits - 1 - magnitude;
    for _ in 0..shift.abs() {
        scale *= 10.0;
    }
    if shift >= 0 {
        ((v as f64 * scale).round() / scale) as f32
    } else {
        ((v as f64 / scale).round() * scale) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_ln_agree_with_libm() {
        for i in -400..400 {
            let x = i as f64 * 0.173;
            let (a, b) = (exp(x), x.exp());
            assert!((a - b).abs() <= 1e-15 * b, "exp({x}): {a} vs {b}");
        }
        for i in 1..2000 {
            let x = i as f64 * 0.0137 + 1e-3;
            let (a, b) = (ln(x), x.ln());
            assert!(
                (a - b).abs() <= 1e-15 * b.abs().max(1.0),
                "ln({x}): {a} vs {b}"
            );
        }
        assert!((pow(0.5, 1.0 / 2.4) - 0.5f64.powf(1.0 / 2.4)).abs() < 1e-15);
    }

    #[test]
    fn cos_sin_agrees_with_libm() {
        for i in -2000..2000 {
            let x = i as f64 * 0.0071 + 1e-4;
            let (c, s) = cos_sin(x);
            assert!((c - x.cos()).abs() < 1e-14, "cos({x}): {c} vs {}", x.cos());
            assert!((s - x.sin()).abs() < 1e-14, "sin({x}): {s} vs {}", x.sin());
        }
        assert_eq!(cos_sin(0.0), (1.0, 0.0));
    }

    #[test]
    fn significant_digits() {
        assert_eq!(round_sig(0.123456, 3), 0.123);
        assert_eq!(round_sig(123.456, 2), 120.0);
        assert_eq!(round_sig(0.000_987_65, 2), 0.000_99);
    }

    #[test]
    fn bounded_gauss_has_unit_variance_and_bound() {
        let (lo, hi) = (bounded_gauss(0), bounded_gauss(u64::MAX));
        assert!((lo + NOISE_BOUND_SIGMAS).abs() < 1e-4 && (hi - NOISE_BOUND_SIGMAS).abs() < 1e-4);
        let n = 200_000u64;
        let var: f64 = (0..n)
            .map(|i| f64::from(bounded_gauss(mix(i))).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((var - 1.0).abs() < 0.01, "{var}");
    }
}
