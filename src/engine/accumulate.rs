//! Decoding the frames and adding them to the statistics.
//!
//! The workers share the decoding dynamically: a worker that finishes a
//! frame takes the next. Decoded frames gather into batches, and a batch is
//! folded into the run's one accumulator band by band, the workers taking
//! bands as they take files. A worker with a band to fold folds it before it
//! decodes again, so that frame buffers come back soon. Memory is therefore
//! the accumulator plus a fixed number of frame buffers (`slots`), whatever
//! the number of workers: a worker finding no free buffer and no band waits.
//! Each band of accumulators stays in cache while the whole batch is added to
//! it, so the accumulators are read and written once a batch, not once a
//! frame.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use crate::decode::FrameDecoder;
use crate::error::{Error, SkipReason, Skipped};
use crate::evidence::Layout;
use crate::similarity::{thumbnail, tile_signatures, THUMBNAIL_LEN};
use crate::stats::{Accumulator, Band, FrameRef, Scratch, MAX_BATCH};

use super::content::{Expected, Plan};
use super::series::Candidate;
use super::{Event, FrameHash};

/// A frame counted in the statistics.
pub(super) struct Used {
    /// Index in the series.
    pub index: usize,
    pub bytes: u64,
    pub hash: FrameHash,
    pub thumbnail: Vec<f32>,
    /// Its fine-detail signature, tile by tile.
    pub tiles: Vec<u64>,
}

/// How the frame buffers are used: `slots` buffers in all, folded in batches
/// of at most `batch` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffers {
    pub slots: usize,
    pub batch: usize,
}

/// What the workers leave: the accumulator, the frames counted (in series
/// order) and the frames skipped while decoding.
pub(super) struct Accumulated {
    pub acc: Accumulator,
    pub used: Vec<Used>,
    pub skipped: Vec<Skipped>,
}

/// The frames of one series to decode, with what was planned for each.
pub(super) struct Work<'a> {
    pub series: &'a [Candidate],
    pub plans: &'a [Result<Plan, SkipReason>],
    /// Each frame's dark-current weight.
    pub weights: &'a [u8],
    pub layout: Layout,
}

/// A decoded frame waiting in a batch, with its buffers.
struct Decoded {
    decoder: FrameDecoder,
    used: Used,
    weight: u8,
}

/// The batch being folded: its frames, the next band to hand out and the
/// bands finished.
struct Folding {
    frames: Vec<Decoded>,
}

#[derive(Default)]
struct State {
    free: Vec<FrameDecoder>,
    filling: Vec<Decoded>,
    folding: Option<Arc<Folding>>,
    next_band: usize,
    bands_done: usize,
    sealed: VecDeque<Vec<Decoded>>,
    /// Next frame of the series to take.
    next: usize,
    /// Frames being decoded now.
    decoding: usize,
    used: Vec<Used>,
    skipped: Vec<Skipped>,
    failed: Option<Error>,
}

/// What a worker does next.
enum Task {
    Fold(Arc<Folding>, usize),
    Decode(usize, FrameDecoder),
    /// Nothing to do now: wait for another worker.
    Wait,
    Done,
}

struct Shared<'a, 'b> {
    work: &'a Work<'a>,
    batch: usize,
    state: Mutex<State>,
    wake: Condvar,
    bands: Vec<Mutex<Band<'b>>>,
    on: &'a (dyn Fn(Event) + Sync),
}

/// Deals with frame `index` of `work`, which needs no decoding: already
/// counted (nothing to say), or skipped for the reason planned (said).
pub(super) fn pass_over(work: &Work, index: usize, on: &(dyn Fn(Event) + Sync)) -> Option<Skipped> {
    let skipped = work.plans[index].as_ref().err().map(|reason| Skipped {
        path: work.series[index].path.clone(),
        reason: reason.clone(),
    });
    if let Some(s) = &skipped {
        on(Event::Skipped(s));
    }
    on(Event::FrameDone);
    skipped
}

