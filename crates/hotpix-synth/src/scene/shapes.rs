//! Hard-edged shapes and glints: the edges and small details where a naive detector sees
//! false defects.

use rand::RngExt as _;

use crate::{stream_rng, Stream};

/// Rows painted per bucket of shapes: small enough that a row looks at few shapes it misses.
const BAND: usize = 32;

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
pub(super) struct Shapes {
    all: Vec<Shape>,
    bands: Vec<Vec<u32>>,
}

impl Shapes {
    pub(super) fn generate(seed: u64, width: usize, height: usize) -> Shapes {
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

    pub(super) fn paint_row(&self, y: usize, rows: &mut [Vec<f32>; 3]) {
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
