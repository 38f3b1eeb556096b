//! Defect detection against camera-like generated series with known defects
//! (issue 10's targets), with the automatic threshold: varied series of 60,
//! 30 and 12 frames, five frames with a burst, night-heavy, high-ISO,
//! 4:2:0 at quality 85, weak warm offsets, a tripod bracket and a
//! defect-free series. Scored as `benches/detection.py` scores: only
//! defects the truth marks `detectable` (in at least half the frames, 3
//! levels from what the frame would be without them, and 3 levels off their
//! ring in the decoded photo) are counted as
//! missed, and blinking groups (a kind hotpix does not report: from JPEGs it
//! cannot be told from a scene point) are not scored at all. Each test
//! prints its figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    /// Reports scored (those on a blinking group are not).
    reports: usize,
    /// True reports whose peak is one of its defect's photosites.
    exact: usize,
    /// Truth kind -> reported kind, over found defects.
    kinds: BTreeMap<(&'static str, &'static str), usize>,
    /// Found defects of the right kind: on a series of one exposure × ISO
    /// (an astro series), a hot defect reported `warm` is right, since
    /// dark current cannot be told from an offset there.
    kinds_right: usize,
    report: Report,
    megapixels: f64,
}

impl Score {
    fn category(&self, c: &str) -> (usize, usize) {
        self.found.get(c).copied().unwrap_or_default()
    }

    /// The share of scored reports that are real; `None` without any (a
    /// share of nothing says nothing).
    fn real_fraction(&self) -> Option<f64> {
        (self.reports > 0)
            .then(|| (self.reports - self.false_reports.len()) as f64 / self.reports as f64)
    }

    /// Asserts that at least `share` of the scored reports are real; a run
    /// with no report fails (see [`Score::real_fraction`]).
    fn assert_real(&self, share: f64) {
        let real = self
            .real_fraction()
            .unwrap_or_else(|| panic!("{}: no report, so no share of real ones", self.name));
        assert!(
            real >= share,
            "{}: {real:.3} of {} reports real; false {:?}",
            self.name,
            self.reports,
            self.false_reports
        );
    }

    fn kinds_right(&self) -> (usize, usize) {
        (self.kinds_right, self.kinds.values().sum())
    }

