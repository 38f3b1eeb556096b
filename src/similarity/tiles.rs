//! Which frames show the same view, tile by tile. Whether a static scene
//! point can explain a subpixel is a local question: on a tripod night sky
//! the foreground is one view in every frame while the stars move; a
//! hand-held burst is one view wherever it overlaps. So each frame leaves,
//! for every tile of [`TILE`] × [`TILE`] pixels, a signature of its fine
//! detail: which of the tile's 8 × 8 cells hold more fine detail (the
//! differences of neighbouring pixels 2 apart) than the tile's median cell.
//! Two frames show the same view in a tile when their signatures agree on
//! most cells. Thresholding at the median makes the signature blind to the
//! exposure, and a few bright points of the sensor's own (hot pixels) set
//! only a few of its 64 bits.

/// Side of a tile, in pixels.
pub const TILE: usize = 64;
/// Cells a tile has along each side.
const CELLS: usize = 8;
/// Side of a cell, in pixels.
const CELL: usize = TILE / CELLS;
/// Fewer whole cells than this in a tile (a sliver at the frame's edge)
/// say nothing: the tile takes its neighbour's views.
const MIN_CELLS: u32 = 16;

/// The tiles of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileGrid {
    pub width: usize,
    pub height: usize,
    /// The frame's size in pixels.
    frame: (usize, usize),
}

impl TileGrid {
    pub fn of(width: usize, height: usize) -> TileGrid {
        TileGrid {
            width: width.div_ceil(TILE).max(1),
            height: height.div_ceil(TILE).max(1),
            frame: (width, height),
        }
    }

    /// Tiles in all.
    pub fn len(&self) -> usize {
        self.width * self.height
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The tile holding pixel (`x`, `y`).
    pub fn tile_of(&self, x: usize, y: usize) -> usize {
        (y / TILE).min(self.height - 1) * self.width + (x / TILE).min(self.width - 1)
    }

    /// The cells of tile `t` lying wholly inside the frame, as bits.
    fn whole_cells(&self, t: usize) -> u64 {
        let (tx, ty) = (t % self.width, t / self.width);
        let mut bits = 0u64;
        for cy in 0..CELLS {
            for cx in 0..CELLS {
                let x_end = tx * TILE + (cx + 1) * CELL;
                let y_end = ty * TILE + (cy + 1) * CELL;
                if x_end <= self.frame.0 && y_end <= self.frame.1 {
                    bits |= 1 << (cy * CELLS + cx);
                }
            }
        }
        bits
    }
}

/// The signature of every tile of a frame of `channels` interleaved values
/// a pixel (see the module docs), in tile order.
pub fn tile_signatures(frame: &[u8], width: usize, height: usize) -> Vec<u64> {
    let grid = TileGrid::of(width, height);
    let channels = frame.len() / (width * height).max(1);
    let (cells_x, cells_y) = (width.div_ceil(CELL), height.div_ceil(CELL));
    let mut energy = vec![0u32; cells_x * cells_y];
    if channels == 0 || width < 3 {
        return vec![0; grid.len()];
    }
    let stride = width * channels;
    let luma = |row: &[u8], x: usize| -> i32 {
        row[x * channels..(x + 1) * channels]
            .iter()
            .map(|&v| i32::from(v))
            .sum()
    };
    for y in (0..height).step_by(2) {
        let row = &frame[y * stride..(y + 1) * stride];
        let below = (y + 2 < height).then(|| &frame[(y + 2) * stride..(y + 3) * stride]);
        let cells = &mut energy[y / CELL * cells_x..(y / CELL + 1) * cells_x];
        for x in (0..width - 2).step_by(2) {
            let g = luma(row, x);
            let mut e = (g - luma(row, x + 2)).unsigned_abs();
            if let Some(b) = below {
                e += (g - luma(b, x)).unsigned_abs();
            }
            cells[x / CELL] += e;
        }
    }
    (0..grid.len())
        .map(|t| {
            let whole = grid.whole_cells(t);
            let (tx, ty) = (t % grid.width, t / grid.width);
            let at = |bit: usize| {
                let (cx, cy) = (tx * CELLS + bit % CELLS, ty * CELLS + bit / CELLS);
                energy[cy * cells_x + cx]
            };
            let mut values: Vec<u32> = (0..64).filter(|b| whole >> b & 1 == 1).map(at).collect();
            if values.is_empty() {
                return 0;
            }
            let mid = values.len() / 2;
            let median = *values.select_nth_unstable(mid).1;
            (0..64)
                .filter(|&b| whole >> b & 1 == 1 && at(b) > median)
                .fold(0u64, |bits, b| bits | 1 << b)
        })
        .collect()
}

/// Agreement of two signatures at or above which a tile shows one view in
/// both frames. Different views agree on half the cells (±6% over 64); the
/// same view under another exposure on nearly all.
pub const SAME_VIEW: f64 = 0.75;

/// Frames compared with each later frame (views are taken one after
/// another, and paths sort in shooting order).
const WINDOW: usize = 32;

/// How many views the frames show, tile by tile.
#[derive(Debug, Clone, PartialEq)]
pub struct TileViews {
    pub grid: TileGrid,
    /// Per tile: the effective number of views, n² / Σ over ordered pairs
    /// (each frame with itself included) of "the same view" (n for frames
    /// all different, 1 for one view).
    pub views: Vec<f32>,
    /// Per tile: the share of pairs of frames showing the same view.
    pub alike: Vec<f32>,
}

impl TileViews {
    /// From each frame's signatures (in frame order) for frames of
    /// `width` × `height`.
    pub fn new(signatures: &[&[u64]], width: usize, height: usize) -> TileViews {
        let grid = TileGrid::of(width, height);
        let n = signatures.len();
        let mut views = vec![n as f32; grid.len()];
        let mut alike = vec![0f32; grid.len()];
        for t in 0..grid.len() {
            let whole = grid.whole_cells(t);
            let cells = whole.count_ones();
            if cells < MIN_CELLS || n < 2 {
                continue;
            }
            let mut same = 0u64;
            for i in 0..n {
                for j in i + 1..n.min(i + 1 + WINDOW) {
                    let differ = ((signatures[i][t] ^ signatures[j][t]) & whole).count_ones();
                    if f64::from(cells - differ) >= SAME_VIEW * f64::from(cells) {
                        same += 1;
                    }
                }
            }
            let (n, same) = (n as f64, same as f64);
            views[t] = (n * n / (n + 2.0 * same)) as f32;
            alike[t] = (2.0 * same / (n * (n - 1.0))) as f32;
        }
        // Slivers at the edges take the views of the tile beside them.
        for t in 0..grid.len() {
            if grid.whole_cells(t).count_ones() < MIN_CELLS {
                let (tx, ty) = (t % grid.width, t / grid.width);
                let inner = ty.min(grid.height.saturating_sub(2)) * grid.width
                    + tx.min(grid.width.saturating_sub(2));
                if grid.whole_cells(inner).count_ones() >= MIN_CELLS {
                    views[t] = views[inner];
                    alike[t] = alike[inner];
                }
            }
        }
        TileViews { grid, views, alike }
    }

