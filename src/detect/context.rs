//! What the detector knows of the series beyond each subpixel's sums: how
//! much dark current each frame could show, and which frames show the same
//! view.

use crate::evidence::DARK_WEIGHT_MAX;
use crate::params::SAME_EXPOSURE;
use crate::similarity::{alike_groups, median_similarity, TileViews};

/// The series as the detector sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub frames: u64,
    /// Σ dark weight and Σ dark weight² over the frames.
    pub dark_sum: f64,
    pub dark_sq: f64,
    /// Frames long or high-ISO enough to show dark current (weight > 0).
    pub revealing: u64,
    /// Frames in the largest group whose thumbnails show one view (for the
    /// warnings: the detector asks tile by tile).
    pub largest_group: u64,
    /// Median correlation between frames' thumbnails; `None` with fewer
    /// than two.
    pub similarity: Option<f64>,
    /// The share of pairs of frames whose thumbnails show one view (in one
    /// group): 1 for a tripod series, 0 for frames of different scenes.
    pub alike_pairs: f32,
    /// How many views the frames show, tile by tile.
    pub tiles: TileViews,
    /// What the frames' EXIF says of their exposure × gain.
    pub exposures: Exposures,
}

/// What the frames' EXIF says of their exposure × gain, which decides how a
/// scene point moves over them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Exposures {
    /// Some frame's exposure time is not known (or there is no frame):
    /// nothing is assumed.
    #[default]
    Unknown,
    /// Every frame was taken at one exposure × gain (an astro series): a
    /// scene point brighter than its neighbours moves by noise alone, as
    /// they do, not in proportion to its level.
    One,
    /// Exposure × gain is known for every frame and differs between them (a
    /// bracket): a scene point moves with them in proportion to its level.
    Differ,
}

impl Exposures {
    /// Of the frames of `exposures` (exposure time in seconds and ISO from
    /// each frame's EXIF): one exposure × gain where every frame's is known
    /// and all are within [`SAME_EXPOSURE`] of each other. An unknown ISO
    /// is taken as ISO 100, as [`crate::evidence::dark_weight`] does.
    pub fn of(exposures: &[(Option<f64>, Option<u32>)]) -> Exposures {
        match dose_spread(exposures) {
            None => Exposures::Unknown,
            Some(spread) if spread <= SAME_EXPOSURE => Exposures::One,
            Some(_) => Exposures::Differ,
        }
    }
}

/// The greatest exposure × gain of the frames over their least, less 1,
/// where every frame's exposure time is known.
fn dose_spread(exposures: &[(Option<f64>, Option<u32>)]) -> Option<f64> {
    let doses: Option<Vec<f64>> = exposures
        .iter()
        .map(|&(t, iso)| {
            t.filter(|t| t.is_finite() && *t > 0.0)
                .map(|t| t * f64::from(iso.unwrap_or(100).max(1)))
        })
        .collect();
    let doses = doses.filter(|d| !d.is_empty())?;
    let lo = doses.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = doses.iter().copied().fold(0.0, f64::max);
    Some(hi / lo - 1.0)
}

impl Context {
    /// From each frame's dark-current weight and thumbnail (in path order)
    /// and the views of its tiles.
    pub fn new(weights: &[u8], thumbnails: &[Vec<f32>], tiles: TileViews) -> Context {
        assert_eq!(weights.len(), thumbnails.len(), "one weight a frame");
        let groups = alike_groups(thumbnails);
        let mut sizes = vec![0u64; groups.len()];
        for &g in &groups {
            sizes[g] += 1;
        }
        let similarity = median_similarity(thumbnails);
        let pairs = |k: u64| (k * k.saturating_sub(1) / 2) as f64;
        let n = weights.len() as u64;
        let alike_pairs = if n < 2 {
            0.0
        } else {
            (sizes.iter().map(|&k| pairs(k)).sum::<f64>() / pairs(n)) as f32
        };
        Context {
            frames: weights.len() as u64,
            dark_sum: weights.iter().map(|&w| f64::from(w)).sum(),
            dark_sq: weights.iter().map(|&w| f64::from(w).powi(2)).sum(),
            revealing: weights.iter().filter(|&&w| w > 0).count() as u64,
            largest_group: sizes.iter().copied().max().unwrap_or(0),
            similarity,
            alike_pairs,
            tiles,
            exposures: Exposures::Unknown,
        }
    }

    /// The root mean square of the frames' dark weights (0 without frames):
    /// the scale of Σ weight × excess against Σ excess.
    pub fn rms_dark_weight(&self) -> f32 {
        if self.frames == 0 {
            return 0.0;
        }
        (self.dark_sq / self.frames as f64).sqrt() as f32
    }

    /// This context with the tiles whose top-left pixels are `origins`
    /// taken as one view (the crowded tiles of a detection, see
    /// [`super::detect`]).
    pub fn with_one_view(&self, origins: &[[u32; 2]]) -> Context {
        let mut ctx = self.clone();
        let grid = ctx.tiles.grid;
        for &[x, y] in origins {
            ctx.tiles.set_one_view(grid.tile_of(x as usize, y as usize));
        }
        ctx
    }

