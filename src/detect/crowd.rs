//! Crowded tiles: a sensor's defects are sparse, so a tile crowded with
//! points that stood out in every frame is a still scene there (a star
//! field on a tracking mount, a lit foreground) that its fine detail did not
//! show as one view (noise sets the signatures of a dark sky at random).
//! Such tiles are judged again as one view, by stillness and shape only. A
//! still scene's points mostly fail that judgement (they neither stand
//! still nor sit on one photosite); where most of them pass, they are
//! defects after all (a sensor with very many), and the tiles keep their
//! first verdicts.
//!
//! The crowd counts every point that stood out in every frame, the scene's
//! too: a point whose frames supported it but whose shape turned it away (a
//! star's halo, part of a larger shape) is still a point of a still scene
//! there, unless it lies in a defect's own footprint. On an astro series
//! (one exposure × gain) so are the points of tiles already judged as one
//! view that stood out as far as a defect would in nearly every frame: a
//! tracked sky's stars where it stands still count in the crowd of the
//! tiles beside them, where the turning foreground makes the frames differ.

use std::collections::{HashMap, HashSet};

use super::group;
use super::planes::MARGIN;
use super::{Defect, Features};
use crate::evidence::{Layout, RING};
use crate::params::{CROWDED_BLOCK, CROWDED_TILE};
use crate::similarity::TileGrid;

/// The places of the groups of `vetoed` subpixels (see
/// [`Features::vetoed`]) outside every defect's footprint ([`MARGIN`]
/// pixels around its peak: demosaicing and JPEG spread a defect that far,
/// and its own spread may be turned away by its shape): points of the scene
/// that stood out in every frame.
pub(super) fn scene_points(
    layout: Layout,
    vetoed: &HashMap<usize, Features>,
    defects: &[Defect],
) -> Vec<(usize, usize)> {
    let near = |x: usize, y: usize, d: &Defect| {
        (d.x as usize).abs_diff(x) <= MARGIN && (d.y as usize).abs_diff(y) <= MARGIN
    };
    group::groups(layout, vetoed)
        .iter()
        .map(|&(_, peak)| {
            let p = peak / layout.channels;
            (p % layout.width, p / layout.width)
        })
        .filter(|&(x, y)| !defects.iter().any(|d| near(x, y, d)))
        .collect()
}

/// Defects and scene points per tile.
pub(super) struct Crowd {
    grid: TileGrid,
    per_tile: Vec<usize>,
}

impl Crowd {
    pub fn of(grid: TileGrid, defects: &[Defect], scene: &[(usize, usize)]) -> Crowd {
        let mut per_tile = vec![0usize; grid.len()];
        for d in defects {
            per_tile[grid.tile_of(d.x as usize, d.y as usize)] += 1;
        }
        for &(x, y) in scene {
            per_tile[grid.tile_of(x, y)] += 1;
        }
        Crowd { grid, per_tile }
    }

    /// The 3x3 tiles around tile `t`, moved inwards at the frame's edges.
    fn block(&self, t: usize) -> impl Iterator<Item = usize> {
        let (gw, gh) = (self.grid.width, self.grid.height);
        let (tx, ty) = (t % gw, t / gw);
        let x0 = tx.saturating_sub(1).min(gw.saturating_sub(3));
        let y0 = ty.saturating_sub(1).min(gh.saturating_sub(3));
        (y0..(y0 + 3).min(gh)).flat_map(move |y| (x0..(x0 + 3).min(gw)).map(move |x| y * gw + x))
    }

    /// Whether each tile is crowded: it holds [`CROWDED_TILE`] points
    /// (defects and scene points) or more, or its block of 3x3 tiles
    /// [`CROWDED_BLOCK`] or more.
    pub fn crowded(&self) -> Vec<bool> {
        (0..self.per_tile.len())
            .map(|t| {
                let around: usize = self.block(t).map(|u| self.per_tile[u]).sum();
                self.per_tile[t] >= CROWDED_TILE || around >= CROWDED_BLOCK
            })
            .collect()
    }

    /// The crowded tiles (`crowded`, of this crowd of the defects `first`
    /// and the scene points) where more than half of the points in the
    /// crowded tiles of their block are first defects that passed as one
    /// view (a defect of `after` within [`RING`] of its peak): not a still
    /// scene. Each tile decides over its
    /// own block, so neighbouring tiles may decide apart.
    pub fn refuted(&self, first: &[Defect], after: &[Defect], crowded: &[bool]) -> Vec<bool> {
        let found: HashSet<(u32, u32)> = after.iter().map(|d| (d.x, d.y)).collect();
        let ring = RING as u32;
        let mut passed = vec![0usize; self.per_tile.len()];
        for d in first {
            let t = self.grid.tile_of(d.x as usize, d.y as usize);
            let near = (d.y.saturating_sub(ring)..=d.y + ring)
                .any(|y| (d.x.saturating_sub(ring)..=d.x + ring).any(|x| found.contains(&(x, y))));
            if crowded[t] && near {
                passed[t] += 1;
            }
        }
        (0..crowded.len())
            .map(|t| {
                let (before, kept) = self
                    .block(t)
                    .filter(|&u| crowded[u])
                    .fold((0, 0), |(b, k), u| (b + self.per_tile[u], k + passed[u]));
                crowded[t] && kept * 2 > before
            })
            .collect()
    }
}
