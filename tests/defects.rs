//! Defect detection against generated series with known defects, with the
//! automatic threshold: varied series of 12 and 60 frames, 2- and 3-frame
//! series, a defect-free series and a tripod series (issue 3's targets).
//! Each test prints its figures (injected, found, false, threshold).

use std::path::PathBuf;

use hotpix::detect::Defect;
use hotpix::{FindOptions, Report};
use hotpix_synth::{self as synth, DefectKind, SceneMode, SeriesSpec};

struct Score {
    injected: usize,
    missed: Vec<synth::DefectGroup>,
    false_reports: Vec<Defect>,
    reports: usize,
    report: Report,
}

fn run_series(name: &str, spec: &SeriesSpec, jobs: usize) -> Score {
    let tmp = tempfile::tempdir().unwrap();
    let truth = synth::write_series(spec, tmp.path()).unwrap();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "JPG"))
        .collect();
    paths.sort();
    let opts = FindOptions {
        jobs,
        top: 0,
        max_megapixels: 200,
        mixed_cameras: false,
        threshold: None,
        memory: None,
    };
    let report = hotpix::find(&paths, &opts, &|_| {}).unwrap().report;
    let near = |d: &Defect, t: &synth::DefectGroup| {
        t.photosites
            .iter()
            .any(|p| d.x.abs_diff(p.x) <= 2 && d.y.abs_diff(p.y) <= 2)
    };
    let missed: Vec<_> = truth
        .defects
        .iter()
        .filter(|t| !report.defects.iter().any(|d| near(d, t)))
        .cloned()
        .collect();
    let false_reports: Vec<_> = report
        .defects
        .iter()
        .filter(|d| !truth.defects.iter().any(|t| near(d, t)))
        .cloned()
        .collect();
    let s = Score {
        injected: truth.defects.len(),
        reports: report.defects.len(),
        missed,
        false_reports,
        report,
    };
    eprintln!(
        "{name}: {}x{} x{} frames: injected {}, found {}, missed {}, false {}, threshold {:.2}, similarity {:?}, warnings {:?}",
        spec.width,
        spec.height,
        spec.frames,
        s.injected,
        s.injected - s.missed.len(),
        s.missed.len(),
        s.false_reports.len(),
        s.report.summary.threshold,
        s.report.summary.frame_similarity.map(|v| (v * 100.0).round() / 100.0),
        s.report.summary.warnings.len()
    );
    for m in &s.missed {
        eprintln!("  missed {m:?}");
    }
    for f in s.false_reports.iter().take(3) {
        eprintln!("  false {f:?}");
    }
    s
}

fn spec(
    width: u32,
    height: u32,
    frames: usize,
    seed: u64,
    scene: SceneMode,
    n: [usize; 4],
) -> SeriesSpec {
    let mut s = SeriesSpec::new(width, height, frames, seed);
    s.scene = scene;
    s.defects.singles.stuck_high = n[0];
    s.defects.singles.hot = n[1];
    s.defects.singles.warm = n[2];
    s.defects.singles.dead = n[3];
    s
}

/// The tripod series of issue 3: one view, only the exposure changes.
fn tripod_spec() -> SeriesSpec {
    spec(480, 360, 24, 106, SceneMode::Tripod, [3, 3, 3, 3])
}

fn real_fraction(s: &Score) -> f64 {
    if s.reports == 0 {
        1.0
    } else {
        (s.reports - s.false_reports.len()) as f64 / s.reports as f64
    }
}

/// Every injected defect reported (within 2 px), at least 95% of reports real.
fn finds_every_defect(name: &str, spec: &SeriesSpec) {
    let s = run_series(name, spec, 2);
    assert!(s.missed.is_empty(), "missed {:?}", s.missed);
    assert!(
        real_fraction(&s) >= 0.95,
        "false reports {:?}",
        s.false_reports
    );
}

#[test]
fn varied_12_frames_finds_every_defect() {
    finds_every_defect(
        "varied-12",
        &spec(480, 360, 12, 101, SceneMode::Varied, [3, 3, 3, 3]),
    );
}

#[test]
fn varied_60_frames_finds_every_defect() {
    finds_every_defect(
        "varied-60",
        &spec(320, 240, 60, 102, SceneMode::Varied, [3, 3, 3, 3]),
    );
}

fn few_frames(frames: usize, seed: u64) {
    let sp = spec(640, 480, frames, seed, SceneMode::Varied, [3, 3, 3, 3]);
    let s = run_series(&format!("varied-{frames}"), &sp, 2);
    let stuck_or_hot_missed: Vec<_> = s
        .missed
        .iter()
        .filter(|d| matches!(d.kind, DefectKind::Stuck | DefectKind::Hot))
        .collect();
    assert!(
        stuck_or_hot_missed.is_empty(),
        "missed {stuck_or_hot_missed:?}"
    );
    let megapixels = f64::from(sp.width * sp.height) / 1e6;
    assert!(
        s.false_reports.len() as f64 <= 3.0 * megapixels,
        "{} false reports on {megapixels} MP",
        s.false_reports.len()
    );
    assert!(s.report.summary.warnings.iter().any(|w| w.contains("weak")));
}

#[test]
fn two_frames_find_stuck_and_hot() {
    few_frames(2, 103);
}

#[test]
fn three_frames_find_stuck_and_hot() {
    few_frames(3, 104);
}

#[test]
fn defect_free_series_reports_at_most_two() {
    let s = run_series(
        "clean-24",
        &spec(480, 360, 24, 105, SceneMode::Varied, [0, 0, 0, 0]),
        2,
    );
    assert!(s.reports <= 2, "{:?}", s.report.defects);
}

