//! The neighbourhood ring: for every subpixel, the same channel's pixels
//! [`RING`] away (left, right, up, down and the four diagonals), and order
//! statistics of them taken branch-free, so that loops over rows vectorise,
//! both over a frame's bytes (the fold) and over the detector's f32 planes.
//!
//! At distance 2 the ring lies outside the few pixels that demosaicing,
//! sharpening and JPEG smear one bad photosite over; on a raw Bayer mosaic
//! it is exactly the nearest photosites of the same colour. At the frame's
//! edges the ring is made of the members that exist (3 at a corner, 5
//! along an edge).

/// Distance of the neighbourhood ring, in pixels.
pub const RING: usize = 2;

/// Lane-wise min/max, so the median network below is branch-free for both
/// the per-frame bytes and the detector's f32 means.
pub trait MinMax: Copy {
    fn lo(self, other: Self) -> Self;
    fn hi(self, other: Self) -> Self;
    /// The middle of two values (rounded up for integers).
    fn mid(self, other: Self) -> Self;
    /// `self − lo`, for `self ≥ lo`.
    fn minus(self, lo: Self) -> Self;
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
    #[inline(always)]
    fn minus(self, lo: Self) -> Self {
        self.wrapping_sub(lo)
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
    #[inline(always)]
    fn minus(self, lo: Self) -> Self {
        self - lo
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
    let (a, b) = sorted_halves(v);
    let (fourth, fifth) = fourth_fifth(&a, &b);
    fourth.mid(fifth)
}

/// The two halves of `v`, each sorted.
#[inline(always)]
fn sorted_halves<T: MinMax>(v: [T; 8]) -> ([T; 4], [T; 4]) {
    let mut a = [v[0], v[1], v[2], v[3]];
    let mut b = [v[4], v[5], v[6], v[7]];
    sort4(&mut a);
    sort4(&mut b);
    (a, b)
}

/// The 4th and 5th smallest of the union of sorted halves `a` and `b`.
#[inline(always)]
fn fourth_fifth<T: MinMax>(a: &[T; 4], b: &[T; 4]) -> (T, T) {
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
    (fourth, fifth)
}

/// The median of 8 values and their spread: the 6th smallest less the 3rd
/// (the middle half, which one or two stars or glints among the 8 do not
/// widen). From the same two sorted halves as [`median8`].
#[inline(always)]
pub fn ring8<T: MinMax>(v: [T; 8]) -> (T, T) {
    let (a, b) = sorted_halves(v);
    let (fourth, fifth) = fourth_fifth(&a, &b);
    let third = a[2].lo(b[2]).lo(a[0].hi(b[1])).lo(a[1].hi(b[0]));
    let sixth = a[1].hi(b[1]).hi(a[3].lo(b[2])).hi(a[2].lo(b[3]));
    (fourth.mid(fifth), sixth.minus(third))
}

/// The median of 5 values and their spread (the 4th smallest less the 2nd),
/// by a 9-comparator sorting network.
#[inline(always)]
pub fn ring5<T: MinMax>(v: [T; 5]) -> (T, T) {
    let mut a = v;
    for (i, j) in [
        (0, 1),
        (3, 4),
        (2, 4),
        (2, 3),
        (0, 3),
        (0, 2),
        (1, 4),
        (1, 3),
        (1, 2),
    ] {
        let (lo, hi) = (a[i].lo(a[j]), a[i].hi(a[j]));
        a[i] = lo;
        a[j] = hi;
    }
    (a[2], a[3].minus(a[1]))
}

/// The median and spread of a few values as [`ring8`] and [`ring5`] take
/// them: the spread is the value `n/4` from the top less the one `n/4` from
/// the bottom (0 for a single value). `values` is reordered.
pub fn ring_of<T: MinMax + PartialOrd>(values: &mut [T]) -> (T, T) {
    let median = median_of(values);
    let n = values.len();
    let k = n / 4;
    (median, values[n - 1 - k].minus(values[k]))
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
    ring_row::<T, false>(plane, layout, y, out, &mut []);
}

/// [`ring_medians_row`] with the ring's spread of every subpixel beside its
/// median, into `spreads` (see [`ring8`], [`ring5`] and [`ring_of`]).
#[inline(always)]
pub fn ring_stats_row<T: MinMax + PartialOrd>(
    plane: &[T],
    layout: Layout,
    y: usize,
    medians: &mut [T],
    spreads: &mut [T],
) {
    ring_row::<T, true>(plane, layout, y, medians, spreads);
}

#[inline(always)]
fn ring_row<T: MinMax + PartialOrd, const SPREAD: bool>(
    plane: &[T],
    layout: Layout,
    y: usize,
    out: &mut [T],
    spreads: &mut [T],
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
            if SPREAD {
                let sp = &mut spreads[s..s + n];
                for k in 0..n {
                    (o[k], sp[k]) = ring8([
                        l[k], r[k], up_c[k], dn_c[k], up_l[k], up_r[k], dn_l[k], dn_r[k],
                    ]);
                }
            } else {
                for k in 0..n {
                    o[k] = median8([
                        l[k], r[k], up_c[k], dn_c[k], up_l[k], up_r[k], dn_l[k], dn_r[k],
                    ]);
                }
            }
        } else {
            let other = if up { y - RING } else { y + RING };
            let (o_l, o_c, o_r) = (line(other, 0), line(other, s), line(other, 2 * s));
            if SPREAD {
                let sp = &mut spreads[s..s + n];
                for k in 0..n {
                    (o[k], sp[k]) = ring5([l[k], r[k], o_c[k], o_l[k], o_r[k]]);
                }
            } else {
                for k in 0..n {
                    o[k] = median5([l[k], r[k], o_c[k], o_l[k], o_r[k]]);
                }
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
        let (median, spread) = if n == 0 {
            (plane[i], plane[i].minus(plane[i]))
        } else {
            ring_of(&mut members[..n])
        };
        out[xc] = median;
        if SPREAD {
            spreads[xc] = spread;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` pseudo-random rings from `seed` (xorshift), with few distinct
    /// values too, so that ties are covered.
    fn random_rings(seed: u32, n: usize) -> impl Iterator<Item = [u8; 8]> {
        let mut state = seed;
        (0..n).map(move |_| {
            let mut v = [0u8; 8];
            for x in &mut v {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                *x = if state % 3 == 0 {
                    (state >> 8) as u8 % 4
                } else {
                    (state >> 8) as u8
                };
            }
            v
        })
    }

    #[test]
    fn median8_matches_sorting() {
        for v in random_rings(12345, 20000) {
            let mut s = v;
            s.sort_unstable();
            let expected = ((u16::from(s[3]) + u16::from(s[4])).div_ceil(2)) as u8;
            assert_eq!(median8(v), expected, "{v:?}");
            let mut copy = v;
            assert_eq!(median_of(&mut copy), expected);
        }
    }

    #[test]
    fn ring_spreads_match_sorting() {
        for v in random_rings(99, 20000) {
            let mut s = v;
            s.sort_unstable();
            assert_eq!(ring8(v), (median8(v), s[5] - s[2]), "{v:?}");
            let f = ring8(v.map(f32::from));
            assert_eq!(f.1, f32::from(s[5] - s[2]));
            let five = [v[0], v[1], v[2], v[3], v[4]];
            let mut s5 = five;
            s5.sort_unstable();
            assert_eq!(ring5(five), (s5[2], s5[3] - s5[1]), "{five:?}");
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
                let (mut medians, mut spreads) = (vec![0u8; stride], vec![0u8; stride]);
                for y in 0..height {
                    ring_medians_row(&plane, layout, y, &mut row);
                    ring_stats_row(&plane, layout, y, &mut medians, &mut spreads);
                    assert_eq!(medians, row, "the two passes agree on the medians");
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
                        let spread = if n == 0 {
                            0
                        } else {
                            members[n - 1 - n / 4] - members[n / 4]
                        };
                        assert_eq!(spreads[xc], spread, "spread at ({x},{y}) c{c}");
                    }
                }
            }
        }
    }
}
