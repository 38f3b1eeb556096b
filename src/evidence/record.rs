//! The evidence of one subpixel over a series: the sums and counts of its
//! per-frame observations ([`super::frame::observe`]), how two records merge
//! (every field is a sum, so any split of a series into runs and states
//! merges to the same record), what each field may hold, and the state-file
//! member each one is saved as.

use super::frame::{Observation, CLAMP};

/// Frame counts of one subpixel (see [`Observation`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// Frames in which it was seen brighter than its neighbourhood.
    pub bright: u32,
    /// Frames that could show it brighter (reference not clipped).
    pub could_bright: u32,
    /// Frames in which it was seen darker.
    pub dark: u32,
    /// Frames that could show it darker (reference bright enough).
    pub could_dark: u32,
    /// Frames with a dark-current weight (long or high-ISO) in which it was
    /// seen brighter: what a hot photosite shows.
    pub hot: u32,
}

/// The evidence of one subpixel.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Σ excess over the frames, in linear levels (255 = full scale).
    pub excess: i32,
    /// Σ dark-current weight × excess.
    pub dark: i32,
    /// The frame counts.
    pub seen: Seen,
}

/// Bytes a subpixel's evidence takes in its wide form.
pub const EVIDENCE_BYTES: usize = std::mem::size_of::<Evidence>();

impl Evidence {
    /// Adds one frame's observation, the frame having dark-current weight `w`.
    pub fn add(&mut self, o: Observation, w: u8) {
        self.excess += i32::from(o.excess);
        self.dark += i32::from(o.excess) * i32::from(w);
        let s = &mut self.seen;
        s.bright += u32::from(o.bright);
        s.could_bright += u32::from(o.could_bright);
        s.dark += u32::from(o.dark);
        s.could_dark += u32::from(o.could_dark);
        s.hot += u32::from(o.bright && w > 0);
    }

    /// Adds another record of other frames: every field is a sum.
    pub fn merge(&mut self, o: &Evidence) {
        self.excess += o.excess;
        self.dark += o.dark;
        let (s, t) = (&mut self.seen, &o.seen);
        s.bright += t.bright;
        s.could_bright += t.could_bright;
        s.dark += t.dark;
        s.could_dark += t.could_dark;
        s.hot += t.hot;
    }

    /// Why a record cannot come from `frames` frames whose dark-current
    /// weights sum to `weights`, of which `revealing` have a weight, if it
    /// cannot.
    pub fn impossible(&self, frames: u64, weights: u64, revealing: u64) -> Option<String> {
        for m in &MEMBERS {
            let v = (m.get)(self);
            let bound = (m.bound)(frames, weights, revealing) as i64;
            if v > bound || v < if m.signed { -bound } else { 0 } {
                return Some(format!("{} {v} is impossible over {frames} frames", m.name));
            }
        }
        let s = &self.seen;
        if s.bright > s.could_bright || s.dark > s.could_dark || s.hot > s.bright {
            return Some(format!(
                "counts {s:?} are impossible: seen more often than it could be"
            ));
        }
        None
    }
}

/// One field of the record as a state file holds it: `<name>.npy`, an
/// integer array of the frame's shape.
pub struct Member {
    pub name: &'static str,
    /// What it holds, for the README and the code.
    pub doc: &'static str,
    pub get: fn(&Evidence) -> i64,
    pub set: fn(&mut Evidence, i64),
    /// Whether it can be negative.
    pub signed: bool,
    /// The largest magnitude it can reach over `frames` frames whose
    /// weights sum to `weights`, `revealing` of them with a weight.
    pub bound: fn(frames: u64, weights: u64, revealing: u64) -> u64,
}

