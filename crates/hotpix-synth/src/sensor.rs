//! The camera between scene and JPEG: Bayer sampling with noise, broken photosites, then the
//! in-camera development (demosaic, white balance, gamma) that smears each broken photosite
//! into its neighbours the way a real camera does.

use rand::{Rng as _, RngExt as _};
use rayon::prelude::*;

use super::{scene::World, stream_rng, Defect, DefectKind, SeriesSpec, Shot, Stream, SynthError};

/// Defects keep this far from the frame edge, so their whole demosaic footprint is inside.
pub const MIN_DEFECT_MARGIN: u32 = 4;
/// Defects are at least this far apart (pixels, Euclidean), so footprints never overlap.
pub const MIN_DEFECT_SPACING: u32 = 12;

/// Daylight white balance: raw R and B are weaker than G on a CMOS sensor behind a Bayer
/// filter. A D80's daylight preset is close to R x1.9, B x1.4.
const WHITE_BALANCE: [f32; 3] = [2.0, 1.0, 1.5];

/// Strength of the lens' vignetting along each axis: corners get (1 - 0.15)^2 of the centre.
const VIGNETTE: f32 = 0.15;

/// Levels of the camera's analogue-to-digital converter (12 bits, as in a D80).
const ADC_LEVELS: f32 = 4095.0;

/// The Bayer colour of photosite (x, y) in an RGGB mosaic: 0 = R, 1 = G, 2 = B.
pub fn bayer_channel(x: u32, y: u32) -> u8 {
    match (x & 1, y & 1) {
        (0, 0) => 0,
        (1, 1) => 2,
        _ => 1,
    }
}

/// Places the spec's defects: stuck, then hot, warm and dead, sorted by row then column.
///
/// Positions are drawn uniformly and rejected when closer than [`MIN_DEFECT_SPACING`] to an
/// earlier one; the same spec always gives the same list.
pub fn try_place_defects(spec: &SeriesSpec) -> Result<Vec<Defect>, SynthError> {
    spec.validate()?;
    let mut rng = stream_rng(spec.seed, Stream::Defects, 0, 0);
    let wanted = spec.defects.total();
    let (w, h) = (spec.width, spec.height);
    let (xs, ys) = (
        MIN_DEFECT_MARGIN..w - MIN_DEFECT_MARGIN,
        MIN_DEFECT_MARGIN..h - MIN_DEFECT_MARGIN,
    );
    let kinds = [
        (DefectKind::Stuck, spec.defects.stuck),
        (DefectKind::Hot, spec.defects.hot),
        (DefectKind::Warm, spec.defects.warm),
        (DefectKind::Dead, spec.defects.dead),
    ];

    // A grid of cells one spacing wide: a new position need only look at the 3x3 cells around.
    let cell = MIN_DEFECT_SPACING;
    let cols = w.div_ceil(cell) as usize;
    let mut grid: Vec<Vec<(u32, u32)>> = vec![Vec::new(); cols * h.div_ceil(cell) as usize];
    let too_close = |grid: &[Vec<(u32, u32)>], x: u32, y: u32| {
        let (cx, cy) = ((x / cell) as usize, (y / cell) as usize);
        (cy.saturating_sub(1)..=cy + 1).any(|gy| {
            (cx.saturating_sub(1)..=(cx + 1).min(cols - 1)).any(|gx| {
                grid.get(gy * cols + gx).is_some_and(|v| {
                    v.iter().any(|&(ox, oy)| {
                        let (dx, dy) = (ox.abs_diff(x) as u64, oy.abs_diff(y) as u64);
                        dx * dx + dy * dy < (cell as u64).pow(2)
                    })
                })
            })
        })
    };

    let mut defects = Vec::with_capacity(wanted);
    let mut attempts = 0usize;
    let budget = 2000 + 200 * wanted;
    for (kind, count) in kinds {
        for _ in 0..count {
            let (x, y) = loop {
                if xs.is_empty() || ys.is_empty() || attempts >= budget {
                    return Err(SynthError::NoRoomForDefects {
                        placed: defects.len(),
                        wanted,
                        width: w,
                        height: h,
                    });
                }
                attempts += 1;
                let (x, y) = (rng.random_range(xs.clone()), rng.random_range(ys.clone()));
                if !too_close(&grid, x, y) {
                    break (x, y);
                }
            };
            grid[(y / cell) as usize * cols + (x / cell) as usize].push((x, y));
            let level = match kind {
                DefectKind::Stuck => rng.random_range(0.4f32..1.0),
                DefectKind::Hot => rng.random_range(0.5f32..1.0),
                DefectKind::Warm => rng.random_range(0.15f32..0.40),
                DefectKind::Dead => 0.0,
            };
            defects.push(Defect {
                x,
                y,
                kind,
                channel: bayer_channel(x, y),
                // Three decimals keep truth.json readable.
                level: (level * 1000.0).round() / 1000.0,
            });
        }
    }
    defects.sort_by_key(|d| (d.y, d.x));
    Ok(defects)
}

