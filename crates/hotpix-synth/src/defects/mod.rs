//! What a broken photosite is: the kinds, shapes and strengths a series plans, and the groups
//! placed on the sensor that the truth reports. Placement lives in `place.rs`; how a defect
//! changes the raw value, in `sensor/`.

mod place;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SynthError;

pub use place::{place_defects, try_place_defects, EDGE_BAND, GROUP_GAP, INTERIOR_MARGIN};

/// How a photosite is broken, as `truth.json` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefectKind {
    /// Raw value pinned at a fixed level whatever the light ([`StuckLevel`] says which).
    Stuck,
    /// Dark current: an excess of `rate x t x ISO/100` (full scale), with its own shot noise.
    Hot,
    /// A constant offset added to the raw value whatever the exposure.
    Warm,
    /// Raw value always 0.
    Dead,
    /// Random telegraph noise: an offset present in some frames only.
    Blinking,
}

impl DefectKind {
    /// The lowercase name used in `truth.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            DefectKind::Stuck => "stuck",
            DefectKind::Hot => "hot",
            DefectKind::Warm => "warm",
            DefectKind::Dead => "dead",
            DefectKind::Blinking => "blinking",
        }
    }
}

/// The two flavours of a stuck photosite, planned with separate counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StuckLevel {
    /// Pinned at full scale: a bright dot in every frame.
    High,
    /// Pinned somewhere in the middle (0.15..0.7 of full scale): brighter than the shadows
    /// and darker than the highlights around it.
    Mid,
}

/// The footprint of a defect group on the mosaic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// One photosite.
    Single,
    /// Two adjacent photosites: horizontal, vertical or diagonal neighbours.
    Pair,
    /// A 2x2 block: one photosite of each CFA colour (R, G, G, B).
    Cluster,
}

/// The six kinds a plan counts: stuck split into its two flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlanKind {
    StuckHigh,
    StuckMid,
    Hot,
    Warm,
    Dead,
    Blinking,
}

impl PlanKind {
    /// Every kind, in the order plans list and place them.
    pub const ALL: [PlanKind; 6] = [
        PlanKind::StuckHigh,
        PlanKind::StuckMid,
        PlanKind::Hot,
        PlanKind::Warm,
        PlanKind::Dead,
        PlanKind::Blinking,
    ];

    /// The name used in [`KindCounts`]' text form.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::StuckHigh => "stuck_high",
            PlanKind::StuckMid => "stuck_mid",
            PlanKind::Hot => "hot",
            PlanKind::Warm => "warm",
            PlanKind::Dead => "dead",
            PlanKind::Blinking => "blinking",
        }
    }

    /// The kind `truth.json` reports, with the stuck flavour.
    pub fn kind(self) -> (DefectKind, Option<StuckLevel>) {
        match self {
            PlanKind::StuckHigh => (DefectKind::Stuck, Some(StuckLevel::High)),
            PlanKind::StuckMid => (DefectKind::Stuck, Some(StuckLevel::Mid)),
            PlanKind::Hot => (DefectKind::Hot, None),
            PlanKind::Warm => (DefectKind::Warm, None),
            PlanKind::Dead => (DefectKind::Dead, None),
            PlanKind::Blinking => (DefectKind::Blinking, None),
        }
    }
}

/// How many defect groups of each kind one shape gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    /// Stuck at full scale.
    pub stuck_high: usize,
    /// Stuck at a mid level.
    pub stuck_mid: usize,
    /// Dark-current (hot) photosites.
    pub hot: usize,
    /// Constant-offset (warm) photosites.
    pub warm: usize,
    /// Photosites that read 0.
    pub dead: usize,
    /// Photosites with an offset in some frames only.
    pub blinking: usize,
}

impl KindCounts {
    /// The same count for every kind.
    pub fn each(n: usize) -> KindCounts {
        KindCounts {
            stuck_high: n,
            stuck_mid: n,
            hot: n,
            warm: n,
            dead: n,
            blinking: n,
        }
    }

