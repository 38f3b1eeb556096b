//! Night skies checked from the files alone: one exposure setting for the series, frames a
//! few seconds apart, stars that move between frames by the drift the truth states (measured
//! by cross-correlating the sky in two decoded frames) and trail within them, a foreground
//! that stays put, and the reverse on a tracking mount.

mod common;
use common::*;

use std::fs;
use std::io::Cursor;

use exif::{In, Tag};
use hotpix_synth::{self as synth, DefectPlan, Preset, Renderer, SeriesSpec, Shot, Truth};

/// A night-sky series without defects at a small size, with the drift pinned.
fn sky_spec(preset: Preset, frames: usize, seed: u64, drift: f32) -> SeriesSpec {
    let mut spec = SeriesSpec::preset(preset, 320, 240, frames, seed);
    spec.defects = DefectPlan::none();
    spec.sky.drift = [drift, drift];
    spec
}

fn write(spec: &SeriesSpec) -> (tempfile::TempDir, Truth) {
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(spec, dir.path()).unwrap();
    (dir, truth)
}

/// Luma (sum of the channels) of each decoded frame.
fn lumas(dir: &tempfile::TempDir, truth: &Truth) -> Vec<Vec<f64>> {
    truth
        .files
        .iter()
        .map(|f| {
            let (_, _, px) = decode(&fs::read(dir.path().join(f)).unwrap()).unwrap();
            px.chunks(3)
                .map(|p| p.iter().map(|&v| f64::from(v)).sum())
                .collect()
        })
        .collect()
}

/// The integer shift (dx, dy) within +-`reach` that best maps the patch `rect` (x0, y0, x1,
/// y1) of `a` onto `b` (b(x + dx, y + dy) ~ a(x, y)), by normalised cross-correlation over
/// the pairs inside the frame.
fn best_shift(
    a: &[f64],
    b: &[f64],
    w: usize,
    rect: (usize, usize, usize, usize),
    reach: i64,
) -> (i64, i64) {
    let (x0, y0, x1, y1) = rect;
    let mut best = (f64::MIN, (0, 0));
    for dy in -reach..=reach {
        for dx in -reach..=reach {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
            for y in y0..y1 {
                for x in x0..x1 {
                    let (u, v) = (x as i64 + dx, y as i64 + dy);
                    if u < 0 || v < 0 || u >= w as i64 || v as usize * w >= b.len() {
                        continue;
                    }
                    let p = a[y * w + x];
                    let q = b[v as usize * w + u as usize];
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                    n += 1.0;
                }
            }
            let cov = sab - sa * sb / n;
            let r = cov / ((saa - sa * sa / n) * (sbb - sb * sb / n)).sqrt();
            if r > best.0 {
                best = (r, (dx, dy));
            }
        }
    }
    best.1
}

/// Where the sky's turn moves point (x, y) between two shots (untracked: stars).
fn sky_moves(a: &Shot, b: &Shot, (x, y): (f64, f64)) -> (f64, f64) {
    let (sa, sb) = (a.sky.as_ref().unwrap(), b.sky.as_ref().unwrap());
    let angle = sa.rate * (sb.start - sa.start);
    let (c, s) = (angle.cos(), angle.sin());
    let (vx, vy) = (x - sa.pole.0, y - sa.pole.1);
    // Counter-clockwise as seen with y down: a point right of the pole rises.
    let (rx, ry) = (c * vx + s * vy, c * vy - s * vx);
    (sa.pole.0 + rx - x, sa.pole.1 + ry - y)
}

