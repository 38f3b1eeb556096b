//! Helpers shared by the integration tests: run the built binary, give each
//! test its own directory, find the fixtures and the shared real samples.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hotpix")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    repo().join("fixtures").join(rel)
}

/// `../shared/real-samples`, or `None` (with a message) when it is absent.
pub fn real_samples() -> Option<PathBuf> {
    let dir = repo().join("../shared/real-samples");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `hotpix ARGS` in `dir` with no stdin.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    finish(out)
}

/// Runs `hotpix ARGS` in the repository root.
pub fn run(args: &[&str]) -> Run {
    run_in(&repo(), args)
}

/// Runs `hotpix ARGS` with `input` on stdin.
pub fn run_with_stdin(dir: &Path, args: &[&str], input: &str) -> Run {
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    finish(child.wait_with_output().unwrap())
}

/// The JSON report with the fields that legitimately differ between runs
/// (worker count, elapsed time) removed.
pub fn without_run_fields(mut report: serde_json::Value) -> serde_json::Value {
    let summary = report["summary"].as_object_mut().expect("summary object");
    summary.remove("workers");
    summary.remove("elapsed_s");
    report
}

/// Copies the committed fixture series' frames (not its truth.json) into `dir`.
pub fn copy_series(dir: &Path) {
    for entry in std::fs::read_dir(fixture("series")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "JPG") {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// The paths of a summary's skipped inputs (`summary` is the JSON summary object).
pub fn skipped_paths(summary: &serde_json::Value) -> Vec<&str> {
    summary["skipped"]
        .as_array()
        .expect("skipped is a list")
        .iter()
        .map(|s| s["path"].as_str().expect("a path"))
        .collect()
}
