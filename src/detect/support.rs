//! Whether the frames support a subpixel standing out: a defect shows in
//! most of the frames that could show it, and more often than the scene
//! around it shows anything by chance (see [`super::counts`]). A star or a
//! lamp that lit the photosite in 2 frames of 20, or a coincidence of 2
//! photos, fails this however strong it is. Where a point's means and σ
//! hold it apart in every frame, its count is also weighed against how
//! often its neighbourhood reaches the level it held, which their own means
//! and σ bound.

use super::context::Context;
use super::counts::strength;
use super::planes::Planes;
use super::score::Features;
use crate::evidence::Seen;
use crate::params::{CHANCE_MIN, SEEN_MIN, SEEN_SHARE_INTERMITTENT};

/// How sure the frames make it, per side: −log₁₀ of the chance that the
/// scene alone shows it as often (see [`super::counts`]), or 0 where it
/// showed in fewer than half the frames that could show it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Strength {
    /// Brighter, over all frames.
    pub bright: f32,
    /// Darker, over all frames.
    pub dark: f32,
    /// Brighter, over the frames long or high-ISO enough for dark current.
    pub hot: f32,
    /// Brighter or darker (a photosite pinned between the scene's levels).
    pub either: f32,
}

/// The level the subpixel's means and σ put it at or beyond in every
/// frame (its least value if brighter, its greatest if darker), where
/// that clears its reference in every frame by at least [`SEEN_MIN`]:
/// by Samuelson's inequality no value of n lies further than
/// σ (n − 1)/√n from their mean (σ the sample deviation), and its
/// reference moves about as its ring does. Else `None`.
pub(super) fn held_apart(frames: u64, f: &Features) -> Option<f32> {
    let n = frames as f32;
    if n < 2.0 {
        return None;
    }
    let k = (n - 1.0) / n.sqrt();
    let (own, around) = (f.sd * k, f.ring_sd * k);
    let held = f.mean - f.sign * own;
    let gap = (held - f.reference - f.sign * around) * f.sign;
    (gap >= f32::from(SEEN_MIN)).then_some(held)
}

/// How sure the frames make subpixel `i` of `p`, each side against the
/// rate at which its neighbourhood is seen (see [`super::counts`]), where
/// it must show in a share `share` of the frames that could show it.
/// Where it `held` a level in every frame (the level, and +1 above it or
/// −1 below), that side's count is also weighed against the share of
/// its neighbourhood's frames at that level: near black the seen rule's
/// least step is a noise step or two of the sky, which neighbours pass
/// in a tenth of frames, while a strong defect stands far beyond it.
pub(super) fn strength_of(
    ctx: &Context,
    p: &Planes,
    i: usize,
    per_view: f64,
    share: f64,
    held: Option<(f32, f32)>,
) -> Strength {
    let s = p.seen[i];
    let w = p.window(i);
    let members = f64::from(p.window_members(i));
    // The rate at which the neighbourhood is seen, never below what
    // chance always gives.
    let rate = |seen: u32, could: f64| ((f64::from(seen) + 0.5) / (could + 1.0)).max(CHANCE_MIN);
    let sure = |seen: u32, could: f64, rate: f64| -> f32 {
        if could <= 0.0 || f64::from(seen) < share * could {
            return 0.0;
        }
        strength(f64::from(seen) * per_view, could * per_view, rate) as f32
    };
    let revealing = ctx.revealing as f64;
    let (pb, pd) = (
        rate(w.bright, f64::from(w.could_bright)),
        rate(w.dark, f64::from(w.could_dark)),
    );
    let could_either = f64::from(s.could_bright.max(s.could_dark));
    let mut st = Strength {
        bright: sure(s.bright, s.could_bright.into(), pb),
        dark: sure(s.dark, s.could_dark.into(), pd),
        hot: sure(s.hot, revealing, rate(w.hot, revealing * members)),
        either: sure(s.bright + s.dark, could_either, (pb + pd).min(1.0)),
    };
    if let Some((level, sign)) = held {
        let frames = ctx.frames as u32;
        let at_level = p.share_beyond(i, level, sign, frames).max(CHANCE_MIN);
        let (side, seen, could) = if sign > 0.0 {
            (&mut st.bright, s.bright, s.could_bright)
        } else {
            (&mut st.dark, s.dark, s.could_dark)
        };
        *side = side.max(sure(seen, could.into(), at_level));
    }
    st
}

/// The share of the frames that could show a subpixel standing out the
/// way `sign` says (+1 brighter, −1 darker) in which it did.
pub(super) fn share_seen(s: Seen, sign: f32) -> f64 {
    let (seen, could) = if sign > 0.0 {
        (s.bright, s.could_bright)
    } else {
        (s.dark, s.could_dark)
    };
    f64::from(seen) / f64::from(could.max(1))
}

/// Whether a subpixel stood out the way `sign` says in nearly every frame
/// that could show it ([`SEEN_SHARE_INTERMITTENT`]).
pub(super) fn seen_nearly_always(s: Seen, sign: f32) -> bool {
    share_seen(s, sign) >= SEEN_SHARE_INTERMITTENT
}

/// The frames' support for a subpixel standing out the way `sign` says
/// (+1 brighter, −1 darker): its strongest count that way.
pub(super) fn support_of(st: &Strength, sign: f32) -> f32 {
    if sign > 0.0 {
        st.bright.max(st.hot).max(st.either)
    } else {
        st.dark.max(st.either)
    }
}
