//! Tests of the synthetic series generator: determinism, fixture drift, the JPEG and EXIF
//! layout it promises, that its defects look like defects, and that the bad inputs are bad.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use exif::{In, Tag};
use hotpix_synth::{
    self as synth, DefectCounts, DefectKind, Renderer, SceneMode, SeriesSpec, Truth, BAD_INPUTS,
};
use image::codecs::jpeg::JpegDecoder;
use image::ImageDecoder as _;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The spec of `fixtures/series`; must match the command in `fixtures/README.md`.
fn fixture_spec() -> SeriesSpec {
    let mut spec = SeriesSpec::new(320, 240, 12, 80);
    spec.scene = SceneMode::Varied;
    spec.defects = DefectCounts {
        stuck: 3,
        hot: 2,
        warm: 2,
        dead: 2,
    };
    spec
}

fn small_spec(seed: u64) -> SeriesSpec {
    let mut spec = SeriesSpec::new(96, 64, 3, seed);
    spec.defects = DefectCounts {
        stuck: 2,
        hot: 1,
        warm: 1,
        dead: 1,
    };
    spec
}

fn read_dir_sorted(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn decode(jpeg: &[u8]) -> image::ImageResult<(u32, u32, Vec<u8>)> {
    let decoder = JpegDecoder::new(Cursor::new(jpeg))?;
    let (w, h) = decoder.dimensions();
    let mut buf = vec![0u8; decoder.total_bytes() as usize];
    decoder.read_image(&mut buf)?;
    Ok((w, h, buf))
}

#[test]
fn same_spec_gives_identical_files_and_another_seed_differs() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    synth::write_series(&small_spec(5), a.path()).unwrap();
    synth::write_series(&small_spec(5), b.path()).unwrap();
    synth::write_series(&small_spec(6), c.path()).unwrap();
    let (fa, fb, fc) = (
        read_dir_sorted(a.path()),
        read_dir_sorted(b.path()),
        read_dir_sorted(c.path()),
    );
    assert_eq!(fa.len(), 4, "3 frames + truth.json");
    assert_eq!(fa, fb);
    for ((name, x), (_, y)) in fa.iter().zip(&fc) {
        if name.ends_with(".JPG") {
            assert_ne!(x, y, "{name} did not change with the seed");
        }
    }
}

#[test]
fn frames_do_not_depend_on_render_order_or_threads() {
    let spec = small_spec(9);
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    let renderer = Renderer::new(&spec);
    // Rendered alone, last frame first, on this thread.
    for index in (0..spec.frames).rev() {
        let jpeg = renderer.render_jpeg(&truth.defects, index).unwrap();
        assert_eq!(
            jpeg,
            fs::read(dir.path().join(&truth.files[index])).unwrap()
        );
    }
}

/// Guards against fixture drift: a change to the generator that alters its output must come
/// with regenerated fixtures (see fixtures/README.md).
#[test]
fn committed_fixture_series_regenerates_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&fixture_spec(), dir.path()).unwrap();
    let committed = read_dir_sorted(&fixtures().join("series"));
    let fresh = read_dir_sorted(dir.path());
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&committed), names(&fresh));
    for ((name, old), (_, new)) in committed.iter().zip(&fresh) {
        assert!(
            old == new,
            "fixtures/series/{name} differs from a fresh render"
        );
    }
    let parsed: Truth =
        serde_json::from_slice(&fs::read(dir.path().join("truth.json")).unwrap()).unwrap();
    assert_eq!(parsed, truth);
    assert_eq!(parsed.spec().unwrap(), fixture_spec());
}

#[test]
fn committed_bad_inputs_regenerate_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read(fixtures().join("series/DSC_0001.JPG")).unwrap();
    synth::write_bad_inputs(dir.path(), &good).unwrap();
    let committed = read_dir_sorted(&fixtures().join("bad"));
    let fresh = read_dir_sorted(dir.path());
    assert_eq!(fresh.len(), BAD_INPUTS.len());
    for (name, new) in &fresh {
        let old = committed.iter().find(|f| &f.0 == name);
        assert!(
            old.is_some_and(|o| &o.1 == new),
            "fixtures/bad/{name} differs from a fresh render"
        );
    }
}

