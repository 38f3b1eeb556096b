//! Per-frame evidence of defects: in each frame, how far every subpixel stands
//! out from its neighbourhood, folded into per-pixel vote counters.
//!
//! The neighbourhood is the 8 same-channel pixels at distance 2 (left, right,
//! up, down and the four diagonals). Distance 2 lies outside the spread of one
//! bad photosite: demosaicing and 4:2:2 JPEG smear it over its immediate
//! neighbours, which would otherwise raise the reference with the defect.
//! The reference is the median of the 8, so one bright scene detail among them
//! does not move it. Each subpixel keeps a net vote: +1 for a frame in which it
//! exceeds its reference by `VOTE_LEVEL` or more, −1 for one in which it falls
//! that far below. A hot or dead photosite collects ±n; a scene point, which
//! stands out now one way, now the other, or not at all, stays near 0.
//! Votes are integers, so workers' votes merge exactly, in any order. The
//! workers fold them into their sums in one pass (`stats::Accumulator`, the
//! net vote packed beside Σx); [`add_votes`] is the same vote on its own, an
//! i16 a subpixel, kept as the reference the tests and benches compare with.
//!
//! Subpixels within 2 pixels of the frame border have no full neighbourhood
//! and get no votes.

/// Excess (8-bit levels) that counts as standing out in one frame. JPEG noise
/// at quality 90-98 is 1-4 levels; a warm photosite that adds 15% of full
/// scale in raw stands out by 20 levels or more after gamma except in the
/// brightest parts of a frame.
pub const VOTE_LEVEL: u8 = 12;

/// Distance of the neighbourhood ring, in pixels.
pub const RING: usize = 2;

/// Whether a subpixel of value `x` stands out bright or dark against its
/// reference `r` (the ring median) in one frame: a vote +1 or −1.
#[inline(always)]
pub fn stands_out(x: u8, r: u8) -> (bool, bool) {
    let e = i16::from(x) - i16::from(r);
    let level = i16::from(VOTE_LEVEL);
    (e >= level, e <= -level)
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
        ((u16::from(self) + u16::from(o)).div_ceil(2)) as u8
    }
}

impl MinMax for f32 {
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

/// The 8 ring neighbours of flat index `i` in interleaved RGB rows of
/// `stride` values: same channel, `RING` pixels away.
#[inline(always)]
pub fn ring<T: Copy>(plane: &[T], i: usize, stride: usize) -> [T; 8] {
    around(plane, i, stride, RING)
}

/// The 8 same-channel neighbours of flat index `i` at distance `dist`
/// (left, right, up, down, then the four diagonals).
#[inline(always)]
pub fn around<T: Copy>(plane: &[T], i: usize, stride: usize, dist: usize) -> [T; 8] {
    let s = dist * 3;
    let v = dist * stride;
    [
        plane[i - s],
        plane[i + s],
        plane[i - v],
        plane[i + v],
        plane[i - v - s],
        plane[i - v + s],
        plane[i + v - s],
        plane[i + v + s],
    ]
}

/// Adds one frame's net votes to `net` (one per subpixel, like the frame).
///
/// Each row is one loop over eight neighbour rows sliced to the same length,
/// so that the compiler can drop bounds checks and vectorise the median
/// network and the vote (`cargo bench --bench kernels -- evidence`).
pub fn add_votes(frame: &[u8], width: usize, height: usize, net: &mut [i16]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { add_votes_avx2(frame, width, height, net) };
            return;
        }
    }
    add_votes_generic(frame, width, height, net);
}

/// The same loop compiled for AVX2 (32 byte lanes instead of SSE2's 16):
/// release builds target baseline x86-64, so wider vectors are chosen at run
/// time. Measured on one full-size frame: 25.3 ms baseline, 13.9 ms AVX2,
/// 13.4 ms AVX-512BW (by then the loop is bound by memory, the i16 votes
/// being read and written once a frame), so AVX2 is the one kept.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_votes_avx2(frame: &[u8], width: usize, height: usize, net: &mut [i16]) {
    add_votes_generic(frame, width, height, net);
}

#[inline(always)]
fn add_votes_generic(frame: &[u8], width: usize, height: usize, net: &mut [i16]) {
    let stride = width * 3;
    if width <= 2 * RING || height <= 2 * RING {
        return;
    }
    let s = RING * 3;
    let mut medians = vec![0u8; stride];
    for y in RING..height - RING {
        ring_medians_row(frame, stride, y, &mut medians);
        let row = &frame[y * stride + s..(y + 1) * stride - s];
        let med = &medians[s..stride - s];
        let votes = &mut net[y * stride + s..(y + 1) * stride - s];
        for ((n, &v), &m) in votes.iter_mut().zip(row).zip(med) {
            let (bright, dark) = stands_out(v, m);
            *n += i16::from(bright) - i16::from(dark);
        }
    }
}

/// The ring median of every interior subpixel of row `y` (columns RING to
/// width − RING − 1) into `out`, indexed like the row. One loop over eight
/// neighbour rows sliced to the same length, so that the compiler can drop
/// bounds checks and vectorise the median network, for bytes and for f32.
#[inline(always)]
pub fn ring_medians_row<T: MinMax>(plane: &[T], stride: usize, y: usize, out: &mut [T]) {
    let s = RING * 3;
    let n = stride - 2 * s;
    let line = |yy: usize, shift: usize| &plane[yy * stride + shift..yy * stride + shift + n];
    let (up_l, up_c, up_r) = (line(y - RING, 0), line(y - RING, s), line(y - RING, 2 * s));
    let (l, r) = (line(y, 0), line(y, 2 * s));
    let (dn_l, dn_c, dn_r) = (line(y + RING, 0), line(y + RING, s), line(y + RING, 2 * s));
    let out = &mut out[s..s + n];
    for k in 0..n {
        out[k] = median8([
            l[k], r[k], up_c[k], dn_c[k], up_l[k], up_r[k], dn_l[k], dn_r[k],
        ]);
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
        }
    }

    #[test]
    fn a_bright_photosite_gets_a_vote_and_its_neighbours_do_not() {
        let (w, h) = (9, 9);
        let mut frame = vec![100u8; w * h * 3];
        frame[(4 * w + 4) * 3] = 160; // R at (4, 4)
        frame[(2 * w + 6) * 3 + 2] = 40; // B at (6, 2): dark
        let mut net = vec![0i16; w * h * 3];
        add_votes(&frame, w, h, &mut net);
        add_votes(&frame, w, h, &mut net);
        assert_eq!(net[(4 * w + 4) * 3], 2);
        assert_eq!(net[(2 * w + 6) * 3 + 2], -2);
        assert_eq!(net.iter().map(|&v| i32::from(v).abs()).sum::<i32>(), 4);
    }

    #[test]
    fn a_small_excess_is_not_a_vote() {
        let (w, h) = (7, 7);
        let mut frame = vec![100u8; w * h * 3];
        frame[(3 * w + 3) * 3 + 1] = 100 + VOTE_LEVEL - 1;
        let mut net = vec![0i16; w * h * 3];
        add_votes(&frame, w, h, &mut net);
        assert!(net.iter().all(|&v| v == 0));
    }
}
