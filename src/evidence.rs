//! Per-frame evidence of defects: in each frame, how far every subpixel stands
//! out from its neighbourhood, in linear light, and how much dark current the
//! frame could show.
//!
//! The neighbourhood is the same channel's ring at distance 2 (left, right,
//! up, down and the four diagonals): outside the few pixels that demosaicing,
//! sharpening and JPEG smear one bad photosite over, and on a raw Bayer mosaic
//! exactly the nearest photosites of the same colour. Its median is the
//! reference, so one bright scene detail among the 8 does not move it. At the
//! frame's edges the ring is made of the members that exist (3 at a corner,
//! 5 along an edge): every subpixel gets a reference.
//!
//! A frame's excess is measured in linear light, because that is where a
//! defect's physics is simple: a warm or stuck photosite adds or pins a raw
//! level, a hot one adds dark current that grows with exposure time and gain.
//! Squaring the 8-bit values undoes most of a camera's tone curve (a gamma of
//! 2 against sRGB's ~2.2): `excess = (v² − r²) / 256`, in "linear levels"
//! with 255 = full scale. Each frame's excess is clamped to ±[`CLAMP`] so that
//! one scene glint cannot outweigh a defect seen in every frame, and a bright
//! excess does not count where the reference is clipped (a hot photosite in a
//! blown sky cannot show, and a clipped edge is not evidence).
//!
//! Two exact integer sums per subpixel follow from it (see `stats`): Σ excess,
//! what an offset (warm, stuck, dead) leaves, and Σ weight × excess, with the
//! frame's dark-current weight ([`dark_weight`]): what a hot photosite leaves,
//! growing with exposure × gain and absent from frames too short to show it.
//! Beside them, the largest bright and the largest dark excess of any one
//! frame (its peaks, [`peak_code`]): what the detector sets aside so that
//! one frame, or one burst of alike frames, cannot make a defect.

/// Distance of the neighbourhood ring, in pixels.
pub const RING: usize = 2;

/// Largest excess one frame contributes, in linear levels (about half of
/// full scale): a saturated hot pixel still counts fully, a glint no more.
/// Even, so that a frame's peak (see [`peak_code`]) is kept exactly in 6 bits.
pub const CLAMP: i16 = 126;

/// The code of a frame's excess magnitude kept as a subpixel's peak: half
/// of it, rounded up (0..=63); `2 × code` is never below the magnitude.
#[inline(always)]
pub fn peak_code(magnitude: i16) -> u8 {
    ((magnitude + 1) >> 1) as u8
}

/// Largest peak code.
pub const PEAK_MAX: u8 = (CLAMP / 2) as u8;

/// A reference at or above this 8-bit level is clipped: no bright excess can
/// show against it.
pub const CLIPPED: u8 = 250;

/// Largest dark-current weight of a frame.
pub const DARK_WEIGHT_MAX: u8 = 15;

/// Exposure × gain (seconds at ISO 100) that earns the full dark-current
/// weight. Dark current grows linearly with it; beyond one second at ISO 100
/// a typical hot pixel (2 to 50% of full scale a second) is plainly visible,
/// and longer frames only saturate it.
pub const DARK_FULL_SECONDS: f64 = 1.0;

/// How much dark current a frame could show, from its EXIF: round(15 ×
/// min(t × ISO/100 / 1 s, 1)), 0..=15. Daylight frames (1/4000 to 1/125 s at
/// low ISO) weigh 0, so a hot pixel's absence from them is no evidence
/// against it. Without an exposure time the weight is 0 (nothing known);
/// without an ISO, ISO 100 is assumed (the least gain a camera has).
pub fn dark_weight(exposure_s: Option<f64>, iso: Option<u32>) -> u8 {
    let Some(t) = exposure_s.filter(|t| t.is_finite() && *t > 0.0) else {
        return 0;
    };
    let gain = f64::from(iso.unwrap_or(100).max(1)) / 100.0;
    let x = (t * gain / DARK_FULL_SECONDS).min(1.0);
    (x * f64::from(DARK_WEIGHT_MAX)).round() as u8
}

/// One frame's excess of a subpixel `v` over its reference `r`, in linear
/// levels, clamped, and never bright against a clipped reference.
#[inline(always)]
pub fn excess(v: u8, r: u8) -> i16 {
    let (v, r) = (i32::from(v), i32::from(r));
    // (v − r)(v + r) = v² − r², in −65025..=65025; / 256, rounded down.
    let e = (((v - r) * (v + r)) >> 8) as i16;
    let e = e.clamp(-CLAMP, CLAMP);
    if r >= i32::from(CLIPPED) {
        e.min(0)
    } else {
        e
    }
}

