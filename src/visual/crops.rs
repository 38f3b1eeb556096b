//! `--crops`: a contact sheet with one tile per defect, in report order: the
//! mean image around it (what the photos show on average) and its score
//! around it, both enlarged with square pixels, the defect's pixel outlined,
//! and a caption with its number, position, kind and score.

use image::RgbImage;

use super::{colour, draw, MARKER};
use crate::detect::{Context, Defect, Scores};
use crate::plural::plural;
use crate::report::{Report, Summary};
use crate::stats::Stats;

/// Side of the square of frame pixels shown around a defect (odd: the defect
/// is in the middle).
pub const CROP: u32 = 21;
/// Screen pixels per frame pixel.
pub const ZOOM: u32 = 8;
/// Width and height of one enlarged crop.
pub const CROP_SIZE: u32 = CROP * ZOOM;
/// Gap between the mean crop and the score crop of a tile.
const INNER_GAP: u32 = 4;
/// Height of a tile's caption: two lines of text and a margin.
const CAPTION: u32 = 2 * draw::LINE + 4;
/// A tile: mean crop, score crop, caption.
pub const TILE_WIDTH: u32 = CROP_SIZE;
pub const TILE_HEIGHT: u32 = CROP_SIZE + INNER_GAP + CROP_SIZE + CAPTION;
/// Space around and between tiles.
pub const GAP: u32 = 8;
/// Height of the title band at the top of the sheet.
pub const HEADER: u32 = 2 * draw::LINE + 4;
/// Tiles in a row, at most.
pub const COLUMNS: u32 = 8;
/// The default of `--max-crops`.
pub const DEFAULT_MAX: usize = 48;

const BACKGROUND: [u8; 3] = [24, 24, 24];
/// Where a crop reaches past the frame's edge.
const OUTSIDE: [u8; 3] = [60, 60, 72];
const TEXT: [u8; 3] = [235, 235, 235];

/// Columns and rows of a sheet of `tiles` tiles: as few rows as `COLUMNS`
/// allows, filled evenly (9 tiles are 5 + 4, not 8 + 1). No tiles leave one
/// column's width for the title and no row.
pub fn grid(tiles: usize) -> (u32, u32) {
    let tiles = tiles as u32;
    if tiles == 0 {
        return (1, 0);
    }
    let rows = tiles.div_ceil(COLUMNS);
    (tiles.div_ceil(rows), rows)
}

/// Size of a sheet of `tiles` tiles.
pub fn sheet_size(tiles: usize) -> (u32, u32) {
    let (columns, rows) = grid(tiles);
    (
        columns * TILE_WIDTH + (columns + 1) * GAP,
        HEADER + rows * TILE_HEIGHT + (rows + 1) * GAP,
    )
}

/// Draws the sheet of the first `max` defects of `report`. The sheet is at
/// least as wide as its title lines, so that no caption is cut.
pub fn render(stats: &Stats, ctx: &Context, report: &Report, max: usize) -> RgbImage {
    let scores = Scores::new(stats, ctx, report.summary.threshold);
    let shown = &report.defects[..report.defects.len().min(max)];
    let sum = &report.summary;
    let camera = sum.camera.as_deref().unwrap_or("camera unknown");
    let (title, subtitle) = if shown.is_empty() {
        (
            "hotpix: no defects".to_string(),
            format!("{camera}, {}", plural(sum.frames_used, "frame")),
        )
    } else {
        (
            format!(
                "hotpix: {} of {}; {camera}, {}",
                shown.len(),
                plural(report.defects.len() as u64, "defect"),
                plural(sum.frames_used, "frame")
            ),
            format!("top: mean of the frames; bottom: score; x{ZOOM}"),
        )
    };
    let (tiles_w, h) = sheet_size(shown.len());
    let text_w = draw::text_width(&title, 1).max(draw::text_width(&subtitle, 1));
    let w = tiles_w.max(
        u32::try_from(text_w)
            .unwrap_or(u32::MAX)
            .saturating_add(2 * GAP),
    );
    let mut img = RgbImage::from_pixel(w, h, image::Rgb(BACKGROUND));
    let g = i64::from(GAP);
    draw::text(&mut img, g, 4, &title, 1, TEXT);
    draw::text(&mut img, g, 4 + i64::from(draw::LINE), &subtitle, 1, TEXT);
    let (columns, _) = grid(shown.len());
    for (k, d) in shown.iter().enumerate() {
        let (col, row) = (k as u32 % columns, k as u32 / columns);
        let x0 = i64::from(GAP + col * (TILE_WIDTH + GAP));
        let y0 = i64::from(HEADER + GAP + row * (TILE_HEIGHT + GAP));
        tile(&mut img, stats, &scores, sum, k + 1, d, x0, y0);
    }
    img
}

