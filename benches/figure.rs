//! Draws the seed article's figure for hotpix: elapsed time against the
//! number of workers, for two series sizes, with the decode-only ceiling
//! beside each, from the measurements `benches/scaling.sh` writes.
//!
//! `cargo bench --bench figure -- RESULTS.csv OUT.png [NOTE]`, where
//! RESULTS.csv has a header and lines `photos,program,jobs,seconds`
//! (`program` is `hotpix` or `decode-only`; the median of the runs). With
//! no arguments it says so and exits 0, so that a plain `cargo bench` works.

use std::collections::BTreeMap;
use std::process::ExitCode;

use hotpix::visual::{draw, write_png};
use image::RgbImage;

const PANEL_W: i64 = 420;
const PANEL_H: i64 = 300;
const MARGIN_L: i64 = 64;
const MARGIN_T: i64 = 40;
const MARGIN_B: i64 = 44;
const GAP: i64 = 40;
const BACKGROUND: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [30, 30, 30];
const GRID: [u8; 3] = [225, 225, 225];
const HOTPIX: [u8; 3] = [200, 60, 30];
const DECODE: [u8; 3] = [40, 90, 200];

/// (photos, program) -> jobs -> seconds.
type Series = BTreeMap<(u32, String), BTreeMap<u32, f64>>;

fn read(path: &str) -> Result<Series, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut series = Series::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = || format!("{path}:{}: expected photos,program,jobs,seconds", n + 1);
        if f.len() != 4 {
            return Err(bad());
        }
        let photos: u32 = f[0].parse().map_err(|_| bad())?;
        let jobs: u32 = f[2].parse().map_err(|_| bad())?;
        let seconds: f64 = f[3].parse().map_err(|_| bad())?;
        series
            .entry((photos, f[1].to_string()))
            .or_default()
            .insert(jobs, seconds);
    }
    if series.is_empty() {
        return Err(format!("{path}: no measurements"));
    }
    Ok(series)
}

/// A straight line, a few pixels thick.
fn line(img: &mut RgbImage, (x0, y0): (i64, i64), (x1, y1): (i64, i64), colour: [u8; 3]) {
    let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
    for k in 0..=steps {
        let x = x0 + (x1 - x0) * k / steps;
        let y = y0 + (y1 - y0) * k / steps;
        draw::fill(img, x - 1, y - 1, x + 2, y + 2, colour);
    }
}

fn panel(img: &mut RgbImage, left: i64, photos: u32, series: &Series) {
    let curves: Vec<(&str, [u8; 3], &BTreeMap<u32, f64>)> =
        [("hotpix", HOTPIX), ("decode-only", DECODE)]
            .iter()
            .filter_map(|(name, colour)| {
                series
                    .get(&(photos, name.to_string()))
                    .map(|c| (*name, *colour, c))
            })
            .collect();
    let max_jobs = curves
        .iter()
        .flat_map(|(_, _, c)| c.keys())
        .copied()
        .max()
        .unwrap_or(1)
        .max(2);
    let max_s = nice_top(
        curves
            .iter()
            .flat_map(|(_, _, c)| c.values())
            .fold(0f64, |a, &b| a.max(b))
            * 1.05,
    );
    let (x0, y0) = (left + MARGIN_L, MARGIN_T);
    let to = |jobs: u32, s: f64| {
        (
            x0 + (f64::from(jobs - 1) / f64::from(max_jobs - 1) * PANEL_W as f64) as i64,
            y0 + PANEL_H - (s / max_s * PANEL_H as f64) as i64,
        )
    };
    // Grid, axes and ticks.
    for k in 0..=4 {
        let s = max_s * f64::from(k) / 4.0;
        let (_, y) = to(1, s);
        draw::fill(img, x0, y, x0 + PANEL_W + 1, y + 1, GRID);
        let label = format!("{s}");
        draw::text(
            img,
            x0 - 8 - draw::text_width(&label, 1),
            y - 4,
            &label,
            1,
            INK,
        );
    }
    for jobs in 1..=max_jobs {
        let (x, _) = to(jobs, 0.0);
        draw::fill(img, x, y0, x + 1, y0 + PANEL_H, GRID);
        draw::text(img, x - 4, y0 + PANEL_H + 8, &jobs.to_string(), 1, INK);
    }
    draw::fill(
        img,
        x0,
        y0 + PANEL_H,
        x0 + PANEL_W + 1,
        y0 + PANEL_H + 2,
        INK,
    );
    draw::fill(img, x0 - 1, y0, x0 + 1, y0 + PANEL_H + 2, INK);
    let title = format!("{photos} photos");
    draw::text(
        img,
        x0 + PANEL_W / 2 - draw::text_width(&title, 2) / 2,
        8,
        &title,
        2,
        INK,
    );
    draw::text(
        img,
        x0 + PANEL_W / 2 - 80,
        y0 + PANEL_H + 24,
        "workers (-j)",
        1,
        INK,
    );
    draw::text(img, left + 4, y0 - 14, "seconds", 1, INK);
    for (k, (name, colour, c)) in curves.iter().enumerate() {
        let points: Vec<(i64, i64)> = c.iter().map(|(&j, &s)| to(j, s)).collect();
        for w in points.windows(2) {
            line(img, w[0], w[1], *colour);
        }
        for &(x, y) in &points {
            draw::fill(img, x - 3, y - 3, x + 4, y + 4, *colour);
        }
        let ly = y0 + 8 + k as i64 * 14;
        draw::fill(
            img,
            x0 + PANEL_W - 150,
            ly,
            x0 + PANEL_W - 136,
            ly + 8,
            *colour,
        );
        draw::text(img, x0 + PANEL_W - 130, ly, name, 1, INK);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.len() < 2 {
        eprintln!("figure: no inputs, nothing to draw (usage: cargo bench --bench figure -- RESULTS.csv OUT.png [NOTE])");
        return ExitCode::SUCCESS;
    }
    let series = match read(&args[0]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("figure: {e}");
            return ExitCode::from(2);
        }
    };
    let sizes: Vec<u32> = {
        let mut v: Vec<u32> = series.keys().map(|(p, _)| *p).collect();
        v.dedup();
        v
    };
    let width = sizes.len() as i64 * (MARGIN_L + PANEL_W + GAP) + GAP;
    let height = MARGIN_T + PANEL_H + MARGIN_B + 24;
    let mut img = RgbImage::from_pixel(width as u32, height as u32, image::Rgb(BACKGROUND));
    for (k, &photos) in sizes.iter().enumerate() {
        panel(
            &mut img,
            k as i64 * (MARGIN_L + PANEL_W + GAP),
            photos,
            &series,
        );
    }
    if let Some(note) = args.get(2) {
        draw::text(&mut img, 8, height - 14, note, 1, INK);
    }
    // Beside the target, then renamed over it: an interrupted run leaves
    // the previous figure whole.
    let tmp = format!("{}.tmp", args[1]);
    let written = std::fs::File::create(&tmp)
        .map(std::io::BufWriter::new)
        .and_then(|mut f| {
            write_png(&img, &mut f)?;
            f.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, &args[1]));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("figure: {}: {e}", args[1]);
            ExitCode::from(3)
        }
    }
}

/// The smallest top of the axis at or above `s` whose four equal ticks are
/// round numbers: 4 × 1, 2, 2.5 or 5 × a power of ten.
fn nice_top(s: f64) -> f64 {
    let quarter = s.max(1e-9) / 4.0;
    let power = 10f64.powf(quarter.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= quarter)
        .unwrap_or(10.0 * power);
    4.0 * step
}
