//! What the series is, from the headers alone: which frames pass the probe,
//! the frame size most of them have, and whether one camera body took them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::camera::{read_meta, Body, FrameMeta};
use crate::decode::{probe, Header};
use crate::error::{Error, Skipped};

/// A frame that passed the probe.
pub(super) struct Candidate {
    pub path: PathBuf,
    pub header: Header,
    pub meta: FrameMeta,
    /// Why the EXIF could not be (fully) read, if it could not.
    pub exif_problem: Option<String>,
}

pub(super) fn probe_one(path: &Path, max_megapixels: u32) -> Result<Candidate, Skipped> {
    let header = probe(path, max_megapixels).map_err(|reason| Skipped {
        path: path.to_path_buf(),
        reason,
    })?;
    let (meta, exif_problem) = match header.exif.as_deref() {
        Some(exif) => read_meta(exif),
        None => (FrameMeta::default(), Some("no EXIF data".to_string())),
    };
    Ok(Candidate {
        path: path.to_path_buf(),
        header,
        meta,
        exif_problem,
    })
}

/// The size most frames have; ties go to the larger frame, then the wider.
pub(super) fn majority_size(candidates: &[Candidate]) -> Option<(u32, u32)> {
    let mut counts: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for c in candidates {
        *counts.entry((c.header.width, c.header.height)).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|&((w, h), n)| (n, u64::from(w) * u64::from(h), w))
        .map(|(size, _)| size)
}

/// Frames from two bodies would mix two sensors' defects.
pub fn check_one_body<'a>(metas: impl Iterator<Item = &'a FrameMeta>) -> Result<(), Error> {
    let bodies = count_bodies(metas);
    if known_bodies(&bodies) <= 1 {
        return Ok(());
    }
    let listing = bodies
        .iter()
        .map(|(body, n)| format!("  {}: {n} frame(s)", body_name(body.as_ref())))
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::MixedCameras { listing })
}

/// How many distinct bodies the EXIF shows. Bodies differ when make or model
/// differ, or when both carry serials that differ; a frame without a serial
/// (some bodies write it only in some files) joins its model's one serial.
/// Frames without camera EXIF cannot be told apart and are not counted.
pub(super) fn known_bodies(bodies: &BTreeMap<Option<Body>, u64>) -> usize {
    let mut serials: BTreeMap<(&str, &str), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for body in bodies.keys().flatten() {
        let entry = serials.entry((&body.make, &body.model)).or_default();
        if let Some(serial) = &body.serial {
            entry.insert(serial);
        }
    }
    serials.values().map(|s| s.len().max(1)).sum()
}

/// The one body all frames with camera EXIF come from, with its serial if
/// any frame gives it.
pub(super) fn the_body(bodies: &BTreeMap<Option<Body>, u64>) -> Option<Body> {
    if known_bodies(bodies) != 1 {
        return None;
    }
    let known = || bodies.keys().flatten();
    known()
        .find(|b| b.serial.is_some())
        .or_else(|| known().next())
        .cloned()
}

pub(super) fn count_bodies<'a>(
    metas: impl Iterator<Item = &'a FrameMeta>,
) -> BTreeMap<Option<Body>, u64> {
    let mut bodies = BTreeMap::new();
    for m in metas {
        *bodies.entry(m.body()).or_default() += 1;
    }
    bodies
}

pub(super) fn body_name(body: Option<&Body>) -> String {
    body.map_or_else(|| "unknown".to_string(), |b| b.to_string())
}
