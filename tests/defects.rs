//! Defect detection against camera-like generated series with known defects
//! (issue 10's targets), with the automatic threshold: varied series of 60,
//! 30 and 12 frames, five frames with a burst, night-heavy, high-ISO,
//! 4:2:0 at quality 85, weak warm offsets, a tripod bracket and a
//! defect-free series. Only defects the truth marks `detectable` (at least
//! 3 levels from what the frame would be without them, in at least half the
//! frames) are counted as missed. Each test prints its figures.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hotpix::detect::Defect;
use hotpix::{FindOptions, Report};
use hotpix_synth::{self as synth, DefectGroup, DefectKind, Preset, SeriesSpec, Shape};

/// Frame size of the measured series: 34 defect groups each.
const W: u32 = 640;
const H: u32 = 480;

/// What a run found of one series' truth.
struct Score {
    name: String,
    /// Per category (a kind, a shape, "edge", "all"): detectable, found.
    found: BTreeMap<&'static str, (usize, usize)>,
    missed: Vec<DefectGroup>,
    false_reports: Vec<Defect>,
    reports: usize,
    /// True reports whose peak is one of its defect's photosites.
    exact: usize,
    /// Truth kind -> reported kind, over true reports.
    kinds: BTreeMap<(&'static str, &'static str), usize>,
    report: Report,
    megapixels: f64,
}

impl Score {
    fn category(&self, c: &str) -> (usize, usize) {
        self.found.get(c).copied().unwrap_or_default()
    }

    fn real_fraction(&self) -> f64 {
        if self.reports == 0 {
            1.0
        } else {
            (self.reports - self.false_reports.len()) as f64 / self.reports as f64
        }
    }

    fn kinds_right(&self) -> (usize, usize) {
        let right = self
            .kinds
            .iter()
            .filter(|((t, r), _)| t == r)
            .map(|(_, n)| n)
            .sum();
        (right, self.kinds.values().sum())
    }

    /// Asserts at least `share` of the detectable defects of category `c` found.
    fn assert_found(&self, c: &str, share: f64) {
        let (detectable, found) = self.category(c);
        assert!(
            found as f64 >= share * detectable as f64,
            "{}: {c}: {found} of {detectable} found; missed {:#?}",
            self.name,
            self.missed
                .iter()
                .map(|g| (g.kind, g.shape, g.photosites[0].x, g.photosites[0].y))
                .collect::<Vec<_>>()
        );
    }
}

fn truth_kind(k: DefectKind) -> &'static str {
    match k {
        DefectKind::Stuck => "stuck",
        DefectKind::Hot => "hot",
        DefectKind::Warm => "warm",
        DefectKind::Dead => "dead",
        DefectKind::Blinking => "blinking",
    }
}

fn shape_name(s: Shape) -> &'static str {
    match s {
        Shape::Single => "single",
        Shape::Pair => "pair",
        Shape::Cluster => "cluster",
    }
}

/// Writes the series, runs `find` on it with `jobs` workers and scores the
/// report: a report matches a defect when its peak is within 2 px of one of
/// the defect's photosites.
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
    score(name, &truth, report)
}

