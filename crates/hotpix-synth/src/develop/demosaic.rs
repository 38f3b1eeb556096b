//! Malvar-He-Cutler demosaicing: bilinear interpolation corrected by the gradient of the
//! photosite's own colour (H. S. Malvar, L. He, R. Cutler, "High-quality linear interpolation
//! for demosaicing of Bayer-patterned color images", ICASSP 2004). Its 5x5 kernels, in eighths,
//! give a broken photosite the negative lobes and colour fringes a camera's JPEG shows.
//! Older cameras interpolated each colour from its own photosites alone (bilinear): softer,
//! with zipper fringes along edges and a broken photosite spread into a plus or an X.

/// The five mosaic rows around the one being demosaiced, indexed so that `rows[2][i]` is the
/// photosite itself.
pub(super) struct Window<'a> {
    pub rows: [&'a [f32]; 5],
}

impl Window<'_> {
    /// Camera RGB at index `i` of the middle row by bilinear interpolation: each missing
    /// colour the mean of its nearest photosites (the cross or the diagonals for green and
    /// the other colour at a red or blue site; left-right or above-below at a green one).
    #[inline(always)]
    pub fn bilinear(&self, i: usize, x_odd: bool, y_odd: bool) -> [f32; 3] {
        let [_, r1, r2, r3, _] = self.rows;
        let c = r2[i];
        let cross = (r1[i] + r3[i] + r2[i - 1] + r2[i + 1]) * 0.25;
        let diag = (r1[i - 1] + r1[i + 1] + r3[i - 1] + r3[i + 1]) * 0.25;
        let across = (r2[i - 1] + r2[i + 1]) * 0.5;
        let vertical = (r1[i] + r3[i]) * 0.5;
        match (x_odd, y_odd) {
            (false, false) => [c, cross, diag],
            (true, true) => [diag, cross, c],
            // Green on a red row: red left and right, blue above and below.
            (true, false) => [across, c, vertical],
            (false, true) => [vertical, c, across],
        }
    }

    /// Camera RGB at index `i` of the middle row; `x_odd`, `y_odd` give its place in the
    /// RGGB pattern.
    #[inline(always)]
    pub fn rgb(&self, i: usize, x_odd: bool, y_odd: bool) -> [f32; 3] {
        let [r0, r1, r2, r3, r4] = self.rows;
        let c = r2[i];
        // Same colour two away, and the four diagonal neighbours.
        let plus2 = r0[i] + r4[i] + r2[i - 2] + r2[i + 2];
        let diag = r1[i - 1] + r1[i + 1] + r3[i - 1] + r3[i + 1];
        match (x_odd, y_odd) {
            // Red or blue photosite: green from the cross, the other colour from the diagonals.
            (false, false) | (true, true) => {
                let cross = r1[i] + r3[i] + r2[i - 1] + r2[i + 1];
                let g = (4.0 * c + 2.0 * cross - plus2) * 0.125;
                let other = (6.0 * c + 2.0 * diag - 1.5 * plus2) * 0.125;
                if x_odd {
                    [other, g, c]
                } else {
                    [c, g, other]
                }
            }
            // Green photosite: one colour left and right, the other above and below.
            _ => {
                let (n2s2, w2e2) = (r0[i] + r4[i], r2[i - 2] + r2[i + 2]);
                let across =
                    (5.0 * c + 4.0 * (r2[i - 1] + r2[i + 1]) - w2e2 - diag + 0.5 * n2s2) * 0.125;
                let vertical = (5.0 * c + 4.0 * (r1[i] + r3[i]) - n2s2 - diag + 0.5 * w2e2) * 0.125;
                // On a red row red is across; on a blue row blue is.
                if y_odd {
                    [vertical, c, across]
                } else {
                    [across, c, vertical]
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bilinear interpolation reproduces linear ramps exactly too, and a lone bright
    /// photosite spreads only to its eight neighbours, in the other colours.
    #[test]
    fn bilinear_keeps_ramps_and_spreads_a_spike_over_its_neighbours() {
        let ramp = |x: i64, y: i64| 0.2 + 0.01 * x as f32 + 0.004 * y as f32;
        let rows: Vec<Vec<f32>> = (0..5)
            .map(|y| (0..7).map(|x| ramp(x, y)).collect())
            .collect();
        let window = Window {
            rows: std::array::from_fn(|k| rows[k].as_slice()),
        };
        for x in 2..5 {
            for (xo, yo) in [(false, false), (true, false), (false, true), (true, true)] {
                for v in window.bilinear(x, xo, yo) {
                    assert!((v - ramp(x as i64, 2)).abs() < 1e-6);
                }
            }
        }
        let mut spike = vec![vec![0f32; 7]; 5];
        spike[2][3] = 1.0;
        let window = Window {
            rows: std::array::from_fn(|k| spike[k].as_slice()),
        };
        // At the spike (a red site) red is 1; beside it green sees a quarter (cross) and
        // the blue sites diagonal to it a quarter of red; two away, nothing.
        assert_eq!(window.bilinear(3, false, false), [1.0, 0.0, 0.0]);
        assert_eq!(window.bilinear(4, true, false)[0], 0.5);
        assert_eq!(window.bilinear(5, false, false), [0.0, 0.0, 0.0]);
    }

    /// Malvar's kernels are bilinear interpolation plus a Laplacian correction, so they
    /// reproduce any image whose three channels are (different) linear ramps exactly; a kernel
    /// or a phase mixed up would not.
    #[test]
    fn independent_linear_ramps_come_back_exactly() {
        let ramp = |c: usize, x: i64, y: i64| -> f32 {
            let (x, y) = (x as f32, y as f32);
            [
                0.2 + 0.010 * x,
                0.3 + 0.005 * y,
                0.1 + 0.003 * x + 0.002 * y,
            ][c]
        };
        let (w, h) = (12i64, 10i64);
        let colour = |x: i64, y: i64| match (x & 1, y & 1) {
            (0, 0) => 0,
            (1, 1) => 2,
            _ => 1,
        };
        let mosaic: Vec<Vec<f32>> = (0..h)
            .map(|y| (0..w).map(|x| ramp(colour(x, y), x, y)).collect())
            .collect();
        for y in 2..h - 2 {
            let window = Window {
                rows: std::array::from_fn(|k| mosaic[(y - 2) as usize + k].as_slice()),
            };
            for x in 2..w - 2 {
                let got = window.rgb(x as usize, x & 1 == 1, y & 1 == 1);
                for (c, v) in got.into_iter().enumerate() {
                    assert!(
                        (v - ramp(c, x, y)).abs() < 1e-5,
                        "({x}, {y}) channel {c}: {v}"
                    );
                }
            }
        }
    }
}
