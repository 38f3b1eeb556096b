//! The pictures (`--map`, `--crops`) and the bad-pixel lists (`--dcraw`,
//! `--rawtherapee`, `--siril`, `--jpegpixi`, `--raw-offset`) made from the
//! committed fixture series, checked by decoding the PNGs and by parsing
//! the lists the way dcraw, RawTherapee, Siril and jpegpixi read them.

mod common;
use common::*;

use std::path::Path;

use hotpix::visual::{colour, crops, map, MARKER};

fn series() -> String {
    fixture("series").display().to_string()
}

/// A reported defect as these tests need it.
struct Found {
    x: u32,
    y: u32,
    /// Mean of the peak channel.
    mean: f64,
    /// The peak channel's index.
    channel: usize,
    /// (x, y) of every photosite, the peak first.
    photosites: Vec<(u32, u32)>,
    /// A dark defect (kind `dead`).
    dark: bool,
}

/// Runs `find --format json` on the series in `dir` with `extra` flags;
/// returns the defects in report order.
fn find_in(dir: &Path, extra: &[&str]) -> (Run, Vec<Found>) {
    let series = series();
    let mut args = vec!["find", "--format", "json", "-q"];
    args.extend_from_slice(extra);
    args.push(&series);
    let r = run_in(dir, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let at = |v: &serde_json::Value| {
        (
            v["x"].as_u64().unwrap() as u32,
            v["y"].as_u64().unwrap() as u32,
        )
    };
    let defects: Vec<Found> = r.json()["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| Found {
            x: at(d).0,
            y: at(d).1,
            mean: d["mean"].as_f64().unwrap(),
            channel: ["R", "G", "B"]
                .iter()
                .position(|c| d["channel"] == *c)
                .unwrap(),
            photosites: d["photosites"].as_array().unwrap().iter().map(at).collect(),
            dark: d["kind"] == "dead",
        })
        .collect();
    assert!(!defects.is_empty(), "the fixture series has defects");
    (r, defects)
}

