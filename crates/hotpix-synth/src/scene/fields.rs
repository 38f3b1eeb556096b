//! Octaves of value noise: the smooth gradients and texture of the world, brightness with fine
//! detail and colour only at large scales, as in photographs.

use crate::num::mix;

/// Octaves of value noise: brightness with fine detail, colour only at large scales (real
/// scenes change hue slowly and brightness quickly).
pub(super) struct Fields {
    luma: Vec<Octave>,
    chroma: [Vec<Octave>; 3],
}

struct Octave {
    period: f32,
    amp: f32,
    salt: u64,
    shift: (f32, f32),
}

impl Fields {
    pub(super) fn new(seed: u64, width: usize, height: usize) -> Fields {
        let base = width.max(height) as f32 / 3.0;
        let octaves = |salt: u64, smallest: f32, persistence: f32| {
            let mut out = Vec::new();
            let (mut period, mut amp) = (base, 1.0f32);
            let mut k = 0u64;
            while period >= smallest {
                let salt = mix(seed ^ mix(salt.wrapping_add(k)));
                // Each octave's lattice is shifted so no lattice points line up across octaves.
                let shift = (
                    (salt >> 40) as f32 / 16_777_216.0 * 97.0,
                    ((salt >> 16) & 0xff_ffff) as f32 / 16_777_216.0 * 89.0,
                );
                out.push(Octave {
                    period,
                    amp,
                    salt,
                    shift,
                });
                period /= 2.0;
                amp *= persistence;
                k += 1;
            }
            normalise(&mut out);
            out
        };
        Fields {
            luma: octaves(0x1000, 3.0, 0.62),
            chroma: [
                octaves(0x2000, base / 6.0, 0.5),
                octaves(0x3000, base / 6.0, 0.5),
                octaves(0x4000, base / 6.0, 0.5),
            ],
        }
    }

    pub(super) fn paint_row(&self, y: usize, rows: &mut [Vec<f32>; 3]) {
        let width = rows[0].len();
        let mut luma = vec![0f32; width];
        for o in &self.luma {
            add_octave(&mut luma, y, o);
        }
        for (c, row) in rows.iter_mut().enumerate() {
            let mut hue = vec![0f32; width];
            for o in &self.chroma[c] {
                add_octave(&mut hue, y, o);
            }
            for ((out, &l), &h) in row.iter_mut().zip(&luma).zip(&hue) {
                // Summed octaves cluster near 0.5; stretch them and square so the world has
                // deep shadows and stays mostly well below full scale.
                let t = ((l - 0.5) * 2.6 + 0.5).clamp(0.0, 1.0);
                let level = 0.012 + 0.46 * t * t;
                let h = ((h - 0.5) * 2.5 + 0.5).clamp(0.0, 1.0);
                *out = level * (0.55 + 0.9 * h);
            }
        }
    }
}

fn normalise(octaves: &mut [Octave]) {
    let total: f32 = octaves.iter().map(|o| o.amp).sum();
    for o in octaves {
        o.amp /= total;
    }
}

/// Adds one octave of value noise along row `y`, caching lattice corners while x stays in
/// one cell, so large octaves cost a multiply-add per pixel.
fn add_octave(row: &mut [f32], y: usize, o: &Octave) {
    let inv = 1.0 / o.period;
    let fy = y as f32 * inv + o.shift.1;
    let iy = fy.floor();
    let ty = smooth(fy - iy);
    let iy = iy as i64;
    let mut cell = i64::MIN;
    let (mut left, mut right) = (0f32, 0f32);
    for (x, out) in row.iter_mut().enumerate() {
        let fx = x as f32 * inv + o.shift.0;
        // fx is never negative, so truncation is floor, without a libm call per pixel.
        let ix = fx as i64;
        let tx = smooth(fx - ix as f32);
        if ix != cell {
            cell = ix;
            let (a, b) = (lattice(o.salt, ix, iy), lattice(o.salt, ix + 1, iy));
            let (c, d) = (lattice(o.salt, ix, iy + 1), lattice(o.salt, ix + 1, iy + 1));
            left = a + (c - a) * ty;
            right = b + (d - b) * ty;
        }
        *out += o.amp * (left + (right - left) * tx);
    }
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

fn lattice(salt: u64, ix: i64, iy: i64) -> f32 {
    let h = mix(salt
        ^ (ix as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (iy as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    (h >> 40) as f32 / 16_777_216.0
}
