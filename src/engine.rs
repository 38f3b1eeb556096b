//! The run: probe every input's header, choose the series' frame size, check
//! the camera, decode and accumulate on exactly `jobs` workers, merge, rank.
//!
//! Data flows one way: paths -> headers (+EXIF) -> per-worker partial
//! statistics -> merged statistics -> report. Nothing later reaches back.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::camera::{read_meta, Body, FrameMeta};
use crate::decode::{probe, FrameDecoder, Header};
use crate::detect::detect;
use crate::error::{Error, SkipReason, Skipped};
use crate::rank::{rank, End};
use crate::report::{CameraCount, Range, Report, SkippedInput, Summary, SCHEMA_VERSION};
use crate::similarity::THUMBNAIL_LEN;
use crate::similarity::{median_similarity, thumbnail, TOO_ALIKE};
use crate::stats::{merge_partials, Partial, Stats};

/// Fewer frames than this give a weak result: few scenes to tell a sensor
/// defect from a scene detail, and a noisy estimate of each subpixel.
pub const FEW_FRAMES: u64 = 8;

/// Options of a run, already validated.
#[derive(Debug, Clone)]
pub struct FindOptions {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Length of each ranked list.
    pub top: usize,
    /// Frames claiming more megapixels than this are refused unread.
    pub max_megapixels: u32,
    /// Analyse frames from several camera bodies together.
    pub mixed_cameras: bool,
    /// Defect score threshold; `None` adapts it to the series.
    pub threshold: Option<f64>,
}

/// What a run tells its caller while it works (for progress and messages).
#[derive(Debug)]
pub enum Event<'a> {
    /// Headers are read; `frames` frames will be decoded.
    DecodeStarted { frames: usize },
    /// One frame was dealt with: accumulated, or skipped (then `Skipped` came first).
    FrameDone,
    /// An input was skipped.
    Skipped(&'a Skipped),
    /// A frame's EXIF could not be (fully) read; its pixels are still used.
    ExifProblem { path: &'a Path, problem: &'a str },
}

/// The result of a run: the merged statistics, the frames counted in them
/// and the report made from them.
#[derive(Debug)]
pub struct Outcome {
    pub stats: Stats,
    pub report: Report,
    /// Every frame in `stats`: a base's frames first, then this run's in path order.
    pub frames: Vec<CountedFrame>,
}

/// BLAKE3 of a file's bytes: names a frame by its content, so a renamed or
/// twice-listed file is counted once. BLAKE3 because it is collision-resistant
/// (a crafted file cannot pass for another) and still costs about 1 ms a
/// full-size JPEG, against ~100 ms to decode it.
pub type FrameHash = [u8; 32];

/// A frame whose pixels are in the statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedFrame {
    /// The path as it was given or expanded.
    pub path: PathBuf,
    /// File size in bytes.
    pub bytes: u64,
    /// BLAKE3 of the file's bytes.
    pub hash: FrameHash,
    /// What its EXIF said.
    pub meta: FrameMeta,
    /// Its block-brightness thumbnail (see [`crate::similarity`]).
    pub thumbnail: Vec<f32>,
}

/// Statistics counted earlier (a saved state) that a run adds to: frames whose
/// content is already counted are skipped, the frame size is the base's, and
/// the report covers base and new frames together.
#[derive(Debug, Clone)]
pub struct Base {
    pub stats: Stats,
    pub frames: Vec<CountedFrame>,
    /// Inputs skipped by the runs that made the base.
    pub skipped: Vec<SkippedInput>,
}

/// A frame that passed the probe.
struct Candidate {
    path: PathBuf,
    header: Header,
    meta: FrameMeta,
    /// Why the EXIF could not be (fully) read, if it could not.
    exif_problem: Option<String>,
}

