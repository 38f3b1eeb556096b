//! Tests of the generator's outputs as files: determinism for any thread count, fixture drift,
//! the JPEG and EXIF layout it promises, the conditions and presets behaving as documented,
//! and the bad inputs being bad.

mod common;
use common::*;

use std::fs;
use std::io::Cursor;

use exif::{In, Tag};
use hotpix_synth::{
    self as synth, Condition, DefectKind, DefectPlan, KindCounts, Preset, Renderer, SceneMode,
    SeriesSpec, StuckLevel, Subsampling, Truth, BAD_INPUTS,
};
use image::codecs::jpeg::JpegDecoder;
use image::ImageDecoder as _;

/// The spec of `fixtures/series`; must match the command in `fixtures/README.md`.
fn fixture_spec() -> SeriesSpec {
    let mut spec = SeriesSpec::preset(Preset::Varied, 320, 240, 12, 80);
    spec.defects = DefectPlan {
        singles: KindCounts::each(2),
        pairs: "stuck_high=1,dead=1".parse().unwrap(),
        clusters: "hot=1".parse().unwrap(),
        edge: "stuck_high=1,hot=1,warm=1,dead=1".parse().unwrap(),
        ..DefectPlan::default()
    };
    spec
}

fn small_spec(seed: u64) -> SeriesSpec {
    let mut spec = SeriesSpec::new(96, 64, 3, seed);
    spec.defects.singles = "stuck_high=1,stuck_mid=1,hot=1,warm=1,dead=1,blinking=1"
        .parse()
        .unwrap();
    spec.defects.edge.hot = 1;
    spec
}

fn write_in_pool(spec: &SeriesSpec, threads: usize) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| synth::write_series(spec, dir.path()).unwrap());
    read_dir_sorted(dir.path())
}

#[test]
fn same_spec_gives_identical_files_for_any_thread_count_and_another_seed_differs() {
    let mut spec = small_spec(5);
    spec.frames = 4;
    spec.conditions = "daylight=1,clipped_sky=1,indoor=1,night=1".parse().unwrap();
    let one = write_in_pool(&spec, 1);
    let three = write_in_pool(&spec, 3);
    assert_eq!(one.len(), 5, "4 frames + truth.json");
    assert!(one == three, "1 and 3 threads wrote different bytes");
    let other = write_in_pool(&small_spec(6), 2);
    for ((name, x), (_, y)) in one.iter().zip(&other) {
        if name.ends_with(".JPG") {
            assert_ne!(x, y, "{name} did not change with the seed");
        }
    }
}