/// Every photosite of every defect shifted by (dx, dy), in report order,
/// split into those that stay in the frame (non-negative) and the defect
/// number (1 = first) and position of those that do not.
#[allow(clippy::type_complexity)]
fn shifted(defects: &[Found], dx: i64, dy: i64) -> (Vec<(i64, i64)>, Vec<(usize, i64, i64)>) {
    let (mut kept, mut dropped) = (Vec::new(), Vec::new());
    for (k, d) in defects.iter().enumerate() {
        for &(x, y) in &d.photosites {
            let (x, y) = (i64::from(x) + dx, i64::from(y) + dy);
            if x < 0 || y < 0 {
                dropped.push((k + 1, x, y));
            } else {
                kept.push((x, y));
            }
        }
    }
    (kept, dropped)
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
    let (run, defects) = find_in(tmp.path(), &["--map", "map.png"]);
    let img = decode(&tmp.path().join("map.png"));
    let layout = map::Layout::new(320, 240);
    // 320x240 is enlarged 3x; the legend goes underneath.
    assert_eq!((layout.map_width, layout.map_height), (960, 720));
    assert_eq!(img.dimensions(), layout.size());
    let r = map::RADIUS as i64;
    let on_map = |x: i64, y: i64| {
        (0..i64::from(layout.map_width)).contains(&x)
            && (0..i64::from(layout.map_height)).contains(&y)
    };
    for d in &defects {
        let (x, y) = (d.x, d.y);
        let (cx, cy) = layout.centre(x, y);
        // A circle around a defect at the edge is cut by it: what is on the
        // map of its four extreme points (two at least) is drawn.
        let points: Vec<(i64, i64)> = [(cx + r, cy), (cx - r, cy), (cx, cy + r), (cx, cy - r)]
            .into_iter()
            .filter(|&(px, py)| on_map(px, py))
            .collect();
        assert!(points.len() >= 2, "({x},{y})");
        for (px, py) in points {
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
    // Scores are z-scores: noise and scene texture colour the whole map
    // faintly, the defects stand out. Away from the circles nothing is drawn
    // in the threshold's colour or above (the scale is brighter for higher
    // scores; the numbers are in the marker colour), and most of the map
    // scores a fifth of the threshold or less (noise scores about 1: the
    // 8-bit consistency of a subpixel is a t-statistic, and a map pixel shows
    // the highest of its three channels; measured: 74% of the fixture's map).
    let threshold = run.json()["summary"]["threshold"].as_f64().unwrap();
    let lum = |c: [u8; 3]| 3 * u32::from(c[0]) + 6 * u32::from(c[1]) + u32::from(c[2]);
    let at_threshold = lum(colour::of_score(threshold as f32, threshold));
    let fifth = lum(colour::of_score((threshold / 5.0) as f32, threshold));
    let away = (map::RADIUS + map::RING_HALF_WIDTH + 1.0) as i64;
    let mut faint = 0;
    for (x, y, p) in img.enumerate_pixels() {
        if y >= layout.map_height {
            continue;
        }
        let (x, y) = (i64::from(x), i64::from(y));
        let near = defects.iter().any(|d| {
            let (cx, cy) = layout.centre(d.x, d.y);
            (x - cx).pow(2) + (y - cy).pow(2) <= away * away
        });
        if !near && p.0 != MARKER {
            assert!(
                lum(p.0) < at_threshold,
                "map pixel ({x},{y}) away from every defect drawn {:?}",
                p.0
            );
        }
        faint += usize::from(lum(p.0) < fifth);
    }
    let all = (layout.map_width * layout.map_height) as usize;
    assert!(
        faint > all * 2 / 3,
        "only {faint} of {all} map pixels faint"
    );
}

#[test]
fn crops_sheet_has_one_tile_per_defect_centred_on_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, defects) = find_in(tmp.path(), &["--crops", "crops.png"]);
    let img = decode(&tmp.path().join("crops.png"));
    // As few rows as 8 columns allow, filled evenly: no empty row, and the
    // last row short by less than one tile a row.
    let n = defects.len() as u32;
    let (columns, rows) = crops::grid(defects.len());
    assert_eq!(rows, n.div_ceil(crops::COLUMNS), "{n} tiles");
    assert!(
        columns <= crops::COLUMNS && columns * rows >= n,
        "{n} tiles"
    );
    assert!(columns * rows - n < rows, "{n} tiles in {columns}x{rows}");
    assert_eq!(
        img.dimensions(),
        (
            columns * crops::TILE_WIDTH + (columns + 1) * crops::GAP,
            crops::HEADER + rows * crops::TILE_HEIGHT + (rows + 1) * crops::GAP
        )
    );
    let half = crops::CROP / 2 * crops::ZOOM;
    for (k, d) in defects.iter().enumerate() {
        let (x, y) = (d.x, d.y);
        let (col, row) = (k as u32 % columns, k as u32 / columns);
        let left = crops::GAP + col * (crops::TILE_WIDTH + crops::GAP);
        let top = crops::HEADER + crops::GAP + row * (crops::TILE_HEIGHT + crops::GAP);
        // The middle of the enlarged centre pixel is the defect's mean.
        let centre = img
            .get_pixel(left + half + crops::ZOOM / 2, top + half + crops::ZOOM / 2)
            .0;
        assert_eq!(
            f64::from(centre[d.channel]),
            d.mean.round(),
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

/// (column, row, time) of every line of a dcraw -P file, in file order,
/// read as dcraw's `bad_pixels()` does: cut at `#`, keep lines with three
/// integers.
fn parse_dcraw(text: &str) -> Vec<(i64, i64, i64)> {
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

/// (x, y) of every line of a RawTherapee .badpixels file, in file order,
/// read as `scanBadPixelsFile` does: lines starting with two integers.
fn parse_rawtherapee(text: &str) -> Vec<(i64, i64)> {
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

/// The warning that names one photosite the offset moved out of the frame.
fn dropped_warning(number: usize, x: i64, y: i64, offset: &str) -> String {
    format!(
        "hotpix: warning: defect {number} is at ({x},{y}) after the raw offset {offset}: \
         left out of the bad-pixel lists"
    )
}

#[test]
fn lists_name_exactly_the_reported_defects_shifted_by_the_offset() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("darks")).unwrap();
    let (_, defects) = find_in(tmp.path(), &[]);
    let series = series();
    let r = run_in(
        tmp.path(),
        &[
            "find",
            "-o",
            "/dev/null",
            "--dcraw",
            "bad.txt",
            "--rawtherapee",
            "darks",
            "--raw-offset",
            "-1,2",
            &series,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Every photosite of every defect (a pair is two lines, a cluster up to
    // four), in report order; those the offset moves off the frame (the
    // fixture has defects on column 0) are named on stderr instead.
    let (expected, dropped) = shifted(&defects, -1, 2);
    let photosites: usize = defects.iter().map(|d| d.photosites.len()).sum();
    assert!(
        photosites > defects.len(),
        "a defect with several photosites"
    );
    assert_eq!(expected.len() + dropped.len(), photosites);
    assert!(!dropped.is_empty(), "the fixture has a defect on column 0");
    for &(number, x, y) in &dropped {
        assert!(
            r.stderr.contains(&dropped_warning(number, x, y, "-1,2")),
            "({x},{y}) of defect {number}: {}",
            r.stderr
        );
    }

    let dcraw = std::fs::read_to_string(tmp.path().join("bad.txt")).unwrap();
    assert!(dcraw.starts_with('#'), "a header comment:\n{dcraw}");
    assert!(dcraw.contains("NIKON D80") && dcraw.contains("12 frames"));
    assert!(dcraw.contains(&format!("{} defects of", defects.len())));
    let lines = parse_dcraw(&dcraw);
    assert!(lines.iter().all(|&(_, _, time)| time == 0));
    let positions: Vec<_> = lines.iter().map(|&(c, r, _)| (c, r)).collect();
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
    let (kept, dropped) = shifted(&defects, -100, 0);
    assert!(!dropped.is_empty() && !kept.is_empty());
    let kept: Vec<(i64, i64, i64)> = kept.into_iter().map(|(x, y)| (x, y, 0)).collect();
    let text = std::fs::read_to_string(tmp.path().join("bad.txt")).unwrap();
    assert_eq!(parse_dcraw(&text), kept);
    // One warning a photosite left out, naming its defect and where it went.
    assert_eq!(
        r.stderr.matches("left out of the bad-pixel lists").count(),
        dropped.len(),
        "{}",
        r.stderr
    );
    for &(number, x, y) in &dropped {
        assert!(
            r.stderr.contains(&dropped_warning(number, x, y, "-100,0")),
            "({x},{y}) of defect {number}: {}",
            r.stderr
        );
    }
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

/// A folder that cannot take a file: a read-only one, or, for root (whom
/// permissions do not stop), /sys.
fn unwritable_folder(tmp: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp.join("read-only");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), b"").is_ok() {
        return std::path::PathBuf::from("/sys");
    }
    dir
}

/// Regression guard (issue 19, item 4): `-o ro/r.txt` in a read-only folder
/// decoded the whole series, then failed on its temporary file. Every
/// output's temporary file is made before anything is read: the run stops
/// at once (exit 3) naming the file, and no photo is even probed (the
/// non-JPEG among the inputs is never named).
#[cfg(unix)]
#[test]
fn an_unwritable_output_fails_before_any_photo_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let ro = unwritable_folder(tmp.path());
    copy_series(tmp.path());
    std::fs::write(tmp.path().join("junk.JPG"), b"not a photo").unwrap();
    let file = |name: &str| ro.join(name).display().to_string();
    for (flag, target) in [
        ("-o", file("r.txt")),
        ("--save", file("s.npz")),
        ("--map", file("m.png")),
        ("--crops", file("c.png")),
        ("--dcraw", file("d.txt")),
        ("--siril", file("h.lst")),
        ("--jpegpixi", file("b.txt")),
        ("--rawtherapee", ro.display().to_string()),
    ] {
        let r = run_in(tmp.path(), &["find", flag, &target, "."]);
        assert_eq!(r.code, 3, "{flag}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!("'{target}'")),
            "{flag}: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("junk.JPG"),
            "{flag}: photos were read: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{flag}: a report was written");
    }
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".hotpix-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Regression guard (issue 19, item 11): the lists for raw files made from
/// JPEGs said nothing of the border a raw frame has; without --raw-offset
/// a note says the positions are the JPEG's.
#[test]
fn lists_for_raw_files_without_an_offset_get_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let series = series();
    for (list, file) in [("--dcraw", "d.txt"), ("--siril", "h.lst")] {
        let r = run_in(
            tmp.path(),
            &["find", "-o", "/dev/null", list, file, &series],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "hotpix: note: the {list} list gives the JPEG's pixel positions"
            )) && r.stderr.contains("--raw-offset"),
            "{}",
            r.stderr
        );
        let r = run_in(
            tmp.path(),
            &[
                "find",
                "-o",
                "/dev/null",
                list,
                file,
                "--raw-offset",
                "0,0",
                &series,
            ],
        );
        assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    }
    // jpegpixi's blocks are JPEG pixels: no note.
    let r = run_in(
        tmp.path(),
        &["find", "-o", "/dev/null", "--jpegpixi", "b.txt", &series],
    );
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
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
    // Every photosite of every defect, each position once, in report order.
    let mut photosites = Vec::new();
    for p in shifted(&defects, 0, 0).0 {
        if !photosites.contains(&p) {
            photosites.push(p);
        }
    }
    let r = find();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&list).unwrap();
    assert!(text.starts_with(hand), "{text}");
    // The hand-kept positions, then the defects' photosites.
    let listed = parse_rawtherapee(&text);
    assert_eq!(listed[..2], [(12, 34), (100, 200)]);
    assert_eq!(listed[2..], photosites);
    let last = r.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains("Nikon D80.badpixels")
            && last.contains(&format!(
                "{} positions added to the existing list",
                photosites.len()
            )),
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

/// The lines of a cosme list as Siril reads them (`apply_cosme_to_image`,
/// filters/cosmetic_correction.c; `process_cosme` in core/command.c before
/// 1.2, which read with `fgets(line, 63, f)`, so a longer line goes on as
/// another): a `#` in the first column is a comment; `P` is a pixel, from
/// the third character on `sscanf("%lf %lf %c")`, which needs two numbers,
/// the type hot when it is `H` or absent, cold otherwise; `L` and `C` are
/// rows and columns; any other line (a blank one too) is a format error.
/// Returns each pixel as (x, JPEG row, hot) and the count of errors. Siril
/// turns the row into `ry - y - 1` of its bottom-up image, which holds a
/// JPEG's row `r` at `ry - 1 - r` (`readjpg` then `mirrorx`).
fn parse_siril(text: &str, height: i64) -> (Vec<(i64, i64, bool)>, usize) {
    // sscanf's "%lf": leading white space, then a number.
    fn number(s: &str) -> Option<(f64, &str)> {
        let s = s.trim_start();
        let end = s
            .char_indices()
            .take_while(|&(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && "+-".contains(c)))
            .count();
        s[..end].parse().ok().map(|v| (v, &s[end..]))
    }
    let mut pixels = Vec::new();
    let mut errors = 0;
    let mut lines = Vec::new();
    for line in text.split_inclusive('\n') {
        let bytes = line.as_bytes();
        lines.extend(
            bytes
                .chunks(62)
                .map(|c| String::from_utf8_lossy(c).into_owned()),
        );
    }
    for line in &lines {
        let line = line.trim_end_matches('\n');
        match line.chars().next() {
            Some('#') => {}
            Some('P') => {
                let rest = line.get(2..).unwrap_or("");
                let Some((x, rest)) = number(rest) else {
                    errors += 1;
                    continue;
                };
                let Some((y, rest)) = number(rest) else {
                    errors += 1;
                    continue;
                };
                let hot = rest.trim_start().chars().next().is_none_or(|t| t == 'H');
                let siril_row = height - y as i64 - 1;
                let jpeg_row = height - 1 - siril_row;
                pixels.push((x as i64, jpeg_row, hot));
            }
            Some('L' | 'C') => {}
            _ => errors += 1,
        }
    }
    (pixels, errors)
}

/// (x, y, width, height) of every block of a jpegpixi block file, read as
/// `jpegpixi -f` reads it (jpegpixi.c): `read_line` drops NUL bytes and
/// everything from `#` to the end of the line and passes over lines of
/// white space; `parse_struct_point_dimdir_s` takes an optional direction
/// (`h`, `v`, or `2` followed by `:`), then `X,Y[,S]` or `X,Y,SX,SY`, the
/// separators `,`, `/` or `;`, white space around them, nothing after.
/// A line it cannot parse panics here (jpegpixi ignores it with a warning).
fn parse_jpegpixi(text: &str) -> Vec<(u32, u32, u32, u32)> {
    let mut blocks = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line: String = raw.split('#').next().unwrap().replace('\0', "");
        if line.trim().is_empty() {
            continue;
        }
        let mut s = line.trim_start();
        if let Some(rest) = s.strip_prefix(['h', 'H', 'v', 'V']) {
            s = rest
                .trim_start()
                .strip_prefix(':')
                .expect("a direction and ':'");
        } else if let Some(rest) = s.strip_prefix('2') {
            let next = rest.chars().next();
            if !next.is_some_and(|c| c.is_ascii_digit() || ".%,/;".contains(c)) {
                s = rest.trim_start().strip_prefix(':').expect("'2:'");
            }
        }
        let numbers: Vec<u32> = s
            .split([',', '/', ';'])
            .map(|t| {
                t.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("line {}: jpegpixi ignores {raw:?}", n + 1))
            })
            .collect();
        let block = match numbers[..] {
            [x, y] => (x, y, 1, 1),
            [x, y, size] => (x, y, size, size),
            [x, y, w, h] => (x, y, w, h),
            _ => panic!("line {}: jpegpixi ignores {raw:?}", n + 1),
        };
        assert!(block.2 > 0 && block.3 > 0, "a block of size 0: {raw:?}");
        blocks.push(block);
    }
    blocks
}