    /// Asserts at least `share` of the detectable defects of category `c`
    /// found. A category with nothing detectable fails: a target on nothing
    /// is not met.
    fn assert_found(&self, c: &str, share: f64) {
        let (detectable, found) = self.category(c);
        assert!(
            detectable > 0,
            "{}: {c}: no detectable defect, so nothing to find",
            self.name
        );
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
/// report (see [`score`]).
fn run_series(name: &str, spec: &SeriesSpec, jobs: usize) -> Score {
    let tmp = tempfile::tempdir().unwrap();
    let truth = synth::write_series(spec, tmp.path()).unwrap();
    let report = find_in(tmp.path(), jobs);
    score(name, &truth, report)
}

/// `find` on the frames of `dir` with `jobs` workers.
fn find_in(dir: &Path, jobs: usize) -> Report {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
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
    hotpix::find(&paths, &opts, &|_| {}).unwrap().report
}

/// Whether a report's peak lies within 2 px of one of a group's photosites.
fn near(d: &Defect, g: &DefectGroup) -> bool {
    g.photosites
        .iter()
        .any(|p| d.x.abs_diff(p.x) <= 2 && d.y.abs_diff(p.y) <= 2)
}

/// Scores a report against the truth by `benches/detection.py`'s rules:
/// - blinking groups are not scored, and reports near one are left out;
/// - each report belongs to the nearest group (in |dx| + |dy| to its
///   photosites) within 2 px of its peak, detectable or not; a report near
///   none is false;
/// - a detectable group is found when a report belongs to it; its kind is
///   that of the first (strongest) such report;
/// - on a series whose frames all share one exposure × ISO, a hot group
///   reported `warm` has the right kind.
fn score(name: &str, truth: &synth::Truth, report: Report) -> Score {
    let (blinking, groups): (Vec<&DefectGroup>, Vec<&DefectGroup>) = truth
        .defects
        .iter()
        .partition(|g| g.kind == DefectKind::Blinking);
    let scored: Vec<&Defect> = report
        .defects
        .iter()
        .filter(|d| !blinking.iter().any(|g| near(d, g)))
        .collect();
    // Per group (index in `groups`): its reports, strongest first.
    let mut belongs: Vec<Vec<&Defect>> = vec![Vec::new(); groups.len()];
    let mut false_reports = Vec::new();
    for &d in &scored {
        let distance = |g: &DefectGroup| {
            g.photosites
                .iter()
                .map(|p| d.x.abs_diff(p.x) + d.y.abs_diff(p.y))
                .min()
                .unwrap()
        };
        let nearest = (0..groups.len())
            .filter(|&k| near(d, groups[k]))
            .min_by_key(|&k| distance(groups[k]));
        match nearest {
            Some(k) => belongs[k].push(d),
            None => false_reports.push(d.clone()),
        }
    }
    let one_exposure = one_exposure(truth);
    let mut found = BTreeMap::new();
    let mut missed = Vec::new();
    let mut kinds = BTreeMap::new();
    let mut kinds_right = 0;
    let mut exact = 0;
    for (g, mine) in groups.iter().zip(&belongs).filter(|(g, _)| g.detectable) {
        let hit = mine.first();
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
                let (t, r) = (truth_kind(g.kind), d.kind.name());
                *kinds.entry((t, r)).or_insert(0) += 1;
                kinds_right += usize::from(t == r || (one_exposure && (t, r) == ("hot", "warm")));
                exact += usize::from(g.photosites.iter().any(|p| (p.x, p.y) == (d.x, d.y)));
            }
            None => missed.push((*g).clone()),
        }
    }
    let s = Score {
        name: name.to_string(),
        found,
        missed,
        reports: scored.len(),
        false_reports,
        exact,
        kinds,
        kinds_right,
        megapixels: f64::from(truth.width * truth.height) / 1e6,
        report,
    };
    let (right, all) = s.kinds_right();
    let fmt = |c| {
        let (d, f) = s.category(c);
        format!("{f}/{d}")
    };
    eprintln!(
        "{name}: found {} (stuck {} hot {} warm {} dead {}; single {} pair {} cluster {} \
         edge {}), false {} of {} reports, threshold {:.1}, exact photosite {}/{}, kind right \
         {right}/{all}{}, warnings {:?}",
        fmt("all"),
        fmt("stuck"),
        fmt("hot"),
        fmt("warm"),
        fmt("dead"),
        fmt("single"),
        fmt("pair"),
        fmt("cluster"),
        fmt("edge"),
        s.false_reports.len(),
        s.reports,
        s.report.summary.threshold,
        s.exact,
        s.category("all").1,
        if one_exposure { " (one exposure)" } else { "" },
        s.report.summary.warnings
    );
    s
}

/// Whether every frame of the series has one exposure time × ISO (an astro
/// series): dark current then scales as a constant offset does.
fn one_exposure(truth: &synth::Truth) -> bool {
    let dose = |s: &synth::Shot| s.exposure_seconds * f64::from(s.iso);
    truth.shots.windows(2).all(|w| {
        let (a, b) = (dose(&w[0]), dose(&w[1]));
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
    })
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
        kinds_right: 0,
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
        t.kinds_right += s.kinds_right;
        t.megapixels += s.megapixels;
    }
    t
}

/// Issue 18's targets on camera-like varied series (60, 30 and 12 frames,
/// night-heavy, high-ISO, 4:2:0 at quality 85, weak warm offsets, and a
/// night-heavy collection with hand-held night bursts), over all of them
/// together so that every kind counts a few dozen defects: at least 95% of
/// detectable defects found for every kind and shape and at the edges, at
/// least 95% of reports real in every series, at least 90% of true reports
/// on the defect's exact photosite and of the right kind.
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
        ("night-collection", Preset::NightCollection, 24, 211),
    ];
    let scores: Vec<Score> = series
        .iter()
        .map(|&(name, p, frames, seed)| run_series(name, &preset(p, frames, seed), 2))
        .collect();
    for s in &scores {
        s.assert_real(0.95);
    }
    let all = total(&scores);
    eprintln!("all varied: found {:?}, kinds {:?}", all.found, all.kinds);
    for c in [
        "all", "stuck", "hot", "warm", "dead", "single", "pair", "cluster", "edge",
    ] {
        all.assert_found(c, 0.95);
    }
    let found = all.category("all").1;
    assert!(
        all.exact as f64 >= 0.9 * found as f64,
        "exact {} of {found}",
        all.exact
    );
    let (right, n) = all.kinds_right();
    assert!(right as f64 >= 0.9 * n as f64, "kinds {:?}", all.kinds);
}

