//! The run: probe every input's header, choose the series' frame size, check
//! the camera, decode on exactly `jobs` workers into the run's one
//! accumulator, add a resumed state's statistics, detect, rank.
//!
//! Data flows one way: paths -> headers (+EXIF) -> decoded frames, folded
//! into the one accumulator -> statistics (with a base's, when resuming) ->
//! report. Nothing later reaches back.

mod accumulate;
mod content;
pub mod memory;
mod series;
mod summary;
mod warnings;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::camera::FrameMeta;
use crate::detect::{detect, judge_still, Context, Exposures};
use crate::error::{Error, SkipReason, Skipped};
use crate::plural::plural;
use crate::rank::{rank, End};
use crate::report::{CameraCount, Range, Report, SkippedInput, Summary, SCHEMA_VERSION};
use crate::similarity::TileViews;
use crate::stats::Stats;

use crate::evidence::{dark_weight, Layout};
use crate::inputs::Inputs;
use accumulate::{accumulate, pass_over, Accumulated, Used, Work};
use content::{plan_by_content, Plan};
use series::{body_name, count_bodies, majority_size, probe_one, the_body, Candidate};
pub use series::{check_one_body, FIND_MIXED_HINT};
pub use summary::{context, judged_context, make_report};

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
    /// Memory the run may take, in bytes; `None` chooses from the machine
    /// (see [`memory::plan`]).
    pub memory: Option<u64>,
}

/// Which frames make the series besides their size, decided from the
/// headers before anything is decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Analyse only the frames of the body this names (see
    /// [`crate::camera::Body::is_named`]); frames of other bodies, or with
    /// no camera in their EXIF, are skipped.
    pub camera: Option<String>,
    /// The camera (make, model) of frames whose EXIF names none.
    pub unnamed_camera: Option<(String, String)>,
    /// Refuse before decoding unless the frames name one camera make and
    /// model (a RawTherapee list is named after them).
    pub need_make_and_model: bool,
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
    /// `camera` is the body the readable part names, if it names one.
    ExifProblem {
        path: &'a Path,
        problem: &'a str,
        camera: Option<String>,
    },
    /// Every frame is decoded; defects are being detected and ranked.
    Detecting,
    /// How the run will use memory and threads (said with `-v`).
    Plan {
        workers: usize,
        memory: memory::MemoryPlan,
    },
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
    /// Its fine-detail signature, tile by tile (see
    /// [`crate::similarity::tiles`]).
    pub tiles: Vec<u64>,
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
    find_selected(
        &Inputs::of_paths(paths),
        opts,
        &Selection::default(),
        base,
        on,
    )
}

/// Threads for the work that only computes (reading headers, checking
/// content, detection, drawing): `jobs`, but no more than the machine's
/// cores. More would add no speed, only memory: each detection thread holds
/// a band's planes. (Decoding runs on `jobs` workers of its own, bounded by
/// the frame buffers, since waiting on slow storage is a reason for more
/// workers than cores.)
pub fn compute_threads(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    jobs.clamp(1, cores)
}

/// A pool of [`compute_threads`] threads; failing to start them is exit 3.
pub fn compute_pool(jobs: usize) -> Result<rayon::ThreadPool, Error> {
    let threads = compute_threads(jobs);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Threads {
            threads,
            reason: e.to_string(),
        })
}