/// The Siril list names every photosite of every defect, shifted by the
/// offset, hot or cold by the defect's sign, on lines Siril reads without
/// an error; the command to run is in its comments.
#[test]
fn siril_list_reads_back_as_siril_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, defects) = find_in(
        tmp.path(),
        &["--siril", "hotpix.lst", "--raw-offset", "2,-1"],
    );
    let text = std::fs::read_to_string(tmp.path().join("hotpix.lst")).unwrap();
    assert!(text.contains("cosme"), "{text}");
    let (pixels, errors) = parse_siril(&text, 240);
    assert_eq!(errors, 0, "Siril would report format errors:\n{text}");
    let (expected, _) = shifted(&defects, 2, -1);
    let positions: Vec<(i64, i64)> = pixels.iter().map(|&(x, y, _)| (x, y)).collect();
    assert_eq!(positions, expected);
    // Hot for a bright defect, cold for a dark one; the offset (2,-1) drops
    // the photosites of row 0.
    let types: Vec<bool> = defects
        .iter()
        .flat_map(|d| d.photosites.iter().map(move |&(_, y)| (d.dark, y)))
        .filter(|&(_, y)| y >= 1)
        .map(|(dark, _)| !dark)
        .collect();
    assert_eq!(pixels.iter().map(|p| p.2).collect::<Vec<_>>(), types);
    assert!(defects.iter().any(|d| d.dark) && defects.iter().any(|d| !d.dark));
}