    /// One tile over any frame, showing `views` views with a share `alike`
    /// of alike pairs.
    pub fn uniform(views: f32, alike: f32) -> TileViews {
        TileViews {
            grid: TileGrid {
                width: 1,
                height: 1,
                frame: (0, 0),
            },
            views: vec![views],
            alike: vec![alike],
        }
    }

    /// Views and share of alike pairs at pixel (`x`, `y`).
    pub fn at(&self, x: usize, y: usize) -> (f32, f32) {
        let t = self.grid.tile_of(x, y);
        (self.views[t], self.alike[t])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame of fine random texture (`seed`), shifted by `dx` pixels.
    fn texture(w: usize, h: usize, seed: u64, dx: usize, gain: f32) -> Vec<u8> {
        let cell = |x: usize, y: usize| {
            let mut s = (x as u64 / 3 + 7919 * (y as u64 / 3)) ^ seed.wrapping_mul(0x9E37_79B9);
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 200) as f32
        };
        let mut v = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let p = (cell(x + dx, y) * gain).min(255.0) as u8;
                v.extend([p, p, p]);
            }
        }
        v
    }

    #[test]
    fn one_view_under_two_exposures_is_alike_and_other_views_are_not() {
        let (w, h) = (200, 130);
        let a = tile_signatures(&texture(w, h, 1, 0, 1.0), w, h);
        let b = tile_signatures(&texture(w, h, 1, 0, 0.5), w, h);
        let c = tile_signatures(&texture(w, h, 2, 0, 1.0), w, h);
        let moved = tile_signatures(&texture(w, h, 1, 24, 1.0), w, h);
        let tv = TileViews::new(&[&a, &b], w, h);
        assert!(tv.alike.iter().all(|&s| s == 1.0), "{:?}", tv.alike);
        assert!(tv.views.iter().all(|&v| v == 1.0));
        let tv = TileViews::new(&[&a, &c, &moved], w, h);
        assert!(tv.alike.iter().all(|&s| s == 0.0), "{:?}", tv.alike);
        assert!(tv.views.iter().all(|&v| v == 3.0));
        // Three views, one of them in two frames: 9 / (3 + 2) views.
        let tv = TileViews::new(&[&a, &b, &c], w, h);
        assert!(tv.views.iter().all(|&v| (v - 1.8).abs() < 1e-6), "{:?}", tv.views);
    }

    #[test]
    fn a_few_bright_points_of_the_sensor_do_not_make_frames_alike() {
        // A dark sky of noise in each frame, with the same 6 hot pixels.
        let (w, h) = (128, 128);
        let frame = |seed: u64| {
            let mut v = texture(w, h, seed, 0, 0.05);
            for k in 0..6 {
                let i = ((k * 37 + 11) % h * w + (k * 53 + 5) % w) * 3;
                v[i] = 255;
            }
            v
        };
        let sigs: Vec<Vec<u64>> = (0..6).map(|s| tile_signatures(&frame(s), w, h)).collect();
        let refs: Vec<&[u64]> = sigs.iter().map(|s| s.as_slice()).collect();
        let tv = TileViews::new(&refs, w, h);
        assert!(tv.views.iter().all(|&v| v > 4.0), "{:?}", tv.views);
    }

    #[test]
    fn slivers_at_the_edges_take_their_neighbours_views() {
        let (w, h) = (70, 66);
        let grid = TileGrid::of(w, h);
        assert_eq!((grid.width, grid.height), (2, 2));
        assert_eq!(grid.whole_cells(0).count_ones(), 64);
        assert_eq!(grid.whole_cells(1), 0);
        let a = tile_signatures(&texture(w, h, 1, 0, 1.0), w, h);
        let b = tile_signatures(&texture(w, h, 1, 0, 0.7), w, h);
        let tv = TileViews::new(&[&a, &b], w, h);
        assert_eq!(tv.views, vec![1.0; 4]);
        assert_eq!(tv.at(69, 65), (1.0, 1.0));
        // A frame too small for a whole cell has no signature to compare.
        assert_eq!(tile_signatures(&[7; 12], 2, 2), vec![0]);
    }
}
