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
//! only a few of its 64 bits. A featureless tile (a black sky, whose cells
//! tie at the median) says nothing either way.
//!
//! Known limit: a still star field over a noisy sky (a tracking mount)
//! leaves signatures of noise, so its tiles count as many views and its
//! stars are seen in every frame: only their shape tells them from hot
//! pixels, and faint stars are nearly as sharp.

/// Side of a tile, in pixels.
pub const TILE: usize = 64;
/// Cells a tile has along each side.
const CELLS: usize = 8;
/// Side of a cell, in pixels.
const CELL: usize = TILE / CELLS;
/// Fewer whole cells than this in a tile (a sliver at the frame's edge)
/// say nothing: the tile takes its neighbour's views.
const MIN_CELLS: u32 = 16;
/// Fewer frames than this say nothing of views: with 2 to 4 photos, a few
/// comparisons are all there is, and different scenes with a road, a roof
/// line or a sky at one height agree on 3/4 of a tile's cells now and then
/// (seen on the COOLPIX P6000 photos: 3 runs of 3 photos in 84 went one view
/// somewhere). Nor could so few frames of one view tell a defect from a
/// static scene point.
const MIN_FRAMES: usize = 5;

/// Words a tile's signature takes.
pub const WORDS: usize = 1;

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

    /// The top-left pixel of tile `t`.
    pub fn origin(&self, t: usize) -> (usize, usize) {
        ((t % self.width) * TILE, (t / self.width) * TILE)
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
/// a pixel (see the module docs): [`WORDS`] a tile, in tile order.
pub fn tile_signatures(frame: &[u8], width: usize, height: usize) -> Vec<u64> {
    let grid = TileGrid::of(width, height);
    let channels = frame.len() / (width * height).max(1);
    let (cells_x, cells_y) = (width.div_ceil(CELL), height.div_ceil(CELL));
    let mut energy = vec![0u32; cells_x * cells_y];
    if channels == 0 || width < 3 {
        return vec![0; grid.len() * WORDS];
    }
    cell_energy(frame, width, height, channels, &mut energy);
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

/// Each cell's fine detail: over every other row and every other pixel of
/// it, the luma's (sum of the channels') absolute differences to the pixel
/// 2 to the right and 2 below (where they exist), summed. Row by row, the
/// luma of the even pixels first, so that the loops vectorise.
fn cell_energy(frame: &[u8], width: usize, height: usize, channels: usize, energy: &mut [u32]) {
    let stride = width * channels;
    let cells_x = width.div_ceil(CELL);
    let evens = width.div_ceil(2);
    // Pixels x = 2i with x + 2 inside the row.
    let pairs = (width - 2).div_ceil(2);
    let luma_of = |y: usize, out: &mut [u16]| {
        let row = &frame[y * stride..(y + 1) * stride];
        let pixel = |p: &[u8]| p[..channels].iter().map(|&v| u16::from(v)).sum::<u16>();
        // Two pixels a chunk, the even one counted; an odd width leaves
        // the last pixel alone.
        let chunks = row.chunks_exact(2 * channels);
        let last = chunks.remainder();
        let whole = width / 2;
        match channels {
            3 => {
                for (o, p) in out[..whole].iter_mut().zip(chunks) {
                    *o = u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2]);
                }
            }
            _ => {
                for (o, p) in out[..whole].iter_mut().zip(chunks) {
                    *o = pixel(p);
                }
            }
        }
        if !last.is_empty() {
            out[whole] = pixel(last);
        }
    };
    let (mut luma, mut below, mut e) = (vec![0u16; evens], vec![0u16; evens], vec![0u32; pairs]);
    luma_of(0, &mut luma);
    for y in (0..height).step_by(2) {
        let has_below = y + 2 < height;
        if has_below {
            luma_of(y + 2, &mut below);
        }
        let diff = |a: u16, b: u16| u32::from(a.abs_diff(b));
        for (i, e) in e.iter_mut().enumerate() {
            *e = diff(luma[i], luma[i + 1]);
        }
        if has_below {
            for (e, (&a, &b)) in e.iter_mut().zip(luma.iter().zip(&below)) {
                *e += diff(a, b);
            }
        }
        let cells = &mut energy[y / CELL * cells_x..(y / CELL + 1) * cells_x];
        // A cell is 8 pixels wide: 4 of the even ones.
        for (c, chunk) in cells.iter_mut().zip(e.chunks(CELL / 2)) {
            *c += chunk.iter().sum::<u32>();
        }
        std::mem::swap(&mut luma, &mut below);
    }
}