/// A raw mosaic in [0, 1], with a one-photosite border for the demosaic to read past the edge.
pub(crate) struct Raw {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Raw {
    fn stride(&self) -> usize {
        self.width + 2
    }

    fn at_mut(&mut self, x: usize, y: usize) -> &mut f32 {
        let i = (y + 1) * self.stride() + x + 1;
        &mut self.data[i]
    }

    /// Mirrors the border two photosites deep so each border photosite keeps its Bayer colour.
    fn pad(&mut self) {
        let (w, h, s) = (self.width, self.height, self.stride());
        for row in self.data.chunks_mut(s) {
            row[0] = row[2];
            row[w + 1] = row[w - 1];
        }
        self.data.copy_within(2 * s..3 * s, 0);
        self.data.copy_within((h - 1) * s..h * s, (h + 1) * s);
    }
}

/// Exposes frame `shot` of the world onto the sensor: light, vignetting, noise, 12-bit ADC.
pub(crate) fn expose(spec: &SeriesSpec, world: &World, shot: &Shot, index: usize) -> Raw {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let stride = w + 2;
    let mut data = vec![0f32; stride * (h + 2)];

    // Where each column and row lands in the world, for bilinear sampling.
    let place = |n: usize, offset: f32, limit: usize| -> Vec<(usize, f32, f32)> {
        (0..n)
            .map(|i| {
                let p = offset + (i as f32 + 0.5) / shot.zoom - 0.5;
                let p0 = p.floor().clamp(0.0, (limit - 2) as f32);
                let centred = (2 * i + 1) as f32 / n as f32 - 1.0;
                (
                    p0 as usize,
                    (p - p0).clamp(0.0, 1.0),
                    1.0 - VIGNETTE * centred * centred,
                )
            })
            .collect()
    };
    let cols = place(w, shot.offset.0, world.width);
    let rows = place(h, shot.offset.1, world.height);
    let gain: [f32; 3] =
        [0, 1, 2].map(|c| shot.brightness * shot.cast[c] / WHITE_BALANCE[c] / 65535.0);
    // Shot noise grows with the square root of the signal, all noise with the square root
    // of the ISO gain; a small floor stands for read noise.
    let noise = spec.noise * (shot.iso as f32 / 100.0).sqrt();

    data[stride..stride * (h + 1)]
        .par_chunks_mut(stride)
        .enumerate()
        .for_each(|(y, row)| {
            let mut rng = stream_rng(spec.seed, Stream::Noise, index as u64, y as u64);
            let (y0, fy, vy) = rows[y];
            let mut gauss = || {
                // Sum of four uniforms (Irwin-Hall), scaled to unit variance: close to normal
                // but bounded at 3.5 sigma, so noise never reaches defect-like excursions.
                let r = rng.next_u64();
                let sum = (r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48);
                (sum as f32 - 131_070.0) * (1.732_050_8 / 65_536.0)
            };
            for (x, out) in row[1..=w].iter_mut().enumerate() {
                let c = bayer_channel(x as u32, y as u32) as usize;
                let (x0, fx, vx) = cols[x];
                let plane = &world.planes[c];
                let top = &plane[y0 * world.width + x0..][..2];
                let bottom = &plane[(y0 + 1) * world.width + x0..][..2];
                let t = top[0] as f32 + (top[1] as f32 - top[0] as f32) * fx;
                let b = bottom[0] as f32 + (bottom[1] as f32 - bottom[0] as f32) * fx;
                let light = (t + (b - t) * fy) * gain[c] * vx * vy;
                let sigma = noise * (0.02 + 0.98 * light).sqrt();
                let v = (light + sigma * gauss()).clamp(0.0, 1.0);
                *out = (v * ADC_LEVELS).round() / ADC_LEVELS;
            }
        });
    Raw {
        width: w,
        height: h,
        data,
    }
}

/// Applies each defect to its photosite, after the light and noise, as the hardware would.
pub(crate) fn break_photosites(mut raw: Raw, defects: &[Defect]) -> Raw {
    for d in defects {
        let v = raw.at_mut(d.x as usize, d.y as usize);
        *v = match d.kind {
            DefectKind::Stuck => d.level,
            DefectKind::Dead => 0.0,
            DefectKind::Hot | DefectKind::Warm => (*v + d.level).min(1.0),
        };
    }
    raw
}

/// The camera's tone curve as a table from 16-bit linear to 8-bit sRGB.
pub(crate) struct Tone {
    lut: Vec<u8>,
}

impl Tone {
    pub fn new() -> Tone {
        // Computed in f64: an 8-bit result would only change if a libm's pow differed by an
        // ulp right at a rounding boundary, which at f64 precision does not happen in practice.
        let lut = (0..=65535u32)
            .map(|i| {
                let v = i as f64 / 65535.0;
                // The sRGB transfer function (IEC 61966-2-1).
                let s = if v <= 0.003_130_8 {
                    12.92 * v
                } else {
                    1.055 * v.powf(1.0 / 2.4) - 0.055
                };
                (s * 255.0).round().clamp(0.0, 255.0) as u8
            })
            .collect();
        Tone { lut }
    }

