//! Decoding the frames and adding them to the statistics, on the workers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::decode::FrameDecoder;
use crate::error::{Error, SkipReason, Skipped};
use crate::similarity::{thumbnail, THUMBNAIL_LEN};
use crate::stats::Partial;

use super::content::{plan_by_content, Expected, Plan};
use super::series::Candidate;
use super::{Event, FrameHash};

/// A frame a worker counted.
pub(super) struct Used {
    /// Index in the series.
    pub index: usize,
    pub bytes: u64,
    pub hash: FrameHash,
    pub thumbnail: Vec<f32>,
}

/// Per worker partials, the frames used (in series order), and the frames
/// skipped while decoding.
type Accumulated = (Vec<Partial>, Vec<Used>, Vec<Skipped>);

/// Exactly `workers` workers share the frames dynamically: each takes the next
/// untaken frame when it is free, and folds it into the one partial it owns
/// for the whole run. (An accumulator per rayon split would multiply memory:
/// 36 full-size accumulators for 60 frames, 4.2 GB, was measured.)
pub(super) fn accumulate(
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