    /// The count of one kind.
    pub fn get(&self, kind: PlanKind) -> usize {
        match kind {
            PlanKind::StuckHigh => self.stuck_high,
            PlanKind::StuckMid => self.stuck_mid,
            PlanKind::Hot => self.hot,
            PlanKind::Warm => self.warm,
            PlanKind::Dead => self.dead,
            PlanKind::Blinking => self.blinking,
        }
    }

    /// The count of one kind, to change it.
    pub fn get_mut(&mut self, kind: PlanKind) -> &mut usize {
        match kind {
            PlanKind::StuckHigh => &mut self.stuck_high,
            PlanKind::StuckMid => &mut self.stuck_mid,
            PlanKind::Hot => &mut self.hot,
            PlanKind::Warm => &mut self.warm,
            PlanKind::Dead => &mut self.dead,
            PlanKind::Blinking => &mut self.blinking,
        }
    }

    /// All kinds together.
    pub fn total(&self) -> usize {
        PlanKind::ALL.iter().map(|&k| self.get(k)).sum()
    }

    /// Each count replaced by `f(kind, count)`.
    pub fn map(&self, mut f: impl FnMut(PlanKind, usize) -> usize) -> KindCounts {
        let mut out = KindCounts::default();
        for kind in PlanKind::ALL {
            *out.get_mut(kind) = f(kind, self.get(kind));
        }
        out
    }
}

/// `stuck_high=2,stuck_mid=1,hot=3,warm=3,dead=2,blinking=1`; kinds left out are 0, and
/// `none` is all zero.
impl FromStr for KindCounts {
    type Err = SynthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = KindCounts::default();
        let s = s.trim();
        if s.is_empty() || s == "none" {
            return Ok(out);
        }
        for item in s.split(',') {
            let bad = || SynthError::UnknownName {
                what: "defect count",
                name: item.to_string(),
                expected: "KIND=N with KIND stuck_high, stuck_mid, hot, warm, dead or blinking",
            };
            let (name, n) = item.split_once('=').ok_or_else(bad)?;
            let name = name.trim().replace('-', "_");
            let kind = PlanKind::ALL
                .into_iter()
                .find(|k| k.as_str() == name)
                .ok_or_else(bad)?;
            *out.get_mut(kind) = n.trim().parse().map_err(|_| bad())?;
        }
        Ok(out)
    }
}

impl fmt::Display for KindCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = PlanKind::ALL
            .iter()
            .map(|&k| format!("{}={}", k.as_str(), self.get(k)))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Where the strengths of each kind are drawn from (fractions of full scale).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefectRanges {
    /// Hot dark-current rate, full scale per second at ISO 100, drawn log-uniform.
    pub hot_rate: [f32; 2],
    /// Warm offset, drawn log-uniform.
    pub warm_offset: [f32; 2],
    /// Stuck-mid level, drawn uniform.
    pub stuck_mid: [f32; 2],
    /// Blinking offset when on, drawn log-uniform.
    pub blink_offset: [f32; 2],
    /// Probability that a blinking group is on in a frame, drawn uniform per group.
    pub blink_probability: [f32; 2],
}

impl Default for DefectRanges {
    fn default() -> Self {
        DefectRanges {
            hot_rate: [0.02, 0.5],
            warm_offset: [0.02, 0.30],
            stuck_mid: [0.15, 0.7],
            blink_offset: [0.05, 0.5],
            blink_probability: [0.3, 0.7],
        }
    }
}

/// Which defect groups a series has, by shape and kind.
///
/// Interior groups keep [`INTERIOR_MARGIN`] photosites from the edge; `edge` groups are
/// single photosites within [`EDGE_BAND`] of it, the first ones on the corners, row 0 and
/// column 0. All groups keep [`GROUP_GAP`] apart, so their footprints never overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DefectPlan {
    /// Single photosites.
    pub singles: KindCounts,
    /// Two adjacent photosites of the same kind.
    pub pairs: KindCounts,
    /// 2x2 blocks of the same kind.
    pub clusters: KindCounts,
    /// Single photosites within 3 px of the frame edge.
    pub edge: KindCounts,
    /// Strength ranges.
    pub ranges: DefectRanges,
}