fn score(name: &str, truth: &synth::Truth, report: Report) -> Score {
    let near = |d: &Defect, g: &DefectGroup| {
        g.photosites
            .iter()
            .any(|p| d.x.abs_diff(p.x) <= 2 && d.y.abs_diff(p.y) <= 2)
    };
    let mut found = BTreeMap::new();
    let mut missed = Vec::new();
    let mut kinds = BTreeMap::new();
    let mut exact = 0;
    for g in truth.defects.iter().filter(|g| g.detectable) {
        let hit = report.defects.iter().find(|d| near(d, g));
        let mut cats = vec!["all", truth_kind(g.kind), shape_name(g.shape)];
        if g.edge {
            cats.push("edge");
        }
        for c in cats {
            let e = found.entry(c).or_insert((0, 0));
            e.0 += 1;
            e.1 += usize::from(hit.is_some());
        }
        match hit {
            Some(d) => {
                *kinds
                    .entry((truth_kind(g.kind), d.kind.name()))
                    .or_insert(0) += 1;
                exact += usize::from(g.photosites.iter().any(|p| (p.x, p.y) == (d.x, d.y)));
            }
            None => missed.push(g.clone()),
        }
    }
    let false_reports: Vec<Defect> = report
        .defects
        .iter()
        .filter(|d| !truth.defects.iter().any(|g| near(d, g)))
        .cloned()
        .collect();
    let s = Score {
        name: name.to_string(),
        found,
        missed,
        reports: report.defects.len(),
        false_reports,
        exact,
        kinds,
        megapixels: f64::from(truth.width * truth.height) / 1e6,
        report,
    };
    let (right, all) = s.kinds_right();
    let fmt = |c| {
        let (d, f) = s.category(c);
        format!("{f}/{d}")
    };
    eprintln!(
        "{name}: found {} (stuck {} hot {} warm {} dead {} blinking {}; single {} pair {} cluster {} \
         edge {}), false {}, threshold {:.1}, exact photosite {}/{}, kind right {right}/{all}, \
         warnings {:?}",
        fmt("all"),
        fmt("stuck"),
        fmt("hot"),
        fmt("warm"),
        fmt("dead"),
        fmt("blinking"),
        fmt("single"),
        fmt("pair"),
        fmt("cluster"),
        fmt("edge"),
        s.false_reports.len(),
        s.report.summary.threshold,
        s.exact,
        s.category("all").1,
        s.report.summary.warnings
    );
    s
}

fn preset(p: Preset, frames: usize, seed: u64) -> SeriesSpec {
    SeriesSpec::preset(p, W, H, frames, seed)
}

/// Sums scores over several series.
fn total(scores: &[Score]) -> Score {
    let mut t = Score {
        name: "all".into(),
        found: BTreeMap::new(),
        missed: Vec::new(),
        false_reports: Vec::new(),
        reports: 0,
        exact: 0,
        kinds: BTreeMap::new(),
        report: scores[0].report.clone(),
        megapixels: 0.0,
    };
    for s in scores {
        for (c, (d, f)) in &s.found {
            let e = t.found.entry(*c).or_insert((0, 0));
            e.0 += d;
            e.1 += f;
        }
        for (k, n) in &s.kinds {
            *t.kinds.entry(*k).or_insert(0) += n;
        }
        t.missed.extend(s.missed.iter().cloned());
        t.false_reports.extend(s.false_reports.iter().cloned());
        t.reports += s.reports;
        t.exact += s.exact;
        t.megapixels += s.megapixels;
    }
    t
}

/// Issue 10's targets on varied series (60, 30 and 12 frames, night-heavy,
/// high-ISO, 4:2:0 at quality 85, weak warm offsets), over all of them
/// together so that every kind counts a few dozen defects: at least 95% of
/// detectable defects found for every kind and shape and at the edges, at
/// least 95% of reports real (and at least 90% in each series), at least
/// 90% of true reports on the defect's exact photosite and of the right kind.
#[test]
fn varied_series_meet_the_targets() {
    let series = [
        ("varied-60", Preset::Varied, 60, 201),
        ("varied-30", Preset::Varied, 30, 202),
        ("varied-12", Preset::Varied, 12, 203),
        ("night-heavy", Preset::NightHeavy, 30, 205),
        ("high-iso", Preset::HighIso, 30, 206),
        ("q85-420", Preset::Q85_420, 30, 207),
        ("weak-warm", Preset::WeakWarm, 30, 208),
    ];
    let scores: Vec<Score> = series
        .iter()
        .map(|&(name, p, frames, seed)| run_series(name, &preset(p, frames, seed), 2))
        .collect();
    for s in &scores {
        assert!(
            s.real_fraction() >= 0.9,
            "{}: false {:?}",
            s.name,
            s.false_reports
        );
    }
    let all = total(&scores);
    eprintln!("all varied: found {:?}, kinds {:?}", all.found, all.kinds);
    for c in [
        "all", "stuck", "hot", "warm", "dead", "blinking", "single", "pair", "cluster", "edge",
    ] {
        all.assert_found(c, 0.95);
    }
    assert!(all.real_fraction() >= 0.95, "false {:?}", all.false_reports);
    let found = all.category("all").1;
    assert!(
        all.exact as f64 >= 0.9 * found as f64,
        "exact {} of {found}",
        all.exact
    );
    let (right, n) = all.kinds_right();
    assert!(right as f64 >= 0.9 * n as f64, "kinds {:?}", all.kinds);
    // Dark current shows in the night-heavy series: its hot pixels are
    // detectable, and named hot.
    let night = &scores[3];
    assert!(night.category("hot").0 >= 5, "{:?}", night.found);
    let named_hot = night.kinds.get(&("hot", "hot")).copied().unwrap_or(0);
    assert!(
        named_hot * 3 >= night.category("hot").1 * 2,
        "{:?}",
        night.kinds
    );
}

