//! Reading a state: every member checked against what the frames listed can
//! have added up to, so that a damaged file is refused, never used.

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::npy::{self, Dtype};
use super::write::{integer_members, weights_of};
use super::{unhex, Meta, Problem, State, StateError, FORMAT_NAME, FORMAT_VERSION};
use crate::camera::FrameMeta;
use crate::engine::CountedFrame;
use crate::evidence::Layout;
use crate::report::SkippedInput;
use crate::similarity::{TileGrid, THUMBNAIL_LEN, TILE_WORDS};
use crate::stats::{Field, Stats};

/// Largest frame a state may claim, as `--max-megapixels` allows at most.
const MAX_PIXELS: u64 = 4_295_000_000;

/// Largest `meta.json` read (a frame list of a million frames is ~400 MB).
const MAX_META_BYTES: u64 = 1 << 30;

/// The largest M2 a subpixel of 8-bit values can have over n frames is
/// n x 255^2 / 4 (half the frames at 0, half at 255); a little slack for f32.
const MAX_M2_PER_FRAME: f64 = 255.0 * 255.0 / 4.0 * 1.001;

impl State {
    /// Reads the state file at `path`.
    pub fn load(path: &Path) -> Result<State, StateError> {
        let file =
            std::fs::File::open(path).map_err(|e| StateError::new(path, Problem::Read(e)))?;
        Self::read_from(std::io::BufReader::with_capacity(1 << 20, file), path)
    }

    /// Reads a state from `r`; `path` names it in errors.
    pub fn read_from<R: Read + Seek>(mut r: R, path: &Path) -> Result<State, StateError> {
        let err = |p| StateError::new(path, p);
        let mut start = [0u8; 2];
        let zip_like = r.read_exact(&mut start).is_ok() && start == *b"PK";
        r.seek(std::io::SeekFrom::Start(0))
            .map_err(|e| err(Problem::Read(e)))?;
        let mut zip = zip::ZipArchive::new(r).map_err(|e| {
            err(match e {
                zip::result::ZipError::Io(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                    Problem::Read(e)
                }
                // A zip's directory is at its end: a cut file loses it first.
                _ if zip_like => Problem::Truncated(
                    "its zip directory, at the end of the file, is missing or unreadable".into(),
                ),
                _ => Problem::Foreign("not a zip archive".into()),
            })
        })?;
        let meta = read_meta(&mut zip).map_err(err)?;
        let (h, w, c) = (meta.height as usize, meta.width as usize, meta.channels);
        let shape = [h, w, c];
        let stats = read_stats(&mut zip, &meta, &shape).map_err(err)?;
        let thumbs = read_array(
            &mut zip,
            "thumbnails.npy",
            Dtype::F32,
            &[meta.frame_list.len(), THUMBNAIL_LEN],
            f32::from_le_bytes,
        )
        .map_err(err)?;
        check_thumbnails(&thumbs).map_err(|m| err(Problem::Corrupt(m)))?;
        let grid = TileGrid::of(w, h);
        let tiles = read_array(
            &mut zip,
            "tiles.npy",
            Dtype::U64,
            &[meta.frame_list.len(), grid.height, grid.width, TILE_WORDS],
            u64::from_le_bytes,
        )
        .map_err(err)?;

        let frames = meta
            .frame_list
            .into_iter()
            .zip(thumbs.chunks_exact(THUMBNAIL_LEN))
            .zip(tiles.chunks_exact(grid.len() * TILE_WORDS))
            .map(|((f, thumb), tiles)| {
                Ok(CountedFrame {
                    path: PathBuf::from(f.path),
                    bytes: f.bytes,
                    hash: unhex(&f.blake3).ok_or_else(|| {
                        Problem::Corrupt(format!("frame hash '{}' is not 64 hex digits", f.blake3))
                    })?,
                    meta: FrameMeta {
                        make: f.make,
                        model: f.model,
                        serial: f.serial,
                        iso: f.iso,
                        exposure_s: f.exposure_s,
                        datetime: f.datetime,
                    },
                    thumbnail: thumb.to_vec(),
                    tiles: tiles.to_vec(),
                })
            })
            .collect::<Result<Vec<_>, Problem>>()
            .map_err(err)?;
        let mut seen = HashSet::new();
        if let Some(dup) = frames.iter().find(|f| !seen.insert(f.hash)) {
            return Err(err(Problem::Corrupt(format!(
                "frame {} is listed twice",
                dup.path.display()
            ))));
        }
        Ok(State {
            stats,
            frames,
            skipped: meta
                .skipped
                .into_iter()
                .map(|s| SkippedInput {
                    path: s.path,
                    reason: s.reason,
                })
                .collect(),
            decoder: meta.decoder,
        })
    }
}