/// Runs `hotpix find` on `paths`.
pub fn find(
    paths: &[PathBuf],
    opts: &FindOptions,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, Error> {
    find_more(paths, opts, None, on)
}

/// Runs `hotpix find` on `paths`, adding to `base` when given.
pub fn find_more(
    paths: &[PathBuf],
    opts: &FindOptions,
    base: Option<Base>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let jobs = opts.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .expect("a thread pool can be built");

    let mut skipped = Vec::new();
    let probed: Vec<Result<Candidate, Skipped>> = pool.install(|| {
        paths
            .par_iter()
            .map(|p| probe_one(p, opts.max_megapixels))
            .collect()
    });
    let mut candidates = Vec::new();
    for result in probed {
        match result {
            Ok(c) => candidates.push(c),
            Err(s) => {
                on(Event::Skipped(&s));
                skipped.push(s);
            }
        }
    }

    let base_size = base.as_ref().map(|b| (b.stats.width(), b.stats.height()));
    let base_frames = base.as_ref().map_or(&[][..], |b| &b.frames[..]);
    let Some((width, height)) = base_size.or_else(|| majority_size(&candidates)) else {
        return Err(Error::TooFewFrames {
            usable: 0,
            total: paths.len(),
        });
    };
    let (series, other): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|c| (c.header.width, c.header.height) == (width, height));
    for c in other {
        let s = Skipped {
            path: c.path,
            reason: SkipReason::OtherSize {
                width: c.header.width,
                height: c.header.height,
                series_width: width,
                series_height: height,
            },
        };
        on(Event::Skipped(&s));
        skipped.push(s);
    }
    for c in &series {
        if let Some(problem) = &c.exif_problem {
            on(Event::ExifProblem {
                path: &c.path,
                problem,
            });
        }
    }
    if series.len() + base_frames.len() < 2 {
        return Err(Error::TooFewFrames {
            usable: series.len() + base_frames.len(),
            total: paths.len() + base_frames.len(),
        });
    }
    if !opts.mixed_cameras {
        check_one_body(
            base_frames
                .iter()
                .map(|f| &f.meta)
                .chain(series.iter().map(|c| &c.meta)),
        )?;
    }

    on(Event::DecodeStarted {
        frames: series.len(),
    });
    let workers = jobs.min(series.len());
    let known = base_frames
        .iter()
        .map(|f| (f.hash, f.path.clone()))
        .collect();
    let (partials, used, decode_skips) =
        accumulate(&pool, &series, width, height, workers, known, on)?;
    skipped.extend(decode_skips);

    let (mut stats, mut frames, mut skipped_inputs) = match base {
        Some(b) => (Some(b.stats), b.frames, b.skipped),
        None => (None, Vec::new(), Vec::new()),
    };
    if let Some(new) = pool.install(|| merge_partials(partials))? {
        match &mut stats {
            Some(s) => s.merge(&new),
            None => stats = Some(new),
        }
    }
    let usable = frames.len() + used.len();
    let stats = stats.filter(|s| s.frames >= 2).ok_or(Error::TooFewFrames {
        usable,
        total: paths.len() + frames.len(),
    })?;
    frames.extend(used.into_iter().map(|u| {
        let c = &series[u.index];
        CountedFrame {
            path: c.path.clone(),
            bytes: u.bytes,
            hash: u.hash,
            meta: c.meta.clone(),
            thumbnail: u.thumbnail,
        }
    }));
    skipped_inputs.extend(skipped.iter().map(|s| SkippedInput {
        path: s.path.display().to_string(),
        reason: s.reason.to_string(),
    }));
    let report = pool.install(|| {
        make_report(
            &stats,
            &frames,
            skipped_inputs,
            opts.top,
            opts.threshold,
            workers,
            started,
        )
    });
    Ok(Outcome {
        stats,
        report,
        frames,
    })
}

