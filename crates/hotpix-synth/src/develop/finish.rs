//! The last steps before the JPEG encoder: unsharp mask on luma (radius 1 px, which leaves the
//! dark fringes a camera's sharpening puts around a bright point), chroma noise reduction (a
//! blur of the two colour-difference channels), and rounding to 8 bits.

use super::Plane;

/// [1 4 6 4 1] / 16: a binomial approximation of a Gaussian of sigma 1 px.
#[inline(always)]
fn binomial(a: f32, b: f32, c: f32, d: f32, e: f32) -> f32 {
    (a + e + 4.0 * (b + d) + 6.0 * c) * 0.0625
}

/// Rows y..y+5 of a plane `w` wide.
fn five_rows(p: &[f32], y: usize, w: usize) -> [&[f32]; 5] {
    std::array::from_fn(|k| &p[(y + k) * w..][..w])
}

/// Writes 8-bit RGB for the output rectangle whose Y, Cb, Cr planes (covering it grown by 2,
/// the frame's outside already mirrored in) are `ycc`, into `dst` (rows of `width * 3`).
pub(super) fn finish(ycc: &[Plane; 3], sharpen: f32, dst: &mut [u8]) {
    let (pw, ph) = (ycc[0].width, ycc[0].height);
    let (w, h) = (pw - 4, ph - 4);
    // Horizontal pass for every plane row, output columns only.
    let mut across: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0f32; w * ph]);
    for (plane, out) in ycc.iter().zip(&mut across) {
        for (row, o) in plane.data.chunks_exact(pw).zip(out.chunks_exact_mut(w)) {
            for (x, v) in o.iter_mut().enumerate() {
                *v = binomial(row[x], row[x + 1], row[x + 2], row[x + 3], row[x + 4]);
            }
        }
    }
    for (y, out) in dst.chunks_exact_mut(w * 3).take(h).enumerate() {
        let luma = &ycc[0].data[(y + 2) * pw + 2..][..w];
        let (by, bcb, bcr) = (
            five_rows(&across[0], y, w),
            five_rows(&across[1], y, w),
            five_rows(&across[2], y, w),
        );
        for (x, px) in out.chunks_exact_mut(3).enumerate() {
            let v = |r: &[&[f32]; 5]| binomial(r[0][x], r[1][x], r[2][x], r[3][x], r[4][x]);
            let l = luma[x];
            let y = l + sharpen * (l - v(&by));
            let (cb, cr) = (v(&bcb), v(&bcr));
            // JPEG's (BT.601, full range) YCbCr to RGB.
            let rgb = [
                y + 1.402 * cr,
                y - 0.344_136 * cb - 0.714_136 * cr,
                y + 1.772 * cb,
            ];
            for (o, c) in px.iter_mut().zip(rgb) {
                *o = (c * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
}