/// Reads a member whole, refusing one longer than `limit`; reading to its end
/// is what makes the zip reader check the CRC-32.
fn read_member<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, Problem> {
    let member = zip.by_name(name).map_err(|e| zip_problem(e, name))?;
    if member.size() > limit {
        return Err(Problem::Corrupt(format!(
            "member {name} claims {} bytes",
            member.size()
        )));
    }
    let mut bytes = Vec::new();
    member
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| read_problem(e, name))?;
    if bytes.len() as u64 > limit {
        return Err(Problem::Corrupt(format!("member {name} is too long")));
    }
    Ok(bytes)
}

fn read_meta<R: Read + Seek>(zip: &mut zip::ZipArchive<R>) -> Result<Meta, Problem> {
    if zip.index_for_name("meta.json").is_none() {
        return Err(Problem::Foreign("no meta.json member".into()));
    }
    let bytes = read_member(zip, "meta.json", MAX_META_BYTES)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Problem::Corrupt(format!("meta.json is not JSON: {e}")))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(Problem::Foreign(format!(
            "meta.json does not say format \"{FORMAT_NAME}\""
        )));
    }
    let version = value
        .get("format_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| Problem::Corrupt("meta.json has no format_version".into()))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(Problem::Newer {
            found: u32::try_from(version).unwrap_or(u32::MAX),
        });
    }
    if version == 0 {
        return Err(Problem::Corrupt("format_version 0".into()));
    }
    if version < u64::from(FORMAT_VERSION) {
        return Err(Problem::Older {
            found: version as u32,
        });
    }
    let meta: Meta =
        serde_json::from_value(value).map_err(|e| Problem::Corrupt(format!("meta.json: {e}")))?;
    let pixels = u64::from(meta.width) * u64::from(meta.height);
    if pixels == 0 || pixels > MAX_PIXELS {
        return Err(Problem::Corrupt(format!(
            "frame size {}x{}",
            meta.width, meta.height
        )));
    }
    if meta.frames == 0 {
        return Err(Problem::Corrupt("no frames counted".into()));
    }
    if meta.frames != meta.frame_list.len() as u64 {
        return Err(Problem::Corrupt(format!(
            "{} frames counted but {} listed",
            meta.frames,
            meta.frame_list.len()
        )));
    }
    if meta.decoder.is_empty() {
        return Err(Problem::Corrupt("no decoder named".into()));
    }
    if meta.channels != 1 && meta.channels != 3 {
        return Err(Problem::Corrupt(format!("{} channels", meta.channels)));
    }
    Ok(meta)
}

/// Reads a `.npy` member of exactly `shape` and `dtype`, checking its CRC-32.
fn read_array<R: Read + Seek, T, const N: usize>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    dtype: Dtype,
    shape: &[usize],
    from_le: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>, Problem> {
    let corrupt = |m: String| Problem::Corrupt(format!("member {name}: {m}"));
    let mut member = zip.by_name(name).map_err(|e| zip_problem(e, name))?;
    let count: usize = shape.iter().product();
    let declared = member.size();
    // Deflate expands at most ~1032:1; a member claiming more than its
    // compressed bytes can hold is damaged (and must not make us allocate it).
    if declared < (count * N) as u64 || declared > member.compressed_size() * 1032 + 4096 {
        return Err(corrupt(format!(
            "{declared} bytes do not fit an array of shape {shape:?}"
        )));
    }
    let found = npy::read_header(&mut member, dtype).map_err(corrupt)?;
    if found != shape {
        return Err(corrupt(format!("shape {found:?}, expected {shape:?}")));
    }
    let values = npy::read_data(&mut member, count, from_le).map_err(corrupt)?;
    at_end(&mut member, name)?;
    Ok(values)
}

