//! The camera's colour science: white balance presets, the camera-to-sRGB matrix and the tone
//! curve, each a small table fixed at build time.

use crate::num::pow;
use crate::Condition;

/// White balance multipliers (R, G, B) a Nikon applies for each light. Under tungsten the red
/// raw channel is relatively strong and the blue one weak, so red needs less gain than in
/// daylight and blue much more; night scenes under street lights sit in between. Night skies
/// are taken in daylight balance, as astrophotographers set it.
pub fn white_balance(c: Condition) -> [f32; 3] {
    match c {
        Condition::Daylight | Condition::ClippedSky | Condition::NightSky => [2.0, 1.0, 1.5],
        Condition::Indoor => [1.3, 1.0, 2.6],
        Condition::Night => [1.5, 1.0, 2.2],
    }
}

/// Camera RGB (white balanced) to linear sRGB. Rows sum to 1 so white stays white; the
/// negative off-diagonals undo the overlap of the colour filters, and also make a bright
/// photosite in one channel pull the other two channels down around it.
pub const SRGB_FROM_CAM: [[f32; 3]; 3] = [
    [1.62, -0.47, -0.15],
    [-0.21, 1.55, -0.34],
    [0.03, -0.50, 1.47],
];

/// The inverse of [`SRGB_FROM_CAM`] (cofactors, in f64): what the world's sRGB colours look
/// like to the sensor. Its entries are all positive, so a colour in 0..1 stays in 0..1.
pub fn cam_from_srgb() -> [[f32; 3]; 3] {
    let m = SRGB_FROM_CAM.map(|r| r.map(f64::from));
    let cof = |r: usize, c: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((c + 1) % 3, (c + 2) % 3);
        m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]
    };
    let det = m[0][0] * cof(0, 0) + m[0][1] * cof(0, 1) + m[0][2] * cof(0, 2);
    std::array::from_fn(|r| std::array::from_fn(|c| (cof(c, r) / det) as f32))
}

/// Entries of the tone curve's table over linear 0..1.
const TONE_SIZE: usize = 65536;
/// Linear level clipped to black: the camera's black point sits a little above the raw zero.
const BLACK_CLIP: f64 = 0.002;
/// Slope of the highlight roll-off at black: lifts middle grey (12% raw) to about 112 of 255.
const EXPOSURE_GAIN: f64 = 1.6;
/// Strength of the S-shaped contrast curve in the display domain.
const CONTRAST: f64 = 0.25;

/// The camera's tone curve, linear (after white balance and colour matrix) to display 0..1:
/// black clip, a highlight roll-off, the sRGB transfer function, then an S-curve giving the
/// toe and shoulder of a camera's "standard" picture style.
pub(crate) struct ToneCurve {
    lut: Vec<f32>,
}

impl ToneCurve {
    pub fn new() -> ToneCurve {
        let lut = (0..TONE_SIZE)
            .map(|i| tone(i as f64 / (TONE_SIZE - 1) as f64) as f32)
            .collect();
        ToneCurve { lut }
    }

    #[inline]
    pub fn apply(&self, linear: f32) -> f32 {
        let i = (linear.clamp(0.0, 1.0) * (TONE_SIZE - 1) as f32 + 0.5) as usize;
        self.lut[i]
    }
}

/// The tone curve at one linear level, in f64 with the deterministic `pow`.
pub(crate) fn tone(x: f64) -> f64 {
    let x = ((x - BLACK_CLIP) / (1.0 - BLACK_CLIP)).max(0.0);
    let r = x * EXPOSURE_GAIN / (1.0 + (EXPOSURE_GAIN - 1.0) * x);
    // The sRGB transfer function (IEC 61966-2-1).
    let s = if r <= 0.003_130_8 {
        12.92 * r
    } else {
        1.055 * pow(r, 1.0 / 2.4) - 0.055
    };
    // s + c s (1 - s) (2s - 1): fixes 0, 1/2 and 1, flattens both ends, steepens the middle.
    (s + CONTRAST * s * (1.0 - s) * (2.0 * s - 1.0)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_inverse_is_an_inverse_with_positive_entries() {
        let inv = cam_from_srgb();
        for r in 0..3 {
            for c in 0..3 {
                let v: f32 = (0..3).map(|k| SRGB_FROM_CAM[r][k] * inv[k][c]).sum();
                assert!((v - f32::from(r == c)).abs() < 1e-5, "{r},{c}: {v}");
                assert!(inv[r][c] > 0.0, "{inv:?}");
            }
        }
    }

    #[test]
    fn tone_curve_is_monotonic_with_toe_and_black_clip() {
        assert_eq!(tone(0.0), 0.0);
        assert_eq!(tone(BLACK_CLIP), 0.0);
        assert!((tone(1.0) - 1.0).abs() < 1e-12);
        let mid = tone(0.12) * 255.0;
        assert!((100.0..125.0).contains(&mid), "{mid}");
        let mut last = 0.0;
        for i in 0..=1000 {
            let t = tone(i as f64 / 1000.0);
            assert!(t >= last);
            last = t;
        }
    }
}