/// One tile with its top-left corner at (x0, y0).
#[allow(clippy::too_many_arguments)]
fn tile(
    img: &mut RgbImage,
    stats: &Stats,
    scores: &Scores,
    summary: &Summary,
    number: usize,
    d: &Defect,
    x0: i64,
    y0: i64,
) {
    let threshold = summary.threshold;
    let (fw, fh) = (i64::from(stats.width()), i64::from(stats.height()));
    let channels = stats.channels();
    let half = i64::from(CROP / 2);
    let z = i64::from(ZOOM);
    let score_top = y0 + i64::from(CROP_SIZE + INNER_GAP);
    let top = (i64::from(d.y) - half).max(0) as usize;
    let bottom = (i64::from(d.y) + half + 1).min(fh) as usize;
    let mut best = vec![vec![0f32; CROP as usize]; CROP as usize];
    scores.rows(top..bottom, |y, row| {
        let dy = (y as i64 - i64::from(d.y) + half) as usize;
        for (dx, cell) in best[dy].iter_mut().enumerate() {
            let fx = i64::from(d.x) + dx as i64 - half;
            if fx >= 0 && fx < fw {
                let px = &row[fx as usize * channels..(fx as usize + 1) * channels];
                *cell = px.iter().fold(0f32, |a, &b| a.max(b));
            }
        }
    });
    for dy in 0..i64::from(CROP) {
        for dx in 0..i64::from(CROP) {
            let (fx, fy) = (i64::from(d.x) + dx - half, i64::from(d.y) + dy - half);
            let inside = fx >= 0 && fy >= 0 && fx < fw && fy < fh;
            let (pixel, score) = if inside {
                let i = (fy * fw + fx) as usize * channels;
                let level = |c: usize| stats.mean_at(i + c).round().clamp(0.0, 255.0) as u8;
                let rgb: [u8; 3] = if channels == 1 {
                    [level(0); 3]
                } else {
                    std::array::from_fn(level)
                };
                let s = best[dy as usize][dx as usize];
                (rgb, colour::of_score(s, threshold))
            } else {
                (OUTSIDE, OUTSIDE)
            };
            let (sx, sy) = (x0 + dx * z, dy * z);
            draw::fill(img, sx, y0 + sy, sx + z, y0 + sy + z, pixel);
            draw::fill(img, sx, score_top + sy, sx + z, score_top + sy + z, score);
        }
    }
    // Outline the defect's pixel just outside it: the pixel itself stays
    // whole and its neighbours lose only a quarter of their squares.
    let c = half * z;
    for top in [y0, score_top] {
        draw::frame(
            img,
            (x0 + c - 2, top + c - 2, x0 + c + z + 2, top + c + z + 2),
            2,
            MARKER,
        );
    }
    let channels: String = d.channels.iter().map(|c| c.name()).collect();
    let caption_top = score_top + i64::from(CROP_SIZE) + 3;
    draw::text(
        img,
        x0,
        caption_top,
        &format!("#{number} x{} y{}", d.x, d.y),
        1,
        MARKER,
    );
    draw::text(
        img,
        x0,
        caption_top + i64::from(draw::LINE),
        &format!("{} {channels} {:.1}", d.kind.name(), d.score),
        1,
        TEXT,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression guard (issue 12): with no defects the sheet was 184 pixels
    /// wide and its caption was cut.
    #[test]
    fn the_sheet_is_as_wide_as_its_caption() {
        let mut report = crate::export::tests::report_with(&[], None, None);
        report.summary.camera = Some("NIKON D80 #3001234".into());
        let mut stats = Stats::empty(crate::evidence::Layout {
            width: 4,
            height: 4,
            channels: 3,
        })
        .unwrap();
        stats.frames = 12;
        let ctx = Context::unknown(12);
        let img = render(&stats, &ctx, &report, DEFAULT_MAX);
        let caption = "NIKON D80 #3001234, 12 frames";
        assert!(
            i64::from(img.width()) >= draw::text_width(caption, 1) + 2 * i64::from(GAP),
            "{} wide",
            img.width()
        );
        // Nothing is drawn in the right margin: the text ends inside.
        let right = img.width() - GAP;
        assert!((right..img.width())
            .all(|x| (0..img.height()).all(|y| img.get_pixel(x, y).0 == BACKGROUND)));
    }

    #[test]
    fn sheet_grows_by_whole_tiles() {
        assert_eq!(grid(0), (1, 0));
        assert_eq!(sheet_size(0), (TILE_WIDTH + 2 * GAP, HEADER + GAP));
        assert_eq!(grid(9), (5, 2));
        assert_eq!(grid(3), (3, 1));
        assert_eq!(grid(8), (8, 1));
        assert_eq!(grid(48), (8, 6));
        let (w, h) = sheet_size(9);
        assert_eq!(w, 5 * TILE_WIDTH + 6 * GAP);
        assert_eq!(h, HEADER + 2 * TILE_HEIGHT + 3 * GAP);
    }
}
