//! Statistics that outlive a run: a state file holds everything a report
//! needs (the merged per-subpixel statistics and the list of frames counted,
//! each with its content hash), so runs can be resumed, merged across
//! machines and reported on again without decoding a photo.
//!
//! The file is a NumPy `.npz` (a zip of `.npy` arrays, readable with
//! `numpy.load`): `meta.json` (format version, frame size, camera, decoder,
//! frame list, skipped inputs), then the moments, either exact (`sum.npy`
//! and `sum_sq.npy`, uint32, H x W x C) or past the exact range in Welford
//! form (`mean.npy` and `m2.npy`, float32), the evidence sums (`excess.npy`
//! and `dark.npy`, int32) and `thumbnails.npy` (float32, frames x 192).
//! Every member carries a CRC-32, checked on reading; every value is checked
//! for range and consistency, so a damaged file is refused, never used.

mod npy;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array3;
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::camera::FrameMeta;
use crate::decode::DECODER;
use crate::engine::{check_one_body, make_report, Base, CountedFrame, FrameHash, Outcome};
use crate::evidence::{dark_weight, CLAMP, PEAK_MAX};
use crate::report::{Report, SkippedInput};
use crate::similarity::THUMBNAIL_LEN;
use crate::stats::{Evidence, Moments, Peaks, Stats};
use npy::Dtype;

/// The state format's version: raised when a member or field changes meaning
/// or disappears. A file with a newer version is refused.
pub const FORMAT_VERSION: u32 = 2;

/// What `meta.json` says in `format`, so a foreign zip is told apart.
pub const FORMAT_NAME: &str = "hotpix-state";

/// Largest frame a state may claim, as `--max-megapixels` allows at most.
const MAX_PIXELS: u64 = 4_295_000_000;

/// Largest `meta.json` read (a frame list of a million frames is ~400 MB).
const MAX_META_BYTES: u64 = 1 << 30;

/// The largest M2 a subpixel of 8-bit values can have over n frames is
/// n x 255^2 / 4 (half the frames at 0, half at 255); a little slack for f32.
const MAX_M2_PER_FRAME: f64 = 255.0 * 255.0 / 4.0 * 1.001;

/// A state file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("state file '{}': {problem}", path.display())]
pub struct StateError {
    pub path: PathBuf,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("cannot write: {0}")]
    Write(std::io::Error),
    #[error("not a hotpix state file ({0})")]
    Foreign(String),
    #[error(
        "format version {found} is newer than this hotpix reads ({FORMAT_VERSION}); use a newer hotpix"
    )]
    Newer { found: u32 },
    #[error(
        "format version {found} was written by an earlier hotpix, without the exposure evidence \
         this one needs; run `hotpix find --save` on its photos again"
    )]
    Older { found: u32 },
    #[error("damaged or invalid: {0}")]
    Corrupt(String),
    #[error("damaged (truncated?): {0}")]
    Truncated(String),
    #[error("cannot be combined: {0}")]
    Incompatible(String),
}

impl StateError {
    fn new(path: &Path, problem: Problem) -> Self {
        StateError {
            path: path.to_path_buf(),
            problem,
        }
    }

    /// True when the work failed (the file could not be written), as opposed
    /// to a bad or unusable input.
    pub fn is_failure(&self) -> bool {
        matches!(self.problem, Problem::Write(_))
    }
}

/// Saved statistics: what a run counted, ready to be added to or reported on.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub stats: Stats,
    /// Every frame counted in `stats`, in the order they were added.
    pub frames: Vec<CountedFrame>,
    /// Inputs the runs that made this state skipped.
    pub skipped: Vec<SkippedInput>,
    /// The decoder that turned the frames into pixels (see [`DECODER`]).
    pub decoder: String,
}

