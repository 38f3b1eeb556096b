//! The per-frame rule: what one frame says of one subpixel, from its 8-bit
//! value `v`, its ring reference `r` (the median of the ring, see
//! [`super::ring`]) and the ring's spread `s` (its middle half).
//!
//! Two kinds of observation, both exact integers that add across frames:
//! - the **excess** over the reference in linear light, `(v² − r²) / 256`
//!   in "linear levels" (255 = full scale; squaring undoes most of a
//!   camera's tone curve), clamped to ±[`CLAMP`], and never bright against
//!   a clipped reference: what an offset or dark current adds, summed;
//! - whether the subpixel was **seen** standing out: `v` at least
//!   [`seen_threshold`] above or below `r`, a threshold that grows with the
//!   ring's own spread in that frame, so that in fine texture only what
//!   stands out of the texture counts; and whether the frame **could** have
//!   shown it: a bright subpixel cannot show against a clipped reference, a
//!   dark one not against a reference too dark to go below by the
//!   threshold. A defect shows in most of the frames that could show it; a
//!   star, a lamp or a glint in a few.
//!
//! Nothing here assumes JPEG: `v`, `r` and `s` are 8-bit levels of one
//! channel, as a raw mosaic scaled to 8 bits would give them too.

use crate::params::{CLIPPED, SEEN_MIN, SEEN_SPREADS};

/// Largest excess one frame contributes, in linear levels (about half of
/// full scale): a saturated hot pixel still counts fully, a glint no more.
pub const CLAMP: i16 = 126;

/// Largest dark-current weight of a frame.
pub const DARK_WEIGHT_MAX: u8 = 15;

/// Exposure × gain (seconds at ISO 100) that earns the full dark-current
/// weight. Dark current grows linearly with it; beyond one second at ISO 100
/// a typical hot pixel (2 to 50% of full scale a second) is plainly visible,
/// and longer frames only saturate it.
pub const DARK_FULL_SECONDS: f64 = 1.0;

/// How much dark current a frame could show, from its EXIF: round(15 ×
/// min(t × ISO/100 / 1 s, 1)), 0..=15. Daylight frames (1/4000 to 1/125 s at
/// low ISO) weigh 0, so a hot pixel's absence from them is no evidence
/// against it. Without an exposure time the weight is 0 (nothing known);
/// without an ISO, ISO 100 is assumed (the least gain a camera has).
pub fn dark_weight(exposure_s: Option<f64>, iso: Option<u32>) -> u8 {
    let Some(t) = exposure_s.filter(|t| t.is_finite() && *t > 0.0) else {
        return 0;
    };
    let gain = f64::from(iso.unwrap_or(100).max(1)) / 100.0;
    let x = (t * gain / DARK_FULL_SECONDS).min(1.0);
    (x * f64::from(DARK_WEIGHT_MAX)).round() as u8
}

/// One frame's excess of a subpixel `v` over its reference `r`, in linear
/// levels, clamped, and never bright against a clipped reference.
#[inline(always)]
pub fn excess(v: u8, r: u8) -> i16 {
    let (v, r) = (i32::from(v), i32::from(r));
    // (v − r)(v + r) = v² − r², in −65025..=65025; / 256, rounded down.
    let e = (((v - r) * (v + r)) >> 8) as i16;
    let e = e.clamp(-CLAMP, CLAMP);
    if r >= i32::from(CLIPPED) {
        e.min(0)
    } else {
        e
    }
}

/// How far (8-bit levels) a subpixel must stand out from its reference to
/// be seen, given the ring's spread `s`: [`SEEN_SPREADS`] spreads, at least
/// [`SEEN_MIN`] levels (JPEG noise alone moves a subpixel by 1 to 3).
#[inline(always)]
pub fn seen_threshold(spread: u8) -> u8 {
    spread.saturating_mul(SEEN_SPREADS).max(SEEN_MIN)
}