/// Five frames, three of them a burst of one view (three series): at least
/// 90% of stuck photosites, at most 3 false reports per megapixel, and the
/// warning that the result is weak. (Hot photosites: see the ignored test
/// below.)
#[test]
fn five_frames_with_a_burst_find_stuck() {
    let all = five_frame_series();
    all.assert_found("stuck", 0.9);
    assert!(
        all.false_reports.len() as f64 <= 3.0 * all.megapixels,
        "{:?}",
        all.false_reports
    );
}

/// Issue 10's five-frame target counts hot photosites too. In these series
/// only one frame is long enough for dark current to show (the others are
/// a daylight burst and a clipped sky), and evidence from one view is what
/// the detector sets aside so that a glint is never a defect.
#[test]
#[ignore = "issue 10 target not met: with one frame in five able to show dark current, a hot \
            photosite is one view's evidence (measured: 0 of 4 found, 24 of 25 stuck)"]
fn five_frames_with_a_burst_find_stuck_and_hot() {
    let all = five_frame_series();
    let (d, f) = (
        all.category("stuck").0 + all.category("hot").0,
        all.category("stuck").1 + all.category("hot").1,
    );
    assert!(f as f64 >= 0.9 * d as f64, "{f} of {d} stuck and hot found");
    assert!(
        all.false_reports.len() as f64 <= 3.0 * all.megapixels,
        "{:?}",
        all.false_reports
    );
}

/// Three five-frame series with a burst, each warned about, scored together.
fn five_frame_series() -> Score {
    let scores: Vec<Score> = [204, 214, 224]
        .iter()
        .map(|&seed| run_series("five-burst", &preset(Preset::FiveBurst, 5, seed), 2))
        .collect();
    for s in &scores {
        assert!(s.report.summary.warnings.iter().any(|w| w.contains("weak")));
    }
    total(&scores)
}

#[test]
fn defect_free_series_reports_at_most_two() {
    let s = run_series("clean", &preset(Preset::Clean, 30, 209), 2);
    assert!(s.reports <= 2, "{:?}", s.report.defects);
}

/// What a tripod bracket does get: every stuck photosite (pinned while the
/// scene scales with the exposure), most warm ones (an offset that does not
/// scale), at least 90% of reports real, and the warning.
#[test]
fn tripod_series_finds_stuck_and_warm_and_warns() {
    let s = run_series("tripod", &preset(Preset::Tripod, 24, 210), 2);
    s.assert_found("stuck", 0.9);
    s.assert_found("warm", 0.5);
    assert!(s.real_fraction() >= 0.9, "false {:?}", s.false_reports);
    let w = &s.report.summary.warnings;
    assert!(w.iter().any(|w| w.contains("too alike")), "{w:?}");
    assert!(s.report.summary.frame_similarity.unwrap() > 0.9);
}

/// Issue 10's tripod target counts hot photosites too. On a bracket of
/// exposure times at one ISO, dark current grows with the exposure time
/// exactly as the light of the scene does, so a hot photosite is a bright
/// static point to every measure but shape, and the shape of a small sharp
/// glint is nearly the same.
#[test]
#[ignore = "issue 10 target not met: hot photosites on a one-ISO exposure bracket scale with \
            the exposure as the scene does; only shape separates them from static glints \
            (measured: about 5 of 13 found with no false report)"]
fn tripod_series_finds_hot_photosites_too() {
    let s = run_series("tripod", &preset(Preset::Tripod, 24, 210), 2);
    s.assert_found("hot", 0.9);
}

#[test]
fn defects_are_the_same_for_any_number_of_workers() {
    let sp = SeriesSpec::preset(Preset::Varied, 320, 240, 9, 211);
    let one = run_series("j1", &sp, 1).report;
    let three = run_series("j3", &sp, 3).report;
    assert_eq!(one.defects, three.defects);
    assert_eq!(one.summary.threshold, three.summary.threshold);
}
