//! In-camera development of a [`RawFrame`] into the 8-bit RGB the JPEG encoder takes, in a
//! camera's order: white balance (clipping highlights), Malvar-He-Cutler (or, for an older
//! camera, bilinear) demosaic (`demosaic.rs`), colour matrix and tone curve (`colour.rs`), then luma sharpening and
//! chroma noise reduction (`finish.rs`).
//!
//! Every step is local: an output pixel depends on the raw photosites within 4 of it (2 for
//! the demosaic, 2 for the blurs after it). So any rectangle can be developed on its own, with
//! the frame's border mirrored (reflect-101, which keeps the Bayer phase) exactly as the whole
//! frame is: the full frame is developed in bands of rows in parallel, and the truth develops
//! small windows around each defect again without it, byte-identical by construction.

mod colour;
mod demosaic;
mod finish;

use rayon::prelude::*;

pub(crate) use colour::{cam_from_srgb, ToneCurve};
pub use colour::{white_balance, SRGB_FROM_CAM};

use crate::sensor::RawFrame;
use crate::spec::Demosaic;
use demosaic::Window;

/// How far (in photosites) a raw value reaches into the developed image.
pub const FOOTPRINT: u32 = 4;

/// Rows developed per parallel task.
const BAND: usize = 48;

/// A rectangle of frame coordinates, `x0..x1` by `y0..y1`; it may reach outside the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: i64,
    pub y0: i64,
    pub x1: i64,
    pub y1: i64,
}

impl Rect {
    fn grow(self, n: i64) -> Rect {
        Rect {
            x0: self.x0 - n,
            y0: self.y0 - n,
            x1: self.x1 + n,
            y1: self.y1 + n,
        }
    }

    fn clip(self, w: i64, h: i64) -> Rect {
        Rect {
            x0: self.x0.max(0),
            y0: self.y0.max(0),
            x1: self.x1.min(w),
            y1: self.y1.min(h),
        }
    }

    fn width(&self) -> usize {
        (self.x1 - self.x0) as usize
    }

    fn height(&self) -> usize {
        (self.y1 - self.y0) as usize
    }
}

/// A plane of f32 values covering `rect`.
pub(crate) struct Plane {
    rect: Rect,
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    fn new(rect: Rect) -> Plane {
        Plane {
            rect,
            width: rect.width(),
            height: rect.height(),
            data: vec![0f32; rect.width() * rect.height()],
        }
    }

    fn row(&self, y: i64) -> &[f32] {
        &self.data[(y - self.rect.y0) as usize * self.width..][..self.width]
    }
}

/// Reflect-101 mirroring into 0..n: -1 -> 1, n -> n - 2. Keeps the parity, so a mirrored
/// photosite has the colour of the one it stands for.
#[inline]
fn mirror(i: i64, n: i64) -> i64 {
    if i < 0 {
        -i
    } else if i >= n {
        2 * (n - 1) - i
    } else {
        i
    }
}

/// The camera's development settings for one frame.
pub(crate) struct Develop<'a> {
    pub white_balance: [f32; 3],
    pub tone: &'a ToneCurve,
    pub sharpen: f32,
    pub demosaic: Demosaic,
}