/// Weak warm offsets (2 to 5% of full scale) in a world of fine texture
/// (gravel, grass, brick): issue 18 asks 95% of them, and 95% of reports
/// real. Met on this seed; benches/detection.py's texture series (seeds 0,
/// 100, 300, 400) find 116 of 132.
#[test]
fn weak_warm_in_fine_texture_is_found() {
    let s = run_series("textured-warm", &preset(Preset::TexturedWarm, 30, 212), 2);
    s.assert_found("warm", 0.95);
    s.assert_real(0.95);
}

/// An older camera (bilinear demosaic, strong sharpening, quality 78 with
/// 4:2:0 chroma): JPEG ringing around strong defects must not be reported as
/// defects of its own. At least 95% of reports real (issue 18).
#[test]
fn old_style_series_reports_are_real() {
    let s = run_series("old-style", &preset(Preset::OldStyle, 40, 213), 2);
    s.assert_real(0.95);
    s.assert_found("stuck", 0.9);
}

/// An untracked night sky from a tripod: one exposure setting, stars
/// drifting and trailing over a static foreground, dozens of hot pixels.
/// What the detector reaches: no chance coincidence of stars is reported,
/// nearly every report is real, and hot pixels are reported as warm with no
/// dark rate (one exposure cannot separate them), with the warning saying so.
#[test]
fn untracked_night_sky_reports_real_defects_and_says_hot_cannot_be_told() {
    let s = run_series("night-sky", &preset(Preset::NightSky, 20, 214), 2);
    s.assert_real(0.9);
    s.assert_found("hot", 0.6);
    assert!(
        s.report
            .defects
            .iter()
            .all(|d| d.kind != hotpix::detect::Kind::Hot
                && (d.kind != hotpix::detect::Kind::Warm || d.dark_rate.is_none())),
        "one exposure: no hot kind and no dark rate"
    );
    let w = &s.report.summary.warnings;
    assert!(w.iter().any(|w| w.contains("cannot be told")), "{w:?}");
    let (right, n) = s.kinds_right();
    assert!(right as f64 >= 0.6 * n as f64, "kinds {:?}", s.kinds);
}

/// Issue 18's targets on a drifting night sky: 97% of hot-pixel sites found
/// and 95% of reports real.
#[test]
#[ignore = "issue 18 target not met: hot pixels in the static foreground can be told from lamps \
            only by their shape, and the faintest in the sky stand out of its noise in too few \
            frames (measured on seed 0 of benches/detection.py: 41 of 47 hot found over 20 \
            frames, 29 of 37 over 5; 97 to 99% of reports real)"]
fn untracked_night_sky_meets_the_targets() {
    for (frames, seed) in [(20, 214), (5, 215)] {
        let s = run_series("night-sky", &preset(Preset::NightSky, frames, seed), 2);
        s.assert_found("hot", 0.97);
        s.assert_real(0.95);
    }
}

/// A night sky with no defect, stars drifting slowly and one near the pole
/// barely moving (issue 18's second real series).
fn night_sky_without_defects(seed: u64) -> Score {
    let mut spec = preset(Preset::NightSky, 20, seed);
    spec.defects = hotpix_synth::DefectPlan::none();
    run_series("night-sky-clean", &spec, 2)
}

/// Issue 18's target: at most 2 reports, none of the stars however slowly
/// they drift (a few lamps and windows of the static foreground at most).
#[test]
fn night_sky_without_defects_reports_at_most_two() {
    let s = night_sky_without_defects(216);
    assert!(s.report.defects.len() <= 2, "{:?}", s.report.defects);
}

/// The same at the reference camera's size (a D80, 3872x2592), at ISO 400
/// with the stars drifting 1 to 4 px a frame, as the real series: 16 times
/// the area of the series above, so 16 times the lamps and lit windows of
/// its foreground. At ISO 400 the fine detail of a dark foreground is
/// noise, so the tile signatures of its frames disagree and its tiles count
/// as many views; a lamp seen in every frame then passed as a warm
/// photosite: 130 reports, none of them a star. Where no tile of a 3x3
/// block moves, the tiles are now as alike as the whole frames
/// (`detect::motion`): 70 reports, 47 lamps and windows along the
/// horizon (within a tile of the drifting sky), 16 slowly drifting stars
/// near the pole seen in 10 or 11 of the 20 frames, and a few more; with
/// points on a line running through them taken as the scene's
/// (`THROUGH_MAX`), 66; with the larger shapes looked for 4 pixels away as
/// well as 2 (tree tops), 57; with the ends of shapes, the astro series'
/// steadiness and the other rules of that session, 11; with stillness on
/// one exposure measured against noise and clipping, 9; with the ground
/// below the horizon no longer borrowing the sky's motion, 4 (two point
/// lamps over a black foreground, two faint points of the sky); with a blur
/// of the lens told by the ring 2 pixels out where a point is lit beyond a
/// defect's 2x2 square, 2 (the two lamps).
#[test]
#[ignore = "slow: 20 frames of 10 MP, about 100 s on 2 cores; run with --ignored"]
fn night_sky_without_defects_at_full_size_reports_at_most_two() {
    let mut spec = SeriesSpec::preset(Preset::NightSky, 3872, 2592, 20, 8);
    spec.defects = hotpix_synth::DefectPlan::none();
    spec.iso = Some([400, 400]);
    spec.sky.drift = [1.0, 4.0];
    let s = run_series("night-sky-clean-full", &spec, 2);
    assert!(
        s.report.defects.len() <= 2,
        "{} reports",
        s.report.defects.len()
    );
}

