//! How alike the frames of a series are. With a tripod series or a burst,
//! static scene details stay put across frames and look like sensor defects;
//! the report warns when the frames are too alike.
//!
//! Each frame is reduced to a 16x12 grid of block brightnesses; two frames are
//! compared by the Pearson correlation of their grids, which ignores a change
//! of exposure (gain and offset). The series' similarity is the median over
//! pairs of frames. Frames whose thumbnails correlate at [`BURST`] or more
//! form a group (a burst, a tripod series): within a group a static scene
//! detail stands out in every frame, so a group is worth one view as evidence.
//!
//! Whether frames show one view is also decided tile by tile, from their
//! fine detail (see [`tiles`]): what the detector uses, since a tripod night
//! sky is one view in its foreground and many in its sky.

pub mod tiles;

pub use tiles::{tile_signatures, TileGrid, TileViews, TILE, WORDS as TILE_WORDS};

/// Grid of the thumbnail, in blocks.
const GRID_W: usize = 16;
const GRID_H: usize = 12;
/// Values in a thumbnail.
pub const THUMBNAIL_LEN: usize = GRID_W * GRID_H;
/// Pixels sampled per block row/column step (every 4th is plenty for a mean).
const STEP: usize = 4;
/// At most this many frames (evenly spaced in path order) are compared
/// pairwise, which bounds the work at ~1,100 pairs.
const MAX_COMPARED: usize = 48;

/// Median correlation at or above which frames count as too alike. Different
/// scenes correlate near 0 (±0.3); the same view under another exposure near 1.
pub const TOO_ALIKE: f64 = 0.8;

/// Correlation at or above which two frames show the same view (a burst, a
/// tripod): measured on generated series, the same view correlates 0.984 or
/// more even across a 16x exposure bracket, different views up to 0.96 (two
/// crops with a sky on top), except crops that nearly coincide, which are
/// the same view indeed.
pub const BURST: f64 = 0.98;

/// Frames compared with each later frame when grouping: bursts are taken one
/// after another, and paths sort in shooting order.
const GROUP_WINDOW: usize = 32;

/// A frame's block brightnesses (the sum of the channels of sampled pixels,
/// averaged per block), for frames of 1 or 3 channels. The sums are exact
/// integers, so the means do not depend on the order they are taken in.
pub fn thumbnail(frame: &[u8], width: usize, height: usize) -> Vec<f32> {
    let channels = frame.len() / (width * height).max(1);
    if channels == 0 {
        return vec![0.0; THUMBNAIL_LEN];
    }
    // The sampled columns of each block column: a run of every STEP-th pixel.
    let runs: Vec<(usize, usize)> = (0..GRID_W)
        .map(|gx| {
            let first = (gx * width).div_ceil(GRID_W).next_multiple_of(STEP);
            let end = ((gx + 1) * width).div_ceil(GRID_W).max(first);
            (first, (end - first).div_ceil(STEP))
        })
        .collect();
    let mut sums = [0u64; THUMBNAIL_LEN];
    let mut rows = [0u32; GRID_H];
    for y in (0..height).step_by(STEP) {
        let gy = y * GRID_H / height;
        rows[gy] += 1;
        let row = &frame[y * width * channels..(y + 1) * width * channels];
        for (sum, &(first, count)) in sums[gy * GRID_W..(gy + 1) * GRID_W].iter_mut().zip(&runs) {
            let from = (first * channels).min(row.len());
            let samples = row[from..].chunks(STEP * channels).take(count);
            *sum += samples
                .map(|p| p[..channels].iter().map(|&v| u32::from(v)).sum::<u32>())
                .sum::<u32>() as u64;
        }
    }
    (0..THUMBNAIL_LEN)
        .map(|g| {
            let samples = rows[g / GRID_W] as u64 * runs[g % GRID_W].1 as u64;
            if samples == 0 {
                0.0
            } else {
                (sums[g] as f64 / samples as f64) as f32
            }
        })
        .collect()
}

fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let mb = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        // A flat frame carries no scene to compare: count it as alike only if
        // both are flat.
        return if saa == sbb { 1.0 } else { 0.0 };
    }
    sab / (saa * sbb).sqrt()
}