#[test]
fn frames_do_not_depend_on_render_order() {
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
    assert_eq!(parsed.spec, fixture_spec());
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

/// The ranges the brief gives each condition, written out independently of the generator.
fn ranges(c: Condition) -> ((f64, f64), (u32, u32)) {
    match c {
        Condition::Daylight | Condition::ClippedSky => ((1.0 / 4000.0, 1.0 / 250.0), (100, 400)),
        Condition::Indoor => ((1.0 / 60.0, 1.0 / 8.0), (400, 3200)),
        Condition::Night => ((1.0, 30.0), (200, 1600)),
        Condition::NightSky => ((10.0, 30.0), (100, 3200)),
    }
}

#[test]
fn exif_states_the_simulated_exposure_within_each_conditions_range() {
    let mut spec = SeriesSpec::new(96, 64, 12, 11);
    spec.conditions = "daylight=1,clipped_sky=1,indoor=1,night=1".parse().unwrap();
    spec.camera.serial = Some("7654321".into());
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    let mut conditions = std::collections::BTreeSet::new();
    for shot in &truth.shots {
        let jpeg = fs::read(dir.path().join(&shot.file)).unwrap();
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(&jpeg))
            .unwrap();
        let text = |tag| match &exif.get_field(tag, In::PRIMARY).unwrap().value {
            exif::Value::Ascii(v) => String::from_utf8(v[0].clone()).unwrap(),
            other => panic!("{tag}: {other:?}"),
        };
        assert_eq!(text(Tag::Make), "NIKON CORPORATION");
        assert_eq!(text(Tag::Model), "NIKON D80");
        assert_eq!(text(Tag::BodySerialNumber), "7654321");
        assert_eq!(text(Tag::DateTimeOriginal), shot.datetime);
        let (t, iso) = exif_exposure_iso(&jpeg);
        assert_eq!(t, shot.exposure);
        assert_eq!(iso, shot.iso);
        let seconds = f64::from(t.0) / f64::from(t.1);
        assert_eq!(seconds, shot.exposure_seconds);
        let ((tlo, thi), (ilo, ihi)) = ranges(shot.condition);
        assert!((tlo..=thi).contains(&seconds), "{shot:?}");
        assert!((ilo..=ihi).contains(&iso), "{shot:?}");
        assert_eq!(shot.white_balance, synth::white_balance(shot.condition));
        conditions.insert(shot.condition.as_str());
    }
    assert_eq!(conditions.len(), 4, "{conditions:?}");
    let times: Vec<&str> = truth.shots.iter().map(|s| s.datetime.as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    // Tungsten: red needs less gain than in daylight, blue much more.
    let (day, tungsten) = (
        synth::white_balance(Condition::Daylight),
        synth::white_balance(Condition::Indoor),
    );
    assert!(tungsten[0] < day[0] && tungsten[2] > 1.5 * day[2]);
}

#[test]
fn serial_can_be_left_out() {
    let spec = small_spec(12);
    let rgb = Renderer::new(&spec).render(&[], 0);
    let mut camera = spec.camera.clone();
    camera.serial = None;
    let exif = synth::FrameExif {
        camera,
        iso: 200,
        exposure: (1, 60),
        datetime: "2007:06:02 09:00:00".into(),
        f_number: None,
    };
    let jpeg = synth::encode_jpeg(&rgb, 96, 64, 95, Subsampling::S422, Some(&exif)).unwrap();
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&jpeg))
        .unwrap();
    assert!(exif.get_field(Tag::BodySerialNumber, In::PRIMARY).is_none());
}

#[test]
fn chroma_subsampling_is_what_the_jpeg_says() {
    for (sub, luma) in [(Subsampling::S422, (2, 1)), (Subsampling::S420, (2, 2))] {
        let mut spec = small_spec(13);
        spec.frames = 1;
        spec.subsampling = sub;
        let dir = tempfile::tempdir().unwrap();
        let truth = synth::write_series(&spec, dir.path()).unwrap();
        assert_eq!(truth.shots[0].subsampling, sub);
        let jpeg = fs::read(dir.path().join(&truth.files[0])).unwrap();
        let comps = sof0_components(&jpeg);
        assert_eq!(comps.len(), 3);
        assert_eq!((comps[0].1, comps[0].2), luma, "{sub}");
        assert_eq!((comps[1].1, comps[1].2), (1, 1));
        assert_eq!((comps[2].1, comps[2].2), (1, 1));
        decode(&jpeg).unwrap();
    }
    let fixture = fs::read(fixtures().join("series/DSC_0001.JPG")).unwrap();
    assert_eq!(
        (
            sof0_components(&fixture)[0].1,
            sof0_components(&fixture)[0].2
        ),
        (2, 1)
    );
}

/// Decoded RGB of frame `index` of a fresh series.
fn frame_rgb(spec: &SeriesSpec, index: usize) -> Vec<u8> {
    Renderer::new(spec).render(&[], index)
}

#[test]
fn a_clipped_sky_clips_to_white_and_a_night_is_low_key_with_clipped_lamps() {
    let mut spec = SeriesSpec::new(320, 240, 1, 14);
    spec.conditions = ConditionName::ClippedSky.mix();
    let sky = frame_rgb(&spec, 0);
    let white = sky.chunks(3).filter(|p| p == &[255, 255, 255]).count();
    let share = white as f64 / (320.0 * 240.0);
    assert!(
        share > 0.15,
        "only {share:.3} of a clipped-sky frame is white"
    );

    spec.conditions = ConditionName::Night.mix();
    let night = frame_rgb(&spec, 0);
    let luma: Vec<f64> = night
        .chunks(3)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let (mean, _) = mean_sd(&luma);
    assert!(mean < 45.0, "night mean luma {mean}");
    let clipped = night.chunks(3).filter(|p| p.contains(&255)).count();
    assert!(clipped > 10, "no clipped lamps: {clipped}");
}