/// A zip error in words: the zip crate's own text can name its internal
/// types, which tell a person nothing.
fn zip_problem(e: zip::result::ZipError, member: &str) -> Problem {
    use zip::result::ZipError as Z;
    match e {
        Z::Io(e) => read_problem(e, member),
        Z::FileNotFound => Problem::Corrupt(format!("member {member} is missing")),
        _ => Problem::Corrupt(format!("member {member}: its zip entry is damaged")),
    }
}

/// An error reading a member's bytes, in words.
fn read_problem(e: std::io::Error, member: &str) -> Problem {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            Problem::Truncated(format!("member {member} ends early"))
        }
        std::io::ErrorKind::InvalidData => Problem::Corrupt(format!(
            "member {member}: its bytes fail their CRC-32 check or do not inflate"
        )),
        _ => Problem::Read(e),
    }
}

/// The statistics' members, read straight into the memory the statistics
/// take (packed words for a short exact series), each value checked against
/// what the frames listed can add up to, then every subpixel checked for
/// consistency.
fn read_stats<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    meta: &Meta,
    shape: &[usize; 3],
) -> Result<Stats, Problem> {
    let layout = Layout {
        width: shape[1],
        height: shape[0],
        channels: shape[2],
    };
    let exact = match meta.moments.as_str() {
        "exact" => true,
        "welford" => false,
        other => {
            return Err(Problem::Corrupt(format!(
                "meta.json names moments \"{other}\""
            )))
        }
    };
    let count = layout.len();
    let (weights, revealing) = weights_of(meta.frame_list.iter().map(|f| (f.exposure_s, f.iso)));
    // Every member must be able to back the array before anything the size
    // of the frame is allocated.
    let probe = Stats::zeroed(
        meta.frames,
        Layout {
            width: 1,
            height: 1,
            channels: 1,
        },
        exact,
    )
    .map_err(|e| Problem::Corrupt(e.to_string()))?;
    let members = integer_members(&probe, weights, revealing);
    let floats = if exact { &[][..] } else { &["mean", "m2"][..] };
    for name in floats.iter().copied().chain(members.iter().map(|m| m.0)) {
        check_backed(zip, &format!("{name}.npy"), count)?;
    }
    let mut stats =
        Stats::zeroed(meta.frames, layout, exact).map_err(|e| Problem::Corrupt(e.to_string()))?;
    if !exact {
        let mean = read_array(zip, "mean.npy", Dtype::F32, shape, f32::from_le_bytes)?;
        let m2 = read_array(zip, "m2.npy", Dtype::F32, shape, f32::from_le_bytes)?;
        check_welford(meta.frames, &mean, &m2).map_err(Problem::Corrupt)?;
        for (i, (&a, &b)) in mean.iter().zip(&m2).enumerate() {
            stats.set_float(Field::Mean, i, a);
            stats.set_float(Field::M2, i, b);
        }
    }
    for (name, field, lo, hi) in members {
        let name = format!("{name}.npy");
        let mut bad = None;
        read_ints(zip, &name, shape, |start, run| {
            match run.iter().position(|v| !(lo..=hi).contains(v)) {
                None => stats.set_ints(field, start, run),
                Some(k) => {
                    bad.get_or_insert((start + k, run[k]));
                }
            }
        })?;
        if let Some((i, v)) = bad {
            return Err(Problem::Corrupt(format!(
                "member {name}: {v} at subpixel {i} is impossible over {} frames",
                meta.frames
            )));
        }
    }
    check_consistent(&stats, weights, revealing).map_err(Problem::Corrupt)?;
    Ok(stats)
}