/// `meta.json`: the state's description and frame list.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    /// Always `hotpix-state`.
    format: String,
    /// See [`FORMAT_VERSION`].
    format_version: u32,
    /// The program that wrote the file, e.g. `hotpix 0.1.0`.
    tool: String,
    /// The decoder and its mode, e.g. `zune-jpeg 0.5.15 strict`.
    decoder: String,
    width: u32,
    height: u32,
    /// Values a pixel: 3 (RGB) or 1 (greyscale).
    channels: usize,
    /// "exact" (sum.npy, sum_sq.npy) or "welford" (mean.npy, m2.npy).
    moments: String,
    /// Frames counted: the length of `frame_list`.
    frames: u64,
    /// The camera body, when all frames with camera EXIF come from one body.
    camera: Option<String>,
    frame_list: Vec<FrameRecord>,
    skipped: Vec<SkippedRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FrameRecord {
    path: String,
    bytes: u64,
    /// BLAKE3 of the file's bytes, 64 lowercase hex digits.
    blake3: String,
    make: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    iso: Option<u32>,
    exposure_s: Option<f64>,
    datetime: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SkippedRecord {
    path: String,
    reason: String,
}

impl State {
    /// The state of a finished run.
    pub fn from_outcome(outcome: Outcome) -> State {
        State {
            stats: outcome.stats,
            frames: outcome.frames,
            skipped: outcome.report.summary.skipped,
            decoder: DECODER.to_string(),
        }
    }

    /// The state as the base of a run that adds frames to it.
    pub fn into_base(self) -> Base {
        Base {
            stats: self.stats,
            frames: self.frames,
            skipped: self.skipped,
        }
    }

    /// The report a run over these frames would have made (`workers` is 0:
    /// nothing is decoded).
    pub fn report(&self, top: usize, threshold: Option<f64>) -> Report {
        make_report(
            &self.stats,
            &self.frames,
            self.skipped.clone(),
            top,
            threshold,
            0,
            Instant::now(),
        )
    }

    /// The one body all frames with camera EXIF come from, if there is one.
    pub fn camera(&self) -> Option<String> {
        let mut bodies = BTreeMap::new();
        for f in &self.frames {
            if let Some(b) = f.meta.body() {
                *bodies.entry(b).or_insert(0u64) += 1;
            }
        }
        if check_one_body(self.frames.iter().map(|f| (f.path.as_path(), &f.meta)), "").is_err() {
            return None;
        }
        bodies
            .keys()
            .find(|b| b.serial.is_some())
            .or_else(|| bodies.keys().next())
            .map(|b| b.to_string())
    }

    /// Writes the state to `path` atomically (a temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        crate::output::write_atomic(path, |w| self.write_to(w))
            .map_err(|e| StateError::new(path, Problem::Write(e)))
    }

    /// Writes the `.npz` to `out` (which need not be seekable).
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let (h, w) = (self.stats.height() as usize, self.stats.width() as usize);
        let mut zip = zip::ZipWriter::new_stream(out);
        let options = |method, bytes: usize| {
            SimpleFileOptions::default()
                .compression_method(method)
                .compression_level(match method {
                    // Level 1: most of the gain on mostly-zero votes, at a fraction of the time.
                    CompressionMethod::Deflated => Some(1),
                    _ => None,
                })
                .large_file(bytes as u64 >= u64::from(u32::MAX) - 1024)
        };
        let meta = serde_json::to_vec_pretty(&self.meta())?;
        zip.start_file(
            "meta.json",
            options(CompressionMethod::Deflated, meta.len()),
        )?;
        zip.write_all(&meta)?;

        let shape = [h, w, self.stats.channels()];
        let n = h * w * self.stats.channels() * 4;
        let mut member = |name: &str,
                          method,
                          dtype,
                          write: &dyn Fn(&mut dyn Write) -> std::io::Result<()>|
         -> std::io::Result<()> {
            zip.start_file(name, options(method, n + 128))?;
            zip.write_all(&npy::header(dtype, &shape))?;
            write(&mut zip)
        };
        // Sums and means are noise-like numbers that deflate barely shrinks:
        // stored; the evidence sums are mostly small and deflate well.
        match &self.stats.moments {
            Moments::Exact { sum, sum_sq } => {
                member("sum.npy", CompressionMethod::Stored, Dtype::U32, &|w| {
                    npy::write_data(w, slice(sum), u32::to_le_bytes)
                })?;
                member("sum_sq.npy", CompressionMethod::Stored, Dtype::U32, &|w| {
                    npy::write_data(w, slice(sum_sq), u32::to_le_bytes)
                })?;
            }
            Moments::Welford { mean, m2 } => {
                member("mean.npy", CompressionMethod::Stored, Dtype::F32, &|w| {
                    npy::write_data(w, slice(mean), f32::to_le_bytes)
                })?;
                member("m2.npy", CompressionMethod::Stored, Dtype::F32, &|w| {
                    npy::write_data(w, slice(m2), f32::to_le_bytes)
                })?;
            }
        }
        let evidence = self.stats.evidence();
        member(
            "excess.npy",
            CompressionMethod::Deflated,
            Dtype::I32,
            &|w| npy::write_iter(w, evidence.iter().map(|e| e.excess.to_le_bytes())),
        )?;
        member("dark.npy", CompressionMethod::Deflated, Dtype::I32, &|w| {
            npy::write_iter(w, evidence.iter().map(|e| e.dark.to_le_bytes()))
        })?;
        let peaks = self.stats.peaks();
        member(
            "peak_bright.npy",
            CompressionMethod::Deflated,
            Dtype::U8,
            &|w| npy::write_iter(w, peaks.iter().map(|p| [p.bright])),
        )?;
        member(
            "peak_dark.npy",
            CompressionMethod::Deflated,
            Dtype::U8,
            &|w| npy::write_iter(w, peaks.iter().map(|p| [p.dark])),
        )?;

        let thumbs: Vec<f32> = self
            .frames
            .iter()
            .flat_map(|f| f.thumbnail.iter().copied())
            .collect();
        zip.start_file(
            "thumbnails.npy",
            options(CompressionMethod::Deflated, thumbs.len() * 4 + 128),
        )?;
        zip.write_all(&npy::header(
            Dtype::F32,
            &[self.frames.len(), THUMBNAIL_LEN],
        ))?;
        npy::write_data(&mut zip, &thumbs, f32::to_le_bytes)?;
        zip.finish()?;
        Ok(())
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
            moments: match self.stats.moments {
                Moments::Exact { .. } => "exact",
                Moments::Welford { .. } => "welford",
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
        let f32s = |b: [u8; 4]| f32::from_le_bytes(b);
        let moments = match meta.moments.as_str() {
            "exact" => {
                let sum = read_array(&mut zip, "sum.npy", Dtype::U32, &shape, u32::from_le_bytes)
                    .map_err(err)?;
                let sum_sq = read_array(
                    &mut zip,
                    "sum_sq.npy",
                    Dtype::U32,
                    &shape,
                    u32::from_le_bytes,
                )
                .map_err(err)?;
                check_exact(meta.frames, &sum, &sum_sq).map_err(|m| err(Problem::Corrupt(m)))?;
                Moments::Exact {
                    sum: array(shape, sum),
                    sum_sq: array(shape, sum_sq),
                }
            }
            "welford" => {
                let mean =
                    read_array(&mut zip, "mean.npy", Dtype::F32, &shape, f32s).map_err(err)?;
                let m2 = read_array(&mut zip, "m2.npy", Dtype::F32, &shape, f32s).map_err(err)?;
                check_welford(meta.frames, &mean, &m2).map_err(|m| err(Problem::Corrupt(m)))?;
                Moments::Welford {
                    mean: array(shape, mean),
                    m2: array(shape, m2),
                }
            }
            other => {
                return Err(err(Problem::Corrupt(format!(
                    "meta.json names moments \"{other}\""
                ))))
            }
        };
        let excess = read_array(
            &mut zip,
            "excess.npy",
            Dtype::I32,
            &shape,
            i32::from_le_bytes,
        )
        .map_err(err)?;
        let dark = read_array(&mut zip, "dark.npy", Dtype::I32, &shape, i32::from_le_bytes)
            .map_err(err)?;
        let weights: u64 = meta
            .frame_list
            .iter()
            .map(|f| u64::from(dark_weight(f.exposure_s, f.iso)))
            .sum();
        check_evidence(meta.frames, weights, &excess, &dark)
            .map_err(|m| err(Problem::Corrupt(m)))?;
        let bright_peak = read_array(
            &mut zip,
            "peak_bright.npy",
            Dtype::U8,
            &shape,
            |b: [u8; 1]| b[0],
        )
        .map_err(err)?;
        let dark_peak = read_array(
            &mut zip,
            "peak_dark.npy",
            Dtype::U8,
            &shape,
            |b: [u8; 1]| b[0],
        )
        .map_err(err)?;
        check_peaks(&excess, &bright_peak, &dark_peak, meta.frames)
            .map_err(|m| err(Problem::Corrupt(m)))?;
        let evidence: Vec<Evidence> = excess
            .into_iter()
            .zip(dark)
            .map(|(excess, dark)| Evidence { excess, dark })
            .collect();
        let peaks: Vec<Peaks> = bright_peak
            .into_iter()
            .zip(dark_peak)
            .map(|(bright, dark)| Peaks { bright, dark })
            .collect();
        let thumbs = read_array(
            &mut zip,
            "thumbnails.npy",
            Dtype::F32,
            &[meta.frame_list.len(), THUMBNAIL_LEN],
            f32s,
        )
        .map_err(err)?;
        check_thumbnails(&thumbs).map_err(|m| err(Problem::Corrupt(m)))?;

        let frames = meta
            .frame_list
            .into_iter()
            .zip(thumbs.chunks_exact(THUMBNAIL_LEN))
            .map(|(f, thumb)| {
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
            stats: Stats {
                frames: meta.frames,
                moments,
                evidence: array(shape, evidence),
                peaks: array(shape, peaks),
            },
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

fn slice<T>(a: &Array3<T>) -> &[T] {
    a.as_slice().expect("statistics are in standard layout")
}

fn array<T>(shape: [usize; 3], v: Vec<T>) -> Array3<T> {
    Array3::from_shape_vec(shape, v).expect("length checked")
}

fn hex(hash: &FrameHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<FrameHash> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut hash = [0u8; 32];
    for (i, h) in hash.iter_mut().enumerate() {
        *h = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(hash)
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
    // Reading past the end is what checks the CRC-32.
    let mut extra = [0u8; 1];
    match member.read(&mut extra) {
        Ok(0) => Ok(values),
        Ok(_) => Err(corrupt("data continues past the array".into())),
        Err(e) => Err(read_problem(e, name)),
    }
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

/// Exact sums no run can produce mean the file is damaged: Σx ≤ 255 n,
/// Σx² ≤ 255 Σx, and n Σx² ≥ (Σx)² (a variance is never negative).
fn check_exact(frames: u64, sum: &[u32], sum_sq: &[u32]) -> Result<(), String> {
    for (i, (&s, &q)) in sum.iter().zip(sum_sq).enumerate() {
        let (s, q) = (u64::from(s), u64::from(q));
        if s > 255 * frames
            || q > 255 * s
            || u128::from(frames) * u128::from(q) < u128::from(s) * u128::from(s)
        {
            return Err(format!(
                "sums {s} and {q} at subpixel {i} are impossible over {frames} frames"
            ));
        }
    }
    Ok(())
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

/// Each frame adds at most ±127 to Σ excess and ±127 × its weight to Σ
/// weight × excess (`weights` is Σ weight over the frame list).
fn check_evidence(frames: u64, weights: u64, excess: &[i32], dark: &[i32]) -> Result<(), String> {
    let clamp = CLAMP as u64;
    if let Some(i) = excess
        .iter()
        .position(|&e| u64::from(e.unsigned_abs()) > clamp * frames)
    {
        return Err(format!(
            "excess {} at subpixel {i} is impossible over {frames} frames",
            excess[i]
        ));
    }
    if let Some(i) = dark
        .iter()
        .position(|&e| u64::from(e.unsigned_abs()) > clamp * weights)
    {
        return Err(format!(
            "dark-current sum {} at subpixel {i} is impossible for these frames' exposures",
            dark[i]
        ));
    }
    Ok(())
}

/// Peak codes are at most 63, and no frame can contribute more than its
/// peak: |Σ excess| ≤ n × 2 × the peak on its side.
fn check_peaks(excess: &[i32], bright: &[u8], dark: &[u8], frames: u64) -> Result<(), String> {
    for (i, ((&e, &b), &d)) in excess.iter().zip(bright).zip(dark).enumerate() {
        let peak = if e >= 0 { b } else { d };
        if b > PEAK_MAX
            || d > PEAK_MAX
            || u64::from(e.unsigned_abs()) > frames * 2 * u64::from(peak)
        {
            return Err(format!(
                "peaks {b} and {d} at subpixel {i} cannot hold its excess {e} over {frames} frames"
            ));
        }
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

/// The result of merging states.
#[derive(Debug)]
pub struct Merged {
    pub state: State,
    /// States left out because every frame of theirs is in another state.
    pub contained: Vec<PathBuf>,
}

/// Combines states: exact sums add exactly, past the exact range with the
/// Chan et al. merge (see [`crate::stats`]). They must have one frame size
/// and decoder, and (unless `mixed_cameras`) one camera body. A frame cannot
/// be taken out of merged statistics, so a frame in two states is counted once
/// only when one state's frames are all in another (that state is left out);
/// any other overlap is refused, naming the frames.
pub fn merge(states: Vec<(PathBuf, State)>, mixed_cameras: bool) -> Result<Merged, StateError> {
    let Some((first_path, first)) = states.first() else {
        return Err(StateError::new(
            Path::new("-"),
            Problem::Incompatible("no states to merge".into()),
        ));
    };
    let size = (first.stats.width(), first.stats.height());
    for (path, s) in &states[1..] {
        let incompatible = |m| Err(StateError::new(path, Problem::Incompatible(m)));
        if (s.stats.width(), s.stats.height()) != size {
            return incompatible(format!(
                "its frames are {}x{}, those of '{}' are {}x{}",
                s.stats.width(),
                s.stats.height(),
                first_path.display(),
                size.0,
                size.1
            ));
        }
        if s.decoder != first.decoder {
            return incompatible(format!(
                "decoded by {}, '{}' by {}; decoders differ slightly, so the statistics would not mix",
                s.decoder,
                first_path.display(),
                first.decoder
            ));
        }
    }
    if !mixed_cameras {
        let frames = states
            .iter()
            .flat_map(|(_, s)| s.frames.iter().map(|f| (f.path.as_path(), &f.meta)));
        let hint = "use --mixed-cameras to combine them anyway";
        if let Err(e) = check_one_body(frames, hint) {
            return Err(StateError::new(
                first_path,
                Problem::Incompatible(format!("{e}")),
            ));
        }
    }

    // Largest first, so a state contained in another is met after it.
    let hashes: Vec<HashSet<FrameHash>> = states
        .iter()
        .map(|(_, s)| s.frames.iter().map(|f| f.hash).collect())
        .collect();
    let mut order: Vec<usize> = (0..states.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(hashes[i].len()));
    let mut kept: Vec<usize> = Vec::new();
    let mut contained = Vec::new();
    for &i in &order {
        if kept.iter().any(|&k| hashes[i].is_subset(&hashes[k])) {
            contained.push(i);
            continue;
        }
        for &k in &kept {
            let shared: Vec<&CountedFrame> = states[i]
                .1
                .frames
                .iter()
                .filter(|f| hashes[k].contains(&f.hash))
                .collect();
            if !shared.is_empty() {
                let names: Vec<String> = shared
                    .iter()
                    .take(5)
                    .map(|f| f.path.display().to_string())
                    .collect();
                return Err(StateError::new(
                    &states[i].0,
                    Problem::Incompatible(format!(
                        "{} also counted in '{}' ({}{}), and a frame cannot be taken \
                         out of merged statistics; merge states of disjoint frame sets (or one \
                         whose frames all lie in another)",
                        match shared.len() {
                            1 => "1 frame is".to_string(),
                            n => format!("{n} frames are"),
                        },
                        states[k].0.display(),
                        names.join(", "),
                        if shared.len() > 5 { ", ..." } else { "" },
                    )),
                ));
            }
        }
        kept.push(i);
    }
    kept.sort_unstable();
    contained.sort_unstable();
    let contained = contained.iter().map(|&i| states[i].0.clone()).collect();

    let first_path_owned = first_path.clone();
    let mut iter = states
        .into_iter()
        .enumerate()
        .filter(|(i, _)| kept.contains(i));
    let (_, (_, mut merged)) = iter.next().expect("the largest state is kept");
    for (_, (_, s)) in iter {
        merged.stats.merge(&s.stats).map_err(|e| {
            StateError::new(&first_path_owned, Problem::Incompatible(e.to_string()))
        })?;
        merged.frames.extend(s.frames);
        merged.skipped.extend(s.skipped);
    }
    let counted: HashSet<String> = merged
        .frames
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let mut skipped: HashMap<String, SkippedInput> = HashMap::new();
    for s in merged.skipped.drain(..) {
        if !counted.contains(&s.path) {
            skipped.entry(s.path.clone()).or_insert(s);
        }
    }
    let mut skipped: Vec<SkippedInput> = skipped.into_values().collect();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    merged.skipped = skipped;
    Ok(Merged {
        state: merged,
        contained,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use std::io::Cursor;

    /// A state of `frames` random frames of w x h, its sums made by the
    /// accumulator from frames whose EXIF gives their dark weights (odd
    /// seeds: in Welford form).
    fn random_state(seed: u64, w: usize, h: usize, frames: usize) -> State {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let layout = crate::evidence::Layout {
            width: w,
            height: h,
            channels: 3,
        };
        let frames: Vec<CountedFrame> = (0..frames)
            .map(|i| CountedFrame {
                path: PathBuf::from(format!("dir/DSC_{i:04}.JPG")),
                bytes: rng.random_range(1..1u64 << 40),
                hash: rng.random(),
                meta: FrameMeta {
                    make: Some("NIKON CORPORATION".into()),
                    model: Some("NIKON D80".into()),
                    serial: (i % 2 == 0).then(|| "3001234".into()),
                    iso: Some(rng.random_range(100..3200)),
                    exposure_s: Some(rng.random_range(0.0001..30.0)),
                    datetime: None,
                },
                thumbnail: (0..THUMBNAIL_LEN)
                    .map(|_| rng.random_range(0.0..=765.0f32))
                    .collect(),
            })
            .collect();
        let pixels: Vec<Vec<u8>> = frames
            .iter()
            .map(|_| (0..layout.len()).map(|_| rng.random::<u8>()).collect())
            .collect();
        let mut acc = crate::stats::Accumulator::new(layout, frames.len() as u64).unwrap();
        let refs: Vec<crate::stats::FrameRef> = pixels
            .iter()
            .zip(&frames)
            .map(|(p, f)| crate::stats::FrameRef {
                pixels: p,
                dark_weight: dark_weight(f.meta.exposure_s, f.meta.iso),
            })
            .collect();
        acc.add_batch(&refs).unwrap();
        let mut stats = acc.into_stats().unwrap();
        if seed % 2 == 1 {
            stats.to_welford();
        }
        State {
            stats,
            frames,
            skipped: vec![SkippedInput {
                path: "bad.jpg".into(),
                reason: "empty file (0 bytes)".into(),
            }],
            decoder: DECODER.into(),
        }
    }

    fn bytes_of(state: &State) -> Vec<u8> {
        let mut out = Vec::new();
        state.write_to(&mut out).unwrap();
        out
    }

    fn read(bytes: &[u8]) -> Result<State, StateError> {
        State::read_from(Cursor::new(bytes), Path::new("test.npz"))
    }

    /// The same archive with `meta.json` replaced by `edit(meta)`.
    fn with_meta(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).unwrap();
            let name = member.name().to_string();
            let mut data = Vec::new();
            member.read_to_end(&mut data).unwrap();
            if name == "meta.json" {
                let mut meta: serde_json::Value = serde_json::from_slice(&data).unwrap();
                edit(&mut meta);
                data = serde_json::to_vec(&meta).unwrap();
            }
            out.start_file(name, SimpleFileOptions::default()).unwrap();
            out.write_all(&data).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever is written is read back exactly.
        #[test]
        fn round_trips(seed in 0u64..10_000, w in 1usize..7, h in 1usize..6, frames in 1usize..6) {
            let state = random_state(seed, w, h, frames);
            let back = read(&bytes_of(&state)).unwrap();
            proptest::prop_assert_eq!(back, state);
        }
    }

    /// Regression guard (issue 12): a cut file said "not a zip archive: ...
    /// Zip32CDEBlock"; it is damaged, and no type name of a crate shows.
    #[test]
    fn every_truncation_is_refused_as_damaged_in_plain_words() {
        let bytes = bytes_of(&random_state(1, 4, 3, 3));
        for cut in 0..bytes.len() {
            let err = read(&bytes[..cut]).expect_err(&format!("cut at {cut} of {}", bytes.len()));
            let text = err.to_string();
            if cut >= 2 {
                assert!(
                    text.contains("damaged (truncated?)"),
                    "cut at {cut}: {text}"
                );
            }
            assert!(
                !text.contains("Block") && !text.contains("::") && !text.contains("Error"),
                "cut at {cut}: {text}"
            );
        }
    }

    /// A flipped byte is refused, or lands where it changes nothing the state
    /// holds (a timestamp, a "version made by" field): never a wrong state.
    #[test]
    fn every_flipped_byte_is_refused_or_harmless() {
        let state = random_state(2, 8, 6, 3);
        let bytes = bytes_of(&state);
        let mut harmless = 0;
        for at in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut bad = bytes.clone();
                bad[at] ^= mask;
                if let Ok(back) = read(&bad) {
                    assert_eq!(back, state, "byte {at} ^ {mask:#x} gave a different state");
                    harmless += 1;
                }
            }
        }
        eprintln!("{harmless} of {} flips were harmless", bytes.len() * 3);
        // Most of the file is checked data; only zip bookkeeping may be ignored.
        assert!(
            harmless * 10 < bytes.len() * 3,
            "{harmless} of {}",
            bytes.len() * 3
        );
    }

    #[test]
    fn foreign_newer_and_inconsistent_files_are_refused_with_the_reason() {
        let bytes = bytes_of(&random_state(3, 2, 2, 2));
        let problem = |b: &[u8]| read(b).unwrap_err().to_string();
        assert!(problem(b"PK\x03\x04 not really").contains("test.npz"));
        assert!(problem(b"\x89PNG....").contains("not a zip archive"));
        let mut magic = bytes.clone();
        magic[..4].copy_from_slice(b"XXXX");
        assert!(read(&magic).is_err());
        let newer = with_meta(&bytes, |m| m["format_version"] = 3.into());
        assert!(problem(&newer).contains("newer"), "{}", problem(&newer));
        let foreign = with_meta(&bytes, |m| m["format"] = "something-else".into());
        assert!(problem(&foreign).contains("not a hotpix state"));
        let count = with_meta(&bytes, |m| m["frames"] = 3.into());
        assert!(problem(&count).contains("3 frames counted but 2 listed"));
        let size = with_meta(&bytes, |m| m["width"] = 3.into());
        assert!(problem(&size).contains("shape"), "{}", problem(&size));
        let hash = with_meta(&bytes, |m| m["frame_list"][0]["blake3"] = "xyz".into());
        assert!(problem(&hash).contains("hex"));
        // Round trip through the rewriting itself is exact.
        assert!(read(&with_meta(&bytes, |_| {})).is_ok());
    }

    #[test]
    fn impossible_values_are_refused() {
        let exact = random_state(4, 2, 2, 2);
        let welford = random_state(5, 2, 2, 2);
        let mut bad = Vec::new();
        let edit = |s: &State, f: &dyn Fn(&mut Stats)| {
            let mut s = s.clone();
            f(&mut s.stats);
            s
        };
        bad.push(edit(&welford, &|st| {
            if let Moments::Welford { m2, .. } = &mut st.moments {
                m2[[0, 1, 2]] = f32::NAN;
            }
        }));
        bad.push(edit(&welford, &|st| {
            if let Moments::Welford { m2, .. } = &mut st.moments {
                m2[[1, 0, 0]] = -1.0;
            }
        }));
        bad.push(edit(&welford, &|st| {
            if let Moments::Welford { mean, .. } = &mut st.moments {
                mean[[0, 0, 0]] = 300.0;
            }
        }));
        // Σx of two 8-bit values above 510.
        bad.push(edit(&exact, &|st| {
            if let Moments::Exact { sum, .. } = &mut st.moments {
                sum[[0, 0, 0]] = 511;
            }
        }));
        // A negative variance: n Σx² < (Σx)².
        bad.push(edit(&exact, &|st| {
            if let Moments::Exact { sum, sum_sq } = &mut st.moments {
                sum[[0, 1, 0]] = 200;
                sum_sq[[0, 1, 0]] = 100;
            }
        }));
        bad.push(edit(&exact, &|st| st.evidence[[0, 0, 1]].excess = 255));
        bad.push(edit(&exact, &|st| {
            st.evidence[[0, 0, 1]].dark = 127 * 15 * 2 + 1
        }));
        for (k, b) in bad.iter().enumerate() {
            let err = read(&bytes_of(b)).unwrap_err();
            assert!(matches!(err.problem, Problem::Corrupt(_)), "{k}: {err}");
        }
    }

    #[test]
    fn a_state_of_the_earlier_format_is_refused_with_advice() {
        let bytes = bytes_of(&random_state(3, 2, 2, 2));
        let older = with_meta(&bytes, |m| m["format_version"] = 1.into());
        let err = read(&older).unwrap_err().to_string();
        assert!(
            err.contains("earlier hotpix") && err.contains("--save"),
            "{err}"
        );
    }

    fn with_hashes(mut state: State, first: u8) -> State {
        for (i, f) in state.frames.iter_mut().enumerate() {
            f.hash = [first + i as u8; 32];
        }
        state
    }

    #[test]
    fn merge_takes_a_superset_once_and_refuses_a_partial_overlap() {
        let a = with_hashes(random_state(5, 3, 2, 3), 10);
        let b = with_hashes(random_state(6, 3, 2, 2), 20);
        let merged = merge(
            vec![("a".into(), a.clone()), ("b".into(), b.clone())],
            false,
        )
        .unwrap();
        assert_eq!(merged.state.stats.frames, 5);
        assert!(merged.contained.is_empty());
        let mut expected = a.stats.clone();
        expected.merge(&b.stats).unwrap();
        assert_eq!(merged.state.stats, expected);

        let sub = with_hashes(random_state(7, 3, 2, 2), 11); // hashes 11, 12: inside a
        let merged = merge(vec![("sub".into(), sub), ("a".into(), a.clone())], false).unwrap();
        assert_eq!(merged.state.stats, a.stats);
        assert_eq!(merged.contained, vec![PathBuf::from("sub")]);

        let overlap = with_hashes(random_state(8, 3, 2, 3), 12); // 12 shared, 13, 14 new
        let err = merge(vec![("a".into(), a.clone()), ("o".into(), overlap)], false).unwrap_err();
        assert!(err.to_string().contains("also counted in"), "{err}");

        let other_size = random_state(9, 2, 2, 2);
        let err = merge(
            vec![("a".into(), a.clone()), ("s".into(), other_size)],
            false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("2x2"), "{err}");
        let mut other_body = with_hashes(random_state(10, 3, 2, 2), 30);
        for f in &mut other_body.frames {
            f.meta.model = Some("NIKON D90".into());
        }
        assert!(merge(
            vec![("a".into(), a.clone()), ("c".into(), other_body.clone())],
            false
        )
        .is_err());
        assert!(merge(vec![("a".into(), a), ("c".into(), other_body)], true).is_ok());
    }
}
