//! Writing a state: `meta.json`, then one `.npy` member a field of the
//! statistics, each integer field in the narrowest dtype that holds what
//! the state's frames can add up to, every member deflated on its own, so
//! that several threads can deflate members at once.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use super::npy::{self, Dtype};
use super::{hex, FrameRecord, Meta, SkippedRecord, State, FORMAT_NAME, FORMAT_VERSION};
use crate::evidence::{dark_weight, MEMBERS};
use crate::similarity::{TileGrid, THUMBNAIL_LEN, TILE_WORDS};
use crate::stats::{Field, Stats};

/// The integer members of `stats`: name, field, and the range its values
/// can take over the frames (`weights`: Σ dark weight, `revealing`: frames
/// with a weight).
pub(super) fn integer_members(
    stats: &Stats,
    weights: u64,
    revealing: u64,
) -> Vec<(&'static str, Field, i64, i64)> {
    let n = stats.frames as i64;
    let mut out = Vec::new();
    if stats.is_exact() {
        out.push(("sum", Field::Sum, 0, 255 * n));
        out.push(("sum_sq", Field::SumSq, 0, 255 * 255 * n));
    }
    for (k, m) in MEMBERS.iter().enumerate() {
        let bound = (m.bound)(stats.frames, weights, revealing) as i64;
        let lo = if m.signed { -bound } else { 0 };
        out.push((m.name, Field::Evidence(k), lo, bound));
    }
    out
}

/// Σ dark weight and the frames with a weight, of a frame list.
pub(super) fn weights_of(
    exposures: impl Iterator<Item = (Option<f64>, Option<u32>)>,
) -> (u64, u64) {
    exposures.fold((0, 0), |(sum, revealing), (t, iso)| {
        let w = u64::from(dark_weight(t, iso));
        (sum + w, revealing + u64::from(w > 0))
    })
}

/// A member of the archive: its name, its size before deflating (within a
/// header's bytes) and what writes it.
struct Member<'a> {
    name: String,
    bytes: usize,
    fill: Fill<'a>,
}

type Fill<'a> = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()> + Sync + 'a>;

impl State {
    /// Writes the `.npz` to `out` (which need not be seekable), deflating
    /// its members on as many threads as the current rayon pool has.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let members = self.members()?;
        let mut zip = zip::ZipWriter::new_stream(out);
        write_members(&mut zip, &members, rayon::current_num_threads())?;
        zip.finish()?;
        Ok(())
    }

    /// Every member, in the order the file holds them.
    fn members(&self) -> std::io::Result<Vec<Member<'_>>> {
        let stats = &self.stats;
        let shape = [
            stats.height() as usize,
            stats.width() as usize,
            stats.channels(),
        ];
        let len = stats.layout().len();
        let meta = serde_json::to_vec_pretty(&self.meta())?;
        let mut members = vec![Member {
            name: "meta.json".into(),
            bytes: meta.len(),
            fill: Box::new(move |w| w.write_all(&meta)),
        }];
        if !stats.is_exact() {
            for (name, field) in [("mean", Field::Mean), ("m2", Field::M2)] {
                members.push(Member {
                    name: format!("{name}.npy"),
                    bytes: len * 4 + 128,
                    fill: Box::new(move |w| {
                        w.write_all(&npy::header(Dtype::F32, &shape))?;
                        npy::write_data(w, stats.floats(field), f32::to_le_bytes)
                    }),
                });
            }
        }
        let (weights, revealing) =
            weights_of(self.frames.iter().map(|f| (f.meta.exposure_s, f.meta.iso)));
        for (name, field, lo, hi) in integer_members(stats, weights, revealing) {
            let dtype = Dtype::narrowest(lo, hi);
            members.push(Member {
                name: format!("{name}.npy"),
                bytes: len * dtype.size() + 128,
                fill: Box::new(move |w| {
                    w.write_all(&npy::header(dtype, &shape))?;
                    npy::write_int_runs(w, dtype, len, |start, run| {
                        stats.ints_run(field, start, run)
                    })
                }),
            });
        }

        let frames = self.frames.len();
        members.push(Member {
            name: "thumbnails.npy".into(),
            bytes: frames * THUMBNAIL_LEN * 4 + 128,
            fill: Box::new(move |w| {
                w.write_all(&npy::header(Dtype::F32, &[frames, THUMBNAIL_LEN]))?;
                for f in &self.frames {
                    npy::write_data(w, &f.thumbnail, f32::to_le_bytes)?;
                }
                Ok(())
            }),
        });
        let grid = TileGrid::of(shape[1], shape[0]);
        members.push(Member {
            name: "tiles.npy".into(),
            bytes: frames * grid.len() * TILE_WORDS * 8 + 128,
            fill: Box::new(move |w| {
                w.write_all(&npy::header(
                    Dtype::U64,
                    &[frames, grid.height, grid.width, TILE_WORDS],
                ))?;
                for f in &self.frames {
                    npy::write_data(w, &f.tiles, u64::to_le_bytes)?;
                }
                Ok(())
            }),
        });
        Ok(members)
    }

    fn meta(&self) -> Meta {
        Meta {
            format: FORMAT_NAME.to_string(),
            format_version: FORMAT_VERSION,
            tool: format!("hotpix {}", env!("CARGO_PKG_VERSION")),
            decoder: self.decoder.clone(),
            width: self.stats.width(),
            height: self.stats.height(),
            channels: self.stats.channels(),
            moments: if self.stats.is_exact() {
                "exact"
            } else {
                "welford"
            }
            .to_string(),
            frames: self.stats.frames,
            camera: self.camera(),
            frame_list: self
                .frames
                .iter()
                .map(|f| FrameRecord {
                    path: f.path.display().to_string(),
                    bytes: f.bytes,
                    blake3: hex(&f.hash),
                    make: f.meta.make.clone(),
                    model: f.meta.model.clone(),
                    serial: f.meta.serial.clone(),
                    iso: f.meta.iso,
                    exposure_s: f.meta.exposure_s,
                    datetime: f.meta.datetime.clone(),
                })
                .collect(),
            skipped: self
                .skipped
                .iter()
                .map(|s| SkippedRecord {
                    path: s.path.clone(),
                    reason: s.reason.clone(),
                })
                .collect(),
        }
    }
}