    fn encode(&self, linear: f32) -> u8 {
        self.lut[(linear * 65535.0 + 0.5).min(65535.0) as usize]
    }
}

/// Develops the raw mosaic into 8-bit RGB: bilinear demosaic, white balance, sRGB gamma.
pub(crate) fn develop(mut raw: Raw, tone: &Tone) -> Vec<u8> {
    raw.pad();
    let (w, s) = (raw.width, raw.stride());
    let mut rgb = vec![0u8; w * raw.height * 3];
    let [wr, wg, wb] = WHITE_BALANCE;
    rgb.par_chunks_mut(w * 3).enumerate().for_each(|(y, out)| {
        let up = &raw.data[y * s..][..s];
        let mid = &raw.data[(y + 1) * s..][..s];
        let dn = &raw.data[(y + 2) * s..][..s];
        for (x, px) in out.chunks_exact_mut(3).enumerate() {
            // Padded column of photosite x is x + 1.
            let (l, c, r) = (x, x + 1, x + 2);
            let cross = (up[c] + dn[c] + mid[l] + mid[r]) * 0.25;
            let diag = (up[l] + up[r] + dn[l] + dn[r]) * 0.25;
            let across = (mid[l] + mid[r]) * 0.5;
            let vertical = (up[c] + dn[c]) * 0.5;
            let (red, green, blue) = match bayer_channel(x as u32, y as u32) {
                0 => (mid[c], cross, diag),
                2 => (diag, cross, mid[c]),
                // Green on a red row has red left and right; on a blue row, above and below.
                _ if y % 2 == 0 => (across, mid[c], vertical),
                _ => (vertical, mid[c], across),
            };
            px[0] = tone.encode(red * wr);
            px[1] = tone.encode(green * wg);
            px[2] = tone.encode(blue * wb);
        }
    });
    rgb
}
