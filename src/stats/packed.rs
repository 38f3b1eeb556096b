//! Every sum of one subpixel in two u64 words, for series of up to
//! [`PACKED_FRAMES`] frames: 16 bytes a subpixel, the form the accumulator
//! folds frames into and the statistics keep when the series is that short.
//!
//! - word `a`: Σx² (25 bits) | Σ weight × excess + bias (21) | seen bright
//!   (9) | could bright (9);
//! - word `b`: Σx (17) | Σ excess + bias (17) | seen dark (9) | could dark
//!   (9) | seen hot (9) | 3 bits spare.
//!
//! Every field is a sum. A batch's contributions, shifted into place and
//! added with one wrapping add a word, give the packed value of the new
//! sums whatever their signs, because every field stays within its bits
//! after every add (the two signed sums carry a bias covering the most
//! [`PACKED_FRAMES`] frames can subtract): no carry or borrow is left to
//! cross into the next field.

use crate::evidence::{Evidence, Seen, CLAMP, DARK_WEIGHT_MAX};

/// Frames the packed words hold exactly: Σx ≤ 255 × 511 < 2¹⁷, Σx² ≤ 255² ×
/// 511 < 2²⁵, the biased sums fit their 17 and 21 bits, counts their 9.
pub const PACKED_FRAMES: u32 = 511;

const SQ_BITS: u32 = 25;
const DARK_SHIFT: u32 = SQ_BITS;
const DARK_BITS: u32 = 21;
const BRIGHT_SHIFT: u32 = DARK_SHIFT + DARK_BITS;
const COUNT_BITS: u32 = 9;
const COULD_BRIGHT_SHIFT: u32 = BRIGHT_SHIFT + COUNT_BITS;

const SUM_BITS: u32 = 17;
const EXCESS_SHIFT: u32 = SUM_BITS;
const EXCESS_BITS: u32 = 17;
const SEEN_DARK_SHIFT: u32 = EXCESS_SHIFT + EXCESS_BITS;
const COULD_DARK_SHIFT: u32 = SEEN_DARK_SHIFT + COUNT_BITS;
const HOT_SHIFT: u32 = COULD_DARK_SHIFT + COUNT_BITS;

const EXCESS_BIAS: u64 = PACKED_FRAMES as u64 * CLAMP as u64;
const DARK_BIAS: u64 = EXCESS_BIAS * DARK_WEIGHT_MAX as u64;

const fn mask(bits: u32) -> u64 {
    (1 << bits) - 1
}

const _: () = assert!(255 * 255 * PACKED_FRAMES as u64 <= mask(SQ_BITS));
const _: () = assert!(2 * DARK_BIAS <= mask(DARK_BITS));
const _: () = assert!(COULD_BRIGHT_SHIFT + COUNT_BITS <= 64);
const _: () = assert!(255 * PACKED_FRAMES as u64 <= mask(SUM_BITS));
const _: () = assert!(2 * EXCESS_BIAS <= mask(EXCESS_BITS));
const _: () = assert!(HOT_SHIFT + COUNT_BITS <= 64);
const _: () = assert!(PACKED_FRAMES as u64 <= mask(COUNT_BITS));

/// The sums of one subpixel over at most [`PACKED_FRAMES`] frames.
#[repr(C, align(16))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packed {
    a: u64,
    b: u64,
}

impl Packed {
    /// Every sum 0.
    pub const ZERO: Packed = Packed {
        a: DARK_BIAS << DARK_SHIFT,
        b: EXCESS_BIAS << EXCESS_SHIFT,
    };

    /// Adds a batch's contributions (see [`Staged`]).
    #[inline(always)]
    pub fn add(&mut self, s: Staged) {
        let a = u64::from(s.sum_sq)
            .wrapping_add((i64::from(s.dark) as u64) << DARK_SHIFT)
            .wrapping_add(u64::from(s.bright) << BRIGHT_SHIFT)
            .wrapping_add(u64::from(s.could_bright) << COULD_BRIGHT_SHIFT);
        let b = u64::from(s.sum)
            .wrapping_add((i64::from(s.excess) as u64) << EXCESS_SHIFT)
            .wrapping_add(u64::from(s.dark_seen) << SEEN_DARK_SHIFT)
            .wrapping_add(u64::from(s.could_dark) << COULD_DARK_SHIFT)
            .wrapping_add(u64::from(s.hot) << HOT_SHIFT);
        self.a = self.a.wrapping_add(a);
        self.b = self.b.wrapping_add(b);
    }