/// A night sky from a tracking mount: the stars stand still on the sensor
/// while the foreground smears, and the dark sky's noise hides that they
/// stand still. Where they crowd a tile or a block of 3x3 tiles, those
/// tiles are judged as one view (a sensor's defects are sparse), and the
/// report says so. Measured on this seed: 33 of 50 found, every report
/// real (issue 18's 95%); judging crowded tiles only, 37 found and 37 of
/// 79 reports real; without crowded tiles 40 found, 40 of 260 real.
#[test]
fn tracked_night_sky_crowded_tiles_are_judged_as_one_view() {
    let s = run_series(
        "night-sky-tracked",
        &preset(Preset::NightSkyTracked, 20, 217),
        2,
    );
    let w = &s.report.summary.warnings;
    assert!(w.iter().any(|w| w.contains("judged as one")), "{w:?}");
    assert!(!s.report.summary.crowded_tiles.is_empty());
    s.assert_real(0.95);
    s.assert_found("hot", 0.7);
}

/// The same tracked sky dithered (the mount moved up to 6 photosites
/// between frames, as capture programs do): the stars move on the sensor
/// again, no tile is crowded, and the counts find more defects than on the
/// undithered series, every report real (the README's advice).
#[test]
fn a_dithered_tracked_sky_finds_more_with_every_report_real() {
    let mut spec = preset(Preset::NightSkyTracked, 20, 218);
    let still = run_series("night-sky-tracked", &spec, 2);
    spec.sky.dither = 6.0;
    let dithered = run_series("night-sky-tracked-dithered", &spec, 2);
    assert!(dithered.report.summary.crowded_tiles.is_empty());
    dithered.assert_real(0.95);
    let found = |s: &Score| s.category("all").1;
    assert!(
        found(&dithered) > found(&still),
        "{} {}",
        found(&dithered),
        found(&still)
    );
}