impl Develop<'_> {
    /// The whole frame as 8-bit RGB, row-major.
    pub fn frame(&self, raw: &RawFrame) -> Vec<u8> {
        let (w, h) = (raw.width as usize, raw.height as usize);
        let mut rgb = vec![0u8; w * h * 3];
        rgb.par_chunks_mut(BAND * w * 3)
            .enumerate()
            .for_each(|(band, dst)| {
                let y0 = (band * BAND) as i64;
                let out = Rect {
                    x0: 0,
                    y0,
                    x1: w as i64,
                    y1: y0 + (dst.len() / (w * 3)) as i64,
                };
                self.rect(raw, &[], out, dst);
            });
        rgb
    }

    /// The rectangle `out` (inside the frame) as 8-bit RGB into `dst`, with the photosites in
    /// `overrides` (x, y, count) reading the given counts instead of the frame's.
    pub fn rect(&self, raw: &RawFrame, overrides: &[(u32, u32, u16)], out: Rect, dst: &mut [u8]) {
        let (w, h) = (raw.width as i64, raw.height as i64);
        let ycc_rect = out.grow(2);
        let inside = ycc_rect.clip(w, h);
        let mosaic = self.mosaic(raw, overrides, inside.grow(2));
        let mut ycc = [
            Plane::new(ycc_rect),
            Plane::new(ycc_rect),
            Plane::new(ycc_rect),
        ];
        self.colour(&mosaic, inside, &mut ycc);
        for plane in &mut ycc {
            fill_outside(plane, inside, w, h);
        }
        finish::finish(&ycc, self.sharpen, dst);
    }

    /// White-balanced raw values over `rect` (mirrored outside the frame), clipped at 1 as a
    /// camera clips its highlights before the matrix, so a clipped area stays white.
    fn mosaic(&self, raw: &RawFrame, overrides: &[(u32, u32, u16)], rect: Rect) -> Plane {
        let (w, h) = (raw.width as i64, raw.height as i64);
        let full = f32::from(raw.white_level);
        let [wr, wg, wb] = self.white_balance.map(|m| m / full);
        let mut plane = Plane::new(rect);
        let pw = plane.width;
        for (j, out) in plane.data.chunks_exact_mut(pw).enumerate() {
            let y = rect.y0 + j as i64;
            let fy = mirror(y, h);
            let src = &raw.data[(fy * w) as usize..][..w as usize];
            // Gains of even and odd columns on this row.
            let gains = if y & 1 == 0 { [wr, wg] } else { [wg, wb] };
            for (i, o) in out.iter_mut().enumerate() {
                let x = rect.x0 + i as i64;
                let fx = mirror(x, w);
                let count = overrides
                    .iter()
                    .find(|&&(ox, oy, _)| i64::from(ox) == fx && i64::from(oy) == fy)
                    .map_or(src[fx as usize], |&(_, _, v)| v);
                *o = (f32::from(count) * gains[(x & 1) as usize]).min(1.0);
            }
        }
        plane
    }

    /// Demosaic, colour matrix, tone curve and YCbCr for the photosites of `rect`.
    fn colour(&self, mosaic: &Plane, rect: Rect, ycc: &mut [Plane; 3]) {
        let m = SRGB_FROM_CAM;
        let [py, pcb, pcr] = ycc;
        let pw = py.width;
        for y in rect.y0..rect.y1 {
            let window = Window {
                rows: std::array::from_fn(|k| mosaic.row(y - 2 + k as i64)),
            };
            let base = (y - py.rect.y0) as usize * pw;
            let first = (rect.x0 - py.rect.x0) as usize;
            let mrow0 = (rect.x0 - mosaic.rect.x0) as usize;
            for k in 0..rect.width() {
                let x = rect.x0 + k as i64;
                let (i, x_odd, y_odd) = (mrow0 + k, x & 1 == 1, y & 1 == 1);
                let [r, g, b] = match self.demosaic {
                    Demosaic::Malvar => window.rgb(i, x_odd, y_odd),
                    Demosaic::Bilinear => window.bilinear(i, x_odd, y_odd),
                };
                let lin = m.map(|row| row[0] * r + row[1] * g + row[2] * b);
                let [r, g, b] = lin.map(|v| self.tone.apply(v));
                let luma = 0.299 * r + 0.587 * g + 0.114 * b;
                let i = base + first + k;
                py.data[i] = luma;
                pcb.data[i] = (b - luma) * 0.564_334;
                pcr.data[i] = (r - luma) * 0.713_267;
            }
        }
    }
}