    /// Adds another subpixel's sums over other frames; the frames of both
    /// together must be at most [`PACKED_FRAMES`].
    #[inline(always)]
    pub fn merge(&mut self, o: Packed) {
        self.a = self.a.wrapping_add(o.a).wrapping_sub(Packed::ZERO.a);
        self.b = self.b.wrapping_add(o.b).wrapping_sub(Packed::ZERO.b);
    }

    /// Σx.
    #[inline(always)]
    pub fn sum(self) -> u32 {
        (self.b & mask(SUM_BITS)) as u32
    }

    /// Σx².
    #[inline(always)]
    pub fn sum_sq(self) -> u32 {
        (self.a & mask(SQ_BITS)) as u32
    }

    /// The evidence record.
    #[inline(always)]
    pub fn evidence(self) -> Evidence {
        let field = |w: u64, shift: u32, bits: u32| (w >> shift) & mask(bits);
        let count = |w: u64, shift: u32| field(w, shift, COUNT_BITS) as u32;
        Evidence {
            excess: (field(self.b, EXCESS_SHIFT, EXCESS_BITS) as i64 - EXCESS_BIAS as i64) as i32,
            dark: (field(self.a, DARK_SHIFT, DARK_BITS) as i64 - DARK_BIAS as i64) as i32,
            seen: Seen {
                bright: count(self.a, BRIGHT_SHIFT),
                could_bright: count(self.a, COULD_BRIGHT_SHIFT),
                dark: count(self.b, SEEN_DARK_SHIFT),
                could_dark: count(self.b, COULD_DARK_SHIFT),
                hot: count(self.b, HOT_SHIFT),
            },
        }
    }

    /// The packed form of exact sums over at most [`PACKED_FRAMES`] frames.
    pub fn of(sum: u32, sum_sq: u32, e: &Evidence) -> Packed {
        let mut p = Packed::ZERO;
        let s = &e.seen;
        p.add(Staged {
            sum: 0,
            sum_sq,
            excess: 0,
            dark: 0,
            bright: s.bright as u16,
            could_bright: s.could_bright as u16,
            dark_seen: s.dark as u16,
            could_dark: s.could_dark as u16,
            hot: s.hot as u16,
        });
        // The sums may exceed a batch's 16-bit staging: added as wide values.
        p.b =
            p.b.wrapping_add(u64::from(sum))
                .wrapping_add((i64::from(e.excess) as u64) << EXCESS_SHIFT);
        p.a = p.a.wrapping_add((i64::from(e.dark) as u64) << DARK_SHIFT);
        p
    }
}

/// Where each field of [`Evidence`] sits, in the order of
/// [`crate::evidence::MEMBERS`]: (word, shift, bits, bias); word 0 is `a`.
const FIELDS: [(usize, u32, u32, u64); 7] = [
    (1, EXCESS_SHIFT, EXCESS_BITS, EXCESS_BIAS),
    (0, DARK_SHIFT, DARK_BITS, DARK_BIAS),
    (0, BRIGHT_SHIFT, COUNT_BITS, 0),
    (0, COULD_BRIGHT_SHIFT, COUNT_BITS, 0),
    (1, SEEN_DARK_SHIFT, COUNT_BITS, 0),
    (1, COULD_DARK_SHIFT, COUNT_BITS, 0),
    (1, HOT_SHIFT, COUNT_BITS, 0),
];

impl Packed {
    /// Sets Σx, which must fit its bits.
    pub fn set_sum(&mut self, v: u32) {
        set(&mut self.b, 0, SUM_BITS, u64::from(v));
    }

    /// Sets Σx², which must fit its bits.
    pub fn set_sum_sq(&mut self, v: u32) {
        set(&mut self.a, 0, SQ_BITS, u64::from(v));
    }

    /// Sets the evidence field of [`crate::evidence::MEMBERS`]`[member]`,
    /// which must be in the range [`PACKED_FRAMES`] frames allow.
    pub fn set_evidence(&mut self, member: usize, v: i64) {
        let (word, shift, bits, bias) = FIELDS[member];
        let w = if word == 0 { &mut self.a } else { &mut self.b };
        set(w, shift, bits, (v + bias as i64) as u64);
    }

