//! Full-size (3872x2592, a Nikon D80's JPEG size) checks, too slow for every
//! `cargo test`: run with `cargo test --release --test full_size -- --ignored`.
//! Uses `$HOTPIX_FULL_DIR` if set (a folder of full-size frames), else
//! generates 24 frames into a temporary directory.

mod common;
use common::*;

use hotpix_synth::{self as synth, SeriesSpec};

#[test]
#[ignore = "full-size: about a minute; run with --ignored"]
fn full_size_lowest_variance_matches_two_pass_f64() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var_os("HOTPIX_FULL_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            let mut spec = SeriesSpec::new(3872, 2592, 24, 11);
            spec.defects.singles.stuck_high = 4;
            synth::write_series(&spec, tmp.path()).unwrap();
            tmp.path().to_path_buf()
        }
    };
    let pattern = format!("{}/*.jpg", dir.display());
    let r = run(&[
        "find", "-j", "2", "--format", "json", "--top", "50", &pattern,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["summary"]["width"], 3872);

    // Independent: decode every frame with the `image` crate and compute a
    // two-pass float64 mean and variance for the listed subpixels.
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    paths.sort();
    let listed: Vec<(usize, f64)> = report["lowest_variance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let c = ["R", "G", "B"]
                .iter()
                .position(|&n| n == s["channel"])
                .unwrap();
            let i = (s["y"].as_u64().unwrap() as usize * 3872 + s["x"].as_u64().unwrap() as usize)
                * 3
                + c;
            (i, s["variance"].as_f64().unwrap())
        })
        .collect();
    let mut values = vec![Vec::new(); listed.len()];
    for p in &paths {
        let frame = image::open(p).unwrap().to_rgb8().into_raw();
        for (k, &(i, _)) in listed.iter().enumerate() {
            values[k].push(f64::from(frame[i]));
        }
    }
    assert_eq!(
        values[0].len() as u64,
        report["summary"]["frames_used"].as_u64().unwrap()
    );
    for (k, &(i, got)) in listed.iter().enumerate() {
        let v = &values[k];
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!(
            (got - var).abs() <= 1e-4 * var.max(1e-3),
            "subpixel {i}: {got} vs {var}"
        );
    }
}
