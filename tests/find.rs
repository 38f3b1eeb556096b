//! `hotpix find` end to end on the committed fixtures and on generated series.

mod common;
use common::*;

use hotpix_synth::{self as synth, DefectKind, SeriesSpec};

fn series() -> String {
    fixture("series").display().to_string()
}

fn truth() -> synth::Truth {
    let text = std::fs::read_to_string(fixture("series/truth.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn channel_name(c: u8) -> &'static str {
    ["R", "G", "B"][c as usize]
}

#[test]
fn json_report_lists_the_injected_stuck_photosites_lowest() {
    let r = run(&["find", "--format", "json", &series()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["summary"]["frames_used"], 12);
    assert_eq!(report["summary"]["camera"], "NIKON D80 #3001234");
    let lowest = report["lowest_variance"].as_array().unwrap();
    assert_eq!(lowest.len(), 10);
    let truth = truth();
    let stuck: Vec<_> = truth
        .photosites()
        .filter(|(g, _)| g.kind == DefectKind::Stuck)
        .map(|(_, p)| p)
        .collect();
    assert!(stuck.len() >= 3);
    for d in stuck {
        let found = lowest
            .iter()
            .any(|s| s["x"] == d.x && s["y"] == d.y && s["channel"] == channel_name(d.channel));
        assert!(
            found,
            "stuck photosite {d:?} not among the lowest variances: {lowest:#?}"
        );
    }
    // Ranked lists are ordered.
    let v: Vec<f64> = lowest
        .iter()
        .map(|s| s["variance"].as_f64().unwrap())
        .collect();
    assert!(v.windows(2).all(|w| w[0] <= w[1]));
    let h: Vec<f64> = report["highest_variance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["variance"].as_f64().unwrap())
        .collect();
    assert!(h.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn output_is_identical_for_any_number_of_workers() {
    let with_jobs = |jobs: &str, format: &str| {
        run(&[
            "find",
            "-j",
            jobs,
            "--format",
            format,
            "--top",
            "50",
            &series(),
        ])
    };
    let (one, four) = (with_jobs("1", "csv"), with_jobs("4", "csv"));
    assert_eq!(one.code, 0);
    assert_eq!(
        one.stdout, four.stdout,
        "CSV must be byte-identical for -j 1 and -j 4"
    );
    let (one, four) = (with_jobs("1", "json"), with_jobs("4", "json"));
    assert_eq!(one.json()["summary"]["workers"], 1);
    assert_eq!(four.json()["summary"]["workers"], 4);
    assert_eq!(
        without_run_fields(one.json()),
        without_run_fields(four.json())
    );
}

#[test]
fn every_bad_input_is_named_skipped_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for entry in std::fs::read_dir(fixture("bad")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    copy_series(dir);
    std::fs::create_dir(dir.join("folder.jpg")).unwrap();
    std::fs::write(dir.join("folder.jpg/inside.txt"), "x").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("gone.jpg"), dir.join("dangling.jpg")).unwrap();

    let r = run_in(dir, &["find", "--format", "json", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    let expected: &[(&str, &str)] = &[
        ("corrupt.jpg", "cannot decode"),
        ("empty.jpg", "empty file"),
        ("folder.jpg", "is a directory"),
        ("huge-header.jpg", "claims 65000x65000"),
        ("not-an-image.jpg", "not a JPEG"),
        ("other-size.jpg", "frame is 240x180, the series is 320x240"),
        ("truncated.jpg", "cannot decode"),
        #[cfg(unix)]
        ("dangling.jpg", "cannot read"),
    ];
    let skipped = report["summary"]["skipped"].as_array().unwrap();
    assert_eq!(report["summary"]["frames_skipped"], expected.len());
    assert_eq!(skipped.len(), expected.len());
    assert_eq!(report["summary"]["frames_used"], 12);
    for (name, reason) in expected {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains(&format!("skipped ./{name}: ")));
        let line = line.unwrap_or_else(|| panic!("{name} not named on stderr:\n{}", r.stderr));
        assert!(line.contains(reason), "{line}");
        assert!(
            skipped.iter().any(|s| s["path"] == format!("./{name}")
                && s["reason"].as_str().unwrap().contains(reason)),
            "{name} not in the report's skipped list"
        );
    }
    assert!(
        r.stderr.contains("12 frames used, 8 skipped") || !cfg!(unix),
        "{}",
        r.stderr
    );
}

#[test]
fn unreadable_file_is_skipped() {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        for i in 1..=3 {
            let name = format!("DSC_000{i}.JPG");
            std::fs::copy(fixture("series").join(&name), tmp.path().join(&name)).unwrap();
        }
        let locked = tmp.path().join("DSC_0003.JPG");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_ok() {
            eprintln!("skipping: running as a user who can read mode-000 files (root); the dangling link case covers 'cannot read'");
            return;
        }
        let r = run_in(tmp.path(), &["find", "."]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.contains("skipped ./DSC_0003.JPG: cannot read"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn exit_codes() {
    // A pattern that matches nothing: 2, naming the pattern.
    let r = run(&["find", "fixtures/series/*.png"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no file matches the pattern 'fixtures/series/*.png'"),
        "{}",
        r.stderr
    );
    // A literal path that does not exist.
    let r = run(&["find", "no/such/photo.jpg"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no/such/photo.jpg"), "{}", r.stderr);
    // Fewer than 2 usable frames.
    let r = run(&[
        "find",
        "fixtures/series/DSC_0001.JPG",
        "fixtures/bad/empty.jpg",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("only 1 usable frame"), "{}", r.stderr);
    // Usage errors from the parser.
    assert_eq!(run(&["find"]).code, 2);
    assert_eq!(run(&["find", "--format", "xml", &series()]).code, 2);
    assert_eq!(run(&["find", "-j", "0", &series()]).code, 2);
    // The output's directory must exist: checked before any decoding.
    let r = run(&["find", "-o", "no/such/dir/report.json", &series()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    // Success.
    assert_eq!(run(&["find", "-q", &series()]).code, 0);
}

#[test]
fn csv_has_the_fixed_header_and_one_row_per_ranked_subpixel() {
    let r = run(&["find", "--format", "csv", "--top", "4", &series()]);
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    let ranked: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with("defect,"))
        .collect();
    assert_eq!(ranked.len(), 1 + 8);
    assert!(ranked[1].starts_with("lowest_variance,1,"));
    assert!(ranked[5].starts_with("highest_variance,1,"));
    assert!(lines[1..].iter().all(|l| l.split(',').count() == 13));
}

#[test]
fn quoted_glob_matches_the_extension_in_any_case() {
    // The files are DSC_*.JPG; the pattern is lower case and quoted (no shell expansion).
    let r = run(&["find", "--format", "json", "fixtures/series/DSC_*.jpg"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["frames_used"], 12);
}

#[test]
fn stdin_list_of_paths() {
    let list: String = (1..=12)
        .map(|i| format!("fixtures/series/DSC_{i:04}.JPG\n"))
        .collect();
    // Listed twice in different spellings: counted once.
    let list = format!("{list}./fixtures/series/DSC_0001.JPG\r\n\n");
    let r = run_with_stdin(&repo(), &["find", "--format", "json", "-"], &list);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["frames_used"], 12);
    assert_eq!(r.json()["summary"]["frames_skipped"], 0);
}

#[test]
fn output_file_is_replaced_whole_and_stdout_stays_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.json");
    std::fs::write(&out, "previous report").unwrap();
    let r = run(&[
        "find",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        &series(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written["summary"]["frames_used"], 12);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );

    // A failed run leaves the previous file as it was.
    std::fs::write(&out, "previous report").unwrap();
    let r = run(&[
        "find",
        "-o",
        out.to_str().unwrap(),
        "fixtures/bad/empty.jpg",
        "fixtures/bad/corrupt.jpg",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous report");
}

#[test]
fn no_output_replaces_another_output_or_an_input() {
    let tmp = tempfile::tempdir().unwrap();
    copy_series(tmp.path());
    let photo = std::fs::read(tmp.path().join("DSC_0001.JPG")).unwrap();
    let refused = [
        // Two outputs on one file, spelled differently.
        vec!["find", "-o", "out.png", "--map", "./out.png", "."],
        vec!["find", "--crops", "x.png", "--map", "x.png", "."],
        // An output on an input photo or state.
        vec!["find", "--map", "DSC_0001.JPG", "."],
        vec!["find", "-o", "DSC_0001.JPG", "."],
    ];
    for args in &refused {
        let r = run_in(tmp.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("same file") || r.stderr.contains("one of the inputs"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(
        std::fs::read(tmp.path().join("DSC_0001.JPG")).unwrap(),
        photo
    );
    assert!(!tmp.path().join("out.png").exists() && !tmp.path().join("x.png").exists());

    // A state grows by naming it for --resume and --save; /dev/null may take
    // several outputs; nothing else may name the state.
    let ok = |args: &[&str]| {
        let r = run_in(tmp.path(), args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    };
    ok(&["find", "-q", "--save", "s.npz", "-o", "/dev/null", "."]);
    ok(&[
        "find",
        "-q",
        "--resume",
        "s.npz",
        "--save",
        "s.npz",
        "-o",
        "/dev/null",
        ".",
    ]);
    ok(&["find", "-q", "-o", "/dev/null", "--dcraw", "/dev/null", "."]);
    let r = run_in(
        tmp.path(),
        &["find", "--resume", "s.npz", "--map", "s.npz", "."],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run_in(tmp.path(), &["report", "s.npz", "-o", "s.npz"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("one of the inputs"), "{}", r.stderr);
}

#[test]
fn closed_pipe_is_success_not_a_panic() {
    use std::process::{Command, Stdio};
    // Regression guard: writing a long report into a pipe whose reader has
    // gone must end with exit 0 and no panic message.
    let mut child = Command::new(bin())
        .args(["find", "--format", "csv", "--top", "200000", &series()])
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn help_documents_the_flags_and_exit_codes() {
    let r = run(&["find", "--help"]);
    assert_eq!(r.code, 0);
    for flag in [
        "--jobs",
        "--top",
        "--format",
        "--output",
        "--quiet",
        "--verbose",
        "--mixed-cameras",
        "--max-megapixels",
    ] {
        assert!(r.stdout.contains(flag), "{flag} missing from --help");
    }
    assert!(run(&["--help"]).stdout.contains("Exit codes"));
}

/// Decodes `path` with the `image` crate: an independent decoding path.
fn decode_with_image_crate(path: &std::path::Path) -> Vec<u8> {
    image::open(path).unwrap().to_rgb8().into_raw()
}

#[test]
fn variances_match_a_two_pass_f64_computation_over_200_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spec = SeriesSpec::new(40, 30, 200, 7);
    spec.defects.singles.stuck_high = 2;
    spec.defects.singles.dead = 1;
    synth::write_series(&spec, tmp.path()).unwrap();
    let all = 40 * 30 * 3;
    let r = run_in(
        tmp.path(),
        &[
            "find",
            "-j",
            "3",
            "--format",
            "json",
            "--top",
            &all.to_string(),
            ".",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["summary"]["frames_used"], 200);

    let mut frames = Vec::new();
    for i in 0..200 {
        frames.push(decode_with_image_crate(
            &tmp.path().join(synth::frame_file_name(i)),
        ));
    }
    let lowest = report["lowest_variance"].as_array().unwrap();
    assert_eq!(lowest.len(), all, "the whole ranking was requested");
    let n = frames.len() as f64;
    let mut worst: f64 = 0.0;
    for item in lowest {
        let (x, y) = (
            item["x"].as_u64().unwrap() as usize,
            item["y"].as_u64().unwrap() as usize,
        );
        let c = ["R", "G", "B"]
            .iter()
            .position(|&name| name == item["channel"])
            .unwrap();
        let i = (y * 40 + x) * 3 + c;
        let mean = frames.iter().map(|f| f64::from(f[i])).sum::<f64>() / n;
        let var = frames
            .iter()
            .map(|f| (f64::from(f[i]) - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        let got = item["variance"].as_f64().unwrap();
        if var == 0.0 {
            assert_eq!(got, 0.0, "a constant subpixel must have variance exactly 0");
        } else {
            worst = worst.max((got - var).abs() / var);
        }
        assert!((item["mean"].as_f64().unwrap() - mean).abs() <= 1e-4 * mean.max(1.0));
    }
    assert!(worst <= 1e-4, "worst relative variance error {worst:e}");
}

#[test]
fn the_fixture_series_defects_are_all_found_and_nothing_else() {
    let r = run(&["find", "--format", "json", &series()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    let defects = report["defects"].as_array().unwrap();
    let truth = truth();
    assert_eq!(defects.len(), truth.defects.len(), "{defects:#?}");
    for t in &truth.defects {
        let hit = defects.iter().find(|d| {
            t.photosites.iter().any(|p| {
                d["x"].as_u64().unwrap().abs_diff(u64::from(p.x)) <= 2
                    && d["y"].as_u64().unwrap().abs_diff(u64::from(p.y)) <= 2
            })
        });
        let hit = hit.unwrap_or_else(|| panic!("{t:?} not reported"));
        if t.kind == DefectKind::Dead {
            assert_eq!(hit["kind"], "dead");
        }
        if matches!(t.kind, DefectKind::Hot | DefectKind::Warm) {
            assert!(
                hit["kind"] == "hot" || hit["kind"] == "warm" || hit["kind"] == "stuck",
                "{hit}"
            );
            assert!(hit["mean"].as_f64().unwrap() > hit["reference"].as_f64().unwrap());
        }
    }
    let summary = &report["summary"];
    assert_eq!(summary["threshold_automatic"], true);
    assert!(summary["threshold"].as_f64().unwrap() > 0.0);
    assert!(summary["frame_similarity"].as_f64().unwrap() < 0.5);
}

#[test]
fn fail_on_defects_exits_1_and_threshold_is_reported() {
    let r = run(&["find", "--fail-on-defects", "--format", "json", &series()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.json()["defects"].as_array().unwrap().is_empty(),
        "the report is still written"
    );
    // A threshold above every score: no defects, so exit 0, and the report says which threshold.
    let r = run(&[
        "find",
        "--fail-on-defects",
        "--threshold",
        "1000",
        "--format",
        "json",
        &series(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["defects"].as_array().unwrap().len(), 0);
    assert_eq!(report["summary"]["threshold"], 1000.0);
    assert_eq!(report["summary"]["threshold_automatic"], false);
}

#[test]
fn defects_come_first_in_the_csv_and_the_table() {
    let r = run(&["find", "--format", "csv", "--top", "2", &series()]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "list,rank,x,y,channel,mean,variance,stddev,kind,channels,score,reference,votes"
    );
    assert!(lines[1].starts_with("defect,1,"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("defect,")).count(), 9);
    assert!(lines.iter().all(|l| l.split(',').count() == 13));
    let table = run(&["find", &series()]).stdout;
    let defects_at = table.find("Defects: 9").expect("defect list in the table");
    assert!(defects_at < table.find("Lowest variance").unwrap());
}

/// Regression guard (found in review): with copies of the same photo in one
/// run, which copy is counted and which is skipped must not depend on worker
/// timing: the first in path order is counted, every run.
#[test]
fn duplicate_photos_are_skipped_the_same_way_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    copy_series(tmp.path());
    for i in 1..=6 {
        let src = fixture("series").join(format!("DSC_000{i}.JPG"));
        std::fs::copy(&src, tmp.path().join(format!("AA_0{i}.JPG"))).unwrap();
        std::fs::copy(&src, tmp.path().join(format!("ZZ_0{i}.JPG"))).unwrap();
    }
    let first = without_run_fields(
        run_in(tmp.path(), &["find", "-j", "2", "--format", "json", "."]).json(),
    );
    assert_eq!(first["summary"]["frames_used"], 12);
    assert_eq!(first["summary"]["frames_skipped"], 12);
    let skipped = skipped_paths(&first["summary"]);
    assert!(
        skipped
            .iter()
            .all(|p| p.contains("DSC_") || p.contains("ZZ_")),
        "{skipped:?}"
    );
    for _ in 0..5 {
        let again = without_run_fields(
            run_in(tmp.path(), &["find", "-j", "2", "--format", "json", "."]).json(),
        );
        assert_eq!(again, first);
    }
}