/// Decodes and folds every frame of `work` on `workers` threads with
/// `buffers.slots` frame buffers. `workers` is at most the number of frames
/// to decode: no thread is started to idle.
pub(super) fn accumulate(
    work: &Work,
    workers: usize,
    buffers: Buffers,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Accumulated, Error> {
    let layout = work.layout;
    let to_decode = work
        .plans
        .iter()
        .filter(|p| matches!(p, Ok(Plan::Count(_))))
        .count();
    let mut acc = Accumulator::new(layout, to_decode as u64)?;
    let slots = buffers.slots.clamp(1, to_decode.max(1));
    let mut free = Vec::with_capacity(slots);
    for _ in 0..slots {
        free.push(FrameDecoder::new(
            layout.width as u32,
            layout.height as u32,
            layout.channels,
        )?);
    }
    let batch = buffers.batch.clamp(1, MAX_BATCH.min(slots));
    let state = {
        let bands = acc.bands().into_iter().map(Mutex::new).collect();
        let shared = Shared {
            work,
            batch,
            state: Mutex::new(State {
                free,
                ..State::default()
            }),
            wake: Condvar::new(),
            bands,
            on,
        };
        std::thread::scope(|scope| {
            for _ in 0..workers.max(1) {
                scope.spawn(|| shared.work_loop());
            }
        });
        shared
            .state
            .into_inner()
            .expect("no worker panics holding it")
    };
    if let Some(e) = state.failed {
        return Err(e);
    }
    let mut used = state.used;
    used.sort_unstable_by_key(|u| u.index);
    Ok(Accumulated {
        acc,
        used,
        skipped: state.skipped,
    })
}

impl Shared<'_, '_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("no worker panics holding it")
    }

    fn work_loop(&self) {
        let mut scratch = Scratch::default();
        loop {
            let task = {
                let mut state = self.lock();
                loop {
                    match self.next_task(&mut state) {
                        Task::Wait => {
                            state = self.wake.wait(state).expect("no worker panics holding it")
                        }
                        task => break task,
                    }
                }
            };
            match task {
                Task::Fold(folding, band) => self.fold(folding, band, &mut scratch),
                Task::Decode(index, decoder) => self.decode(index, decoder),
                Task::Wait => unreachable!("waited for above"),
                Task::Done => return,
            }
        }
    }

    /// Chooses the next task, under the lock: a band to fold first, then a
    /// frame to decode, then sealing the last partial batch.
    fn next_task(&self, state: &mut State) -> Task {
        if state.failed.is_some() {
            return Task::Done;
        }
        if let Some(folding) = &state.folding {
            if state.next_band < self.bands.len() {
                state.next_band += 1;
                return Task::Fold(Arc::clone(folding), state.next_band - 1);
            }
        }
        let series = self.work.series;
        // Frames that need no decoding are dealt with on the way.
        while state.next < series.len()
            && !matches!(self.work.plans[state.next], Ok(Plan::Count(_)))
        {
            state
                .skipped
                .extend(pass_over(self.work, state.next, self.on));
            state.next += 1;
        }
        if state.next < series.len() {
            if let Some(decoder) = state.free.pop() {
                state.next += 1;
                state.decoding += 1;
                return Task::Decode(state.next - 1, decoder);
            }
            return Task::Wait;
        }
        if state.decoding == 0 && !state.filling.is_empty() {
            let last = std::mem::take(&mut state.filling);
            self.seal(state, last);
            return self.next_task(state);
        }
        if state.decoding == 0 && state.folding.is_none() {
            return Task::Done;
        }
        Task::Wait
    }

    /// Queues a full batch, or starts folding it when none is being folded.
    fn seal(&self, state: &mut State, frames: Vec<Decoded>) {
        if state.folding.is_none() {
            state.folding = Some(Arc::new(Folding { frames }));
            state.next_band = 0;
            state.bands_done = 0;
        } else {
            state.sealed.push_back(frames);
        }
        self.wake.notify_all();
    }

    fn fold(&self, folding: Arc<Folding>, band: usize, scratch: &mut Scratch) {
        {
            let frames: Vec<FrameRef> = folding
                .frames
                .iter()
                .map(|d| FrameRef {
                    pixels: d.decoder.pixels(),
                    dark_weight: d.weight,
                })
                .collect();
            self.bands[band]
                .lock()
                .expect("no worker panics holding it")
                .fold(&frames, scratch);
        }
        // Let go of the batch before saying the band is done, so that the
        // worker finishing the last band holds it alone.
        drop(folding);
        let mut state = self.lock();
        state.bands_done += 1;
        if state.bands_done < self.bands.len() {
            return;
        }
        // The batch is in every band: its frames are counted and their
        // buffers free again.
        let finished = state.folding.take().expect("a batch was being folded");
        let folding = Arc::try_unwrap(finished)
            .ok()
            .expect("every band of the batch is done");
        for d in folding.frames {
            state.free.push(d.decoder);
            state.used.push(d.used);
        }
        if let Some(next) = state.sealed.pop_front() {
            self.seal(&mut state, next);
        }
        self.wake.notify_all();
    }

    fn decode(&self, index: usize, mut decoder: FrameDecoder) {
        let frame = &self.work.series[index];
        let Ok(Plan::Count(expected)) = &self.work.plans[index] else {
            unreachable!("only frames planned for counting are decoded")
        };
        let result = decode_planned(&mut decoder, &frame.path, index, *expected);
        (self.on)(Event::FrameDone);
        let mut state = self.lock();
        state.decoding -= 1;
        match result {
            Ok(used) => {
                state.filling.push(Decoded {
                    decoder,
                    used,
                    weight: self.work.weights[index],
                });
                if state.filling.len() >= self.batch {
                    let full = std::mem::take(&mut state.filling);
                    self.seal(&mut state, full);
                }
            }
            Err(reason) => {
                state.free.push(decoder);
                let s = Skipped {
                    path: frame.path.clone(),
                    reason,
                };
                (self.on)(Event::Skipped(&s));
                state.skipped.push(s);
            }
        }
        self.wake.notify_all();
    }
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
    let tiles = tile_signatures(pixels, width as usize, height as usize);
    Ok(Used {
        index,
        bytes,
        hash,
        thumbnail,
        tiles,
    })
}