#[test]
fn defects_respect_margin_spacing_and_counts() {
    let mut spec = SeriesSpec::new(400, 300, 1, 3);
    spec.defects = DefectCounts {
        stuck: 40,
        hot: 30,
        warm: 30,
        dead: 20,
    };
    let defects = synth::place_defects(&spec);
    assert_eq!(defects, synth::place_defects(&spec));
    assert_eq!(defects.len(), 120);
    for kind in [
        DefectKind::Stuck,
        DefectKind::Hot,
        DefectKind::Warm,
        DefectKind::Dead,
    ] {
        let levels: Vec<f32> = defects
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.level)
            .collect();
        let range = match kind {
            DefectKind::Stuck => 0.4..=1.0,
            DefectKind::Hot => 0.5..=1.0,
            DefectKind::Warm => 0.15..=0.40,
            DefectKind::Dead => 0.0..=0.0,
        };
        assert!(
            levels.iter().all(|l| range.contains(l)),
            "{kind:?}: {levels:?}"
        );
    }
    for (i, d) in defects.iter().enumerate() {
        assert!(d.x >= 4 && d.y >= 4 && d.x < 396 && d.y < 296, "{d:?}");
        assert_eq!(d.channel, synth::bayer_channel(d.x, d.y));
        for e in &defects[i + 1..] {
            let (dx, dy) = (d.x.abs_diff(e.x), d.y.abs_diff(e.y));
            assert!(dx * dx + dy * dy >= 144, "{d:?} and {e:?} are too close");
        }
    }
    spec.defects.stuck = 10_000;
    assert!(synth::try_place_defects(&spec).is_err());
}

#[test]
fn exif_reads_back() {
    let mut spec = small_spec(11);
    spec.camera.serial = Some("7654321".into());
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    for shot in &truth.shots {
        let jpeg = fs::read(dir.path().join(&shot.file)).unwrap();
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&jpeg))
            .unwrap();
        let text = |tag| {
            let f = exif.get_field(tag, In::PRIMARY).unwrap();
            match &f.value {
                exif::Value::Ascii(v) => String::from_utf8(v[0].clone()).unwrap(),
                other => panic!("{tag}: {other:?}"),
            }
        };
        let uint = |tag| {
            exif.get_field(tag, In::PRIMARY)
                .unwrap()
                .value
                .get_uint(0)
                .unwrap()
        };
        assert_eq!(text(Tag::Make), "NIKON CORPORATION");
        assert_eq!(text(Tag::Model), "NIKON D80");
        assert_eq!(text(Tag::BodySerialNumber), "7654321");
        assert_eq!(text(Tag::DateTimeOriginal), shot.datetime);
        assert_eq!(uint(Tag::PhotographicSensitivity), shot.iso);
        assert_eq!(uint(Tag::Orientation), 1);
        assert_eq!(uint(Tag::PixelXDimension), 96);
        match &exif
            .get_field(Tag::ExposureTime, In::PRIMARY)
            .unwrap()
            .value
        {
            exif::Value::Rational(r) => assert_eq!((r[0].num, r[0].denom), shot.exposure),
            other => panic!("ExposureTime: {other:?}"),
        }
    }
    let times: Vec<&str> = truth.shots.iter().map(|s| s.datetime.as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}

#[test]
fn serial_can_be_left_out() {
    let mut spec = small_spec(12);
    spec.camera.serial = None;
    let rgb = synth::render_frame(&spec, &[], 0);
    let exif = synth::FrameExif {
        camera: spec.camera.clone(),
        iso: 200,
        exposure: (1, 60),
        datetime: "2007:06:02 09:00:00".into(),
    };
    let jpeg = synth::encode_jpeg(&rgb, 96, 64, 95, Some(&exif)).unwrap();
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&jpeg))
        .unwrap();
    assert!(exif.get_field(Tag::BodySerialNumber, In::PRIMARY).is_none());
}

/// Components of a baseline JPEG's SOF0 as (id, horizontal, vertical sampling).
fn sof0_components(jpeg: &[u8]) -> Vec<(u8, u8, u8)> {
    let mut i = 2;
    loop {
        assert_eq!(jpeg[i], 0xFF, "lost marker sync at {i}");
        let marker = jpeg[i + 1];
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        if marker == 0xC0 {
            let seg = &jpeg[i + 4..i + 2 + len];
            let n = seg[5] as usize;
            return (0..n)
                .map(|c| {
                    let s = &seg[6 + 3 * c..];
                    (s[0], s[1] >> 4, s[1] & 0x0F)
                })
                .collect();
        }
        assert_ne!(marker, 0xDA, "no SOF0 before the scan");
        i += 2 + len;
    }
}

#[test]
fn jpeg_is_baseline_4_2_2() {
    let jpeg = fs::read(fixtures().join("series/DSC_0001.JPG")).unwrap();
    let comps = sof0_components(&jpeg);
    assert_eq!(comps.len(), 3);
    assert_eq!((comps[0].1, comps[0].2), (2, 1), "luma must be 2x1");
    assert_eq!((comps[1].1, comps[1].2), (1, 1));
    assert_eq!((comps[2].1, comps[2].2), (1, 1));
}

