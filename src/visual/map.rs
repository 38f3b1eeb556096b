//! `--map`: the whole sensor at a viewable size, coloured by defect score
//! (max-pooled, see [`scoremap`](super::scoremap)), each reported defect
//! circled and numbered as in the report, with a legend underneath.

use image::RgbImage;

use super::{colour, draw, scoremap, MARKER};
use crate::detect::Context;
use crate::report::Report;
use crate::stats::Stats;

/// Widest map drawn; a wider frame is reduced by an integer factor.
pub const MAX_WIDTH: u32 = 1600;
/// Largest enlargement of a small frame (each pixel drawn as a square).
pub const MAX_ZOOM: u32 = 3;
/// Radius of the circle around a defect, in map pixels.
pub const RADIUS: f64 = 12.0;
/// Half the width of the circle's line.
pub const RING_HALF_WIDTH: f64 = 1.0;
/// Smallest side, in map pixels, of a subpixel above the threshold.
const DOT: u32 = 3;
/// Background of the legend.
const LEGEND_BACKGROUND: [u8; 3] = [24, 24, 24];
const LEGEND_TEXT: [u8; 3] = [235, 235, 235];
const PAD: u32 = 8;

/// Where things go on the map of a `width` × `height` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Frame pixels per map pixel (max-pooled), 1 for frames up to `MAX_WIDTH`.
    pub reduce: u32,
    /// Map pixels per frame pixel, when the frame is small enough to enlarge.
    pub zoom: u32,
    /// Size of the score picture (the top of the image).
    pub map_width: u32,
    pub map_height: u32,
    /// Font scale of numbers and legend.
    pub text_scale: u32,
    /// Height of the legend under the score picture.
    pub legend_height: u32,
}

impl Layout {
    pub fn new(width: u32, height: u32) -> Self {
        let reduce = width.div_ceil(MAX_WIDTH).max(1);
        let zoom = if reduce == 1 {
            (MAX_WIDTH / width.max(1)).clamp(1, MAX_ZOOM)
        } else {
            1
        };
        let map_width = width.div_ceil(reduce) * zoom;
        let map_height = height.div_ceil(reduce) * zoom;
        // Doubled text where a legend line of LEGEND_CHARS still fits.
        let text_scale = if map_width >= 2 * PAD + 16 * LEGEND_CHARS {
            2
        } else {
            1
        };
        let legend_height = PAD
            + LEGEND_LINES * draw::LINE * text_scale
            + bar_height(text_scale)
            + 2
            + draw::LINE * text_scale
            + PAD;
        Layout {
            reduce,
            zoom,
            map_width,
            map_height,
            text_scale,
            legend_height,
        }
    }

    /// Size of the whole image.
    pub fn size(&self) -> (u32, u32) {
        (self.map_width, self.map_height + self.legend_height)
    }

    /// The centre, in image pixels, of frame pixel (x, y).
    pub fn centre(&self, x: u32, y: u32) -> (i64, i64) {
        let at = |v: u32| i64::from(v / self.reduce * self.zoom + self.zoom / 2);
        (at(x), at(y))
    }
}

/// Lines of text in the legend above the colour bar.
const LEGEND_LINES: u32 = 3;
/// Characters the legend's lines are kept within.
const LEGEND_CHARS: u32 = 56;

fn bar_height(text_scale: u32) -> u32 {
    6 * text_scale + 4
}

/// `v` with two significant digits, without an exponent for the usual range.
fn two_digits(v: f64) -> String {
    if v.is_nan() || v <= 0.0 {
        return "0".to_string();
    }
    let decimals = (1 - v.log10().floor() as i64).clamp(0, 8) as usize;
    format!("{v:.decimals$}")
}

/// Draws the map of `report`'s defects from `stats` (the statistics the
/// report was made from). The scores are computed in parallel on the
/// current rayon pool.
pub fn render(stats: &Stats, ctx: &Context, report: &Report) -> RgbImage {
    let layout = Layout::new(stats.width(), stats.height());
    let scores = scoremap::score_map(stats, ctx, report.summary.threshold, layout.reduce as usize);
    let threshold = report.summary.threshold;
    let (w, h) = layout.size();
    let mut img = RgbImage::new(w, h);
    let z = layout.zoom;
    for (x, y, px) in img.enumerate_pixels_mut() {
        if y < layout.map_height {
            let score = scores.at((x / z) as usize, (y / z) as usize);
            px.0 = colour::of_score(score, threshold);
        } else {
            px.0 = LEGEND_BACKGROUND;
        }
    }
    // A flagged pixel is drawn at least DOT map pixels wide, weakest first,
    // so that a single one still catches the eye on a reduced map.
    if z < DOT {
        let mut flagged: Vec<(f32, usize, usize)> = (0..scores.height)
            .flat_map(|y| (0..scores.width).map(move |x| (x, y)))
            .filter_map(|(x, y)| {
                let v = scores.at(x, y);
                (f64::from(v) > threshold).then_some((v, x, y))
            })
            .collect();
        flagged.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.2, a.1).cmp(&(b.2, b.1))));
        let r = i64::from(DOT / 2);
        for (v, x, y) in flagged {
            let (cx, cy) = ((x as u32 * z + z / 2) as i64, (y as u32 * z + z / 2) as i64);
            let bottom = (cy + r + 1).min(i64::from(layout.map_height));
            draw::fill(
                &mut img,
                cx - r,
                cy - r,
                cx + r + 1,
                bottom,
                colour::of_score(v, threshold),
            );
        }
    }

    let s = layout.text_scale;
    let labels: Vec<(i64, i64, String)> = report
        .defects
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let (cx, cy) = layout.centre(d.x, d.y);
            let label = format!("{}", k + 1);
            let (lw, lh) = (draw::text_width(&label, s), i64::from(8 * s));
            let off = (RADIUS * 0.7) as i64 + 2;
            // Up and to the right of the circle; inward where that leaves the map.
            let mut lx = cx + off;
            if lx + lw > i64::from(layout.map_width) {
                lx = cx - off - lw;
            }
            let mut ly = cy - off - lh;
            if ly < 0 {
                ly = cy + off;
            }
            (lx, ly, label)
        })
        .collect();
    // Shadows first, then every circle, then the numbers: nothing dark is
    // drawn over a circle, so a neighbour's label cannot break one.
    for (lx, ly, label) in &labels {
        draw::text(
            &mut img,
            lx + i64::from(s),
            ly + i64::from(s),
            label,
            s,
            [0, 0, 0],
        );
    }
    for d in &report.defects {
        let (cx, cy) = layout.centre(d.x, d.y);
        draw::ring(&mut img, cx, cy, RADIUS, RING_HALF_WIDTH, MARKER);
    }
    for (lx, ly, label) in &labels {
        draw::text(&mut img, *lx, *ly, label, s, MARKER);
    }
    legend(&mut img, &layout, report);
    img
}

