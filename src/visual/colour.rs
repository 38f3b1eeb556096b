//! The perceptual colour scale of the score pictures, and how a score maps onto it.

/// matplotlib's `inferno` colour map (Nathaniel J. Smith and Stéfan van der
/// Walt, 2015; CC0), sampled at 11 evenly spaced points: the values of R's
/// `viridisLite::inferno(11)`. Perceptually uniform and readable in grey,
/// black for nothing and pale yellow for the strongest.
const INFERNO: [[u8; 3]; 11] = [
    [0x00, 0x00, 0x04],
    [0x16, 0x0b, 0x39],
    [0x42, 0x0a, 0x68],
    [0x6a, 0x17, 0x6e],
    [0x93, 0x26, 0x67],
    [0xbc, 0x37, 0x54],
    [0xdd, 0x51, 0x3a],
    [0xf3, 0x78, 0x19],
    [0xfc, 0xa5, 0x0a],
    [0xf6, 0xd7, 0x46],
    [0xfc, 0xff, 0xa4],
];

/// Decades of score below the threshold that the scale shows; with
/// `DECADES_ABOVE` above it, the threshold sits at 2/3 of the scale.
pub const DECADES_BELOW: f64 = 2.0;
/// Decades of score above the threshold that the scale shows.
pub const DECADES_ABOVE: f64 = 1.0;

/// The colour of `t` in [0, 1] (clamped), linearly interpolated between the anchors.
pub fn inferno(t: f64) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (INFERNO.len() - 1) as f64;
    let i = (pos.floor() as usize).min(INFERNO.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (INFERNO[i], INFERNO[i + 1]);
    std::array::from_fn(|c| {
        (f64::from(a[c]) + (f64::from(b[c]) - f64::from(a[c])) * f).round() as u8
    })
}

/// Where `score` sits on the scale: logarithmic from `threshold` / 100 (0) to
/// 10 × `threshold` (1), so both the faint texture of scene details and the
/// defects far above the threshold keep distinct colours. Scores do span
/// decades: they are z-scores, so noise scores about 1 and less, scene
/// details a few, defects from the threshold (8 or more) to hundreds.
pub fn position(score: f32, threshold: f64) -> f64 {
    if score <= 0.0 || threshold <= 0.0 {
        return 0.0;
    }
    let decades = (f64::from(score) / threshold).log10();
    ((decades + DECADES_BELOW) / (DECADES_BELOW + DECADES_ABOVE)).clamp(0.0, 1.0)
}

/// The colour of `score` for a series with `threshold`.
pub fn of_score(score: f32, threshold: f64) -> [u8; 3] {
    inferno(position(score, threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_anchors() {
        assert_eq!(inferno(0.0), INFERNO[0]);
        assert_eq!(inferno(1.0), INFERNO[10]);
        assert_eq!(inferno(0.5), INFERNO[5]);
        assert_eq!(inferno(f64::NAN), INFERNO[0]);
    }

    #[test]
    fn threshold_sits_at_two_thirds() {
        // 0.12 as f32 is not 0.12 as f64: 1e-7 apart, relatively.
        assert!((position(0.12, 0.12) - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(position(0.0, 0.12), 0.0);
        assert_eq!(position(100.0, 0.12), 1.0);
        assert_eq!(position(1e-9, 0.12), 0.0);
    }

    #[test]
    fn brighter_for_higher_scores() {
        let lum = |c: [u8; 3]| u32::from(c[0]) * 3 + u32::from(c[1]) * 6 + u32::from(c[2]);
        let mut last = 0;
        for i in 0..=100 {
            let l = lum(inferno(f64::from(i) / 100.0));
            assert!(l + 8 >= last, "luminance drops at {i}");
            last = l;
        }
    }
}
