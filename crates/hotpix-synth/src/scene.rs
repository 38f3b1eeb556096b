//! The procedural world a series photographs: smooth colour noise for gradients and texture,
//! hard-edged shapes for the edges and small details where a naive detector sees false defects.
//!
//! Only integer arithmetic, `+ - * /`, `floor` and `sqrt` are used here: their results are
//! fixed by IEEE 754, whereas `exp`, `powf` and friends vary between libm versions, and a
//! one-ulp difference would change the committed fixture bytes on another platform.

use rand::RngExt as _;
use rayon::prelude::*;

use super::{stream_rng, Stream};

/// Linear RGB of the world as 16-bit planes (0..=65535 for 0..1), one per colour.
pub(crate) struct World {
    pub width: usize,
    pub height: usize,
    pub planes: [Vec<u16>; 3],
}

/// Rows painted per bucket of shapes: small enough that a row looks at few shapes it misses.
const BAND: usize = 32;

impl World {
    /// Paints the world for `seed`; a pure function of its arguments.
    pub fn build(seed: u64, width: usize, height: usize) -> World {
        let shapes = Shapes::generate(seed, width, height);
        let fields = Fields::new(seed, width, height);
        let mut planes = [
            vec![0u16; width * height],
            vec![0u16; width * height],
            vec![0u16; width * height],
        ];
        let [p0, p1, p2] = &mut planes;
        p0.par_chunks_mut(width)
            .zip(p1.par_chunks_mut(width))
            .zip(p2.par_chunks_mut(width))
            .enumerate()
            .for_each(|(y, ((r, g), b))| {
                let mut rows = [vec![0f32; width], vec![0f32; width], vec![0f32; width]];
                fields.paint_row(y, &mut rows);
                shapes.paint_row(y, &mut rows);
                for (plane, row) in [r, g, b].into_iter().zip(&rows) {
                    for (out, &v) in plane.iter_mut().zip(row) {
                        *out = (v.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16;
                    }
                }
            });
        for plane in &mut planes {
            *plane = optical_blur(plane, width, height);
        }
        World {
            width,
            height,
            planes,
        }
    }
}

/// A sensor's anti-aliasing filter spreads every point of light over a few photosites, so
/// nothing in a real scene is as sharp as a single broken photosite. A [1 2 1]/4 kernel in
/// each direction models that; without it a one-pixel highlight in a tripod series would be
/// indistinguishable from a warm pixel.
fn optical_blur(plane: &[u16], width: usize, height: usize) -> Vec<u16> {
    let mut across = vec![0u16; width * height];
    across
        .par_chunks_mut(width)
        .zip(plane.par_chunks(width))
        .for_each(|(out, row)| {
            for x in 0..width {
                let l = row[x.saturating_sub(1)] as u32;
                let r = row[(x + 1).min(width - 1)] as u32;
                out[x] = ((l + 2 * row[x] as u32 + r + 2) >> 2) as u16;
            }
        });
    let mut down = vec![0u16; width * height];
    down.par_chunks_mut(width).enumerate().for_each(|(y, out)| {
        let up = &across[y.saturating_sub(1) * width..][..width];
        let mid = &across[y * width..][..width];
        let dn = &across[(y + 1).min(height - 1) * width..][..width];
        for x in 0..width {
            out[x] = ((up[x] as u32 + 2 * mid[x] as u32 + dn[x] as u32 + 2) >> 2) as u16;
        }
    });
    down
}

/// Octaves of value noise: brightness with fine detail, colour only at large scales (real
/// scenes change hue slowly and brightness quickly).
struct Fields {
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
    fn new(seed: u64, width: usize, height: usize) -> Fields {
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

    fn paint_row(&self, y: usize, rows: &mut [Vec<f32>; 3]) {
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

/// SplitMix64's finaliser: a cheap, well-mixed hash of a 64-bit value.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Clone, Copy)]
enum Outline {
    Disc {
        r: f32,
    },
    Rect {
        hx: f32,
        hy: f32,
    },
    /// A rotated rectangle: twigs, wires, window frames.
    Bar {
        dir: (f32, f32),
        hl: f32,
        hw: f32,
    },
}

struct Shape {
    cx: f32,
    cy: f32,
    outline: Outline,
    colour: [f32; 3],
    alpha: f32,
    x0: usize,
    x1: usize,
}

/// The shapes of the world in painting order, bucketed by bands of rows.
struct Shapes {
    all: Vec<Shape>,
    bands: Vec<Vec<u32>>,
}

impl Shapes {
    fn generate(seed: u64, width: usize, height: usize) -> Shapes {
        let mut rng = stream_rng(seed, Stream::Scene, 0, 0);
        let area = (width * height) as f32;
        let largest = width.min(height) as f32 / 6.0;
        let mut all = Vec::new();
        let mut spans = Vec::new();
        // Radii come in octaves from largest to smallest so big shapes form the background
        // and small ones sit on top; each octave covers about the same share of the world,
        // so detail exists at every scale as it does in photographs, while most of the world
        // stays smooth background where defects stand out.
        let mut radii = Vec::new();
        let mut r = 1.5f32;
        while r <= largest {
            radii.push(r);
            r *= 2.0;
        }
        for (k, &r0) in radii.iter().enumerate().rev() {
            let coverage = if k == 0 { 0.03 } else { 0.12 };
            let typical = 3.0 * r0 * r0 * 2.3;
            let mut count = (coverage * area / typical) as usize;
            if count == 0 && rng.random_bool(0.5) {
                count = 1;
            }
            for _ in 0..count {
                let r = r0 * rng.random_range(1.0f32..2.0);
                let outline = match rng.random_range(0..20u32) {
                    0..8 => Outline::Disc { r },
                    8..15 => Outline::Rect {
                        hx: r * rng.random_range(0.5f32..1.5),
                        hy: r * rng.random_range(0.5f32..1.5),
                    },
                    _ => Outline::Bar {
                        dir: random_direction(&mut rng),
                        hl: r * rng.random_range(1.0f32..2.0),
                        hw: (r * rng.random_range(0.08f32..0.35)).max(0.6),
                    },
                };
                // Squaring a uniform draw favours dark shapes, as in most photographs.
                let u = rng.random::<f32>();
                let level = 0.01 + 0.55 * u * u;
                // Hue weights normalised to mean 1, so `level` stays the shape's brightness.
                let hue = [0, 1, 2].map(|_| rng.random_range(0.25f32..1.75));
                let mean = (hue[0] + hue[1] + hue[2]) / 3.0;
                let colour = hue.map(|h| (level * h / mean).min(0.62));
                let alpha = if rng.random_bool(0.25) {
                    rng.random_range(0.3f32..0.9)
                } else {
                    1.0
                };
                push_shape(
                    &mut rng, &mut all, &mut spans, width, height, outline, colour, alpha,
                );
            }
        }
        // Specular highlights: tiny and bright, the scene's own impostors of hot pixels.
        let glints = (area / 30_000.0) as usize + 2;
        for _ in 0..glints {
            let outline = Outline::Disc {
                r: rng.random_range(0.6f32..1.6),
            };
            let level = rng.random_range(0.75f32..1.0);
            let colour = [0, 1, 2].map(|_| level * rng.random_range(0.9f32..1.0));
            push_shape(
                &mut rng, &mut all, &mut spans, width, height, outline, colour, 1.0,
            );
        }

        let mut bands = vec![Vec::new(); height.div_ceil(BAND)];
        for (i, &(y0, y1)) in spans.iter().enumerate() {
            for band in &mut bands[y0 / BAND..=y1 / BAND] {
                band.push(i as u32);
            }
        }
        Shapes { all, bands }
    }

    fn paint_row(&self, y: usize, rows: &mut [Vec<f32>; 3]) {
        let py = y as f32 + 0.5;
        for &i in &self.bands[y / BAND] {
            let s = &self.all[i as usize];
            for x in s.x0..=s.x1 {
                let (dx, dy) = (x as f32 + 0.5 - s.cx, py - s.cy);
                // Signed distance to the outline in pixels; a one-pixel ramp anti-aliases it.
                let d = match s.outline {
                    Outline::Disc { r } => (dx * dx + dy * dy).sqrt() - r,
                    Outline::Rect { hx, hy } => (dx.abs() - hx).max(dy.abs() - hy),
                    Outline::Bar { dir, hl, hw } => {
                        let along = dx * dir.0 + dy * dir.1;
                        let across = dx * dir.1 - dy * dir.0;
                        (along.abs() - hl).max(across.abs() - hw)
                    }
                };
                let cover = (0.5 - d).clamp(0.0, 1.0) * s.alpha;
                if cover > 0.0 {
                    for (row, &c) in rows.iter_mut().zip(&s.colour) {
                        row[x] += (c - row[x]) * cover;
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn push_shape(
    rng: &mut impl rand::Rng,
    all: &mut Vec<Shape>,
    spans: &mut Vec<(usize, usize)>,
    width: usize,
    height: usize,
    outline: Outline,
    colour: [f32; 3],
    alpha: f32,
) {
    let reach = match outline {
        Outline::Disc { r } => (r, r),
        Outline::Rect { hx, hy } => (hx, hy),
        Outline::Bar { hl, hw, .. } => (hl + hw, hl + hw),
    };
    let cx = rng.random_range(-reach.0..width as f32 + reach.0);
    let cy = rng.random_range(-reach.1..height as f32 + reach.1);
    let clip = |lo: f32, hi: f32, n: usize| -> Option<(usize, usize)> {
        let lo = (lo - 1.0).floor().max(0.0);
        let hi = (hi + 1.0).floor().min(n as f32 - 1.0);
        (lo <= hi).then_some((lo as usize, hi as usize))
    };
    let (Some((x0, x1)), Some(ys)) = (
        clip(cx - reach.0, cx + reach.0, width),
        clip(cy - reach.1, cy + reach.1, height),
    ) else {
        return;
    };
    all.push(Shape {
        cx,
        cy,
        outline,
        colour,
        alpha,
        x0,
        x1,
    });
    spans.push(ys);
}

/// A unit vector in a uniformly random direction, by rejection from the unit disc (no trig).
fn random_direction(rng: &mut impl rand::Rng) -> (f32, f32) {
    loop {
        let (x, y) = (
            rng.random_range(-1.0f32..1.0),
            rng.random_range(-1.0f32..1.0),
        );
        let n2 = x * x + y * y;
        if (0.01..=1.0).contains(&n2) {
            let n = n2.sqrt();
            return (x / n, y / n);
        }
    }
}