fn legend(img: &mut RgbImage, layout: &Layout, report: &Report) {
    let s = layout.text_scale;
    let line = i64::from(draw::LINE * s);
    let sum = &report.summary;
    let x0 = i64::from(PAD);
    let mut y = i64::from(layout.map_height + PAD);
    let camera = sum.camera.as_deref().unwrap_or("camera unknown");
    let lines = [
        format!(
            "hotpix: {camera}, {} frames, {}x{}",
            sum.frames_used, sum.width, sum.height
        ),
        format!(
            "{} circled; threshold {} ({})",
            crate::plural::plural(report.defects.len() as u64, "defect"),
            two_digits(sum.threshold),
            if sum.threshold_automatic {
                "automatic"
            } else {
                "set"
            },
        ),
        if layout.reduce > 1 {
            format!(
                "colour: score, log; 1 map px = max of {0}x{0} px",
                layout.reduce
            )
        } else {
            format!(
                "colour: score, log; 1 frame px = {0}x{0} map px",
                layout.zoom
            )
        },
    ];
    for text in &lines {
        draw::text(img, x0, y, text, s, LEGEND_TEXT);
        y += line;
    }

    // The colour bar, logarithmic like the map, with three scores marked
    // under ticks: its two ends and the threshold.
    let bar_w = (i64::from(layout.map_width) - 2 * x0).clamp(2, 512);
    let bar_h = i64::from(bar_height(s));
    for i in 0..bar_w {
        let t = i as f64 / (bar_w - 1) as f64;
        draw::fill(img, x0 + i, y, x0 + i + 1, y + bar_h, colour::inferno(t));
    }
    let thr = sum.threshold;
    let at = |t: f64| x0 + (t * (bar_w - 1) as f64).round() as i64;
    let middle = colour::DECADES_BELOW / (colour::DECADES_BELOW + colour::DECADES_ABOVE);
    let low = two_digits(thr / 10f64.powf(colour::DECADES_BELOW));
    let high = format!("{}+", two_digits(thr * 10f64.powf(colour::DECADES_ABOVE)));
    let mid = format!("{} (thr)", two_digits(thr));
    let below = y + bar_h + 2;
    for t in [0.0, middle, 1.0] {
        draw::fill(
            img,
            at(t),
            y + bar_h / 2,
            at(t) + i64::from(s),
            below,
            LEGEND_TEXT,
        );
    }
    let mid_w = draw::text_width(&mid, s);
    draw::text(img, x0, below, &low, s, LEGEND_TEXT);
    draw::text(img, at(middle) - mid_w / 2, below, &mid, s, LEGEND_TEXT);
    draw::text(
        img,
        at(1.0) + i64::from(s) - draw::text_width(&high, s),
        below,
        &high,
        s,
        LEGEND_TEXT,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_fits_and_keeps_pixels() {
        let small = Layout::new(320, 240);
        assert_eq!((small.reduce, small.zoom, small.text_scale), (1, 3, 2));
        assert_eq!((small.map_width, small.map_height), (960, 720));
        assert_eq!(small.centre(0, 0), (1, 1));
        let big = Layout::new(3872, 2592);
        assert_eq!((big.reduce, big.zoom), (3, 1));
        assert_eq!((big.map_width, big.map_height), (1291, 864));
        assert!(big.map_width <= MAX_WIDTH);
        assert_eq!(big.centre(3871, 2591), (1290, 863));
        let exact = Layout::new(1600, 1000);
        assert_eq!((exact.reduce, exact.zoom, exact.map_width), (1, 1, 1600));
        assert_eq!(Layout::new(200, 100).text_scale, 1);
    }

    #[test]
    fn two_significant_digits() {
        assert_eq!(two_digits(0.0012), "0.0012");
        assert_eq!(two_digits(0.12), "0.12");
        assert_eq!(two_digits(1.2), "1.2");
        assert_eq!(two_digits(12.0), "12");
        assert_eq!(two_digits(0.0), "0");
    }
}