/// Whether two frames show one view in a tile of `cells` whole cells: their
/// bits agree on [`SAME_VIEW`] of the cells. A featureless tile (a black
/// sky: its cells tie at the median) sets few bits, and few bits agree by
/// chance: it says nothing.
fn same_view(a: u64, b: u64, whole: u64, cells: u32) -> bool {
    let detailed = |s: u64| s.count_ones() * 4 >= cells;
    let agree = cells - ((a ^ b) & whole).count_ones();
    detailed(a) && detailed(b) && f64::from(agree) >= SAME_VIEW * f64::from(cells)
}

/// The share of a tile's cells on which two frames of one view agree.
pub const SAME_VIEW: f64 = 0.75;

/// Frames compared with each later frame (views are taken one after
/// another, and paths sort in shooting order).
const WINDOW: usize = 32;

/// How many views the frames show, tile by tile, and how static the scene
/// is cell by cell.
#[derive(Debug, Clone, PartialEq)]
pub struct TileViews {
    pub grid: TileGrid,
    /// Cells across the frame (the grid's tiles × [`CELLS`]).
    cells_x: usize,
    /// Per cell: how consistently its fine detail stays above or below its
    /// tile's median over the frames (0 to 1; −1 featureless or partial).
    /// See [`TileViews::at`].
    cell_static: Vec<f32>,
    /// The mean and standard deviation of that consistency for bits set at
    /// random, at this number of frames.
    chance: (f32, f32),
    /// Per tile: the effective number of views, n² / the ordered pairs of
    /// frames showing one view (each frame with itself included): n for
    /// frames all different, 1 for one view.
    pub views: Vec<f32>,
    /// Per tile: the share of pairs of frames showing one view.
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
            if cells < MIN_CELLS || n < MIN_FRAMES {
                continue;
            }
            let mut same = 0u64;
            for i in 0..n {
                for j in i + 1..n.min(i + 1 + WINDOW) {
                    let (a, b) = (signatures[i][t], signatures[j][t]);
                    same += u64::from(same_view(a, b, whole, cells));
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
        let cells_x = grid.width * CELLS;
        let (cell_static, chance) = cell_consistency(signatures, &grid);
        TileViews {
            grid,
            views,
            alike,
            cells_x,
            cell_static,
            chance,
        }
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
            cells_x: CELLS,
            cell_static: Vec::new(),
            chance: (0.0, 0.0),
        }
    }

    /// Tiles of [`TILE`] pixels over a `width` x `height` frame, each
    /// showing `views` views with a share `alike` of alike pairs.
    #[cfg(test)]
    pub fn uniform_over(width: usize, height: usize, views: f32, alike: f32) -> TileViews {
        let grid = TileGrid::of(width, height);
        let n = grid.len();
        TileViews {
            grid,
            views: vec![views; n],
            alike: vec![alike; n],
            ..TileViews::uniform(views, alike)
        }
    }

    /// Takes tile `t` of a series of `frames` frames as showing one view in
    /// at least a share `alike` of its pairs of frames (its views then
    /// n / (1 + alike (n − 1)), as [`TileViews::new`] counts them).
    pub fn set_alike_at_least(&mut self, t: usize, alike: f32, frames: u64) {
        if alike <= self.alike[t] {
            return;
        }
        let n = frames as f32;
        self.alike[t] = alike;
        self.views[t] = self.views[t].min(n / (1.0 + alike * (n - 1.0)));
    }

    /// Takes tile `t` as one view (see [`crate::detect::detect`]).
    pub fn set_one_view(&mut self, t: usize) {
        self.views[t] = 1.0;
        self.alike[t] = 1.0;
    }