/// The report on `stats`, which counts exactly `frames`; the summary lists
/// `skipped` (in path order, without any path that is counted). Used by a run,
/// and on saved statistics without decoding anything (`workers` is then 0).
pub fn make_report(
    stats: &Stats,
    frames: &[CountedFrame],
    mut skipped: Vec<SkippedInput>,
    top: usize,
    threshold: Option<f64>,
    workers: usize,
    started: Instant,
) -> Report {
    let counted: std::collections::HashSet<String> = frames
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    skipped.retain(|s| !counted.contains(&s.path));
    skipped.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.reason.cmp(&b.reason)));
    skipped.dedup_by(|a, b| a.path == b.path);
    let used_meta: Vec<&FrameMeta> = frames.iter().map(|f| &f.meta).collect();
    let thumbs: Vec<Vec<f32>> = frames.iter().map(|f| f.thumbnail.clone()).collect();
    let similarity = median_similarity(&thumbs);
    let detection = detect(stats, threshold, similarity);
    let mut summary = summarize(
        &used_meta,
        skipped,
        stats.width(),
        stats.height(),
        workers,
        started,
    );
    summary.threshold = detection.threshold;
    summary.threshold_automatic = threshold.is_none();
    summary.frame_similarity = similarity;
    summary.warnings = warnings(stats.frames, similarity);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: format!("hotpix {}", env!("CARGO_PKG_VERSION")),
        summary,
        defects: detection.defects,
        lowest_variance: rank(stats, End::Lowest, top),
        highest_variance: rank(stats, End::Highest, top),
    }
}

