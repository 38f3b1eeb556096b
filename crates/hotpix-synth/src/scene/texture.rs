//! Fine texture at the scale of a few photosites over the whole world (the world option
//! [`crate::SeriesSpec::fine_texture`]): gravel, grass and brick, with the contrast real
//! surfaces have (tens of percent), where a weak warm photosite has to be told from the
//! scene's own detail. Each world pixel's light is multiplied by the texture's factor there,
//! so shapes and fields keep their colours and gain grain.
//!
//! A pure function of the seed and position (hashed lattices), `+ - * /` and `floor` only.

use crate::num::mix;

/// The texture of a world: which kind where (patches about a tenth of the world across),
/// and the salts of each kind's lattices.
pub(super) struct Texture {
    salt: u64,
    patch: f32,
}

/// Brick courses are this many pixels high and bricks this long; mortar is one pixel. The
/// world's optical blur ([1 2 1] each way) all but removes detail of one or two pixels, so
/// the textures' features are 2..5 pixels across.
const COURSE: i64 = 5;
const BRICK: i64 = 12;

impl Texture {
    pub(super) fn new(seed: u64, width: usize, height: usize) -> Texture {
        Texture {
            salt: mix(seed ^ 0x7E47_07E5),
            patch: width.max(height) as f32 / 10.0,
        }
    }

    /// Multiplies row `y` of the three colour rows by the texture.
    pub(super) fn apply_row(&self, y: usize, rows: &mut [Vec<f32>; 3]) {
        let width = rows[0].len();
        for x in 0..width {
            let f = self.factor(x as i64, y as i64);
            for row in rows.iter_mut() {
                row[x] *= f;
            }
        }
    }

    /// The texture's factor at world pixel (x, y): about 1 on average.
    fn factor(&self, x: i64, y: i64) -> f32 {
        let (fx, fy) = (x as f32, y as f32);
        // Which surface: value noise over patches, in thirds.
        let kind = smooth_noise(self.salt ^ 1, fx / self.patch, fy / self.patch);
        let grain = unit(self.salt ^ 2, x, y) - 0.5;
        if kind < 0.36 {
            // Gravel: stones of 3..4 pixels, each its own brightness, with fine grain.
            let stone = smooth_noise(self.salt ^ 3, fx / 3.5, fy / 3.5);
            0.3 + 1.4 * stone + 0.2 * grain
        } else if kind < 0.68 {
            // Grass: blades two pixels wide and about eight long, light and dark.
            let blade = smooth_noise(self.salt ^ 4, fx / 2.0, fy / 8.0);
            0.3 + 1.4 * blade + 0.15 * grain
        } else {
            // Brick: courses offset by half a brick, a brightness per brick, dark mortar.
            let course = y.div_euclid(COURSE);
            let shifted = x + (course & 1) * BRICK / 2;
            let brick = shifted.div_euclid(BRICK);
            if y.rem_euclid(COURSE) == 0 || shifted.rem_euclid(BRICK) == 0 {
                return 0.35 + 0.2 * grain;
            }
            1.05 + 0.45 * (unit(self.salt ^ 5, brick, course) - 0.5) + 0.25 * grain
        }
    }
}

/// A hash of (x, y) in 0..1.
fn unit(salt: u64, x: i64, y: i64) -> f32 {
    let h = mix(salt
        ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    (h >> 40) as f32 / 16_777_216.0
}

/// Value noise in 0..1 at (x, y) in lattice units, smoothstep between lattice points.
fn smooth_noise(salt: u64, x: f32, y: f32) -> f32 {
    let (ix, iy) = (x.floor(), y.floor());
    let s = |t: f32| t * t * (3.0 - 2.0 * t);
    let (tx, ty) = (s(x - ix), s(y - iy));
    let (ix, iy) = (ix as i64, iy as i64);
    let (a, b) = (unit(salt, ix, iy), unit(salt, ix + 1, iy));
    let (c, d) = (unit(salt, ix, iy + 1), unit(salt, ix + 1, iy + 1));
    let top = a + (b - a) * tx;
    let bottom = c + (d - c) * tx;
    top + (bottom - top) * ty
}