/// What one frame says of one subpixel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observation {
    /// See [`excess`].
    pub excess: i16,
    /// Seen brighter than the reference by the threshold.
    pub bright: bool,
    /// The reference is not clipped: a brighter subpixel could show.
    pub could_bright: bool,
    /// Seen darker than the reference by the threshold.
    pub dark: bool,
    /// The reference is at least twice the threshold: a darker subpixel
    /// (down to black) could show.
    pub could_dark: bool,
}

/// The plain statement of the per-frame rule, which the fold's vectorised
/// kernel is tested against.
pub fn observe(v: u8, r: u8, spread: u8) -> Observation {
    let t = i16::from(seen_threshold(spread));
    let (v16, r16) = (i16::from(v), i16::from(r));
    let could_bright = r < CLIPPED;
    let could_dark = r16 >= 2 * t;
    Observation {
        excess: excess(v, r),
        bright: could_bright && v16 - r16 >= t,
        could_bright,
        dark: could_dark && r16 - v16 >= t,
        could_dark,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excess_is_the_linear_difference_clamped() {
        assert_eq!(excess(100, 100), 0);
        // 120² − 100² = 4400; / 256 = 17.19 -> 17.
        assert_eq!(excess(120, 100), 17);
        assert_eq!(excess(100, 120), -18);
        // A saturated point on a dark sky counts half of full scale, no more.
        assert_eq!(excess(255, 10), CLAMP);
        assert_eq!(excess(0, 255), -CLAMP);
        // Nothing bright shows against a clipped reference.
        assert_eq!(excess(255, 251), 0);
        assert!(excess(200, 252) < 0);
        // Exhaustively: the formula, independently in f64.
        for v in 0..=255u8 {
            for r in 0..=255u8 {
                let lin = (f64::from(v).powi(2) - f64::from(r).powi(2)) / 256.0;
                let mut want = lin.floor().clamp(-126.0, 126.0) as i16;
                if r >= CLIPPED {
                    want = want.min(0);
                }
                assert_eq!(excess(v, r), want, "{v} {r}");
            }
        }
    }

    #[test]
    fn seen_means_standing_out_of_the_ring_spread() {
        // A flat neighbourhood: 3 levels are enough.
        assert!(observe(103, 100, 0).bright);
        assert!(!observe(102, 100, 0).bright);
        // In texture whose middle half spans 10 levels, 20 are needed.
        assert!(!observe(119, 100, 10).bright);
        assert!(observe(120, 100, 10).bright);
        assert!(observe(80, 100, 10).dark);
        // Against a clipped reference nothing bright can show ...
        let o = observe(255, 252, 0);
        assert!(!o.bright && !o.could_bright && o.could_dark);
        // ... and against black nothing dark can.
        let o = observe(0, 5, 0);
        assert!(!o.dark && !o.could_dark && o.could_bright);
        assert!(observe(0, 6, 0).dark);
        // A huge spread saturates instead of wrapping.
        assert_eq!(seen_threshold(200), 255);
        // Seen implies could, both ways, everywhere.
        for v in (0..=255u8).step_by(3) {
            for r in (0..=255u8).step_by(5) {
                for s in [0u8, 1, 7, 40, 130] {
                    let o = observe(v, r, s);
                    assert!(!o.bright || o.could_bright);
                    assert!(!o.dark || o.could_dark);
                    assert!(!(o.bright && o.dark));
                }
            }
        }
    }

    #[test]
    fn dark_weight_follows_exposure_times_gain() {
        assert_eq!(dark_weight(Some(1.0 / 1000.0), Some(100)), 0);
        assert_eq!(dark_weight(Some(1.0 / 8.0), Some(800)), 15);
        assert_eq!(dark_weight(Some(0.5), Some(100)), 8);
        assert_eq!(dark_weight(Some(30.0), Some(1600)), 15);
        assert_eq!(dark_weight(None, Some(1600)), 0);
        assert_eq!(dark_weight(Some(0.2), None), 3);
        assert_eq!(dark_weight(Some(f64::NAN), Some(100)), 0);
    }
}