/// Level 2: zlib-rs (like zlib-ng) answers level 1 with its "quick"
/// strategy, static Huffman codes only, which leaves these arrays nearly
/// as they are (Σx² of a 24-frame series: 99% of its size; at level 2, 72%);
/// levels above 2 gain about 1% more, each for more time.
const LEVEL: i64 = 2;

fn options(bytes: usize) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(LEVEL))
        .large_file(bytes as u64 >= u64::from(u32::MAX) - 1024)
}

/// One member deflated on its own: a zip archive in memory holding it.
fn deflated(member: &Member) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(member.name.as_str(), options(member.bytes))?;
    (member.fill)(&mut zip)?;
    Ok(zip.finish()?.into_inner())
}

/// Writes `members` in order into `zip`, deflating them on `threads`
/// threads: each thread takes the next member and deflates it in memory,
/// and the members are copied into `zip` as they are (deflated) in order.
/// A thread starts a member only while it is fewer than 2 × `threads`
/// ahead of the one being written, so memory holds a few deflated members,
/// never the whole file. Deflate is what a save costs, and the members are
/// independent; the bytes are the same for any number of threads.
fn write_members<W: Write>(
    zip: &mut zip::ZipWriter<zip::write::StreamWriter<W>>,
    members: &[Member],
    threads: usize,
) -> std::io::Result<()> {
    let threads = threads.clamp(1, members.len().max(1));
    // Members written so far; `usize::MAX` once writing failed.
    let written = Mutex::new(0usize);
    let wake = Condvar::new();
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (written, wake, next) = (&written, &wake, &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= members.len() {
                    return;
                }
                {
                    let mut w = written.lock().expect("no writer panics holding it");
                    while i >= w.saturating_add(2 * threads) {
                        w = wake.wait(w).expect("no writer panics holding it");
                    }
                    if *w == usize::MAX {
                        return;
                    }
                }
                if tx.send((i, deflated(&members[i]))).is_err() {
                    return;
                }
            });
        }
        drop(tx);
        let result = copy_in_order(zip, rx, members.len(), |done| {
            *written.lock().expect("no writer panics holding it") = done;
            wake.notify_all();
        });
        if result.is_err() {
            *written.lock().expect("no writer panics holding it") = usize::MAX;
            wake.notify_all();
        }
        result
    })
}

/// Copies the deflated members arriving on `rx` (index, bytes) into `zip`
/// in index order, telling `done` how many are written after each.
fn copy_in_order<W: Write>(
    zip: &mut zip::ZipWriter<zip::write::StreamWriter<W>>,
    rx: mpsc::Receiver<(usize, std::io::Result<Vec<u8>>)>,
    count: usize,
    done: impl Fn(usize),
) -> std::io::Result<()> {
    let mut waiting = BTreeMap::new();
    let mut written = 0;
    while written < count {
        let (i, bytes) = rx
            .recv()
            .map_err(|_| std::io::Error::other("a member was not deflated"))?;
        waiting.insert(i, bytes);
        while let Some(bytes) = waiting.remove(&written) {
            let mut one = zip::ZipArchive::new(std::io::Cursor::new(bytes?))?;
            zip.raw_copy_file(one.by_index_raw(0)?)?;
            written += 1;
            done(written);
        }
    }
    Ok(())
}