fn exif_datetime(jpeg: &[u8]) -> String {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(jpeg))
        .unwrap();
    match &exif
        .get_field(Tag::DateTimeOriginal, In::PRIMARY)
        .unwrap()
        .value
    {
        exif::Value::Ascii(v) => String::from_utf8(v[0].clone()).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn seconds_of_day(datetime: &str) -> i64 {
    let t: Vec<i64> = datetime[11..]
        .split(':')
        .map(|v| v.parse().unwrap())
        .collect();
    t[0] * 3600 + t[1] * 60 + t[2]
}

#[test]
fn a_night_sky_series_has_one_exposure_setting_and_frames_seconds_apart() {
    for seed in [1, 2, 3] {
        let spec = SeriesSpec::preset(Preset::NightSky, 192, 144, 5, seed);
        let (dir, truth) = write(&spec);
        let jpegs: Vec<Vec<u8>> = truth
            .files
            .iter()
            .map(|f| fs::read(dir.path().join(f)).unwrap())
            .collect();
        let settings: Vec<((u32, u32), u32)> = jpegs.iter().map(|j| exif_exposure_iso(j)).collect();
        let ((num, den), iso) = settings[0];
        assert!(settings.iter().all(|&s| s == settings[0]), "{settings:?}");
        let t = f64::from(num) / f64::from(den);
        assert!(
            (10.0..=30.0).contains(&t) && (100..=3200).contains(&iso),
            "{t} s ISO {iso}"
        );
        let times: Vec<i64> = jpegs
            .iter()
            .map(|j| seconds_of_day(&exif_datetime(j)))
            .collect();
        for w in times.windows(2) {
            let gap = w[1] - w[0] - t.ceil() as i64;
            assert!(
                (1..=3).contains(&gap),
                "frames start {times:?} with {t} s exposures"
            );
        }
        // Mostly hot photosites, every other kind present too.
        let hot = truth
            .defects
            .iter()
            .filter(|g| g.kind == synth::DefectKind::Hot)
            .count();
        assert!(
            3 * hot >= truth.defects.len(),
            "{hot} hot of {}",
            truth.defects.len()
        );
    }
}

#[test]
fn stars_drift_between_frames_as_the_truth_says_and_the_foreground_stays() {
    for (seed, drift) in [(4, 6.0), (5, 12.0)] {
        let spec = sky_spec(Preset::NightSky, 2, seed, drift);
        let (dir, truth) = write(&spec);
        let l = lumas(&dir, &truth);
        let (a, b) = (&truth.shots[0], &truth.shots[1]);
        // The sky: a patch in the upper half (the ground is the bottom 15..40%).
        let sky = (110, 35, 210, 95);
        let centre = (160.0, 65.0);
        let (ex, ey) = sky_moves(a, b, centre);
        let moved = (ex * ex + ey * ey).sqrt();
        assert!(
            moved > 0.5 * f64::from(drift),
            "the truth's turn moves the centre {moved:.1}"
        );
        let (dx, dy) = best_shift(&l[0], &l[1], 320, sky, 20);
        assert!(
            (dx as f64 - ex).abs() <= 1.5 && (dy as f64 - ey).abs() <= 1.5,
            "seed {seed}: sky moved ({dx}, {dy}), the truth says ({ex:.1}, {ey:.1})"
        );
    }
}

/// A sensor without noise, so that what stands still reads the same in every frame.
fn noiseless(spec: &mut SeriesSpec) {
    // Shot noise of 1e-16 of full scale: no count ever rounds differently.
    spec.sensor.full_well = 1e30;
    spec.sensor.read_noise = [0.0, 0.0];
    spec.sensor.adc_noise = 0.0;
}

/// Rows `y0..y1` of every frame are identical (true) or not.
fn rows_equal(l: &[Vec<f64>], w: usize, (y0, y1): (usize, usize)) -> Vec<bool> {
    l.windows(2)
        .map(|p| p[0][y0 * w..y1 * w] == p[1][y0 * w..y1 * w])
        .collect()
}

#[test]
fn the_ground_stands_still_on_a_tripod_and_turns_on_a_tracking_mount() {
    for seed in [4, 5, 7] {
        let mut spec = sky_spec(Preset::NightSky, 3, seed, 5.0);
        noiseless(&mut spec);
        let (dir, truth) = write(&spec);
        let l = lumas(&dir, &truth);
        // The last JPEG block row is ground in any view (the ground is the bottom 15..40%,
        // hills and trees reach 9% above that): the same bytes in every frame.
        assert_eq!(rows_equal(&l, 320, (232, 240)), [true, true], "seed {seed}");
        // The sky above is not.
        assert_eq!(rows_equal(&l, 320, (0, 100)), [false, false], "seed {seed}");

        spec.sky.tracked = true;
        let (dir, truth) = write(&spec);
        let l = lumas(&dir, &truth);
        assert_eq!(
            rows_equal(&l, 320, (232, 240)),
            [false, false],
            "tracked, seed {seed}"
        );
        // The stars hold still to within the tracking error: the sky's best shift is none.
        let sky = (60, 20, 260, 100);
        assert_eq!(
            best_shift(&l[0], &l[2], 320, sky, 4),
            (0, 0),
            "tracked, seed {seed}"
        );
        for s in &truth.shots {
            let e = s.sky.as_ref().unwrap().guide_error;
            assert!(e.0 * e.0 + e.1 * e.1 <= 0.09 + 1e-6, "{e:?}");
        }
    }
}

#[test]
fn a_star_is_a_trail_of_several_photosites_in_the_raw_frame() {
    let spec = sky_spec(Preset::NightSky, 1, 6, 10.0);
    let r = Renderer::new(&spec);
    let raw = r.raw(&[], 0);
    let shot = r.shot(0);
    let (w, h) = (320usize, 240usize);
    let green = |x: usize, y: usize| f64::from(raw.at(x as u32, y as u32));
    // The brightest green photosites of the upper half (a star's core), not clipped.
    let mut peaks: Vec<(f64, usize, usize)> = (6..h / 2)
        .flat_map(|y| (6..w - 6).map(move |x| (x, y)))
        .filter(|&(x, y)| (x + y) % 2 == 1)
        .map(|(x, y)| (green(x, y), x, y))
        .filter(|p| p.0 < 4000.0)
        .collect();
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (v, px, py) = peaks[0];
    // Sky level: the median of green photosites in the patch's rows.
    let mut sky: Vec<f64> = (0..w)
        .filter(|x| (x + py) % 2 == 1)
        .map(|x| green(x, py))
        .collect();
    sky.sort_by(f64::total_cmp);
    let sky = sky[sky.len() / 2];
    let half = sky + 0.5 * (v - sky);
    let lit: Vec<(usize, usize)> = (py - 6..=py + 6)
        .flat_map(|y| (px - 6..=px + 6).map(move |x| (x, y)))
        .filter(|&(x, y)| (x + y) % 2 == 1 && green(x, y) > half)
        .collect();
    assert!(lit.len() >= 3, "star at ({px}, {py}): {lit:?}");
    // A trail: 10 px a frame is about 9 px within a 10..30 s exposure.
    assert!(shot.sky.as_ref().is_some_and(|s| !s.tracked));
    let span_x = lit.iter().map(|p| p.0).max().unwrap() - lit.iter().map(|p| p.0).min().unwrap();
    let span_y = lit.iter().map(|p| p.1).max().unwrap() - lit.iter().map(|p| p.1).min().unwrap();
    assert!(
        span_x.max(span_y) >= 4,
        "a 10 px drift left a point: {lit:?}"
    );
}

#[test]
fn a_night_sky_is_the_same_bytes_for_any_thread_count() {
    let mut spec = sky_spec(Preset::NightSky, 3, 8, 9.0);
    spec.defects = synth::default_plan(160, 120);
    spec.width = 160;
    spec.height = 120;
    for tracked in [false, true] {
        spec.sky.tracked = tracked;
        let run = |threads| {
            let dir = tempfile::tempdir().unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| synth::write_series(&spec, dir.path()).unwrap());
            read_dir_sorted(dir.path())
        };
        assert!(
            run(1) == run(3),
            "tracked {tracked}: 1 and 3 threads differ"
        );
    }
}

