//! Compares the defect lists of two runs (saved states or JSON reports): which
//! defects are new, which are gone, which are unchanged. A sensor gains
//! defects with age; a new one is what a user wants to hear about.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::detect::detect;
use crate::state::State;

/// Two defects at most this many pixels apart in x and in y are the same one
/// (a defect's peak can move a pixel between runs through demosaic and JPEG).
pub const MATCH_PX: u32 = 2;

/// A defect as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spot {
    pub x: u32,
    pub y: u32,
    /// `stuck`, `hot`, `warm` or `dead` (or `blinking`, in the JSON report
    /// of an earlier hotpix).
    pub kind: String,
    /// Channel of the peak subpixel.
    pub channel: String,
    pub score: f64,
}

/// The comparison, each list in the order of the defects' lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// In NEW, with no defect of OLD within [`MATCH_PX`].
    pub new: Vec<Spot>,
    /// In OLD, with no defect of NEW within [`MATCH_PX`].
    pub gone: Vec<Spot>,
    /// In NEW, with a defect of OLD within [`MATCH_PX`].
    pub unchanged: Vec<Spot>,
}

/// The defects of one side of a comparison, with what they were found on.
#[derive(Debug, Clone, PartialEq)]
pub struct Defects {
    pub spots: Vec<Spot>,
    /// Frame width and height, when the input says (a JSON report without
    /// a summary does not).
    pub frame: Option<(u32, u32)>,
    /// The camera body, when one body took all frames with camera EXIF.
    pub camera: Option<String>,
}

/// A diff input that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("'{}': {problem}", path.display())]
pub struct InputError {
    pub path: PathBuf,
    pub problem: String,
}

/// Two inputs that are not of one sensor: comparing their defects would
/// report every defect as new or gone.
#[derive(Debug, thiserror::Error)]
#[error(
    "'{}' and '{}' cannot be compared: {reason}; diff compares two runs of one camera",
    old.display(),
    new.display()
)]
pub struct Unrelated {
    pub old: PathBuf,
    pub new: PathBuf,
    pub reason: String,
}

/// Refuses to compare defects of different frame sizes or camera bodies
/// (as `merge` refuses to combine them). What an input does not say is not
/// held against it.
pub fn check_related(
    (old_path, old): (&Path, &Defects),
    (new_path, new): (&Path, &Defects),
) -> Result<(), Unrelated> {
    let unrelated = |reason| {
        Err(Unrelated {
            old: old_path.to_path_buf(),
            new: new_path.to_path_buf(),
            reason,
        })
    };
    if let (Some((ow, oh)), Some((nw, nh))) = (old.frame, new.frame) {
        if (ow, oh) != (nw, nh) {
            return unrelated(format!(
                "the frames are {ow}x{oh} in the first and {nw}x{nh} in the second"
            ));
        }
    }
    if let (Some(a), Some(b)) = (&old.camera, &new.camera) {
        if a != b {
            return unrelated(format!("the first is of {a}, the second of {b}"));
        }
    }
    Ok(())
}

fn near(a: &Spot, b: &Spot) -> bool {
    a.x.abs_diff(b.x) <= MATCH_PX && a.y.abs_diff(b.y) <= MATCH_PX
}

/// Compares two defect lists.
pub fn diff(old: &[Spot], new: &[Spot]) -> Diff {
    let (unchanged, fresh): (Vec<Spot>, Vec<Spot>) = new
        .iter()
        .cloned()
        .partition(|n| old.iter().any(|o| near(o, n)));
    let gone = old
        .iter()
        .filter(|o| !new.iter().any(|n| near(o, n)))
        .cloned()
        .collect();
    Diff {
        new: fresh,
        gone,
        unchanged,
    }
}

/// The defects of a state file (detected now, with `threshold` or the
/// automatic one) or of a JSON report of `hotpix find --format json` (as
/// reported; `threshold` does not apply to it).
pub fn load(path: &Path, threshold: Option<f64>) -> Result<Defects, InputError> {
    let problem = |p: String| InputError {
        path: path.to_path_buf(),
        problem: p,
    };
    let mut start = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut start))
        .map_err(|e| problem(format!("cannot read: {e}")))?;
    if start[..n].starts_with(b"PK") {
        let state = State::load(path).map_err(|e| problem(e.problem.to_string()))?;
        let ctx = crate::engine::context(&state.frames, &state.stats);
        let detection = detect(&state.stats, &ctx, threshold);
        let spots = detection
            .defects
            .iter()
            .map(|d| Spot {
                x: d.x,
                y: d.y,
                kind: d.kind.name().to_string(),
                channel: d.channel.name().to_string(),
                score: f64::from(d.score),
            })
            .collect();
        return Ok(Defects {
            spots,
            frame: Some((state.stats.width(), state.stats.height())),
            camera: state.camera(),
        });
    }
    let text = std::fs::read(path).map_err(|e| problem(format!("cannot read: {e}")))?;
    let report: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        problem(format!(
            "neither a state file nor a JSON report of `hotpix find --format json` ({e})"
        ))
    })?;
    let summary = &report["summary"];
    let size = |k: &str| summary[k].as_u64().and_then(|v| u32::try_from(v).ok());
    Ok(Defects {
        spots: spots_from_json(&report).map_err(problem)?,
        frame: size("width").zip(size("height")),
        camera: summary["camera"].as_str().map(str::to_string),
    })
}