impl DefectPlan {
    /// No defects at all.
    pub fn none() -> DefectPlan {
        DefectPlan::default()
    }

    /// Groups of all shapes together.
    pub fn groups(&self) -> usize {
        self.singles.total() + self.pairs.total() + self.clusters.total() + self.edge.total()
    }

    /// Photosites of all groups together.
    pub fn photosites(&self) -> usize {
        self.singles.total()
            + 2 * self.pairs.total()
            + 4 * self.clusters.total()
            + self.edge.total()
    }
}

/// One broken photosite of a group, with the strength it was given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Photosite {
    /// Column (0 = left).
    pub x: u32,
    /// Row (0 = top).
    pub y: u32,
    /// Its colour in the RGGB mosaic: 0 = R, 1 = G, 2 = B.
    pub channel: u8,
    /// Stuck: the pinned raw level (1 for stuck-high), fraction of full scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f32>,
    /// Warm and blinking: the offset added to the raw value (when on), fraction of full scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<f32>,
    /// Hot: dark-current rate, full scale per second at ISO 100 (the excess of a frame is
    /// `rate x exposure x ISO/100`, clipped at full scale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f32>,
}

/// One defect: a single photosite, a pair or a 2x2 cluster, all of one kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefectGroup {
    /// Index in the series' list (placement order).
    pub id: usize,
    /// How its photosites are broken.
    pub kind: DefectKind,
    /// For stuck groups, whether they are pinned at full scale or in the middle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck: Option<StuckLevel>,
    /// Single, pair or cluster.
    pub shape: Shape,
    /// Every photosite of the group with its strength.
    pub photosites: Vec<Photosite>,
    /// Blinking: the probability it is on in a frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_probability: Option<f32>,
    /// Blinking: the frames (0-based) in which it was on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_frames: Option<Vec<usize>>,
    /// Every photosite is within 3 px of the frame edge.
    pub edge: bool,
    /// In at least half the frames, at one of its photosites, the defect moved the
    /// developed value (before JPEG) in the photosite's own channel by at least
    /// [`crate::VISIBLE_LEVELS`] levels in its direction (against the same frame developed
    /// without it), and the photo (the decoded JPEG) shows the photosite that far off the
    /// median of its ring (the same channel [`crate::RING`] pixels away), either way. Set by
    /// [`crate::write_series`]; false in a freshly placed list.
    pub detectable: bool,
    /// The frames (0-based) in which it was visible in that sense.
    pub visible_frames: Vec<usize>,
}

impl DefectGroup {
    /// Whether the group is on in frame `index` (always, except for blinking groups).
    pub fn is_on(&self, index: usize) -> bool {
        match &self.on_frames {
            Some(frames) => frames.binary_search(&index).is_ok(),
            None => true,
        }
    }

    /// Smallest and largest column and row of its photosites.
    pub fn bounds(&self) -> (u32, u32, u32, u32) {
        let xs = self.photosites.iter().map(|p| p.x);
        let ys = self.photosites.iter().map(|p| p.y);
        (
            xs.clone().min().unwrap_or(0),
            ys.clone().min().unwrap_or(0),
            xs.max().unwrap_or(0),
            ys.max().unwrap_or(0),
        )
    }
}

/// The Bayer colour of photosite (x, y) in an RGGB mosaic: 0 = R, 1 = G, 2 = B.
pub fn bayer_channel(x: u32, y: u32) -> u8 {
    match (x & 1, y & 1) {
        (0, 0) => 0,
        (1, 1) => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_counts_round_trip_through_text() {
        let c: KindCounts = "stuck-high=2,hot=3,blinking=1".parse().unwrap();
        assert_eq!((c.stuck_high, c.hot, c.blinking, c.warm), (2, 3, 1, 0));
        assert_eq!(c.to_string().parse::<KindCounts>().unwrap(), c);
        assert_eq!("none".parse::<KindCounts>().unwrap(), KindCounts::default());
        assert!("hat=2".parse::<KindCounts>().is_err());
        assert!("hot".parse::<KindCounts>().is_err());
    }
}