    /// This context with the tiles `tiles` (indices) showing one view in at
    /// least a share `alike` of their pairs of frames.
    pub fn with_alike(&self, tiles: &[usize], alike: f32) -> Context {
        let mut ctx = self.clone();
        for &t in tiles {
            ctx.tiles.set_alike_at_least(t, alike, self.frames);
        }
        ctx
    }

    /// A series of `frames` different views with no exposure data: every
    /// weight 0, no groups.
    pub fn unknown(frames: u64) -> Context {
        Context {
            frames,
            dark_sum: 0.0,
            dark_sq: 0.0,
            revealing: 0,
            largest_group: 1,
            similarity: None,
            alike_pairs: 0.0,
            tiles: TileViews::uniform(frames as f32, 0.0),
            exposures: Exposures::Unknown,
        }
    }

    /// At pixel (`x`, `y`): frame counts scaled to independent views (a
    /// group of alike frames shows one view, so its sightings count as
    /// one), and the share of pairs of frames showing one view there.
    pub fn view_at(&self, x: usize, y: usize) -> (f64, f32) {
        let (views, alike) = self.tiles.at(x, y);
        let per_view = if self.frames == 0 {
            1.0
        } else {
            (f64::from(views) / self.frames as f64).min(1.0)
        };
        (per_view, alike)
    }

    /// Whether the frame weights can separate an offset from dark current:
    /// they must differ between frames.
    pub fn separates_dark(&self) -> bool {
        let n = self.frames as f64;
        n >= 2.0 && self.dark_sq * n - self.dark_sum * self.dark_sum > 1e-9
    }

    /// Least-squares offset and dark-current slope (per unit of weight) of
    /// excess sums `e0` = Σ excess and `e1` = Σ weight × excess, under
    /// excess = offset + slope × weight; the slope is `None` when the
    /// weights cannot separate the two.
    pub fn fit(&self, e0: f64, e1: f64) -> (f64, Option<f64>) {
        let n = self.frames.max(1) as f64;
        if !self.separates_dark() {
            return (e0 / n, None);
        }
        let det = n * self.dark_sq - self.dark_sum * self.dark_sum;
        let slope = (n * e1 - self.dark_sum * e0) / det;
        let offset = (e0 - self.dark_sum * slope) / n;
        (offset, Some(slope))
    }
}

/// A slope per unit of dark weight as a rate: linear levels a second at ISO
/// 100 (a weight of [`DARK_WEIGHT_MAX`] is one second at ISO 100).
pub fn rate_per_second(slope: f64) -> f64 {
    slope * f64::from(DARK_WEIGHT_MAX) / crate::evidence::DARK_FULL_SECONDS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thumbs(views: &[usize]) -> Vec<Vec<f32>> {
        views
            .iter()
            .map(|&v| {
                (0..192)
                    .map(|i| ((i * (v + 3) * 7919) % 97) as f32)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_burst_is_one_group_and_its_weight_is_counted() {
        let weights = [0, 15, 4, 4, 4, 0];
        let ctx = Context::new(
            &weights,
            &thumbs(&[0, 1, 2, 2, 2, 3]),
            TileViews::uniform(4.0, 0.2),
        );
        assert_eq!(ctx.largest_group, 3);
        // 3 of the 15 pairs of frames are in one group.
        assert!((ctx.alike_pairs - 0.2).abs() < 1e-6, "{}", ctx.alike_pairs);
        assert_eq!(ctx.revealing, 4);
        let (per_view, alike) = ctx.view_at(10, 10);
        assert!((per_view - 4.0 / 6.0).abs() < 1e-12 && alike == 0.2);
    }

    #[test]
    fn the_fit_recovers_offset_and_slope() {
        let weights = [0u8, 0, 3, 7, 15, 15, 1];
        let ctx = Context::new(
            &weights,
            &thumbs(&[0, 1, 2, 3, 4, 5, 6]),
            TileViews::uniform(7.0, 0.0),
        );
        let (offset, slope) = (4.0, 2.5);
        let e: Vec<f64> = weights
            .iter()
            .map(|&w| offset + slope * f64::from(w))
            .collect();
        let e0 = e.iter().sum();
        let e1 = e.iter().zip(&weights).map(|(e, &w)| e * f64::from(w)).sum();
        let (a, b) = ctx.fit(e0, e1);
        assert!((a - offset).abs() < 1e-9 && (b.unwrap() - slope).abs() < 1e-9);
        // Weights all alike: no slope.
        let flat = Context::new(
            &[5, 5, 5],
            &thumbs(&[0, 1, 2]),
            TileViews::uniform(3.0, 0.0),
        );
        assert_eq!(flat.fit(30.0, 150.0), (10.0, None));
    }
}