/// The median pairwise correlation of the thumbnails (in frame order), or
/// `None` with fewer than 2.
pub fn median_similarity(thumbnails: &[Vec<f32>]) -> Option<f64> {
    if thumbnails.len() < 2 {
        return None;
    }
    let picked: Vec<&Vec<f32>> = if thumbnails.len() <= MAX_COMPARED {
        thumbnails.iter().collect()
    } else {
        (0..MAX_COMPARED)
            .map(|i| &thumbnails[i * thumbnails.len() / MAX_COMPARED])
            .collect()
    };
    let mut corr = Vec::new();
    for i in 0..picked.len() {
        for j in i + 1..picked.len() {
            corr.push(correlation(picked[i], picked[j]));
        }
    }
    corr.sort_by(f64::total_cmp);
    let mid = corr.len() / 2;
    Some(if corr.len() % 2 == 1 {
        corr[mid]
    } else {
        (corr[mid - 1] + corr[mid]) / 2.0
    })
}

/// Groups of frames showing the same view: the group of each frame (the
/// lowest frame index in it), from thumbnails correlating at [`BURST`] or
/// more, chained over the next [`GROUP_WINDOW`] frames in path order.
pub fn alike_groups(thumbnails: &[Vec<f32>]) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..thumbnails.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..thumbnails.len() {
        for j in i + 1..thumbnails.len().min(i + 1 + GROUP_WINDOW) {
            if correlation(&thumbnails[i], &thumbnails[j]) >= BURST {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    (0..thumbnails.len())
        .map(|i| root(&mut parent, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        let mut v = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let p = f(x, y);
                v.extend([p, p, p]);
            }
        }
        v
    }

    /// Every pixel's block looked up one at a time, the means in f64.
    fn thumbnail_direct(frame: &[u8], width: usize, height: usize) -> Vec<f32> {
        let channels = frame.len() / (width * height);
        let mut sums = vec![0f64; THUMBNAIL_LEN];
        let mut counts = vec![0u32; THUMBNAIL_LEN];
        for y in (0..height).step_by(STEP) {
            for x in (0..width).step_by(STEP) {
                let g = (y * GRID_H / height) * GRID_W + x * GRID_W / width;
                let i = (y * width + x) * channels;
                sums[g] += frame[i..i + channels]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum::<f64>();
                counts[g] += 1;
            }
        }
        sums.iter()
            .zip(&counts)
            .map(|(&s, &c)| {
                if c == 0 {
                    0.0
                } else {
                    (s / f64::from(c)) as f32
                }
            })
            .collect()
    }

    #[test]
    fn thumbnail_blocks_match_a_direct_computation() {
        // Nothing to sample: no block has a value.
        assert_eq!(thumbnail(&[], 0, 5), vec![0.0; THUMBNAIL_LEN]);
        let mut sizes = vec![(3872, 2592), (641, 479), (16, 12)];
        sizes.extend(
            (1..70)
                .step_by(3)
                .flat_map(|w| (1..40).step_by(5).map(move |h| (w, h))),
        );
        for (w, h) in sizes {
            for channels in [1usize, 3] {
                let pixels: Vec<u8> = (0..w * h * channels)
                    .map(|i| ((i * 2_654_435_761usize) >> 7) as u8)
                    .collect();
                let got = thumbnail(&pixels, w, h);
                let want = thumbnail_direct(&pixels, w, h);
                assert_eq!(got.len(), THUMBNAIL_LEN);
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "{w}x{h}x{channels}: {got:?} against {want:?}");
            }
        }
    }

    #[test]
    fn same_view_at_two_exposures_is_alike_and_different_views_are_not() {
        let (w, h) = (64, 48);
        let scene = |x: usize, y: usize| ((x * 7 + y * 13) % 50 + (x / 9) * 10) as u8;
        let dark = thumbnail(&frame(w, h, scene), w, h);
        let bright = thumbnail(&frame(w, h, |x, y| scene(x, y) * 2 + 10), w, h);
        let other = thumbnail(&frame(w, h, |x, y| ((y * 5 + 3 * x * x) % 120) as u8), w, h);
        assert!(median_similarity(&[dark.clone(), bright]).unwrap() > 0.99);
        assert!(median_similarity(&[dark.clone(), other.clone()]).unwrap() < TOO_ALIKE);
        let bright = thumbnail(&frame(w, h, |x, y| scene(x, y) * 2 + 10), w, h);
        let third = thumbnail(&frame(w, h, |x, y| ((x * x + y * 3) % 90) as u8), w, h);
        assert_eq!(
            alike_groups(&[other, dark.clone(), third, bright, dark]),
            vec![0, 1, 2, 1, 1]
        );
    }
}
