//! The procedural world a series photographs, held as the camera's raw response to it: smooth
//! colour noise for gradients and texture (`fields.rs`), hard-edged shapes and glints for edges
//! and small details (`shapes.rs`), and per view the sky and lamps that clip (`view.rs`).
//!
//! Only integer arithmetic, `+ - * /`, `floor` and `sqrt` are used here: their results are
//! fixed by IEEE 754, whereas `exp`, `powf` and friends vary between libm versions, and a
//! one-ulp difference would change the committed fixture bytes on another platform.

mod fields;
mod ground;
mod shapes;
mod sky;
mod stars;
mod texture;
mod view;

use rayon::prelude::*;

use crate::develop::cam_from_srgb;
use fields::Fields;
use shapes::Shapes;
use texture::Texture;

pub(crate) use sky::{NightSky, SkyFrame, SkyPlan};
pub(crate) use view::{Framing, ViewLight};

/// The world as the sensor's three colour filters see it under neutral light, as 16-bit
/// planes (0..=65535 for 0..1 of a white surface), one per CFA colour.
pub(crate) struct World {
    pub width: usize,
    pub height: usize,
    pub planes: [Vec<u16>; 3],
}

impl World {
    /// Paints the world for `seed`; a pure function of its arguments.
    ///
    /// Colours are chosen in linear sRGB and turned into the camera's colour space with the
    /// inverse of the development's colour matrix: the filters' overlapping passbands make raw
    /// colours paler than the scene's, and the matrix restores them.
    /// With `fine_texture`, every world pixel is also multiplied by gravel, grass or brick
    /// texture a few pixels fine (`texture.rs`).
    pub fn build(seed: u64, width: usize, height: usize, fine_texture: bool) -> World {
        let shapes = Shapes::generate(seed, width, height);
        let fields = Fields::new(seed, width, height);
        let texture = fine_texture.then(|| Texture::new(seed, width, height));
        let m = cam_from_srgb();
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
                if let Some(t) = &texture {
                    t.apply_row(y, &mut rows);
                }
                let [sr, sg, sb] = &rows;
                for (c, plane) in [r, g, b].into_iter().enumerate() {
                    let k = m[c];
                    for (x, out) in plane.iter_mut().enumerate() {
                        let v =
                            k[0] * sr[x].max(0.0) + k[1] * sg[x].max(0.0) + k[2] * sb[x].max(0.0);
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

    /// A uniform grey card (18% reflectance) as large as the frame plus the sampling margin.
    pub fn flat(width: usize, height: usize) -> World {
        let grey = (0.18f32 * 65535.0 + 0.5) as u16;
        World {
            width,
            height,
            planes: std::array::from_fn(|_| vec![grey; width * height]),
        }
    }

    /// The plane value (0..1) of colour `c` at world position (wx, wy), bilinear, clamped to
    /// the world; what `sensor::expose` samples, for the meter.
    pub fn sample(&self, c: usize, wx: f32, wy: f32) -> f32 {
        let x0 = wx.floor().clamp(0.0, (self.width - 2) as f32);
        let y0 = wy.floor().clamp(0.0, (self.height - 2) as f32);
        let (fx, fy) = ((wx - x0).clamp(0.0, 1.0), (wy - y0).clamp(0.0, 1.0));
        let i = y0 as usize * self.width + x0 as usize;
        let p = &self.planes[c];
        let t = p[i] as f32 + (p[i + 1] as f32 - p[i] as f32) * fx;
        let b = p[i + self.width] as f32
            + (p[i + self.width + 1] as f32 - p[i + self.width] as f32) * fx;
        (t + (b - t) * fy) / 65535.0
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