/// Fills the entries of `plane` outside the frame from their mirror images inside `inside`
/// (columns of the computed rows first, then whole rows).
fn fill_outside(plane: &mut Plane, inside: Rect, w: i64, h: i64) {
    let r = plane.rect;
    let pw = plane.width;
    for y in inside.y0..inside.y1 {
        let row = &mut plane.data[(y - r.y0) as usize * pw..][..pw];
        for x in (r.x0..inside.x0).chain(inside.x1..r.x1) {
            row[(x - r.x0) as usize] = row[(mirror(x, w) - r.x0) as usize];
        }
    }
    for y in (r.y0..inside.y0).chain(inside.y1..r.y1) {
        let src = (mirror(y, h) - r.y0) as usize * pw;
        let dst = (y - r.y0) as usize * pw;
        plane.data.copy_within(src..src + pw, dst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::mix;

    fn random_raw(w: u32, h: u32) -> RawFrame {
        RawFrame {
            width: w,
            height: h,
            data: (0..w * h)
                .map(|i| (mix(u64::from(i)) % 4096) as u16)
                .collect(),
            white_level: 4095,
            black_level: 0,
            cfa: "RGGB",
        }
    }

    /// The truth develops windows around each defect; they must be the frame's own pixels,
    /// including at the corners and edges where the border is mirrored.
    #[test]
    fn a_window_develops_exactly_as_the_whole_frame() {
        let (w, h) = (40u32, 30u32);
        let raw = random_raw(w, h);
        let tone = ToneCurve::new();
        let dev = Develop {
            white_balance: [2.0, 1.0, 1.5],
            tone: &tone,
            sharpen: 0.8,
            demosaic: Demosaic::Malvar,
        };
        let full = dev.frame(&raw);
        for (x0, y0, x1, y1) in [
            (0, 0, 1, 1),
            (0, 0, 2, 2),
            (39, 29, 40, 30),
            (38, 0, 40, 2),
            (0, 28, 1, 30),
            (17, 11, 19, 13),
            (1, 14, 2, 15),
            (20, 2, 21, 3),
            (0, 0, 40, 30),
        ] {
            let out = Rect { x0, y0, x1, y1 };
            let mut buf = vec![0u8; out.width() * out.height() * 3];
            // Overriding photosites with their own values must change nothing.
            let same = [(x0 as u32, y0 as u32, raw.at(x0 as u32, y0 as u32))];
            dev.rect(&raw, &same, out, &mut buf);
            for y in y0..y1 {
                for x in x0..x1 {
                    let i = ((y - y0) as usize * out.width() + (x - x0) as usize) * 3;
                    let j = (y as usize * w as usize + x as usize) * 3;
                    assert_eq!(buf[i..i + 3], full[j..j + 3], "({x}, {y}) in {out:?}");
                }
            }
        }
    }

    /// An override is seen through the mirrored border too: a photosite at column 1 is also
    /// the demosaic's column -1.
    #[test]
    fn an_override_matches_changing_the_raw_frame() {
        let raw = random_raw(24, 20);
        let tone = ToneCurve::new();
        let dev = Develop {
            white_balance: [1.3, 1.0, 2.6],
            tone: &tone,
            sharpen: 1.0,
            demosaic: Demosaic::Bilinear,
        };
        for (x, y) in [(1u32, 0u32), (0, 1), (22, 19), (10, 10)] {
            let mut changed = raw.clone();
            changed.data[(y * 24 + x) as usize] = 4095;
            let full = dev.frame(&changed);
            let out = Rect {
                x0: i64::from(x),
                y0: i64::from(y),
                x1: i64::from(x) + 1,
                y1: i64::from(y) + 1,
            };
            let mut buf = [0u8; 3];
            dev.rect(&raw, &[(x, y, 4095)], out, &mut buf);
            let j = ((y * 24 + x) * 3) as usize;
            assert_eq!(buf, full[j..j + 3], "({x}, {y})");
        }
    }
}