/// The members, in the order a state file holds them.
pub const MEMBERS: [Member; 7] = [
    Member {
        name: "excess",
        doc: "Σ excess over the neighbourhood, linear levels",
        get: |e| e.excess.into(),
        set: |e, v| e.excess = v as i32,
        signed: true,
        bound: |n, _, _| n * CLAMP as u64,
    },
    Member {
        name: "dark",
        doc: "Σ dark-current weight × excess",
        get: |e| e.dark.into(),
        set: |e, v| e.dark = v as i32,
        signed: true,
        bound: |_, w, _| w * CLAMP as u64,
    },
    Member {
        name: "seen_bright",
        doc: "frames in which it was seen brighter than its neighbourhood",
        get: |e| e.seen.bright.into(),
        set: |e, v| e.seen.bright = v as u32,
        signed: false,
        bound: |n, _, _| n,
    },
    Member {
        name: "could_bright",
        doc: "frames that could show it brighter (neighbourhood not clipped)",
        get: |e| e.seen.could_bright.into(),
        set: |e, v| e.seen.could_bright = v as u32,
        signed: false,
        bound: |n, _, _| n,
    },
    Member {
        name: "seen_dark",
        doc: "frames in which it was seen darker",
        get: |e| e.seen.dark.into(),
        set: |e, v| e.seen.dark = v as u32,
        signed: false,
        bound: |n, _, _| n,
    },
    Member {
        name: "could_dark",
        doc: "frames that could show it darker (neighbourhood bright enough)",
        get: |e| e.seen.could_dark.into(),
        set: |e, v| e.seen.could_dark = v as u32,
        signed: false,
        bound: |n, _, _| n,
    },
    Member {
        name: "seen_hot",
        doc: "frames with a dark-current weight in which it was seen brighter",
        get: |e| e.seen.hot.into(),
        set: |e, v| e.seen.hot = v as u32,
        signed: false,
        bound: |_, _, r| r,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::frame::observe;

    #[test]
    fn members_get_and_set_every_field() {
        let mut e = Evidence::default();
        for (k, m) in MEMBERS.iter().enumerate() {
            (m.set)(&mut e, k as i64 + 1);
        }
        for (k, m) in MEMBERS.iter().enumerate() {
            assert_eq!((m.get)(&e), k as i64 + 1, "{}", m.name);
        }
        // Every field has a member: no field is left at 0.
        let Evidence { excess, dark, seen } = e;
        let Seen {
            bright,
            could_bright,
            dark: d,
            could_dark,
            hot,
        } = seen;
        let fields = [
            excess as i64,
            dark.into(),
            bright.into(),
            could_bright.into(),
        ];
        let more = [i64::from(d), could_dark.into(), hot.into()];
        assert!(fields.iter().chain(&more).all(|&v| v > 0));
        assert_eq!(EVIDENCE_BYTES, 28);
    }

    #[test]
    fn records_of_frames_merge_to_the_record_of_all() {
        let obs: Vec<(Observation, u8)> = (0..40u32)
            .map(|k| {
                let v = (k * 37 % 256) as u8;
                let r = (k * 91 % 256) as u8;
                (observe(v, r, (k % 9) as u8), (k % 16) as u8)
            })
            .collect();
        let mut all = Evidence::default();
        obs.iter().for_each(|&(o, w)| all.add(o, w));
        let (mut a, mut b) = (Evidence::default(), Evidence::default());
        obs[..13].iter().for_each(|&(o, w)| a.add(o, w));
        obs[13..].iter().for_each(|&(o, w)| b.add(o, w));
        a.merge(&b);
        assert_eq!(a, all);
        let weights: u64 = obs.iter().map(|&(_, w)| u64::from(w)).sum();
        let revealing = obs.iter().filter(|&&(_, w)| w > 0).count() as u64;
        assert_eq!(all.impossible(40, weights, revealing), None);
        // One frame fewer cannot hold these counts.
        let mut bad = all;
        bad.seen.bright = bad.seen.could_bright + 1;
        assert!(bad.impossible(40, weights, revealing).is_some());
        assert!(all.impossible(1, weights, revealing).is_some());
    }
}
