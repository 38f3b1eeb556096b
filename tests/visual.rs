//! The pictures (`--map`, `--crops`) and the bad-pixel lists (`--dcraw`,
//! `--rawtherapee`, `--raw-offset`) made from the committed fixture series,
//! checked by decoding the PNGs and by parsing the lists the way dcraw and
//! RawTherapee read them.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::Path;

use hotpix::visual::{crops, map, MARKER};

fn series() -> String {
    fixture("series").display().to_string()
}

/// Runs `find --format json` on the series in `dir` with `extra` flags;
/// returns the defects' (x, y, mean of the peak channel, channel index).
fn find_in(dir: &Path, extra: &[&str]) -> (Run, Vec<(u32, u32, f64, usize)>) {
    let series = series();
    let mut args = vec!["find", "--format", "json", "-q"];
    args.extend_from_slice(extra);
    args.push(&series);
    let r = run_in(dir, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let defects = r.json()["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let channel = ["R", "G", "B"]
                .iter()
                .position(|c| d["channel"] == *c)
                .unwrap();
            (
                d["x"].as_u64().unwrap() as u32,
                d["y"].as_u64().unwrap() as u32,
                d["mean"].as_f64().unwrap(),
                channel,
            )
        })
        .collect();
    (r, defects)
}

fn decode(path: &Path) -> image::RgbImage {
    image::ImageReader::open(path)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .decode()
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()))
        .to_rgb8()
}

#[test]
fn map_circles_every_defect_in_the_marker_colour() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, defects) = find_in(tmp.path(), &["--map", "map.png"]);
    assert_eq!(defects.len(), 9, "the fixture series has 9 defects");
    let img = decode(&tmp.path().join("map.png"));
    let layout = map::Layout::new(320, 240);
    // 320x240 is enlarged 3x; the legend goes underneath.
    assert_eq!((layout.map_width, layout.map_height), (960, 720));
    assert_eq!(img.dimensions(), layout.size());
    let r = map::RADIUS as i64;
    for &(x, y, _, _) in &defects {
        let (cx, cy) = layout.centre(x, y);
        for (px, py) in [(cx + r, cy), (cx - r, cy), (cx, cy + r), (cx, cy - r)] {
            assert_eq!(
                img.get_pixel(px as u32, py as u32).0,
                MARKER,
                "circle of ({x},{y}) at ({px},{py})"
            );
        }
        // The defect itself is drawn bright (above the threshold is the
        // upper third of the inferno scale: orange to pale yellow).
        let centre = img.get_pixel(cx as u32, cy as u32).0;
        assert!(
            centre[0] > 200 && centre != MARKER,
            "defect ({x},{y}) drawn {centre:?}"
        );
    }
    // Away from the defects the map is dark: most of it scores nothing.
    let dark = img
        .enumerate_pixels()
        .filter(|&(_, y, p)| y < 720 && p.0.iter().map(|&c| u32::from(c)).sum::<u32>() < 60)
        .count();
    assert!(dark > 960 * 720 * 9 / 10, "only {dark} dark pixels");
}

#[test]
fn crops_sheet_has_one_tile_per_defect_centred_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, defects) = find_in(tmp.path(), &["--crops", "crops.png"]);
    let img = decode(&tmp.path().join("crops.png"));
    // 9 tiles: two rows of 5 and 4.
    let (columns, rows) = crops::grid(defects.len());
    assert_eq!((columns, rows), (5, 2));
    assert_eq!(
        img.dimensions(),
        (
            columns * crops::TILE_WIDTH + (columns + 1) * crops::GAP,
            crops::HEADER + rows * crops::TILE_HEIGHT + (rows + 1) * crops::GAP
        )
    );
    let half = crops::CROP / 2 * crops::ZOOM;
    for (k, &(x, y, mean, channel)) in defects.iter().enumerate() {
        let (col, row) = (k as u32 % columns, k as u32 / columns);
        let left = crops::GAP + col * (crops::TILE_WIDTH + crops::GAP);
        let top = crops::HEADER + crops::GAP + row * (crops::TILE_HEIGHT + crops::GAP);
        // The middle of the enlarged centre pixel is the defect's mean.
        let centre = img
            .get_pixel(left + half + crops::ZOOM / 2, top + half + crops::ZOOM / 2)
            .0;
        assert_eq!(
            f64::from(centre[channel]),
            mean.round(),
            "tile {} ({x},{y}) centre {centre:?}",
            k + 1
        );
        // Outlined just outside the pixel.
        assert_eq!(img.get_pixel(left + half - 1, top + half).0, MARKER);
        assert_eq!(
            img.get_pixel(left + half + crops::ZOOM, top + half).0,
            MARKER
        );
    }

    let (_, _) = find_in(tmp.path(), &["--crops", "four.png", "--max-crops", "4"]);
    let four = decode(&tmp.path().join("four.png"));
    assert_eq!(four.dimensions(), crops::sheet_size(4));
    assert_eq!(four.width(), 4 * crops::TILE_WIDTH + 5 * crops::GAP);
}