    /// Views, and how much one view the frames show, at pixel (`x`, `y`):
    /// the share of pairs of frames alike in its tile, or, where more, how
    /// static the scene is in the 8 cells around its own. Around, not in:
    /// a hot pixel makes its own cell's detail as steady as a static scene
    /// point would, but not its neighbours'. A tile astride a horizon is
    /// half moving sky and half static ground; a point of the ground is
    /// judged by the ground around it.
    pub fn at(&self, x: usize, y: usize) -> (f32, f32) {
        let t = self.grid.tile_of(x, y);
        (self.views[t], self.alike[t].max(self.static_around(x, y)))
    }

    fn static_around(&self, x: usize, y: usize) -> f32 {
        if self.cell_static.is_empty() {
            return 0.0;
        }
        let rows = self.cell_static.len() / self.cells_x;
        let (cx, cy) = ((x / CELL) as isize, (y / CELL) as isize);
        let (mut sum, mut n) = (0f32, 0u32);
        for dy in -1..=1isize {
            for dx in -1..=1isize {
                let (nx, ny) = (cx + dx, cy + dy);
                if (dx, dy) == (0, 0) || nx < 0 || ny < 0 {
                    continue;
                }
                let (nx, ny) = (nx as usize, ny as usize);
                if nx >= self.cells_x || ny >= rows {
                    continue;
                }
                let v = self.cell_static[ny * self.cells_x + nx];
                if v >= 0.0 {
                    sum += v;
                    n += 1;
                }
            }
        }
        if n == 0 {
            return 0.0;
        }
        // Static only beyond what bits set at random reach, 3 standard
        // deviations of the mean of n cells: 2 frames never reach it.
        let (mean, sd) = self.chance;
        let from = mean + 3.0 * sd / (n as f32).sqrt();
        if from >= 1.0 {
            return 0.0;
        }
        ((sum / n as f32 - from) / (1.0 - from)).clamp(0.0, 1.0)
    }
}

