//! What the series is, from the headers alone: which frames pass the probe,
//! the frame size most of them have, and whether one camera body took them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::camera::{read_meta, Body, FrameMeta};
use crate::decode::{probe, Header};
use crate::error::{Error, Skipped};
use crate::plural::plural;

/// A frame that passed the probe.
pub(super) struct Candidate {
    pub path: PathBuf,
    pub header: Header,
    pub meta: FrameMeta,
    /// Why the EXIF could not be (fully) read, if it could not.
    pub exif_problem: Option<String>,
    /// The body the EXIF names, as read (before any naming by hand).
    pub exif_camera: Option<String>,
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
        exif_camera: meta.body().map(|b| b.to_string()),
        meta,
        exif_problem,
    })
}

/// The size most frames have; ties go to the larger frame, then the wider.
/// The second value says so when another size has as many frames.
pub(super) fn majority_size(candidates: &[Candidate]) -> Option<((u32, u32), Option<String>)> {
    let mut counts: BTreeMap<(u32, u32), usize> = BTreeMap::new();
    for c in candidates {
        *counts.entry((c.header.width, c.header.height)).or_default() += 1;
    }
    let mut sizes: Vec<((u32, u32), usize)> = counts.into_iter().collect();
    sizes.sort_by_key(|&((w, h), n)| std::cmp::Reverse((n, u64::from(w) * u64::from(h), w)));
    let &(size, most) = sizes.first()?;
    let tied: Vec<String> = sizes[1..]
        .iter()
        .take_while(|&&(_, n)| n == most)
        .map(|((w, h), _)| format!("{w}x{h}"))
        .collect();
    let tie = (!tied.is_empty()).then(|| {
        format!(
            "frame sizes tie: {} each of {}x{} and {}; the series is {}x{} (the larger frame, \
             then the wider) and the other frames are skipped; name the photos of one size to \
             choose",
            plural(most as u64, "frame"),
            size.0,
            size.1,
            tied.join(" and "),
            size.0,
            size.1
        )
    });
    Some((size, tie))
}

/// File names shown for each body when bodies are mixed.
const NAMES_PER_BODY: usize = 3;

/// Frames from two bodies would mix two sensors' defects. `hint` says what
/// to do about it, as the error's last line.
pub fn check_one_body<'a>(
    frames: impl Iterator<Item = (&'a Path, &'a FrameMeta)>,
    hint: &str,
) -> Result<(), Error> {
    let mut bodies: BTreeMap<Option<Body>, Vec<&Path>> = BTreeMap::new();
    for (path, meta) in frames {
        bodies.entry(meta.body()).or_default().push(path);
    }
    let counts: BTreeMap<Option<Body>, u64> = bodies
        .iter()
        .map(|(b, paths)| (b.clone(), paths.len() as u64))
        .collect();
    if known_bodies(&counts) <= 1 {
        return Ok(());
    }
    let listing = bodies
        .iter()
        .map(|(body, paths)| {
            let mut names: Vec<String> = paths
                .iter()
                .take(NAMES_PER_BODY)
                .map(|p| p.display().to_string())
                .collect();
            if paths.len() > NAMES_PER_BODY {
                names.push(format!("and {} more", paths.len() - NAMES_PER_BODY));
            }
            format!(
                "  {}: {} ({})",
                body_name(body.as_ref()),
                plural(paths.len() as u64, "frame"),
                names.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::MixedCameras {
        listing,
        hint: hint.to_string(),
    })
}

/// What `find` says to do about frames from several bodies.
pub const FIND_MIXED_HINT: &str = "use --camera BODY to analyse one of them (BODY as listed, or \
     its model), or --mixed-cameras to analyse them together anyway";

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