/// (column, row, time) of every line of a dcraw -P file, read as dcraw's
/// `bad_pixels()` does: cut at `#`, keep lines with three integers.
fn parse_dcraw(text: &str) -> BTreeSet<(i64, i64, i64)> {
    text.lines()
        .filter_map(|line| {
            let data = line.split('#').next().unwrap();
            let v: Vec<i64> = data
                .split_whitespace()
                .map(|t| t.parse().ok())
                .collect::<Option<_>>()?;
            (v.len() >= 3).then(|| (v[0], v[1], v[2]))
        })
        .collect()
}

/// (x, y) of every line of a RawTherapee .badpixels file, read as
/// `scanBadPixelsFile` does: lines starting with two integers.
fn parse_rawtherapee(text: &str) -> BTreeSet<(i64, i64)> {
    let first = text.lines().next().unwrap_or("");
    let numbers: Vec<&str> = first.split_whitespace().collect();
    assert!(
        !(numbers.len() == 1 && numbers[0].parse::<i64>().is_ok()),
        "a lone integer on the first line would be read as an offset"
    );
    text.lines()
        .filter_map(|line| {
            let mut t = line.split_whitespace().map(|t| t.parse::<i64>());
            match (t.next(), t.next()) {
                (Some(Ok(x)), Some(Ok(y))) => Some((x, y)),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn lists_name_exactly_the_reported_defects_shifted_by_the_offset() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("darks")).unwrap();
    let (_, defects) = find_in(
        tmp.path(),
        &[
            "--dcraw",
            "bad.txt",
            "--rawtherapee",
            "darks",
            "--raw-offset",
            "-1,2",
        ],
    );
    let expected: BTreeSet<(i64, i64)> = defects
        .iter()
        .map(|&(x, y, _, _)| (i64::from(x) - 1, i64::from(y) + 2))
        .collect();
    assert_eq!(expected.len(), 9);

    let dcraw = std::fs::read_to_string(tmp.path().join("bad.txt")).unwrap();
    assert!(dcraw.starts_with('#'), "a header comment:\n{dcraw}");
    assert!(dcraw.contains("NIKON D80") && dcraw.contains("12 frames"));
    let lines = parse_dcraw(&dcraw);
    assert_eq!(lines.len(), 9);
    assert!(lines.iter().all(|&(_, _, time)| time == 0));
    let positions: BTreeSet<_> = lines.iter().map(|&(c, r, _)| (c, r)).collect();
    assert_eq!(positions, expected);

    // RawTherapee looks the list up by its own camera name: dcraw's short
    // make and the model without it.
    let entries: Vec<_> = std::fs::read_dir(tmp.path().join("darks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(entries, ["Nikon D80.badpixels"]);
    let rt = std::fs::read_to_string(tmp.path().join("darks/Nikon D80.badpixels")).unwrap();
    assert_eq!(parse_rawtherapee(&rt), expected);
}

#[test]
fn positions_made_negative_by_the_offset_are_dropped_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let series = series();
    let r = run_in(
        tmp.path(),
        &["find", "--dcraw", "bad.txt", "--raw-offset=-100,0", &series],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, defects) = find_in(tmp.path(), &[]);
    let kept: BTreeSet<(i64, i64, i64)> = defects
        .iter()
        .filter(|&&(x, _, _, _)| x >= 100)
        .map(|&(x, y, _, _)| (i64::from(x) - 100, i64::from(y), 0))
        .collect();
    let dropped = defects.len() - kept.len();
    assert!(dropped > 0 && !kept.is_empty());
    let text = std::fs::read_to_string(tmp.path().join("bad.txt")).unwrap();
    assert_eq!(parse_dcraw(&text), kept);
    assert_eq!(
        r.stderr.matches("left out of the bad-pixel lists").count(),
        dropped,
        "{}",
        r.stderr
    );
}

#[test]
fn outputs_are_identical_for_any_number_of_workers() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for jobs in ["1", "2"] {
        let dir = tmp.path().join(jobs);
        std::fs::create_dir(&dir).unwrap();
        find_in(
            &dir,
            &[
                "-j",
                jobs,
                "--map",
                "map.png",
                "--crops",
                "crops.png",
                "--dcraw",
                "bad.txt",
                "--rawtherapee",
                ".",
            ],
        );
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        outputs.push([
            read("map.png"),
            read("crops.png"),
            read("bad.txt"),
            read("Nikon D80.badpixels"),
        ]);
    }
    for (k, name) in ["map.png", "crops.png", "bad.txt", "Nikon D80.badpixels"]
        .iter()
        .enumerate()
    {
        assert!(
            outputs[0][k] == outputs[1][k],
            "{name} differs between -j 1 and -j 2"
        );
    }
}

#[test]
fn output_locations_are_checked_before_any_photo_is_decoded() {
    let tmp = tempfile::tempdir().unwrap();
    let series = series();
    for (args, message) in [
        (vec!["--map", "missing/map.png"], "the directory of --map"),
        (vec!["--crops", "."], "--crops '.' is a directory"),
        (
            vec!["--dcraw", "missing/bad.txt"],
            "the directory of --dcraw",
        ),
        (
            vec!["--rawtherapee", "nowhere"],
            "--rawtherapee 'nowhere' is not a directory",
        ),
        (vec!["--raw-offset", "1,1"], "--raw-offset applies to"),
    ] {
        let mut all = vec!["find"];
        all.extend(args.iter().copied());
        all.push(&series);
        let r = run_in(tmp.path(), &all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "no report for {args:?}");
    }
}

/// Regression guard (issue 12): the make/model check ran after all decoding
/// (and after the report was written); it runs on the headers now, and
/// --make/--model name a camera the EXIF does not.
#[test]
fn rawtherapee_list_is_refused_before_decoding_without_make_and_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = hotpix_synth::SeriesSpec::new(64, 48, 4, 7);
    spec.camera = hotpix_synth::Camera {
        make: String::new(),
        model: String::new(),
        serial: None,
    };
    hotpix_synth::write_series(&spec, &tmp.path().join("series")).unwrap();
    let lists = || {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "badpixels"))
            .collect::<Vec<_>>()
    };
    let r = run_in(
        tmp.path(),
        &[
            "find",
            "-q",
            "--rawtherapee",
            ".",
            "--map",
            "m.png",
            "series",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("make and model"), "{}", r.stderr);
    assert!(r.stderr.contains("--make and --model"), "{}", r.stderr);
    assert!(
        r.stdout.is_empty(),
        "refused before anything is decoded or written"
    );
    assert!(!tmp.path().join("m.png").exists());
    assert!(lists().is_empty());

    let r = run_in(
        tmp.path(),
        &[
            "find",
            "--rawtherapee",
            ".",
            "--make",
            "NIKON CORPORATION",
            "--model",
            "NIKON D80",
            "--format",
            "json",
            "series",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["model"], "NIKON D80");
    assert_eq!(lists(), [tmp.path().join("./Nikon D80.badpixels")]);
    assert!(
        r.stderr
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("hotpix: wrote") && l.contains("Nikon D80.badpixels")),
        "the closing line names the list: {}",
        r.stderr
    );
}