/// The jpegpixi blocks cover every photosite of every defect in JPEG
/// pixels (no raw offset), lie within the frame, and never overlap (jpegpixi
/// would drop the second of two overlapping blocks).
#[test]
fn jpegpixi_blocks_read_back_as_jpegpixi_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, defects) = find_in(tmp.path(), &["--jpegpixi", "blocks.txt"]);
    let text = std::fs::read_to_string(tmp.path().join("blocks.txt")).unwrap();
    assert!(text.contains("jpegpixi -f"), "{text}");
    let blocks = parse_jpegpixi(&text);
    assert!(!blocks.is_empty() && blocks.len() <= defects.len());
    for (i, a) in blocks.iter().enumerate() {
        assert!(
            a.0 + a.2 <= 320 && a.1 + a.3 <= 240,
            "{a:?} leaves the frame"
        );
        for b in &blocks[i + 1..] {
            let apart =
                a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
            assert!(
                apart,
                "{a:?} and {b:?} overlap: jpegpixi ignores the second"
            );
        }
    }
    for d in &defects {
        for &(x, y) in &d.photosites {
            assert!(
                blocks
                    .iter()
                    .any(|b| (b.0..b.0 + b.2).contains(&x) && (b.1..b.1 + b.3).contains(&y)),
                "({x},{y}) is in no block"
            );
        }
    }
    // The raw offset is for raw files; jpegpixi mends the JPEG itself.
    let series = series();
    let r = run_in(
        tmp.path(),
        &[
            "find",
            "--jpegpixi",
            "b.txt",
            "--raw-offset",
            "1,1",
            &series,
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--raw-offset applies to"), "{}", r.stderr);
}