/// Condition names as mixes, for brevity.
enum ConditionName {
    ClippedSky,
    Night,
}

impl ConditionName {
    fn mix(self) -> synth::ConditionMix {
        synth::ConditionMix::only(match self {
            ConditionName::ClippedSky => Condition::ClippedSky,
            ConditionName::Night => Condition::Night,
        })
    }
}

#[test]
fn presets_are_what_they_say() {
    let (w, h) = (640, 480);
    for preset in Preset::ALL {
        let spec = SeriesSpec::preset(preset, w, h, 20, 15);
        spec.validate().unwrap();
        let groups = synth::try_place_defects(&spec).unwrap();
        let shots = Renderer::new(&spec).shots().to_vec();
        let count = |c: Condition| shots.iter().filter(|s| s.condition == c).count();
        match preset {
            Preset::Clean => assert!(groups.is_empty()),
            _ => {
                assert!(
                    (20..=60).contains(&groups.len()),
                    "{preset}: {}",
                    groups.len()
                );
                for kind in [
                    DefectKind::Hot,
                    DefectKind::Warm,
                    DefectKind::Dead,
                    DefectKind::Blinking,
                ] {
                    assert!(
                        groups.iter().any(|g| g.kind == kind),
                        "{preset}: no {kind:?}"
                    );
                }
                for level in [StuckLevel::High, StuckLevel::Mid] {
                    assert!(groups.iter().any(|g| g.stuck == Some(level)));
                }
                assert!(groups.iter().any(|g| g.edge));
                assert!(groups.iter().any(|g| g.shape == synth::Shape::Pair));
                assert!(groups.iter().any(|g| g.shape == synth::Shape::Cluster));
            }
        }
        match preset {
            Preset::Varied | Preset::Clean | Preset::WeakWarm | Preset::TexturedWarm => {
                // 45/15/25/15 of 20 frames.
                let got = Condition::ALL.map(count);
                assert_eq!(got, [9, 3, 5, 3, 0], "{preset}");
            }
            Preset::NightHeavy => {
                assert!(count(Condition::Night) + count(Condition::Indoor) >= 17);
            }
            Preset::HighIso => assert!(shots.iter().all(|s| (1600..=6400).contains(&s.iso))),
            Preset::Q85_420 => {
                assert_eq!((spec.quality, spec.subsampling), (85, Subsampling::S420));
            }
            Preset::Tripod => {
                assert_eq!(spec.scene, SceneMode::Tripod);
                assert!(shots.iter().all(|s| s.view == 0 && s.iso == shots[0].iso));
                assert!(shots.iter().all(|s| s.condition == Condition::Indoor));
                let t: Vec<f64> = shots.iter().map(|s| s.exposure_seconds).collect();
                let (lo, hi) = t
                    .iter()
                    .fold((f64::MAX, 0f64), |a, &v| (a.0.min(v), a.1.max(v)));
                assert!(hi / lo >= 8.0, "bracket spans {lo}..{hi} s");
            }
            Preset::FiveBurst => {}
            _ => later_presets(preset, &spec, &shots, &groups),
        }
        assert_eq!(
            spec.fine_texture,
            preset == Preset::TexturedWarm,
            "{preset}"
        );
        if matches!(preset, Preset::WeakWarm | Preset::TexturedWarm) {
            let warm: Vec<f32> = groups
                .iter()
                .filter(|g| g.kind == DefectKind::Warm)
                .flat_map(|g| g.photosites.iter().map(|p| p.offset.unwrap()))
                .collect();
            assert!(warm.len() >= 12 && warm.iter().all(|o| (0.02..=0.05).contains(o)));
        }
    }
}