/// Regression guard (issue 12): `--rawtherapee` silently replaced a list kept
/// by hand. Its lines stay; only positions it lacks are added; the closing
/// line says so.
#[test]
fn rawtherapee_list_merges_into_a_hand_kept_one() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("Nikon D80.badpixels");
    let hand = "# kept by hand since 2019\n12 34\n100 200 # from a dark frame\n";
    std::fs::write(&list, hand).unwrap();
    let series = series();
    let find = || {
        run_in(
            tmp.path(),
            &["find", "-o", "/dev/null", "--rawtherapee", ".", &series],
        )
    };
    let (_, defects) = find_in(tmp.path(), &[]);
    let r = find();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&list).unwrap();
    assert!(text.starts_with(hand), "{text}");
    let listed = parse_rawtherapee(&text);
    assert!(listed.contains(&(12, 34)) && listed.contains(&(100, 200)));
    for &(x, y, _, _) in &defects {
        assert!(
            listed.contains(&(i64::from(x), i64::from(y))),
            "({x},{y}) missing"
        );
    }
    assert_eq!(listed.len(), defects.len() + 2);
    let last = r.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("Nikon D80.badpixels") && last.contains("added to the existing list"),
        "{}",
        r.stderr
    );
    // Again: nothing new, the file is left as it was.
    let r = find();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&list).unwrap(), text);
    assert!(
        r.stderr.contains("it lists every defect already"),
        "{}",
        r.stderr
    );
}