/// Where the ground seen at (x, y) in shot `a` is seen in shot `b` on a tracking mount: the
/// camera turned with the sky, so the ground turned the other way.
fn ground_moves(a: &Shot, b: &Shot, (x, y): (f64, f64)) -> (f64, f64) {
    let (sa, sb) = (a.sky.as_ref().unwrap(), b.sky.as_ref().unwrap());
    let angle = -sa.rate * (sb.start - sa.start);
    let (c, s) = (angle.cos(), angle.sin());
    let (vx, vy) = (x - sa.pole.0, y - sa.pole.1);
    let (rx, ry) = (c * vx + s * vy, c * vy - s * vx);
    (sa.pole.0 + rx - x, sa.pole.1 + ry - y)
}

#[test]
fn on_a_tracking_mount_the_ground_moves_against_the_sky_by_the_drift() {
    for (seed, drift) in [(9, 5.0), (10, 9.0)] {
        let mut spec = sky_spec(Preset::NightSkyTracked, 2, seed, drift);
        noiseless(&mut spec);
        let (dir, truth) = write(&spec);
        assert!(truth.shots.iter().all(|s| s.sky.as_ref().unwrap().tracked));
        let l = lumas(&dir, &truth);
        let ground = (40, 226, 280, 238);
        let (ex, ey) = ground_moves(&truth.shots[0], &truth.shots[1], (160.0, 232.0));
        let (dx, dy) = best_shift(&l[0], &l[1], 320, ground, 16);
        assert!(
            (dx as f64 - ex).abs() <= 1.5 && (dy as f64 - ey).abs() <= 1.5,
            "seed {seed}: ground moved ({dx}, {dy}), the truth says ({ex:.1}, {ey:.1})"
        );
        assert!(dx.abs().max(dy.abs()) >= 2, "the ground hardly moved");
    }
}
