//! Crowded tiles: a sensor's defects are sparse, so a tile crowded with
//! points that stood out in every frame is a still scene there (a star
//! field on a tracking mount, a lit foreground) that its fine detail did not
//! show as one view (noise sets the signatures of a dark sky at random).
//! Such tiles are judged again as one view, by stillness and shape only. A
//! still scene's points mostly fail that judgement (they neither stand
//! still nor sit on one photosite); where most of them pass, they are
//! defects after all (a sensor with very many), and the tiles keep their
//! first verdicts.

use std::collections::HashSet;

use super::Defect;
use crate::evidence::RING;
use crate::params::{CROWDED_BLOCK, CROWDED_TILE};
use crate::similarity::TileGrid;

/// Defects per tile.
pub(super) struct Crowd {
    grid: TileGrid,
    per_tile: Vec<usize>,
}

impl Crowd {
    pub fn of(grid: TileGrid, defects: &[Defect]) -> Crowd {
        let mut per_tile = vec![0usize; grid.len()];
        for d in defects {
            per_tile[grid.tile_of(d.x as usize, d.y as usize)] += 1;
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

    /// Whether each tile is crowded: it holds [`CROWDED_TILE`] defects or
    /// more, or its block of 3x3 tiles [`CROWDED_BLOCK`] or more.
    pub fn crowded(&self) -> Vec<bool> {
        (0..self.per_tile.len())
            .map(|t| {
                let around: usize = self.block(t).map(|u| self.per_tile[u]).sum();
                self.per_tile[t] >= CROWDED_TILE || around >= CROWDED_BLOCK
            })
            .collect()
    }

    /// The crowded tiles (`crowded`, of this crowd of the defects `first`)
    /// where more than half of the first defects in the crowded tiles of
    /// their block passed as one view (a defect of `after` within
    /// [`RING`] of its peak): not a still scene. Each tile decides over its
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
