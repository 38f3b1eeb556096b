//! Malvar-He-Cutler demosaicing: bilinear interpolation corrected by the gradient of the
//! photosite's own colour (H. S. Malvar, L. He, R. Cutler, "High-quality linear interpolation
//! for demosaicing of Bayer-patterned color images", ICASSP 2004). Its 5x5 kernels, in eighths,
//! give a broken photosite the negative lobes and colour fringes a camera's JPEG shows.

/// The five mosaic rows around the one being demosaiced, indexed so that `rows[2][i]` is the
/// photosite itself.
pub(super) struct Window<'a> {
    pub rows: [&'a [f32]; 5],
}

impl Window<'_> {
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