/// Per cell of the frame (row by row over the grid's cells): how
/// consistently its signature bit stays the same over the frames. With `k`
/// of `n` frames setting it, the share of pairs of frames that agree is
/// (C(k,2) + C(n−k,2)) / C(n,2): 1 when every frame agrees, ½ on average for
/// bits set at random; its excess over ½, doubled (0..1). Cells not wholly
/// inside the frame, and cells never above their tile's median (featureless
/// in every frame: nothing there could be static or move), are −1. Also the
/// mean and standard deviation of that measure for random bits at this `n`.
fn cell_consistency(signatures: &[&[u64]], grid: &TileGrid) -> (Vec<f32>, (f32, f32)) {
    let n = signatures.len();
    let (cells_x, cells_y) = (grid.width * CELLS, grid.height * CELLS);
    let mut out = vec![-1f32; cells_x * cells_y];
    if n < MIN_FRAMES {
        return (out, (0.0, 1.0));
    }
    let pairs = (n * (n - 1) / 2) as f64;
    let agree = |k: usize| {
        let same = (k * k.saturating_sub(1) / 2 + (n - k) * (n - k).saturating_sub(1) / 2) as f64;
        (2.0 * same / pairs - 1.0).max(0.0)
    };
    // What bits set at random (k ~ Binomial(n, ½)) give.
    let (mut mean, mut square) = (0.0, 0.0);
    let mut p = 0.5f64.powi(n as i32);
    for k in 0..=n {
        mean += p * agree(k);
        square += p * agree(k) * agree(k);
        p *= (n - k) as f64 / (k + 1) as f64;
    }
    let chance = (mean as f32, (square - mean * mean).max(0.0).sqrt() as f32);
    for t in 0..grid.len() {
        let whole = grid.whole_cells(t);
        let (tx, ty) = (t % grid.width, t / grid.width);
        for b in (0..64).filter(|b| whole >> b & 1 == 1) {
            let k = signatures.iter().filter(|s| s[t] >> b & 1 == 1).count();
            let v = if k == 0 { -1.0 } else { agree(k) };
            let (cx, cy) = (tx * CELLS + b % CELLS, ty * CELLS + b / CELLS);
            out[cy * cells_x + cx] = v as f32;
        }
    }
    (out, chance)
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

    /// The cells' detail pixel by pixel, as the definition reads.
    fn plain_energy(frame: &[u8], w: usize, h: usize, ch: usize) -> Vec<u32> {
        let cells_x = w.div_ceil(CELL);
        let mut energy = vec![0u32; cells_x * h.div_ceil(CELL)];
        let luma = |x: usize, y: usize| -> i64 {
            (0..ch)
                .map(|c| i64::from(frame[(y * w + x) * ch + c]))
                .sum()
        };
        for y in (0..h).step_by(2) {
            for x in (0..w - 2).step_by(2) {
                let mut e = (luma(x, y) - luma(x + 2, y)).abs();
                if y + 2 < h {
                    e += (luma(x, y) - luma(x, y + 2)).abs();
                }
                energy[y / CELL * cells_x + x / CELL] += e as u32;
            }
        }
        energy
    }

    #[test]
    fn cell_detail_is_the_definition() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for (w, h, ch) in [
            (3usize, 1usize, 1usize),
            (8, 8, 3),
            (67, 45, 3),
            (130, 71, 1),
            (33, 17, 4),
        ] {
            let frame: Vec<u8> = (0..w * h * ch)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 24) as u8
                })
                .collect();
            let mut energy = vec![0u32; w.div_ceil(CELL) * h.div_ceil(CELL)];
            cell_energy(&frame, w, h, ch, &mut energy);
            assert_eq!(energy, plain_energy(&frame, w, h, ch), "{w}x{h}x{ch}");
        }
    }

    fn views_of(frames: &[Vec<u8>], w: usize, h: usize) -> TileViews {
        let sigs: Vec<Vec<u64>> = frames.iter().map(|f| tile_signatures(f, w, h)).collect();
        let refs: Vec<&[u64]> = sigs.iter().map(|s| s.as_slice()).collect();
        TileViews::new(&refs, w, h)
    }

    #[test]
    fn one_view_under_several_exposures_is_alike_and_other_views_are_not() {
        let (w, h) = (200, 130);
        let bracket: Vec<Vec<u8>> = [1.0, 0.5, 0.7, 0.9, 0.6]
            .iter()
            .map(|&g| texture(w, h, 1, 0, g))
            .collect();
        let tv = views_of(&bracket, w, h);
        assert!(tv.alike.iter().all(|&s| s == 1.0), "{:?}", tv.alike);
        assert!(tv.views.iter().all(|&v| v == 1.0));
        let varied: Vec<Vec<u8>> = (0..5)
            .map(|k| texture(w, h, 7 + k, 24 * k as usize, 1.0))
            .collect();
        let tv = views_of(&varied, w, h);
        assert!(tv.alike.iter().all(|&s| s == 0.0), "{:?}", tv.alike);
        assert!(tv.views.iter().all(|&v| v == 5.0));
        // Five frames, three of one view: 25 / (5 + 2 × 3) views.
        let mut burst = varied[..2].to_vec();
        burst.extend(bracket[..3].iter().cloned());
        let tv = views_of(&burst, w, h);
        assert!(
            tv.views.iter().all(|&v| (v - 25.0 / 11.0).abs() < 1e-5),
            "{:?}",
            tv.views
        );
        // Fewer than 5 frames say nothing: every frame a view of its own.
        let tv = views_of(&bracket[..4], w, h);
        assert!(tv.views.iter().all(|&v| v == 4.0) && tv.alike.iter().all(|&s| s == 0.0));
        assert_eq!(tv.at(10, 10), (4.0, 0.0));
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
        let bracket: Vec<Vec<u8>> = [1.0, 0.7, 0.8, 0.9, 0.6]
            .iter()
            .map(|&g| texture(w, h, 1, 0, g))
            .collect();
        let tv = views_of(&bracket, w, h);
        assert_eq!(tv.views, vec![1.0; 4]);
        assert_eq!(tv.at(69, 65), (1.0, 1.0));
        // A frame too small for a whole cell has no signature to compare.
        assert_eq!(tile_signatures(&[7; 12], 2, 2), vec![0; WORDS]);
    }
}