fn probe_one(path: &Path, max_megapixels: u32) -> Result<Candidate, Skipped> {
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
fn majority_size(candidates: &[Candidate]) -> Option<(u32, u32)> {
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
fn known_bodies(bodies: &BTreeMap<Option<Body>, u64>) -> usize {
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
fn the_body(bodies: &BTreeMap<Option<Body>, u64>) -> Option<Body> {
    if known_bodies(bodies) != 1 {
        return None;
    }
    let known = || bodies.keys().flatten();
    known()
        .find(|b| b.serial.is_some())
        .or_else(|| known().next())
        .cloned()
}

fn count_bodies<'a>(metas: impl Iterator<Item = &'a FrameMeta>) -> BTreeMap<Option<Body>, u64> {
    let mut bodies = BTreeMap::new();
    for m in metas {
        *bodies.entry(m.body()).or_default() += 1;
    }
    bodies
}

fn body_name(body: Option<&Body>) -> String {
    body.map_or_else(|| "unknown".to_string(), |b| b.to_string())
}

/// What went wrong with the series itself, with what to do about it.
fn warnings(frames: u64, similarity: Option<f64>) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(s) = similarity.filter(|&s| s >= TOO_ALIKE) {
        w.push(format!(
            "the frames are too alike (median similarity {s:.2}): static scene details can look like \
             defects; add photos of different scenes"
        ));
    }
    if frames < FEW_FRAMES {
        w.push(format!(
            "only {frames} frames: the result is weak; {FEW_FRAMES} or more photos of different scenes \
             separate defects from scene details far better"
        ));
    }
    w
}

/// A frame a worker counted.
struct Used {
    /// Index in the series.
    index: usize,
    bytes: u64,
    hash: FrameHash,
    thumbnail: Vec<f32>,
}

/// Per worker partials, the frames used (in series order), and the frames
/// skipped while decoding.
type Accumulated = (Vec<Partial>, Vec<Used>, Vec<Skipped>);

/// Exactly `workers` workers share the frames dynamically: each takes the next
/// untaken frame when it is free, and folds it into the one partial it owns
/// for the whole run. (An accumulator per rayon split would multiply memory:
/// 36 full-size accumulators for 60 frames, 4.2 GB, was measured.)
fn accumulate(
    pool: &rayon::ThreadPool,
    series: &[Candidate],
    width: u32,
    height: u32,
    workers: usize,
    known: HashMap<FrameHash, PathBuf>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Accumulated, Error> {
    let plans = plan_by_content(pool, series, known);
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let used = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let partials: Vec<Result<Partial, Error>> = pool.broadcast(|ctx| {
        if ctx.index() >= workers {
            // More pool threads than frames: this thread has nothing to do.
            return Partial::new(0, 0);
        }
        let mut partial =
            Partial::new(width, height).inspect_err(|_| failed.store(true, Ordering::Relaxed))?;
        // Frames are folded in two at a time (half the accumulator traffic,
        // see `Accumulator::push_pair`), so a worker decodes into two buffers.
        let mut decoders = [
            FrameDecoder::new(width, height),
            FrameDecoder::new(width, height),
        ];
        let mut pending: Option<(usize, Used)> = None;
        let record = |frame_used: Used| {
            used.lock()
                .expect("no worker panics holding it")
                .push(frame_used);
            on(Event::FrameDone);
        };
        loop {
            if failed.load(Ordering::Relaxed) {
                // Another worker failed: the run ends with its error.
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(frame) = series.get(i) else { break };
            let slot = pending.as_ref().map_or(0, |(s, _)| 1 - s);
            let counted = match &plans[i] {
                Err(reason) => Err(reason.clone()),
                // Settled after the workers, by what became of the original.
                Ok(Plan::CopyOf(_)) | Ok(Plan::Listed) => Ok(None),
                Ok(Plan::Count(expected)) => {
                    decode_planned(&mut decoders[slot], &frame.path, i, *expected).map(Some)
                }
            };
            match counted {
                Ok(Some(frame_used)) => match pending.take() {
                    None => pending = Some((slot, frame_used)),
                    Some((other, first)) => {
                        partial
                            .push_pair(decoders[other].pixels(), decoders[slot].pixels())
                            .inspect_err(|_| failed.store(true, Ordering::Relaxed))?;
                        record(first);
                        record(frame_used);
                    }
                },
                Ok(None) => on(Event::FrameDone),
                Err(reason) => {
                    let s = Skipped {
                        path: frame.path.clone(),
                        reason,
                    };
                    on(Event::Skipped(&s));
                    on(Event::FrameDone);
                    skipped.lock().expect("no worker panics holding it").push(s);
                }
            }
        }
        if let Some((slot, frame_used)) = pending {
            partial.push(decoders[slot].pixels())?;
            record(frame_used);
        }
        Ok(partial)
    });
    let partials = partials
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|p| p.frames() > 0)
        .collect();
    let mut used = used.into_inner().expect("workers are done");
    used.sort_unstable_by_key(|u| u.index);
    let mut skipped = skipped.into_inner().expect("workers are done");
    // A copy shares its original's fate: counted once, or skipped for the
    // same reason (identical bytes decode identically).
    for (i, plan) in plans.iter().enumerate() {
        let Ok(Plan::CopyOf(j)) = plan else { continue };
        let original = &series[*j].path;
        let reason = match skipped.iter().find(|s| s.path == *original) {
            Some(s) => s.reason.clone(),
            None => SkipReason::AlreadyCounted(original.display().to_string()),
        };
        let s = Skipped {
            path: series[i].path.clone(),
            reason,
        };
        on(Event::Skipped(&s));
        skipped.push(s);
    }
    Ok((partials, used, skipped))
}

/// Reads and decodes a frame planned for counting into `decoder`, checking
/// that its bytes are the ones planned for, and takes its thumbnail.
fn decode_planned(
    decoder: &mut FrameDecoder,
    path: &Path,
    index: usize,
    expected: Expected,
) -> Result<Used, SkipReason> {
    let bytes = decoder.read(path)?;
    let hash = *blake3::hash(bytes).as_bytes();
    // The bytes decoded must be the bytes planned for: the same bytes when
    // they were hashed, else (a size no other file has) the same size.
    let as_planned = match expected {
        Expected::Hash(planned) => hash == planned,
        Expected::Size(size) => bytes.len() as u64 == size,
    };
    if !as_planned {
        return Err(SkipReason::Unreadable(
            "the file changed while hotpix read it".into(),
        ));
    }
    let bytes = bytes.len() as u64;
    let (width, height) = decoder.size();
    let pixels = decoder.decode_read()?;
    let thumbnail = thumbnail(pixels, width as usize, height as usize);
    debug_assert_eq!(thumbnail.len(), THUMBNAIL_LEN);
    Ok(Used {
        index,
        bytes,
        hash,
        thumbnail,
    })
}

/// What to do with a frame of the series.
enum Plan {
    /// Decode and count it.
    Count(Expected),
    /// A base already counted this file under the same path: listed again, no news.
    Listed,
    /// Same content as the series' frame at this (lower) index.
    CopyOf(usize),
}

/// What a counted frame's bytes must be when a worker reads them.
#[derive(Clone, Copy)]
enum Expected {
    /// Hashed while planning: these exact bytes.
    Hash(FrameHash),
    /// No other frame has its size, so it was not hashed: this many bytes.
    Size(u64),
}

/// Plans every frame by content before any decoding, in series order, so
/// that nothing depends on which worker gets to a frame first: the lowest
/// index with a given content is decoded, later copies follow its fate, and
/// content a base already counted is skipped (with its first path).
///
/// Only files that could be copies are read for this: with no base, a file
/// whose size no other file of the series has is unique, and is read once,
/// by the worker that decodes it (on a cold cache or a slow card, reading
/// every file twice would cost a second pass over the whole series).
fn plan_by_content(
    pool: &rayon::ThreadPool,
    series: &[Candidate],
    known: HashMap<FrameHash, PathBuf>,
) -> Vec<Result<Plan, SkipReason>> {
    let sizes: Vec<Option<u64>> = pool.install(|| {
        series
            .par_iter()
            .map(|c| std::fs::metadata(&c.path).ok().map(|m| m.len()))
            .collect()
    });
    let mut files_of_size: HashMap<u64, usize> = HashMap::new();
    for size in sizes.iter().flatten() {
        *files_of_size.entry(*size).or_default() += 1;
    }
    let unique_size = |i: usize| sizes[i].filter(|s| known.is_empty() && files_of_size[s] == 1);
    let expected: Vec<Result<Expected, SkipReason>> = pool.install(|| {
        (0..series.len())
            .into_par_iter()
            .map(|i| match unique_size(i) {
                Some(size) => Ok(Expected::Size(size)),
                None => hash_file(&series[i].path).map(Expected::Hash),
            })
            .collect()
    });
    let mut first_in_series: HashMap<FrameHash, usize> = HashMap::new();
    expected
        .into_iter()
        .enumerate()
        .map(|(i, expected)| {
            let hash = match expected? {
                Expected::Hash(hash) => hash,
                size => return Ok(Plan::Count(size)),
            };
            if let Some(first) = known.get(&hash) {
                return if *first == series[i].path {
                    Ok(Plan::Listed)
                } else {
                    Err(SkipReason::AlreadyCounted(first.display().to_string()))
                };
            }
            match first_in_series.get(&hash) {
                Some(&j) => Ok(Plan::CopyOf(j)),
                None => {
                    first_in_series.insert(hash, i);
                    Ok(Plan::Count(Expected::Hash(hash)))
                }
            }
        })
        .collect()
}

/// BLAKE3 of a file's bytes, streamed.
fn hash_file(path: &Path) -> Result<FrameHash, SkipReason> {
    let mut hasher = blake3::Hasher::new();
    std::fs::File::open(path)
        .and_then(|f| hasher.update_reader(f).map(|_| ()))
        .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    Ok(*hasher.finalize().as_bytes())
}

fn summarize(
    used: &[&FrameMeta],
    skipped: Vec<SkippedInput>,
    width: u32,
    height: u32,
    workers: usize,
    started: Instant,
) -> Summary {
    let bodies = count_bodies(used.iter().copied());
    let mut cameras: Vec<CameraCount> = bodies
        .iter()
        .map(|(body, &frames)| CameraCount {
            camera: body_name(body.as_ref()),
            frames,
        })
        .collect();
    cameras.sort_by(|a, b| {
        b.frames
            .cmp(&a.frames)
            .then_with(|| a.camera.cmp(&b.camera))
    });
    let body = the_body(&bodies);
    let known = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Summary {
        camera: body.as_ref().map(|b| b.to_string()),
        make: body.as_ref().and_then(|b| known(&b.make)),
        model: body.as_ref().and_then(|b| known(&b.model)),
        cameras,
        frames_used: used.len() as u64,
        frames_skipped: skipped.len(),
        skipped,
        width,
        height,
        iso: Range::of(used.iter().filter_map(|m| m.iso)),
        exposure_s: Range::of(used.iter().filter_map(|m| m.exposure_s)),
        date: Range::of(used.iter().filter_map(|m| m.datetime.clone())),
        workers,
        elapsed_s: started.elapsed().as_secs_f64(),
        threshold: 0.0,
        threshold_automatic: true,
        frame_similarity: None,
        warnings: Vec::new(),
    }
}