/// Lane-wise min/max, so the median network below is branch-free for both
/// the per-frame bytes and the detector's f32 means.
pub trait MinMax: Copy {
    fn lo(self, other: Self) -> Self;
    fn hi(self, other: Self) -> Self;
    /// The middle of two values (rounded up for integers).
    fn mid(self, other: Self) -> Self;
}

impl MinMax for u8 {
    #[inline(always)]
    fn lo(self, o: Self) -> Self {
        self.min(o)
    }
    #[inline(always)]
    fn hi(self, o: Self) -> Self {
        self.max(o)
    }
    #[inline(always)]
    fn mid(self, o: Self) -> Self {
        // The rounded-up mean, in the form that compiles to one pavgb.
        ((u16::from(self) + u16::from(o) + 1) >> 1) as u8
    }
}

/// Plain comparisons, which compile to one minps/maxps each: the planes
/// hold no NaN, and `f32::min`'s NaN rule costs three more instructions a
/// comparison in the median networks.
impl MinMax for f32 {
    #[inline(always)]
    fn lo(self, o: Self) -> Self {
        if self < o {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    fn hi(self, o: Self) -> Self {
        if self > o {
            self
        } else {
            o
        }
    }
    #[inline(always)]
    fn mid(self, o: Self) -> Self {
        (self + o) * 0.5
    }
}

/// Sorts 4 values ascending with the 5-comparator network.
#[inline(always)]
fn sort4<T: MinMax>(a: &mut [T; 4]) {
    let cs = |a: &mut [T; 4], i: usize, j: usize| {
        let (lo, hi) = (a[i].lo(a[j]), a[i].hi(a[j]));
        a[i] = lo;
        a[j] = hi;
    };
    cs(a, 0, 1);
    cs(a, 2, 3);
    cs(a, 0, 2);
    cs(a, 1, 3);
    cs(a, 1, 2);
}

/// Median of 8 values: the middle of the 4th and 5th smallest. Two sorted
/// halves A and B give them directly (the k-th smallest of a union of sorted
/// lists is min over i of max(A_i, B_(k-i))): no branch, so loops over rows
/// vectorise.
#[inline(always)]
pub fn median8<T: MinMax>(v: [T; 8]) -> T {
    let mut a = [v[0], v[1], v[2], v[3]];
    let mut b = [v[4], v[5], v[6], v[7]];
    sort4(&mut a);
    sort4(&mut b);
    let fourth = b[3]
        .lo(a[0].hi(b[2]))
        .lo(a[1].hi(b[1]))
        .lo(a[2].hi(b[0]))
        .lo(a[3]);
    let fifth = b[0]
        .hi(a[3].lo(b[1]))
        .hi(a[2].lo(b[2]))
        .hi(a[1].lo(b[3]))
        .hi(a[0]);
    fourth.mid(fifth)
}

/// Median of 5 values, branch-free: the middle of the fifth value and the
/// larger of the pairs' minima and the smaller of their maxima (each of
/// which drops one value that cannot be the median).
#[inline(always)]
pub fn median5<T: MinMax>(v: [T; 5]) -> T {
    let f = v[0].lo(v[1]).hi(v[2].lo(v[3]));
    let g = v[0].hi(v[1]).lo(v[2].hi(v[3]));
    f.lo(g).hi(f.hi(g).lo(v[4]))
}

/// The median of a few values (the middle of the two middle ones for an even
/// count), as [`median8`] takes it; `values` is reordered.
pub fn median_of<T: MinMax + PartialOrd>(values: &mut [T]) -> T {
    values.sort_unstable_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        values[n / 2 - 1].mid(values[n / 2])
    }
}

/// Interleaved samples: `channels` values a pixel, `width` pixels a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
}

impl Layout {
    /// Values in a row.
    pub fn stride(&self) -> usize {
        self.width * self.channels
    }

