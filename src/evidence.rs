//! Per-frame evidence of defects: in each frame, how far every subpixel stands
//! out from its neighbourhood, folded into per-pixel vote counters.
//!
//! The neighbourhood is the 8 same-channel pixels at distance 2 (left, right,
//! up, down and the four diagonals). Distance 2 lies outside the spread of one
//! bad photosite: demosaicing and 4:2:2 JPEG smear it over its immediate
//! neighbours, which would otherwise raise the reference with the defect.
//! The reference is the median of the 8, so one bright scene detail among them
//! does not move it. A pixel gets a bright vote in a frame when any of its
//! channels exceeds its reference by `VOTE_LEVEL` or more, a dark vote when
//! any falls that far below. Counts are integers, so workers' votes merge
//! exactly, in any order.
//!
//! Pixels within 2 of the frame border have no full neighbourhood and get no votes.

/// Excess (8-bit levels) that counts as standing out in one frame. JPEG noise
/// at quality 90-98 is 1-4 levels; a warm photosite that adds 15% of full
/// scale in raw stands out by 20 levels or more after gamma except in the
/// brightest parts of a frame.
pub const VOTE_LEVEL: u8 = 12;

/// Distance of the neighbourhood ring, in pixels.
pub const RING: usize = 2;

/// Reusable per-worker scratch for one row of flags.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    median: Vec<u8>,
}

/// Sorts 4 values ascending with the 5-comparator network.
#[inline(always)]
fn sort4(a: &mut [u8; 4]) {
    let cs = |a: &mut [u8; 4], i: usize, j: usize| {
        let (lo, hi) = (a[i].min(a[j]), a[i].max(a[j]));
        a[i] = lo;
        a[j] = hi;
    };
    cs(a, 0, 1);
    cs(a, 2, 3);
    cs(a, 0, 2);
    cs(a, 1, 3);
    cs(a, 1, 2);
}

/// Median of 8 values: the mean of the 4th and 5th smallest, rounded up.
/// Two sorted halves A and B give them directly (the k-th smallest of a union
/// of sorted lists is min over i of max(A_i, B_(k-i))): no branch, so the
/// row loop below vectorises.
#[inline(always)]
pub fn median8(v: [u8; 8]) -> u8 {
    let mut a = [v[0], v[1], v[2], v[3]];
    let mut b = [v[4], v[5], v[6], v[7]];
    sort4(&mut a);
    sort4(&mut b);
    let fourth = b[3]
        .min(a[0].max(b[2]))
        .min(a[1].max(b[1]))
        .min(a[2].max(b[0]))
        .min(a[3]);
    let fifth = b[0]
        .max(a[3].min(b[1]))
        .max(a[2].min(b[2]))
        .max(a[1].min(b[3]))
        .max(a[0]);
    ((u16::from(fourth) + u16::from(fifth)).div_ceil(2)) as u8
}

/// The ring median of every subpixel of row `y` from column RING to
/// width − RING − 1, written to `out` (indexed like the row's bytes).
fn row_medians(plane: &[u8], width: usize, y: usize, out: &mut [u8]) {
    let stride = width * 3;
    let s = RING * 3; // same channel, RING pixels to the side
    let up = &plane[(y - RING) * stride..(y - RING + 1) * stride];
    let row = &plane[y * stride..(y + 1) * stride];
    let down = &plane[(y + RING) * stride..(y + RING + 1) * stride];
    for i in s..stride - s {
        out[i] = median8([
            row[i - s],
            row[i + s],
            up[i],
            down[i],
            up[i - s],
            up[i + s],
            down[i - s],
            down[i + s],
        ]);
    }
}

/// Adds one frame's votes: `bright` and `dark` are per pixel (width × height).
pub fn add_votes(
    frame: &[u8],
    width: usize,
    height: usize,
    bright: &mut [u16],
    dark: &mut [u16],
    scratch: &mut Scratch,
) {
    let stride = width * 3;
    if width <= 2 * RING || height <= 2 * RING {
        return;
    }
    scratch.median.resize(stride, 0);
    for y in RING..height - RING {
        row_medians(frame, width, y, &mut scratch.median);
        let row = &frame[y * stride..(y + 1) * stride];
        let b = &mut bright[y * width..(y + 1) * width];
        let d = &mut dark[y * width..(y + 1) * width];
        for x in RING..width - RING {
            let mut up = false;
            let mut down = false;
            for c in 0..3 {
                let (v, m) = (row[x * 3 + c], scratch.median[x * 3 + c]);
                up |= v >= m.saturating_add(VOTE_LEVEL) && m < 255 - VOTE_LEVEL + 1;
                down |= v.saturating_add(VOTE_LEVEL) <= m;
            }
            b[x] += u16::from(up);
            d[x] += u16::from(down);
        }
    }
}

/// The ring median at subpixel (x, y, c) of an image given as a closure over
/// (x, y) -> value of that channel; used on the mean image by the detector.
pub fn ring_median_f32(at: impl Fn(usize, usize) -> f32, x: usize, y: usize) -> f32 {
    let mut v = [
        at(x - RING, y),
        at(x + RING, y),
        at(x, y - RING),
        at(x, y + RING),
        at(x - RING, y - RING),
        at(x + RING, y - RING),
        at(x - RING, y + RING),
        at(x + RING, y + RING),
    ];
    v.sort_by(f32::total_cmp);
    (v[3] + v[4]) / 2.0
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
        let (mut b, mut d) = (vec![0u16; w * h], vec![0u16; w * h]);
        add_votes(&frame, w, h, &mut b, &mut d, &mut Scratch::default());
        assert_eq!(b[4 * w + 4], 1);
        assert_eq!(b.iter().map(|&v| u32::from(v)).sum::<u32>(), 1);
        assert_eq!(d[2 * w + 6], 1);
        assert_eq!(d.iter().map(|&v| u32::from(v)).sum::<u32>(), 1);
    }

    #[test]
    fn a_small_excess_is_not_a_vote() {
        let (w, h) = (7, 7);
        let mut frame = vec![100u8; w * h * 3];
        frame[(3 * w + 3) * 3 + 1] = 100 + VOTE_LEVEL - 1;
        let (mut b, mut d) = (vec![0u16; w * h], vec![0u16; w * h]);
        add_votes(&frame, w, h, &mut b, &mut d, &mut Scratch::default());
        assert!(b.iter().all(|&v| v == 0));
    }
}
