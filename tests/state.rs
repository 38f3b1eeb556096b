//! Saved statistics through the built binary: split, save, merge and report
//! agree with one run; resuming never counts a frame twice; damaged state
//! files are refused with the file named; `diff` exit codes.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, fixture, run, run_in, skipped_paths, without_run_fields, Run};

fn series(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range
        .map(|i| {
            fixture(&format!("series/DSC_{i:04}.JPG"))
                .display()
                .to_string()
        })
        .collect()
}

fn hotpix(dir: &Path, args: &[&str], more: &[String]) -> Run {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(more.iter().map(String::as_str));
    let run = run_in(dir, &all);
    assert!(
        !run.stderr.contains("panicked"),
        "hotpix panicked: {}",
        run.stderr
    );
    run
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    run
}

fn save(dir: &Path, name: &str, frames: &[String]) -> PathBuf {
    ok(hotpix(
        dir,
        &["find", "-q", "-j", "2", "--format", "json", "--save", name],
        frames,
    ));
    dir.join(name)
}

fn report(dir: &Path, state: &str) -> serde_json::Value {
    ok(hotpix(
        dir,
        &["report", "-q", "--format", "json", "--top", "20", state],
        &[],
    ))
    .json()
}

/// The statistics arrays (`*.npy`) of a state file, by name, as stored.
fn arrays(state: &Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::fs::File::open(state).unwrap()).unwrap();
    let mut out = Vec::new();
    for k in 0..zip.len() {
        let mut member = zip.by_index(k).unwrap();
        if member.name().ends_with(".npy") {
            let mut bytes = Vec::new();
            member.read_to_end(&mut bytes).unwrap();
            out.push((member.name().to_string(), bytes));
        }
    }
    out.sort();
    out
}

#[test]
fn split_save_merge_report_matches_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let whole = without_run_fields(
        ok(hotpix(
            d,
            &[
                "find", "-q", "--format", "json", "--top", "20", "--save", "all.npz",
            ],
            &series(1..=12),
        ))
        .json(),
    );
    assert!(!whole["defects"].as_array().unwrap().is_empty());
    assert_eq!(whole["lowest_variance"].as_array().unwrap().len(), 20);
    // Report from the state of the same run: the same document.
    assert_eq!(without_run_fields(report(d, "all.npz")), whole);

    save(d, "a.npz", &series(1..=5));
    save(d, "b.npz", &series(6..=12));
    ok(hotpix(
        d,
        &["merge", "-q", "a.npz", "b.npz", "-o", "m.npz"],
        &[],
    ));
    // The statistics are exact integer sums: merged, they are byte for byte
    // those of one run, and so is everything reported from them.
    let names: Vec<String> = arrays(&d.join("all.npz"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for name in [
        "sum.npy",
        "sum_sq.npy",
        "excess.npy",
        "dark.npy",
        "seen_bright.npy",
        "could_bright.npy",
        "seen_dark.npy",
        "could_dark.npy",
        "seen_hot.npy",
        "thumbnails.npy",
        "tiles.npy",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing: {names:?}");
    }
    assert!(
        arrays(&d.join("m.npz")) == arrays(&d.join("all.npz")),
        "merged statistics differ from one run's"
    );
    let merged = without_run_fields(report(d, "m.npz"));
    assert_eq!(merged["summary"]["frames_used"], 12);
    assert_eq!(merged, whole);

    // Merging in the other order, or with a state contained in another, agrees.
    ok(hotpix(
        d,
        &["merge", "-q", "b.npz", "a.npz", "all.npz", "-o", "m2.npz"],
        &[],
    ));
    assert!(arrays(&d.join("m2.npz")) == arrays(&d.join("all.npz")));
    assert_eq!(without_run_fields(report(d, "m2.npz")), whole);
}

#[test]
fn resume_counts_no_frame_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save(d, "s.npz", &series(1..=7));
    // Overlapping inputs, one of them renamed, one listed twice under two names.
    std::fs::copy(fixture("series/DSC_0003.JPG"), d.join("renamed.JPG")).unwrap();
    std::fs::copy(fixture("series/DSC_0010.JPG"), d.join("copy-of-10.JPG")).unwrap();
    let mut inputs = series(5..=12);
    inputs.push("renamed.JPG".into());
    inputs.push("copy-of-10.JPG".into());
    let run = ok(hotpix(
        d,
        &[
            "find", "-q", "--format", "json", "--resume", "s.npz", "--save", "s.npz",
        ],
        &inputs,
    ));
    let resumed = run.json();
    assert_eq!(resumed["summary"]["frames_used"], 12);
    let skipped = skipped_paths(&resumed["summary"]);
    assert!(skipped.contains(&"renamed.JPG"), "{skipped:?}");
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    // The state written back is the whole series, once.
    let back = report(d, "s.npz");
    assert_eq!(back["summary"]["frames_used"], 12);
    let whole = ok(hotpix(
        d,
        &["find", "-q", "--format", "json"],
        &series(1..=12),
    ))
    .json();
    // Exact sums: the same defects, to the last bit, as one run's.
    assert_eq!(back["defects"], whole["defects"]);

    // Resuming with nothing new changes nothing.
    let again = ok(hotpix(
        d,
        &["find", "-q", "--format", "json", "--resume", "s.npz"],
        &series(1..=12),
    ))
    .json();
    assert_eq!(again["summary"]["frames_used"], 12);
    assert_eq!(again["defects"], back["defects"]);
}

