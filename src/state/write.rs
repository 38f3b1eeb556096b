//! Writing a state: `meta.json`, then one `.npy` member a field of the
//! statistics, each integer field in the narrowest dtype that holds what
//! the state's frames can add up to, every member deflated.

use std::io::Write;

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

impl State {
    /// Writes the `.npz` to `out` (which need not be seekable).
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let stats = &self.stats;
        let shape = [
            stats.height() as usize,
            stats.width() as usize,
            stats.channels(),
        ];
        let mut zip = zip::ZipWriter::new_stream(out);
        // Level 1: most of what deflate gains on these arrays, in a fraction
        // of the time of the default level.
        let options = |bytes: usize| {
            SimpleFileOptions::default()
                .compression_method(CompressionMethod::Deflated)
                .compression_level(Some(1))
                .large_file(bytes as u64 >= u64::from(u32::MAX) - 1024)
        };
        let meta = serde_json::to_vec_pretty(&self.meta())?;
        zip.start_file("meta.json", options(meta.len()))?;
        zip.write_all(&meta)?;

        let len = stats.layout().len();
        if !stats.is_exact() {
            for (name, field) in [("mean", Field::Mean), ("m2", Field::M2)] {
                zip.start_file(format!("{name}.npy"), options(len * 4 + 128))?;
                zip.write_all(&npy::header(Dtype::F32, &shape))?;
                npy::write_data(&mut zip, stats.floats(field), f32::to_le_bytes)?;
            }
        }
        let (weights, revealing) =
            weights_of(self.frames.iter().map(|f| (f.meta.exposure_s, f.meta.iso)));
        for (name, field, lo, hi) in integer_members(stats, weights, revealing) {
            let dtype = Dtype::narrowest(lo, hi);
            zip.start_file(format!("{name}.npy"), options(len * dtype.size() + 128))?;
            zip.write_all(&npy::header(dtype, &shape))?;
            npy::write_ints(&mut zip, dtype, stats.ints(field))?;
        }

        let thumbs: Vec<f32> = self
            .frames
            .iter()
            .flat_map(|f| f.thumbnail.iter().copied())
            .collect();
        zip.start_file("thumbnails.npy", options(thumbs.len() * 4 + 128))?;
        zip.write_all(&npy::header(
            Dtype::F32,
            &[self.frames.len(), THUMBNAIL_LEN],
        ))?;
        npy::write_data(&mut zip, &thumbs, f32::to_le_bytes)?;

        let grid = TileGrid::of(shape[1], shape[0]);
        let tiles: Vec<u64> = self
            .frames
            .iter()
            .flat_map(|f| f.tiles.iter().copied())
            .collect();
        zip.start_file("tiles.npy", options(tiles.len() * 8 + 128))?;
        zip.write_all(&npy::header(
            Dtype::U64,
            &[self.frames.len(), grid.height, grid.width, TILE_WORDS],
        ))?;
        npy::write_data(&mut zip, &tiles, u64::to_le_bytes)?;
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