    /// Values in the frame.
    pub fn len(&self) -> usize {
        self.stride() * self.height
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ring members of flat index `i` that exist (same channel, `dist`
    /// pixels away: left, right, up, down, then the diagonals), into `out`;
    /// returns how many.
    pub fn ring_members<T: Copy>(
        &self,
        plane: &[T],
        i: usize,
        dist: usize,
        out: &mut [T; 8],
    ) -> usize {
        let stride = self.stride();
        let (y, xc) = (i / stride, i % stride);
        let x = xc / self.channels;
        let (h, w) = (self.height as isize, self.width as isize);
        let d = dist as isize;
        let mut n = 0;
        for (dx, dy) in [
            (-d, 0),
            (d, 0),
            (0, -d),
            (0, d),
            (-d, -d),
            (d, -d),
            (-d, d),
            (d, d),
        ] {
            let (nx, ny) = (x as isize + dx, y as isize + dy);
            if nx >= 0 && nx < w && ny >= 0 && ny < h {
                let j = i as isize + dy * stride as isize + dx * self.channels as isize;
                out[n] = plane[j as usize];
                n += 1;
            }
        }
        n
    }
}

/// The 8 neighbours of flat index `i` that lie `down` values below or above
/// it and `across` values left or right (left, right, up, down, then the
/// four diagonals); all must exist. For the same channel at distance `d`:
/// `down = d × stride`, `across = d × channels`.
#[inline(always)]
pub fn around<T: Copy>(plane: &[T], i: usize, down: usize, across: usize) -> [T; 8] {
    [
        plane[i - across],
        plane[i + across],
        plane[i - down],
        plane[i + down],
        plane[i - down - across],
        plane[i - down + across],
        plane[i + down - across],
        plane[i + down + across],
    ]
}

/// The ring reference of every subpixel of row `y` into `out` (indexed like
/// the row): the median of the ring members that exist. The columns with a
/// full ring go through one branch-free loop over eight neighbour lines
/// sliced to the same length (vectorised, for bytes and f32), the first two
/// and last two rows through one over five; the two pixels nearest the left
/// and right edges, and whole rows of frames too small for either loop
/// (4 pixels wide or less, no line 2 rows above or below), take the median
/// of what exists.
#[inline(always)]
pub fn ring_medians_row<T: MinMax + PartialOrd>(
    plane: &[T],
    layout: Layout,
    y: usize,
    out: &mut [T],
) {
    let stride = layout.stride();
    let s = RING * layout.channels;
    let (up, down) = (y >= RING, y + RING < layout.height);
    // The columns with every member left and right and on at least one of
    // the lines above and below: a full ring, or in the first two and last
    // two rows the five on one side. Every row but four pixels.
    let interior = if layout.width > 2 * RING && (up || down) {
        let n = stride - 2 * s;
        let line = |yy: usize, shift: usize| &plane[yy * stride + shift..yy * stride + shift + n];
        let (l, r) = (line(y, 0), line(y, 2 * s));
        let o = &mut out[s..s + n];
        if up && down {
            let (up_l, up_c, up_r) = (line(y - RING, 0), line(y - RING, s), line(y - RING, 2 * s));
            let (dn_l, dn_c, dn_r) = (line(y + RING, 0), line(y + RING, s), line(y + RING, 2 * s));
            for k in 0..n {
                o[k] = median8([
                    l[k], r[k], up_c[k], dn_c[k], up_l[k], up_r[k], dn_l[k], dn_r[k],
                ]);
            }
        } else {
            let other = if up { y - RING } else { y + RING };
            let (o_l, o_c, o_r) = (line(other, 0), line(other, s), line(other, 2 * s));
            for k in 0..n {
                o[k] = median5([l[k], r[k], o_c[k], o_l[k], o_r[k]]);
            }
        }
        s..stride - s
    } else {
        0..0
    };
    let mut members = [plane[0]; 8];
    // The columns the interior loop did not fill.
    let edges = (0..interior.start).chain(interior.end..stride);
    for xc in edges {
        let i = y * stride + xc;
        let n = layout.ring_members(plane, i, RING, &mut members);
        out[xc] = if n == 0 {
            plane[i]
        } else {
            median_of(&mut members[..n])
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median8_matches_sorting() {
        let mut state = 12345u32;
        for _ in 0..20000 {
            let mut v = [0u8; 8];
            for x in &mut v {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                // Few distinct values too, so ties are covered.
                *x = if state % 3 == 0 {
                    (state >> 8) as u8 % 4
                } else {
                    (state >> 8) as u8
                };
            }
            let mut s = v;
            s.sort_unstable();
            let expected = ((u16::from(s[3]) + u16::from(s[4])).div_ceil(2)) as u8;
            assert_eq!(median8(v), expected, "{v:?}");
            let mut copy = v;
            assert_eq!(median_of(&mut copy), expected);
        }
    }

    #[test]
    fn median5_matches_sorting() {
        // Every combination of five values from a range of 6, ties included.
        let mut count = 0;
        for code in 0..6u32.pow(5) {
            let mut v = [0u8; 5];
            for (k, x) in v.iter_mut().enumerate() {
                *x = (code / 6u32.pow(k as u32) % 6) as u8 * 40;
            }
            let mut sorted = v;
            sorted.sort_unstable();
            assert_eq!(median5(v), sorted[2], "{v:?}");
            let f: [f32; 5] = v.map(f32::from);
            assert_eq!(median5(f), f32::from(sorted[2]));
            count += 1;
        }
        assert_eq!(count, 7776);
    }

    #[test]
    fn excess_is_the_linear_difference_clamped() {
        assert_eq!(excess(100, 100), 0);
        // 120² − 100² = 4400; / 256 = 17.19 -> 17.
        assert_eq!(excess(120, 100), 17);
        assert_eq!(excess(100, 120), -18);
        // A saturated point on a dark sky counts half of full scale, no more.
        assert_eq!(excess(255, 10), CLAMP);
        assert_eq!(excess(0, 255), -CLAMP);
        for m in 0..=CLAMP {
            let code = peak_code(m);
            assert!(code <= PEAK_MAX && i16::from(code) * 2 >= m && i16::from(code) * 2 <= m + 1);
        }
        // Nothing bright shows against a clipped reference.
        assert_eq!(excess(255, 251), 0);
        assert!(excess(200, 252) < 0);
        // Exhaustively: the formula, independently in f64.
        for v in 0..=255u8 {
            for r in 0..=255u8 {
                let lin = (f64::from(v).powi(2) - f64::from(r).powi(2)) / 256.0;
                let mut want = lin.floor().clamp(-126.0, 126.0) as i16;
                if r >= CLIPPED {
                    want = want.min(0);
                }
                assert_eq!(excess(v, r), want, "{v} {r}");
            }
        }
    }

    #[test]
    fn dark_weight_follows_exposure_times_gain() {
        assert_eq!(dark_weight(Some(1.0 / 1000.0), Some(100)), 0);
        assert_eq!(dark_weight(Some(1.0 / 8.0), Some(800)), 15);
        assert_eq!(dark_weight(Some(0.5), Some(100)), 8);
        assert_eq!(dark_weight(Some(30.0), Some(1600)), 15);
        assert_eq!(dark_weight(None, Some(1600)), 0);
        assert_eq!(dark_weight(Some(0.2), None), 3);
        assert_eq!(dark_weight(Some(f64::NAN), Some(100)), 0);
    }

    /// The edge-aware row medians against a direct computation from the
    /// members that exist, for one and three channels, on frames large and
    /// small enough for every case (full ring, one side, no line above or
    /// below, no column left or right).
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn row_medians_use_the_ring_members_that_exist() {
        for (width, height) in [(9usize, 7usize), (6, 4), (5, 3), (4, 9), (1, 1), (7, 2)] {
            for channels in [1usize, 3] {
                let layout = Layout {
                    width,
                    height,
                    channels,
                };
                let plane: Vec<u8> = (0..layout.len())
                    .map(|i| ((i * 37 + i / 5 * 11) % 251) as u8)
                    .collect();
                let stride = layout.stride();
                let mut row = vec![0u8; stride];
                for y in 0..height {
                    ring_medians_row(&plane, layout, y, &mut row);
                    for xc in 0..stride {
                        let (x, c) = (xc / channels, xc % channels);
                        let mut members = Vec::new();
                        for (dx, dy) in [
                            (-2i32, 0i32),
                            (2, 0),
                            (0, -2),
                            (0, 2),
                            (-2, -2),
                            (2, -2),
                            (-2, 2),
                            (2, 2),
                        ] {
                            let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                            if (0..width as i32).contains(&nx) && (0..height as i32).contains(&ny) {
                                members.push(
                                    plane[(ny as usize * width + nx as usize) * channels + c],
                                );
                            }
                        }
                        members.sort_unstable();
                        let n = members.len();
                        let want = if n == 0 {
                            plane[y * stride + xc]
                        } else if n % 2 == 1 {
                            members[n / 2]
                        } else {
                            ((u16::from(members[n / 2 - 1]) + u16::from(members[n / 2]))
                                .div_ceil(2)) as u8
                        };
                        assert_eq!(row[xc], want, "{width}x{height}x{channels} ({x},{y}) c{c}");
                    }
                }
            }
        }
    }
}