    /// The evidence field of [`crate::evidence::MEMBERS`]`[member]` alone
    /// (what [`Packed::evidence`] gives it, without unpacking the others).
    #[inline(always)]
    pub fn evidence_field(self, member: usize) -> i64 {
        let (word, shift, bits, bias) = FIELDS[member];
        let w = if word == 0 { self.a } else { self.b };
        ((w >> shift) & mask(bits)) as i64 - bias as i64
    }
}

fn set(word: &mut u64, shift: u32, bits: u32, v: u64) {
    debug_assert!(v <= mask(bits));
    *word = (*word & !(mask(bits) << shift)) | ((v & mask(bits)) << shift);
}

/// What a batch of frames adds to one subpixel, as the fold stages it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Staged {
    pub sum: u16,
    pub sum_sq: u32,
    pub excess: i16,
    pub dark: i16,
    pub bright: u16,
    pub could_bright: u16,
    pub dark_seen: u16,
    pub could_dark: u16,
    pub hot: u16,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::observe;

    /// Frames of extreme observations, in batches, against plain sums.
    #[test]
    fn packed_sums_equal_the_plain_record() {
        let n = PACKED_FRAMES as usize;
        for pattern in 0..6u32 {
            let mut packed = Packed::ZERO;
            let (mut sum, mut sum_sq, mut plain) = (0u32, 0u32, Evidence::default());
            let frames: Vec<(u8, u8, u8, u8)> = (0..n as u32)
                .map(|k| {
                    let (v, r) = match pattern {
                        0 => (255, 0),
                        1 => (0, 249),
                        2 => (255, 255),
                        3 => (0, 0),
                        _ => ((k * 97 % 256) as u8, (k * 13 % 256) as u8),
                    };
                    (v, r, (k % 5) as u8, (k * 7 % 16) as u8)
                })
                .collect();
            for batch in frames.chunks(16) {
                let mut st = Staged::default();
                for &(v, r, s, w) in batch {
                    let o = observe(v, r, s);
                    st.sum += u16::from(v);
                    st.sum_sq += u32::from(v) * u32::from(v);
                    st.excess += o.excess;
                    st.dark += o.excess * i16::from(w);
                    st.bright += u16::from(o.bright);
                    st.could_bright += u16::from(o.could_bright);
                    st.dark_seen += u16::from(o.dark);
                    st.could_dark += u16::from(o.could_dark);
                    st.hot += u16::from(o.bright && w > 0);
                    sum += u32::from(v);
                    sum_sq += u32::from(v) * u32::from(v);
                    plain.add(o, w);
                }
                packed.add(st);
            }
            assert_eq!(packed.sum(), sum, "pattern {pattern}");
            assert_eq!(packed.sum_sq(), sum_sq);
            assert_eq!(packed.evidence(), plain);
            assert_eq!(Packed::of(sum, sum_sq, &plain), packed);
            // Two halves merge to the whole.
            let mut half = Packed::of(sum / 2, sum_sq / 2, &Evidence::default());
            half.merge(Packed::of(sum - sum / 2, sum_sq - sum_sq / 2, &plain));
            assert_eq!((half.sum(), half.sum_sq()), (sum, sum_sq));
            assert_eq!(half.evidence(), plain);
        }
        assert_eq!(Packed::ZERO.evidence(), Evidence::default());
        // Each member's field, set directly, reads back as that member.
        for (k, m) in crate::evidence::MEMBERS.iter().enumerate() {
            let mut p = Packed::ZERO;
            p.set_sum(130_000);
            p.set_sum_sq(33_000_000);
            p.set_evidence(
                k,
                if m.signed {
                    -(k as i64) - 3
                } else {
                    k as i64 + 3
                },
            );
            let mut want = Evidence::default();
            (m.set)(&mut want, (m.get)(&p.evidence()));
            assert_eq!(p.evidence(), want, "{}", m.name);
            assert_ne!((m.get)(&p.evidence()), 0, "{}", m.name);
            assert_eq!((p.sum(), p.sum_sq()), (130_000, 33_000_000));
        }
        assert_eq!((Packed::ZERO.sum(), Packed::ZERO.sum_sq()), (0, 0));
    }
}