/// Whether member `name` can hold `count` elements: deflate expands at most
/// ~1032:1, so a member claiming more than its compressed bytes can hold is
/// damaged (and must not make us allocate for it).
fn check_backed<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    count: usize,
) -> Result<(), Problem> {
    let member = zip.by_name(name).map_err(|e| zip_problem(e, name))?;
    let declared = member.size();
    if declared < count as u64 || declared > member.compressed_size() * 1032 + 4096 {
        return Err(Problem::Corrupt(format!(
            "member {name}: {declared} bytes do not fit an array of {count} elements"
        )));
    }
    Ok(())
}

/// Reads an integer `.npy` member of exactly `shape`, in whatever integer
/// dtype it was written, handing the values to `each` a run at a time with
/// the index of the first; checks its CRC-32.
fn read_ints<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    shape: &[usize],
    each: impl FnMut(usize, &[i64]),
) -> Result<(), Problem> {
    let corrupt = |m: String| Problem::Corrupt(format!("member {name}: {m}"));
    let mut member = zip.by_name(name).map_err(|e| zip_problem(e, name))?;
    let count: usize = shape.iter().product();
    let (dtype, found) = npy::read_header_any(&mut member).map_err(corrupt)?;
    if !dtype.is_integer() {
        return Err(corrupt("not an integer array".into()));
    }
    if found != shape {
        return Err(corrupt(format!("shape {found:?}, expected {shape:?}")));
    }
    npy::for_each_int_run(&mut member, dtype, count, each).map_err(corrupt)?;
    at_end(&mut member, name)
}

/// Reading past a member's end is what checks its CRC-32.
fn at_end(member: &mut dyn Read, name: &str) -> Result<(), Problem> {
    let mut extra = [0u8; 1];
    match member.read(&mut extra) {
        Ok(0) => Ok(()),
        Ok(_) => Err(Problem::Corrupt(format!(
            "member {name}: data continues past the array"
        ))),
        Err(e) => Err(read_problem(e, name)),
    }
}

/// Sums no run can produce mean the file is damaged: Σx ≤ 255 n, Σx² ≤
/// 255 Σx, n Σx² ≥ (Σx)² (a variance is never negative), and evidence no
/// frames could add up to (see [`crate::evidence::Evidence::impossible`]).
/// Checked on every core, the first impossible subpixel named.
fn check_consistent(stats: &Stats, weights: u64, revealing: u64) -> Result<(), String> {
    let n = stats.frames;
    let problem = (0..stats.layout().len())
        .into_par_iter()
        .find_map_first(|i| {
            let sub = stats.subpixel(i);
            if let Some((s, q)) = sub.exact {
                let (s, q) = (u64::from(s), u64::from(q));
                if s > 255 * n
                    || q > 255 * s
                    || u128::from(n) * u128::from(q) < u128::from(s) * u128::from(s)
                {
                    return Some(format!(
                        "sums {s} and {q} at subpixel {i} are impossible over {n} frames"
                    ));
                }
            }
            let why = sub.evidence.impossible(n, weights, revealing)?;
            Some(format!("at subpixel {i}: {why}"))
        });
    problem.map_or(Ok(()), Err)
}

/// The same for the Welford form: means are 8-bit levels, M2 is finite,
/// non-negative and at most n × 255² / 4.
fn check_welford(frames: u64, mean: &[f32], m2: &[f32]) -> Result<(), String> {
    if let Some(i) = mean
        .iter()
        .position(|&m| !(m.is_finite() && (0.0..=255.0).contains(&m)))
    {
        return Err(format!(
            "mean {} at subpixel {i} is not an 8-bit level",
            mean[i]
        ));
    }
    let max_m2 = frames as f64 * MAX_M2_PER_FRAME;
    if let Some(i) = m2
        .iter()
        .position(|&v| !(v.is_finite() && v >= 0.0 && f64::from(v) <= max_m2))
    {
        return Err(format!(
            "M2 {} at subpixel {i} is impossible over {frames} frames",
            m2[i]
        ));
    }
    Ok(())
}

fn check_thumbnails(thumbs: &[f32]) -> Result<(), String> {
    if thumbs
        .iter()
        .any(|&t| !(t.is_finite() && (0.0..=765.0).contains(&t)))
    {
        return Err("a thumbnail value is out of range".into());
    }
    Ok(())
}
