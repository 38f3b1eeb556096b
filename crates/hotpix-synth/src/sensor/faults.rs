//! How each planned defect changes its photosite's raw value in one frame.

use crate::defects::{DefectGroup, DefectKind, StuckLevel};
use crate::sensor::WHITE_LEVEL;

/// What a broken photosite does to its raw value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Effect {
    /// Reads this count whatever the light (stuck, or 0 for dead).
    Pinned(u16),
    /// Collects dark charge at this rate (FS per second at ISO 100) before the noise.
    Hot(f32),
    /// Adds this much (FS) after the noise: warm, or blinking while on.
    Offset(f32),
}

/// One broken photosite in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Fault {
    pub x: u32,
    pub y: u32,
    pub effect: Effect,
    /// Index of its group in the list it came from.
    pub group: usize,
}

/// The faults of frame `index`, sorted by row then column; blinking groups that are off in
/// this frame contribute none.
pub(crate) fn frame_faults(groups: &[DefectGroup], index: usize) -> Vec<Fault> {
    let mut faults: Vec<Fault> = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.is_on(index))
        .flat_map(|(gi, g)| {
            g.photosites.iter().map(move |p| {
                let effect = match g.kind {
                    DefectKind::Dead => Effect::Pinned(0),
                    DefectKind::Stuck => {
                        let level = match (p.level, g.stuck) {
                            (Some(l), _) => l,
                            (None, Some(StuckLevel::Mid)) => 0.5,
                            (None, _) => 1.0,
                        };
                        Effect::Pinned((level.clamp(0.0, 1.0) * WHITE_LEVEL as f32 + 0.5) as u16)
                    }
                    DefectKind::Hot => Effect::Hot(p.rate.unwrap_or(0.0)),
                    DefectKind::Warm | DefectKind::Blinking => {
                        Effect::Offset(p.offset.unwrap_or(0.0))
                    }
                };
                Fault {
                    x: p.x,
                    y: p.y,
                    effect,
                    group: gi,
                }
            })
        })
        .collect();
    faults.sort_by_key(|f| (f.y, f.x));
    // A photosite can break only one way; the first group listed wins.
    faults.dedup_by_key(|f| (f.y, f.x));
    faults
}