/// Five frames, three of them a burst of one view (three series). Issue 10
/// reached 85% of stuck photosites with at most 3 false reports per
/// megapixel; issue 18 keeps that target. Where a tile's frames are partly
/// alike, a photosite pinned while the scene moves counts as on one view.
#[test]
fn five_frames_with_a_burst_find_stuck_and_nothing_false() {
    let all = five_frame_series();
    all.assert_found("stuck", 0.85);
    assert!(all.false_reports.is_empty(), "{:?}", all.false_reports);
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
/// scale), and the warning.
#[test]
fn tripod_series_finds_stuck_and_warm_and_warns() {
    let s = run_series("tripod", &preset(Preset::Tripod, 24, 210), 2);
    s.assert_found("stuck", 0.9);
    s.assert_found("warm", 0.5);
    s.assert_real(0.75);
    let w = &s.report.summary.warnings;
    assert!(w.iter().any(|w| w.contains("too alike")), "{w:?}");
    assert!(s.report.summary.frame_similarity.unwrap() > 0.9);
}

/// Issue 18's tripod target: 90% of stuck and of warm photosites.
#[test]
#[ignore = "issue 18 target not met: on one view a warm photosite is told from a static scene \
            point only by its shape, and demosaicing spreads it (measured with \
            benches/detection.py: 18 of 18 stuck, 9 of 13 warm on seed 0; 18 of 18, 10 of 13 \
            on seed 100)"]
fn tripod_series_finds_stuck_and_warm() {
    let s = run_series("tripod", &preset(Preset::Tripod, 24, 210), 2);
    s.assert_found("stuck", 0.9);
    s.assert_found("warm", 0.9);
}

#[test]
fn defects_are_the_same_for_any_number_of_workers() {
    let sp = SeriesSpec::preset(Preset::Varied, 320, 240, 9, 211);
    let one = run_series("j1", &sp, 1).report;
    let three = run_series("j3", &sp, 3).report;
    assert_eq!(one.defects, three.defects);
    assert_eq!(one.summary.threshold, three.summary.threshold);
}

/// The scoring itself, on a made-up truth and report: blinking groups and
/// the reports near them are not scored, a report belongs to the nearest
/// group, a report near an undetectable group is not false, hot reported
/// `warm` is right on one exposure × ISO only, and a target on nothing or
/// a share of no reports fails.
#[test]
fn scoring_follows_the_bench_rules() {
    use hotpix::detect::{Kind, Photosite};
    use hotpix::rank::Channel;

    let tmp = tempfile::tempdir().unwrap();
    let mut truth = synth::write_series(
        &SeriesSpec::preset(Preset::Clean, 128, 96, 2, 1),
        tmp.path(),
    )
    .unwrap();
    let report = find_in(tmp.path(), 1);
    let group = |id, kind, (x, y), detectable| DefectGroup {
        id,
        kind,
        stuck: None,
        shape: Shape::Single,
        photosites: vec![synth::Photosite {
            x,
            y,
            channel: 0,
            level: None,
            offset: None,
            rate: None,
        }],
        on_probability: None,
        on_frames: None,
        edge: false,
        detectable,
        visible_frames: Vec::new(),
    };
    truth.defects = vec![
        group(0, DefectKind::Hot, (10, 10), true),
        group(1, DefectKind::Warm, (30, 10), true),
        group(2, DefectKind::Blinking, (50, 10), true),
        group(3, DefectKind::Stuck, (70, 10), false),
        group(4, DefectKind::Dead, (10, 40), true),
        group(5, DefectKind::Warm, (100, 40), true),
        group(6, DefectKind::Warm, (103, 40), true),
    ];
    let defect = |(x, y), kind| hotpix::detect::Defect {
        x,
        y,
        kind,
        channel: Channel::R,
        channels: vec![Channel::R],
        photosites: vec![Photosite {
            x,
            y,
            channel: Channel::R,
        }],
        pixels: 1,
        score: 10.0,
        mean: 100.0,
        reference: 90.0,
        variance: 4.0,
        offset: 10.0,
        dark_rate: None,
        seen: 2,
        could_show: 2,
        views: 2.0,
        found_by: hotpix::detect::FoundBy::Frames,
    };
    let mut made_up = report.clone();
    made_up.defects = vec![
        defect((10, 10), Kind::Warm),  // the hot group, its photosite
        defect((31, 11), Kind::Warm),  // the warm group, 1 px off
        defect((51, 10), Kind::Hot),   // the blinking group: not scored
        defect((70, 11), Kind::Stuck), // undetectable: not false
        defect((80, 40), Kind::Dead),  // nothing near: false
        defect((102, 40), Kind::Warm), // nearer group 6 than group 5
    ];

    for shot in &mut truth.shots {
        (shot.exposure_seconds, shot.iso) = (20.0, 400);
    }
    let astro = score("astro", &truth, made_up.clone());
    assert_eq!(astro.category("all"), (5, 3));
    assert_eq!(astro.category("blinking"), (0, 0));
    assert_eq!(astro.category("dead"), (1, 0));
    let missed: Vec<usize> = astro.missed.iter().map(|g| g.id).collect();
    assert_eq!(missed, [4, 5]);
    assert_eq!((astro.reports, astro.false_reports.len()), (5, 1));
    assert_eq!(
        (astro.false_reports[0].x, astro.false_reports[0].y),
        (80, 40)
    );
    assert_eq!(astro.real_fraction(), Some(0.8));
    assert_eq!(astro.exact, 1);
    assert_eq!(astro.kinds_right(), (3, 3));

    // Varied exposures: hot reported warm is the wrong kind.
    truth.shots[1].exposure_seconds = 1.0 / 60.0;
    let varied = score("varied", &truth, made_up);
    assert_eq!(varied.kinds_right(), (2, 3));

    eprintln!("(the panics printed below are expected: each is a check that must fail)");
    let fails = |f: &dyn Fn()| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
    assert!(fails(&|| varied.assert_found("blinking", 0.5)));
    assert!(fails(&|| varied.assert_found("dead", 0.5)));
    assert!(!fails(&|| varied.assert_found("all", 0.6)));
    assert!(fails(&|| varied.assert_found("all", 0.61)));
    assert!(!fails(&|| varied.assert_real(0.8)));
    let mut none = report;
    none.defects.clear();
    let empty = score("empty", &truth, none);
    assert_eq!(empty.real_fraction(), None);
    assert!(fails(&|| empty.assert_real(0.0)));
}