#[test]
#[ignore = "issue 3 target not met: a dead photosite on a tripod series cannot be told from a \
            static dark scene dot of one colour (both scale with the exposure, and bilinear \
            demosaicing spreads a photosite as the optics spread a point); 2 of its 3 dead \
            photosites score 0.0 and 0.08, below the threshold (0.10)"]
fn tripod_series_finds_every_defect_and_warns() {
    let s = run_series("tripod-24", &tripod_spec(), 2);
    assert!(s.missed.is_empty(), "missed {:?}", s.missed);
    assert!(
        real_fraction(&s) >= 0.8,
        "false reports {:?}",
        s.false_reports
    );
    assert!(
        s.report
            .summary
            .warnings
            .iter()
            .any(|w| w.contains("too alike")),
        "{:?}",
        s.report.summary.warnings
    );
}

/// What a tripod series does get: the too-alike warning, every stuck, hot
/// and warm photosite (they do not scale with the exposure as the scene
/// does), and at least 80% of reports real.
#[test]
fn tripod_series_finds_stuck_hot_and_warm_and_warns() {
    let s = run_series("tripod-24", &tripod_spec(), 2);
    let missed: Vec<_> = s
        .missed
        .iter()
        .filter(|m| m.kind != DefectKind::Dead)
        .collect();
    assert!(missed.is_empty(), "{missed:?}");
    assert!(
        real_fraction(&s) >= 0.8,
        "false reports {:?}",
        s.false_reports
    );
    assert!(s
        .report
        .summary
        .warnings
        .iter()
        .any(|w| w.contains("too alike")));
    assert!(s.report.summary.frame_similarity.unwrap() > 0.9);
}

#[test]
fn defects_are_the_same_for_any_number_of_workers() {
    let sp = spec(320, 240, 9, 107, SceneMode::Varied, [2, 2, 2, 2]);
    let one = run_series("j1", &sp, 1).report;
    let three = run_series("j3", &sp, 3).report;
    assert_eq!(one.defects, three.defects);
    assert_eq!(one.summary.threshold, three.summary.threshold);
}

/// Diagnostic, not a check: prints each injected defect's score next to the
/// best non-defect scores for every kind of series. Run with
/// `cargo test --release --test defects diagnose -- --ignored --nocapture`
/// (add HOTPIX_DIAG_DETAIL=1 for the weak defects and the false groups).
#[test]
#[ignore = "diagnostic output for tuning the score, asserts nothing"]
fn diagnose_scores() {
    let cases = [
        (
            "varied-2",
            spec(640, 480, 2, 103, SceneMode::Varied, [3, 3, 3, 3]),
        ),
        (
            "varied-3",
            spec(640, 480, 3, 104, SceneMode::Varied, [3, 3, 3, 3]),
        ),
        (
            "varied-12",
            spec(480, 360, 12, 101, SceneMode::Varied, [3, 3, 3, 3]),
        ),
        (
            "varied-60",
            spec(320, 240, 60, 102, SceneMode::Varied, [3, 3, 3, 3]),
        ),
        (
            "clean-24",
            spec(480, 360, 24, 105, SceneMode::Varied, [0, 0, 0, 0]),
        ),
        ("tripod-24", tripod_spec()),
    ];
    for (name, sp) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let truth = synth::write_series(&sp, tmp.path()).unwrap();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "JPG"))
            .collect();
        paths.sort();
        let opts = FindOptions {
            jobs: 2,
            top: 0,
            max_megapixels: 200,
            mixed_cameras: false,
            threshold: Some(0.05),
            memory: None,
        };
        let out = hotpix::find(&paths, &opts, &|_| {}).unwrap();
        let auto = hotpix::detect::detect(&out.stats, &hotpix::engine::context(&out.frames), None)
            .threshold;
        let defects = out.report.defects;
        let near = |d: &Defect, t: &synth::DefectGroup| {
            t.photosites
                .iter()
                .any(|p| d.x.abs_diff(p.x) <= 2 && d.y.abs_diff(p.y) <= 2)
        };
        let mut tscores: Vec<String> = truth
            .defects
            .iter()
            .map(|t| {
                let best = defects
                    .iter()
                    .filter(|d| near(d, t))
                    .map(|d| d.score)
                    .fold(0f32, f32::max);
                format!("{}{:.1}", &format!("{:?}", t.kind)[..2], best)
            })
            .collect();
        tscores.sort();
        let mut falses: Vec<f32> = defects
            .iter()
            .filter(|d| !truth.defects.iter().any(|t| near(d, t)))
            .map(|d| d.score)
            .collect();
        falses.sort_by(|a, b| b.total_cmp(a));
        let top: Vec<String> = falses.iter().take(6).map(|v| format!("{v:.1}")).collect();
        eprintln!(
            "{name}: auto {auto:.2} defects [{}] best-false [{}]",
            tscores.join(" "),
            top.join(" ")
        );
        if std::env::var_os("HOTPIX_DIAG_DETAIL").is_some() {
            for t in &truth.defects {
                let best = defects
                    .iter()
                    .filter(|d| near(d, t))
                    .max_by(|a, b| a.score.total_cmp(&b.score));
                if let Some(d) = best.filter(|d| d.score < 1.0) {
                    eprintln!("   weak {:?} {:?} -> {d:?}", t.kind, t.photosites);
                }
            }
            let mut fs: Vec<&Defect> = defects
                .iter()
                .filter(|d| !truth.defects.iter().any(|t| near(d, t)))
                .collect();
            fs.sort_by(|a, b| b.score.total_cmp(&a.score));
            for d in fs.iter().take(4) {
                eprintln!("   false {d:?}");
            }
        }
    }
}