fn spots_from_json(report: &serde_json::Value) -> Result<Vec<Spot>, String> {
    let defects = report
        .get("defects")
        .and_then(|d| d.as_array())
        .ok_or("a JSON document without a `defects` list: not a hotpix report")?;
    defects
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let coord = |k: &str| {
                d.get(k)
                    .and_then(|v| v.as_u64())
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or(format!("defect {} has no valid `{k}`", i + 1))
            };
            let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            Ok(Spot {
                x: coord("x")?,
                y: coord("y")?,
                kind: text("kind"),
                channel: text("channel"),
                score: d.get("score").and_then(|v| v.as_f64()).unwrap_or(f64::NAN),
            })
        })
        .collect()
}

/// The comparison as a small table for people.
pub fn write_table(d: &Diff, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{} new, {} gone, {} unchanged (matched within {MATCH_PX} px)",
        d.new.len(),
        d.gone.len(),
        d.unchanged.len()
    )?;
    if d.new.is_empty() && d.gone.is_empty() && d.unchanged.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "  {:<9}  {:>6}  {:>6}  {:<8}  {:<2}  {:>8}",
        "status", "x", "y", "kind", "ch", "score"
    )?;
    for (status, list) in [
        ("new", &d.new),
        ("gone", &d.gone),
        ("unchanged", &d.unchanged),
    ] {
        for s in list {
            writeln!(
                out,
                "  {status:<9}  {:>6}  {:>6}  {:<8}  {:<2}  {:>8.2}",
                s.x, s.y, s.kind, s.channel, s.score
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot(x: u32, y: u32) -> Spot {
        Spot {
            x,
            y,
            kind: "hot".into(),
            channel: "R".into(),
            score: 1.0,
        }
    }

    #[test]
    fn matches_within_two_pixels() {
        let old = [spot(10, 10), spot(50, 50)];
        let new = [spot(12, 8), spot(100, 3)];
        let d = diff(&old, &new);
        assert_eq!(d.unchanged, vec![spot(12, 8)]);
        assert_eq!(d.new, vec![spot(100, 3)]);
        assert_eq!(d.gone, vec![spot(50, 50)]);
        let d = diff(&[spot(10, 10)], &[spot(13, 10)]);
        assert_eq!((d.new.len(), d.gone.len()), (1, 1));
    }

    #[test]
    fn other_sizes_and_bodies_are_not_compared() {
        let of = |frame, camera: Option<&str>| Defects {
            spots: vec![spot(1, 1)],
            frame,
            camera: camera.map(str::to_string),
        };
        let (a, b) = (Path::new("a.npz"), Path::new("b.npz"));
        let d80 = of(Some((320, 240)), Some("NIKON D80 #1"));
        assert!(check_related((a, &d80), (b, &d80.clone())).is_ok());
        let small = of(Some((64, 48)), Some("NIKON D80 #1"));
        let err = check_related((a, &d80), (b, &small)).unwrap_err();
        assert!(err.to_string().contains("320x240"), "{err}");
        let other = of(Some((320, 240)), Some("Canon EOS 40D"));
        assert!(check_related((a, &d80), (b, &other)).is_err());
        let unknown = of(None, None);
        assert!(check_related((a, &d80), (b, &unknown)).is_ok());
    }

    #[test]
    fn reads_a_json_report() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"defects": [{"x": 3, "y": 4, "kind": "stuck", "channel": "G", "score": 2.5}]}"#,
        )
        .unwrap();
        assert_eq!(spots_from_json(&v).unwrap()[0].x, 3);
        assert!(spots_from_json(&serde_json::json!({"a": 1})).is_err());
        assert!(spots_from_json(&serde_json::json!({"defects": [{"x": -1, "y": 0}]})).is_err());
    }
}