/// Runs `hotpix find` on the frames of `inputs` that `selection` keeps,
/// adding to `base` when given. The inputs already skipped (folders without
/// photos) are announced first and listed with the frames skipped later.
pub fn find_selected(
    inputs: &Inputs,
    opts: &FindOptions,
    selection: &Selection,
    base: Option<Base>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let pool = compute_pool(opts.jobs)?;
    let paths = &inputs.paths;
    let total = inputs.len();

    let mut skipped = Vec::new();
    for s in &inputs.skipped {
        on(Event::Skipped(s));
        skipped.push(s.clone());
    }
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
    let base_frames = base.as_ref().map_or(&[][..], |b| &b.frames[..]);
    let candidates = select(candidates, base_frames, selection, &mut skipped, on)?;
    if !opts.mixed_cameras {
        // Bodies are checked before sizes: two cameras of different frame
        // sizes are mixed cameras, not one camera and frames of "another
        // size" (which, with --resume, would enter the state's list for good).
        check_one_body(
            base_frames
                .iter()
                .map(|f| (f.path.as_path(), &f.meta))
                .chain(candidates.iter().map(|c| (c.path.as_path(), &c.meta))),
            FIND_MIXED_HINT,
        )?;
    }

    let base_size = base.as_ref().map(|b| (b.stats.width(), b.stats.height()));
    let mut size_tie = None;
    let Some((width, height)) = base_size.or_else(|| {
        majority_size(&candidates).map(|(size, tie)| {
            size_tie = tie;
            size
        })
    }) else {
        return Err(Error::TooFewFrames { usable: 0, total });
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
    // One kind of frame: colour (3 channels) or greyscale (1), the base's or
    // the one most frames are (colour on a tie).
    let channels = base.as_ref().map_or_else(
        || {
            let grey = series.iter().filter(|c| c.header.components == 1).count();
            if grey * 2 > series.len() {
                1
            } else {
                3
            }
        },
        |b| b.stats.channels(),
    );
    let (series, other): (Vec<_>, Vec<_>) = series
        .into_iter()
        .partition(|c| usize::from(c.header.components) == channels);
    for c in other {
        let s = Skipped {
            path: c.path,
            reason: SkipReason::OtherKind {
                greyscale: c.header.components == 1,
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
                camera: c.exif_camera.clone(),
            });
        }
    }
    if series.len() + base_frames.len() < 2 {
        return Err(Error::TooFewFrames {
            usable: series.len() + base_frames.len(),
            total: total + base_frames.len(),
        });
    }
    if selection.need_make_and_model {
        let bodies = count_bodies(
            base_frames
                .iter()
                .map(|f| &f.meta)
                .chain(series.iter().map(|c| &c.meta)),
        );
        let named = the_body(&bodies)
            .is_some_and(|b| !b.make.trim().is_empty() && !b.model.trim().is_empty());
        if !named {
            return Err(Error::NoCameraName);
        }
    }

    let Counted {
        stats: new,
        used,
        skipped: decode_skips,
        workers,
    } = count(
        &pool,
        &series,
        (width, height, channels),
        base.as_ref(),
        opts,
        on,
    )?;
    skipped.extend(decode_skips);
    on(Event::Detecting);

    let (mut stats, mut frames, mut skipped_inputs) = match base {
        Some(b) => (Some(b.stats), b.frames, b.skipped),
        None => (None, Vec::new(), Vec::new()),
    };
    if let Some(new) = new.filter(|n| n.frames > 0) {
        match &mut stats {
            Some(s) => s.merge(&new)?,
            None => stats = Some(new),
        }
    }
    let usable = frames.len() + used.len();
    let stats = stats.filter(|s| s.frames >= 2).ok_or(Error::TooFewFrames {
        usable,
        total: total + frames.len(),
    })?;
    frames.extend(used.into_iter().map(|u| {
        let c = &series[u.index];
        CountedFrame {
            path: c.path.clone(),
            bytes: u.bytes,
            hash: u.hash,
            meta: c.meta.clone(),
            thumbnail: u.thumbnail,
            tiles: u.tiles,
        }
    }));
    skipped_inputs.extend(skipped.iter().map(|s| SkippedInput {
        path: s.path.display().to_string(),
        reason: s.reason.to_string(),
    }));
    let mut report = pool.install(|| {
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
    report.summary.warnings.extend(size_tie);
    Ok(Outcome {
        stats,
        report,
        frames,
    })
}

/// What decoding a series gave: its statistics (none when nothing needed
/// decoding), the frames counted, the frames skipped while decoding, and
/// the workers that did it.
struct Counted {
    stats: Option<Stats>,
    used: Vec<Used>,
    skipped: Vec<Skipped>,
    workers: usize,
}

/// Plans the frames by content and the memory, then decodes and counts the
/// series on at most `opts.jobs` workers (never more than frames to decode,
/// nor more than the frame buffers or the cores, whichever is more).
fn count(
    pool: &rayon::ThreadPool,
    series: &[Candidate],
    (width, height, channels): (u32, u32, usize),
    base: Option<&Base>,
    opts: &FindOptions,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Counted, Error> {
    let known = base
        .map_or(&[][..], |b| &b.frames[..])
        .iter()
        .map(|f| (f.hash, f.path.clone()))
        .collect();
    let plans = plan_by_content(pool, series, known);
    let to_decode = plans
        .iter()
        .filter(|p| matches!(p, Ok(Plan::Count(_))))
        .count();
    let workers = opts.jobs.max(1).min(to_decode.max(1));
    let layout = Layout {
        width: width as usize,
        height: height as usize,
        channels,
    };
    let weights: Vec<u8> = series
        .iter()
        .map(|c| dark_weight(c.meta.exposure_s, c.meta.iso))
        .collect();
    let work = Work {
        series,
        plans: &plans,
        weights: &weights,
        layout,
    };
    if to_decode == 0 {
        // A resume that adds nothing: no accumulator the size of the frame
        // to plan, allocate or merge.
        on(Event::DecodeStarted {
            frames: series.len(),
        });
        return Ok(Counted {
            stats: None,
            used: Vec::new(),
            skipped: (0..series.len())
                .filter_map(|i| pass_over(&work, i, on))
                .collect(),
            workers,
        });
    }
    let file_bytes = series
        .iter()
        .filter_map(|c| std::fs::metadata(&c.path).ok().map(|m| m.len()))
        .max()
        .unwrap_or(0);
    let held = base.map_or(0, |b| {
        b.stats.layout().len() as u64 * Stats::bytes_per_subpixel(b.stats.frames)
            + b.frames.len() as u64 * 1024
    });
    let plan = memory::plan(layout, to_decode, file_bytes, workers, opts.memory, held)?;
    // A worker decodes only into a free frame buffer and folds only where a
    // core is free: beyond both, a thread only waits, and holds memory.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = workers.min(plan.buffers.slots.max(cores));
    on(Event::Plan {
        workers,
        memory: plan,
    });
    on(Event::DecodeStarted {
        frames: series.len(),
    });
    let Accumulated {
        acc,
        used,
        mut skipped,
    } = accumulate(&work, workers, plan.buffers, on)?;
    // A copy shares its original's fate: counted once, or skipped for the
    // same reason (identical bytes decode identically).
    for (i, p) in plans.iter().enumerate() {
        let Ok(Plan::CopyOf(j)) = p else { continue };
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
    let stats = pool.install(|| acc.into_stats())?;
    Ok(Counted {
        stats: Some(stats),
        used,
        skipped,
        workers,
    })
}

/// The candidates `selection` keeps, the others skipped (and announced):
/// frames without a camera in their EXIF are first given the one named by
/// hand, then only the asked-for body's frames are kept.
fn select(
    mut candidates: Vec<Candidate>,
    base_frames: &[CountedFrame],
    selection: &Selection,
    skipped: &mut Vec<Skipped>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Vec<Candidate>, Error> {
    if let Some((make, model)) = &selection.unnamed_camera {
        for c in &mut candidates {
            if c.meta.make.is_none() && c.meta.model.is_none() {
                c.meta.make = Some(make.clone());
                c.meta.model = Some(model.clone());
            }
        }
    }
    let Some(asked) = &selection.camera else {
        return Ok(candidates);
    };
    let is_asked = |meta: &FrameMeta| meta.body().is_some_and(|b| b.is_named(asked));
    let (chosen, others): (Vec<_>, Vec<_>) =
        candidates.into_iter().partition(|c| is_asked(&c.meta));
    if chosen.is_empty() && !base_frames.iter().any(|f| is_asked(&f.meta)) {
        let bodies = count_bodies(others.iter().map(|c| &c.meta));
        let found = bodies
            .iter()
            .map(|(body, &n)| format!("{} ({})", body_name(body.as_ref()), plural(n, "frame")))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::NoSuchCamera {
            asked: asked.clone(),
            found: if found.is_empty() {
                "none".to_string()
            } else {
                found
            },
        });
    }
    for c in others {
        let s = Skipped {
            path: c.path,
            reason: SkipReason::OtherCamera(c.meta.body().map(|b| b.to_string())),
        };
        on(Event::Skipped(&s));
        skipped.push(s);
    }
    Ok(chosen)
}