/// Regression guard (issue 19, item 8): the sums were deflated at level 1,
/// which zlib-rs answers with static Huffman codes only: Σx and Σx² kept
/// 97% of their size on the fixture series, 99% on a 24-frame D80 series.
/// At level 2 they keep about 70%.
#[test]
fn the_sums_deflate() {
    let dir = tempfile::tempdir().unwrap();
    let state = save(dir.path(), "s.npz", &series(1..=12));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(state).unwrap()).unwrap();
    for name in ["sum.npy", "sum_sq.npy", "excess.npy", "dark.npy"] {
        let member = zip.by_name(name).unwrap();
        let kept = member.compressed_size() as f64 / member.size() as f64;
        assert!(kept < 0.8, "{name} keeps {:.0}% of its size", kept * 100.0);
    }
}

/// Regression guard (issue 19, item 8): `--resume S --save S` with no new
/// frame rewrote the whole state (seconds for a 24 MP series) and never
/// said how many frames were new. With every input already counted or
/// skipped, the file is left as it was, its bytes and its mtime, and the
/// run says so; a run that adds frames says how many.
#[test]
fn resume_with_nothing_new_leaves_the_state_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let state = save(d, "s.npz", &series(1..=6));
    // An mtime no rewrite can give, so that "unchanged" does not depend on
    // the file system's timestamp granularity.
    let long_ago =
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(&state)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let before = std::fs::read(&state).unwrap();
    // Every input already counted, one under another name (skipped).
    std::fs::copy(fixture("series/DSC_0002.JPG"), d.join("renamed.JPG")).unwrap();
    let mut inputs = series(1..=6);
    inputs.push("renamed.JPG".into());
    let run = ok(hotpix(
        d,
        &[
            "find", "--format", "json", "--resume", "s.npz", "--save", "s.npz",
        ],
        &inputs,
    ));
    assert_eq!(run.json()["summary"]["frames_used"], 6);
    assert!(
        run.stderr
            .contains("hotpix: 0 new frames; 's.npz' unchanged"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("6 frames used (0 new)"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&state).unwrap(), before, "the bytes changed");
    assert_eq!(
        std::fs::metadata(&state).unwrap().modified().unwrap(),
        long_ago,
        "the state was rewritten"
    );
    assert_eq!(
        std::fs::read_dir(d).unwrap().count(),
        2,
        "a temporary file is left"
    );

    // New frames: counted, written back, and said.
    let run = ok(hotpix(
        d,
        &[
            "find", "--format", "json", "--resume", "s.npz", "--save", "s.npz",
        ],
        &series(1..=8),
    ));
    assert!(
        run.stderr.contains("8 frames used (2 new)"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unchanged"), "{}", run.stderr);
    assert_eq!(report(d, "s.npz")["summary"]["frames_used"], 8);
}

#[test]
fn damaged_state_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = std::fs::read(save(d, "s.npz", &series(1..=4))).unwrap();
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), Vec::new()),
        ("text".into(), b"hello".to_vec()),
    ];
    for frac in [1, 10, 25, 50, 75, 90, 99] {
        cases.push((
            format!("cut at {frac}%"),
            good[..good.len() * frac / 100].to_vec(),
        ));
    }
    // Bytes in the meta.json and inside every array: the CRC-32 catches them.
    for at in (64..good.len() - 200).step_by(good.len() / 23) {
        let mut bad = good.clone();
        bad[at] ^= 0x55;
        cases.push((format!("flip at {at}"), bad));
    }
    let mut refused = 0;
    for (what, bytes) in &cases {
        std::fs::write(d.join("bad.npz"), bytes).unwrap();
        let run = hotpix(d, &["report", "-q", "bad.npz"], &[]);
        if run.code == 0 {
            // Only a flip in zip bookkeeping can leave the state as it was.
            assert_eq!(
                report(d, "bad.npz")["defects"],
                report(d, "s.npz")["defects"],
                "{what}"
            );
            continue;
        }
        refused += 1;
        assert_eq!(run.code, 2, "{what}: {}", run.stderr);
        assert!(run.stderr.contains("bad.npz"), "{what}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{what}");
    }
    assert!(refused >= cases.len() - 2, "{refused} of {}", cases.len());

    // A JPEG is not a state, and a state that is not there is a usage error.
    let run = hotpix(
        d,
        &[
            "report",
            &fixture("series/DSC_0001.JPG").display().to_string(),
        ],
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a zip archive"), "{}", run.stderr);
    // Regression guard (issue 12): a cut state said "not a zip archive: ...
    // Zip32CDEBlock"; it is damaged, said plainly.
    std::fs::write(d.join("cut.npz"), &good[..good.len() / 2]).unwrap();
    let run = hotpix(d, &["report", "cut.npz"], &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("state file 'cut.npz': damaged (truncated?)"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Block") && !run.stderr.contains("zip archive"),
        "{}",
        run.stderr
    );
    assert_eq!(hotpix(d, &["report", "missing.npz"], &[]).code, 2);
    assert_eq!(
        hotpix(d, &["find", "--resume", "bad.npz"], &series(1..=2)).code,
        2
    );
}

#[test]
fn merge_refuses_overlapping_states_and_other_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save(d, "a.npz", &series(1..=6));
    save(d, "b.npz", &series(5..=9));
    let run = hotpix(d, &["merge", "a.npz", "b.npz", "-o", "m.npz"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("DSC_0005.JPG"), "{}", run.stderr);
    assert!(!d.join("m.npz").exists());
}

/// (x, y, kind, channel) of each entry of a list of defects: a report's
/// `defects` or a diff's `new`, `gone` or `unchanged`.
fn spots(list: &serde_json::Value) -> Vec<(u64, u64, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["x"].as_u64().unwrap(),
                d["y"].as_u64().unwrap(),
                d["kind"].as_str().unwrap().to_string(),
                d["channel"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn diff_exits_1_only_when_a_defect_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save(d, "all.npz", &series(1..=12));
    let found = spots(&report(d, "all.npz")["defects"]);
    let n = found.len();
    assert!(n > 0);
    // A report with a threshold no defect reaches: everything is new against it.
    let none = ok(hotpix(
        d,
        &[
            "find",
            "-q",
            "--format",
            "json",
            "--threshold",
            "1000",
            "-o",
            "none.json",
        ],
        &series(1..=12),
    ));
    assert!(none.stdout.is_empty());

    let run = hotpix(d, &["diff", "all.npz", "all.npz"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("0 new, 0 gone, {n} unchanged")),
        "{}",
        run.stdout
    );
    let run = hotpix(d, &["diff", "--format", "json", "all.npz", "all.npz"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(spots(&run.json()["unchanged"]), found);

    let run = hotpix(
        d,
        &["diff", "--format", "json", "none.json", "all.npz"],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let j = run.json();
    assert_eq!(
        spots(&j["new"]),
        found,
        "every defect is new, in report order"
    );
    assert_eq!(j["gone"].as_array().unwrap().len(), 0);
    assert_eq!(j["unchanged"].as_array().unwrap().len(), 0);

    let run = hotpix(d, &["diff", "all.npz", "none.json"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("0 new, {n} gone, 0 unchanged")),
        "{}",
        run.stdout
    );

    // --threshold applies to states: a high one finds nothing, so nothing is new.
    let run = hotpix(
        d,
        &["diff", "--threshold", "1000", "all.npz", "all.npz"],
        &[],
    );
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("0 new, 0 gone, 0 unchanged"),
        "{}",
        run.stdout
    );
    assert_eq!(hotpix(d, &["diff", "all.npz", "nothing.json"], &[]).code, 2);
}

/// Regression guard (found while merging): the state is saved even when the
/// report's reader closed stdout early (`| head`).
#[test]
fn save_survives_a_closed_stdout_pipe() {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("s.npz");
    let series = fixture("series").display().to_string();
    let mut child = Command::new(bin())
        .args([
            "find",
            "--format",
            "csv",
            "--top",
            "200000",
            "--save",
            state.to_str().unwrap(),
            &series,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = run(&["report", "--format", "json", state.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["summary"]["frames_used"], 12);
}

/// `report` draws and lists from a state exactly what `find` did from the photos.
#[test]
fn report_makes_the_same_pictures_and_lists_as_find() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let series = fixture("series").display().to_string();
    let path = |name: &str| d.join(name).display().to_string();
    let r = run(&[
        "find",
        "-q",
        "--save",
        &path("s.npz"),
        "--map",
        &path("find-map.png"),
        "--crops",
        &path("find-crops.png"),
        "--dcraw",
        &path("find-dcraw.txt"),
        &series,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(&[
        "report",
        "-q",
        &path("s.npz"),
        "--map",
        &path("report-map.png"),
        "--crops",
        &path("report-crops.png"),
        "--dcraw",
        &path("report-dcraw.txt"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (a, b) in [
        ("find-map.png", "report-map.png"),
        ("find-crops.png", "report-crops.png"),
        ("find-dcraw.txt", "report-dcraw.txt"),
    ] {
        assert_eq!(
            std::fs::read(d.join(a)).unwrap(),
            std::fs::read(d.join(b)).unwrap(),
            "{a} vs {b}"
        );
    }
}

/// A series in `dir/name` of `frames` frames of `w`x`h` by `camera`.
fn synth_series(
    dir: &Path,
    name: &str,
    (w, h): (u32, u32),
    camera: hotpix_synth::Camera,
) -> String {
    let mut spec = hotpix_synth::SeriesSpec::new(w, h, 4, 11);
    spec.camera = camera;
    hotpix_synth::write_series(&spec, &dir.join(name)).unwrap();
    name.to_string()
}

fn canon() -> hotpix_synth::Camera {
    hotpix_synth::Camera {
        make: "Canon".into(),
        model: "Canon EOS 40D".into(),
        serial: None,
    }
}

/// Regression guard (issue 12): `diff` of states of another frame size or
/// camera said "9 new, 0 gone" and exited 1, a false alarm in CI. Refused
/// with exit 2, as `merge` refuses to combine them.
#[test]
fn diff_refuses_states_of_another_size_or_camera() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save(d, "d80.npz", &series(1..=12));
    let small = synth_series(d, "small", (64, 48), hotpix_synth::Camera::nikon_d80());
    save(d, "small.npz", &[small]);
    let canon = synth_series(d, "canon", (320, 240), canon());
    save(d, "canon.npz", std::slice::from_ref(&canon));
    ok(hotpix(
        d,
        &["find", "-q", "--format", "json", "-o", "canon.json"],
        &[canon],
    ));

    for (old, new, why) in [
        (
            "d80.npz",
            "small.npz",
            "the frames are 320x240 in the first and 64x48 in the second",
        ),
        (
            "d80.npz",
            "canon.npz",
            "the first is of NIKON D80 #3001234, the second of Canon EOS 40D",
        ),
        ("canon.json", "d80.npz", "Canon EOS 40D"),
    ] {
        let run = hotpix(d, &["diff", old, new], &[]);
        assert_eq!(run.code, 2, "{old} {new}: {}", run.stderr);
        assert!(run.stderr.contains("cannot be compared"), "{}", run.stderr);
        assert!(run.stderr.contains(why), "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

/// `diff -o FILE` writes the comparison to a file; `-q` prints nothing and
/// answers with the exit code alone.
#[test]
fn diff_writes_a_file_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save(d, "all.npz", &series(1..=12));
    ok(hotpix(
        d,
        &[
            "find",
            "-q",
            "--format",
            "json",
            "--threshold",
            "1000",
            "-o",
            "none.json",
        ],
        &series(1..=12),
    ));
    let run = hotpix(
        d,
        &[
            "diff",
            "--format",
            "json",
            "-o",
            "d.json",
            "none.json",
            "all.npz",
        ],
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("wrote 'd.json'"), "{}", run.stderr);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("d.json")).unwrap()).unwrap();
    assert_eq!(
        spots(&written["new"]),
        spots(&report(d, "all.npz")["defects"])
    );
    assert!(!written["new"].as_array().unwrap().is_empty());
    let run = hotpix(d, &["diff", "-q", "none.json", "all.npz"], &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.is_empty() && run.stderr.is_empty(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let run = hotpix(d, &["diff", "--quiet", "all.npz", "all.npz"], &[]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty() && run.stderr.is_empty());
    // The output may not replace an input.
    let run = hotpix(d, &["diff", "-o", "all.npz", "none.json", "all.npz"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("one of the inputs"), "{}", run.stderr);
}

/// Regression guard (issue 12): `--resume` with another camera's photos (of
/// another size) exited 0 and added their "skipped" entries to the saved
/// state for good. Refused before anything is written.
#[test]
fn resume_refuses_another_cameras_photos_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let state = save(d, "s.npz", &series(1..=12));
    let before = std::fs::read(&state).unwrap();
    let canon = synth_series(d, "canon", (64, 48), canon());
    let run = hotpix(
        d,
        &[
            "find", "--resume", "s.npz", "--save", "s.npz", "-o", "r.txt",
        ],
        &[canon],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("more than one camera body"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Canon EOS 40D: 4 frames (canon/DSC_0001.JPG"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the state is untouched"
    );
    assert!(!d.join("r.txt").exists());
}

/// The README's scale-out recipe (issue 19, item 12), run as written on one
/// host: GNU parallel without `-S` (the ssh hosts are the user's), the
/// fixture series for /photos/d80 and 4 parts of 3 frames for 16. The
/// merged report equals one run over all the photos, byte for byte apart
/// from `workers` and `elapsed_s`. Skips (with a message) where GNU parallel
/// is absent: `.ci/run` installs it where the package manager allows.
#[test]
fn the_readme_parallel_recipe_merges_to_one_runs_report() {
    use std::process::Command;
    if !Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipping: GNU parallel is absent (apt-get install parallel)");
        return;
    }
    let readme = include_str!("../README.md");
    let block = readme
        .split("```sh\n")
        .filter_map(|b| b.split_once("```").map(|(code, _)| code))
        .find(|code| code.contains("parallel -S"))
        .expect("the README's GNU parallel recipe");
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let photos = d.join("photos");
    std::fs::create_dir(&photos).unwrap();
    common::copy_series(&photos);
    let mut script = String::from("set -eu\n");
    for from in ["/photos/d80", "l/16", "-S host1,host2,host3 "] {
        assert!(
            block.contains(from),
            "the recipe no longer says {from:?}:\n{block}"
        );
    }
    let recipe = block
        .replace("/photos/d80", photos.to_str().unwrap())
        .replace("l/16", "l/4")
        .replace("-S host1,host2,host3 ", "");
    // Its last line shows the report; the test compares it as JSON below.
    let (steps, last) = recipe.trim_end().rsplit_once('\n').unwrap();
    assert_eq!(last.trim(), "hotpix report d80.npz", "{recipe}");
    script.push_str(steps);
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .current_dir(d)
        .env("PATH", path)
        .env("PARALLEL_HOME", d.join(".parallel"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the recipe failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parts: Vec<_> = (0..4).map(|i| d.join(format!("part-0{i}.npz"))).collect();
    assert!(parts.iter().all(|p| p.exists()), "four part states");
    let merged = ok(hotpix(d, &["report", "--format", "json", "d80.npz"], &[]));
    let one = ok(hotpix(
        d,
        &["find", "-q", "--format", "json", photos.to_str().unwrap()],
        &[],
    ));
    let apart_from_run_fields = |json: &str| -> String {
        json.lines()
            .filter(|l| !l.contains("\"workers\":") && !l.contains("\"elapsed_s\":"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        apart_from_run_fields(&merged.stdout),
        apart_from_run_fields(&one.stdout)
    );
    assert_eq!(merged.json()["summary"]["frames_used"], 12);
}