/// The checks of [`presets_are_what_they_say`] for the presets modelled on the detector's
/// failures (20 frames at 640x480).
fn later_presets(
    preset: Preset,
    spec: &SeriesSpec,
    shots: &[synth::Shot],
    groups: &[synth::DefectGroup],
) {
    let count = |c: Condition| shots.iter().filter(|s| s.condition == c).count();
    match preset {
        Preset::NightSky | Preset::NightSkyTracked => {
            assert_eq!(spec.scene, SceneMode::Sky);
            let first = &shots[0];
            let tracked = preset == Preset::NightSkyTracked;
            assert!(shots.iter().all(|s| s.condition == Condition::NightSky
                && (s.iso, s.exposure) == (first.iso, first.exposure)
                && s.sky.as_ref().is_some_and(|k| k.tracked == tracked)));
            let hot = groups.iter().filter(|g| g.kind == DefectKind::Hot).count();
            assert!(hot >= 25, "{hot} hot groups");
            assert_eq!(spec.defects.ranges.hot_rate, synth::ASTRO_HOT_RATE);
        }
        Preset::NightCollection => {
            assert_eq!(spec.night_bursts, 2);
            let night = count(Condition::Night) + count(Condition::NightSky);
            assert!((10..=15).contains(&night), "{night} night frames of 20");
            let bursts = shots.iter().filter(|s| s.burst).count();
            assert!((6..=10).contains(&bursts), "{bursts} frames in bursts");
        }
        Preset::OldStyle => {
            assert_eq!((spec.quality, spec.subsampling), (78, Subsampling::S420));
            assert_eq!(spec.demosaic, synth::Demosaic::Bilinear);
            assert_eq!(count(Condition::Daylight), 9);
        }
        _ => {}
    }
}

#[test]
fn five_burst_has_a_burst_of_three_and_a_dark_frame() {
    let spec = SeriesSpec::preset(Preset::FiveBurst, 320, 240, 5, 16);
    let shots = Renderer::new(&spec).shots().to_vec();
    let burst: Vec<_> = shots.iter().filter(|s| s.burst).collect();
    assert_eq!(burst.len(), 3);
    let first = burst[0];
    for s in &burst {
        assert_eq!(
            (s.view, s.condition, s.iso, s.exposure),
            (first.view, first.condition, first.iso, first.exposure)
        );
        assert!(
            (s.offset.0 - first.offset.0).abs() <= 1.5
                && (s.offset.1 - first.offset.1).abs() <= 1.5
        );
        assert_eq!(s.zoom, first.zoom);
    }
    assert!(burst.windows(2).all(|w| w[1].view == w[0].view));
    let views: std::collections::BTreeSet<usize> = shots.iter().map(|s| s.view).collect();
    assert_eq!(views.len(), 3);
    assert!(shots
        .iter()
        .any(|s| matches!(s.condition, Condition::Indoor | Condition::Night)));
}

#[test]
fn stuck_high_photosites_hold_still_in_the_fixture_while_the_scene_moves() {
    let dir = fixtures().join("series");
    let truth: Truth = serde_json::from_slice(&fs::read(dir.join("truth.json")).unwrap()).unwrap();
    let frames: Vec<Vec<u8>> = truth
        .files
        .iter()
        .map(|f| decode(&fs::read(dir.join(f)).unwrap()).unwrap().2)
        .collect();
    let w = truth.width as usize;
    let at = |f: &[u8], x: usize, y: usize, c: usize| f64::from(f[(y * w + x) * 3 + c]);
    let mut checked = 0;
    for g in truth
        .defects
        .iter()
        .filter(|g| g.stuck == Some(StuckLevel::High) && !g.edge)
    {
        let p = &g.photosites[0];
        let (x, y, c) = (p.x as usize, p.y as usize, p.channel as usize);
        let here: Vec<f64> = frames.iter().map(|f| at(f, x, y, c)).collect();
        // The same channel 8 px away, beyond the defect's footprint.
        let near: Vec<f64> = frames.iter().map(|f| at(f, x + 8, y, c)).collect();
        let (mean_here, sd_here) = mean_sd(&here);
        let (_, sd_near) = mean_sd(&near);
        assert!(mean_here > 200.0, "{g:?}: mean {mean_here}: {here:?}");
        assert!(
            sd_here < 0.5 * sd_near,
            "{g:?}: sd {sd_here:.1} vs {sd_near:.1} beside it"
        );
        checked += 1;
    }
    assert!(checked >= 2);
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