/// The decoded fixture series as (width, frames of RGB).
fn fixture_frames() -> (Truth, Vec<Vec<u8>>) {
    let dir = fixtures().join("series");
    let truth: Truth = serde_json::from_slice(&fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let frames = truth
        .files
        .iter()
        .map(|f| decode(&fs::read(dir.join(f)).unwrap()).unwrap().2)
        .collect();
    (truth, frames)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
    (m, var.sqrt())
}

#[test]
fn stuck_photosites_hold_still_while_the_scene_moves() {
    let (truth, frames) = fixture_frames();
    let w = truth.width as usize;
    let at = |f: &[u8], x: usize, y: usize, c: usize| f64::from(f[(y * w + x) * 3 + c]);
    for d in truth.defects.iter().filter(|d| d.kind == DefectKind::Stuck) {
        let (x, y, c) = (d.x as usize, d.y as usize, d.channel as usize);
        let here: Vec<f64> = frames.iter().map(|f| at(f, x, y, c)).collect();
        // The same channel 6 px away, beyond the defect's demosaic and chroma footprint.
        let near: Vec<f64> = frames.iter().map(|f| at(f, x + 6, y, c)).collect();
        let (_, sd_here) = mean_sd(&here);
        let (_, sd_near) = mean_sd(&near);
        assert!(
            sd_here < 0.4 * sd_near && sd_here < 12.0,
            "{d:?}: sd {sd_here:.1} at the defect vs {sd_near:.1} beside it: {here:?}"
        );
    }
}

#[test]
fn warm_photosites_sit_above_their_neighbours() {
    let (truth, frames) = fixture_frames();
    let w = truth.width as usize;
    let at = |f: &[u8], x: usize, y: usize, c: usize| f64::from(f[(y * w + x) * 3 + c]);
    for d in truth.defects.iter().filter(|d| d.kind == DefectKind::Warm) {
        let (x, y, c) = (d.x as usize, d.y as usize, d.channel as usize);
        // Same-colour photosites two away in the mosaic.
        let ring = [(x - 2, y), (x + 2, y), (x, y - 2), (x, y + 2)];
        let excess: Vec<f64> = frames
            .iter()
            .map(|f| {
                let around = ring.iter().map(|&(u, v)| at(f, u, v, c)).sum::<f64>() / 4.0;
                at(f, x, y, c) - around
            })
            .collect();
        let (mean, _) = mean_sd(&excess);
        assert!(mean > 10.0, "{d:?}: mean excess {mean:.1}: {excess:?}");
        assert!(excess.iter().filter(|&&e| e > 0.0).count() >= frames.len() - 1);
    }
}

#[test]
fn tripod_frames_differ_only_in_exposure_and_noise() {
    let mut spec = small_spec(21);
    spec.scene = SceneMode::Tripod;
    spec.frames = 2;
    let renderer = Renderer::new(&spec);
    let (a, b) = (renderer.shot(0), renderer.shot(1));
    assert_eq!((a.zoom, a.offset, a.cast), (b.zoom, b.offset, b.cast));
    assert_ne!(a.brightness, b.brightness);
}

#[test]
fn bad_inputs_are_bad_in_the_way_their_names_say() {
    let bad = fixtures().join("bad");
    let read = |name: &str| fs::read(bad.join(name)).unwrap();
    let good = fs::read(fixtures().join("series/DSC_0001.JPG")).unwrap();

    assert!(read("empty.jpg").is_empty());
    assert!(JpegDecoder::new(Cursor::new(read("empty.jpg"))).is_err());
    assert!(JpegDecoder::new(Cursor::new(read("not-an-image.jpg"))).is_err());

    let truncated = read("truncated.jpg");
    assert_eq!(truncated.len(), good.len() * 6 / 10);
    assert!(good.starts_with(&truncated));
    // image's JpegDecoder (zune-jpeg, lenient) does not fail on this: it paints the missing
    // rows grey and returns Ok. The file's tell is its missing end-of-image marker.
    assert!(!truncated.ends_with(&[0xFF, 0xD9]));
    if let Ok((w, _, px)) = decode(&truncated) {
        let last_row = &px[px.len() - w as usize * 3..];
        assert!(
            last_row.iter().all(|&v| v == 128),
            "truncated.jpg has no grey fill"
        );
    }

    let corrupt = read("corrupt.jpg");
    assert!(
        JpegDecoder::new(Cursor::new(&corrupt)).is_ok(),
        "headers must parse"
    );
    assert!(decode(&corrupt).is_err(), "corrupt.jpg decoded");

    let (w, h, _) = decode(&read("other-size.jpg")).unwrap();
    assert_eq!((w, h), (240, 180));
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(read("other-size.jpg")))
        .unwrap();
    let model = exif.get_field(Tag::Model, In::PRIMARY).unwrap();
    assert_eq!(model.display_value().to_string(), "\"NIKON D80\"");

    let huge = read("huge-header.jpg");
    let decoder = JpegDecoder::new(Cursor::new(&huge)).unwrap();
    assert_eq!(decoder.dimensions(), (65000, 65000));
    // Default limits refuse to allocate the 12.7 GB the header asks for.
    let refused =
        image::ImageReader::with_format(Cursor::new(&huge), image::ImageFormat::Jpeg).decode();
    assert!(
        matches!(refused, Err(image::ImageError::Limits(_))),
        "{refused:?}"
    );
}
