//! Reads photos: a header-only probe (size, colour components, raw EXIF) that
//! runs before any pixel is decoded, and a strict full decode into a reused
//! buffer.
//!
//! The probe walks the JPEG marker segments and stops at the first frame
//! header, so choosing the series' frame size, checking the camera and refusing
//! absurd sizes and encodings the decoder cannot read (12-bit, arithmetic
//! coding, lossless, CMYK) all happen before a pixel buffer is allocated.
//! Like libjpeg, the walk passes over junk bytes between segments.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;
use zune_jpeg::errors::DecodeErrors;

use crate::error::{SkipReason, Unsupported};

/// The decoder and its mode, as a state file records it: statistics from
/// another decoder (or version) differ slightly and should not be mixed. A
/// unit test keeps the version in step with Cargo.lock.
pub const DECODER: &str = "zune-jpeg 0.5.15 strict";

/// Refuse frames above this many megapixels unless told otherwise: a header is
/// free to claim 65535x65535 (12.8 GB of RGB), and no camera body makes that.
pub const DEFAULT_MAX_MEGAPIXELS: u32 = 200;

/// What a JPEG's header says, read without decoding its pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    /// Bits a sample (8 for nearly every photo; 12 for some medical and
    /// scientific files).
    pub precision: u8,
    /// How the frame is coded, from the kind of its frame header.
    pub coding: Coding,
    /// The colour transform of an Adobe APP14 segment, if there is one
    /// (0 none, 1 YCbCr, 2 YCCK).
    pub adobe_transform: Option<u8>,
    /// The TIFF payload of the first `Exif` APP1 segment, if any.
    pub exif: Option<Vec<u8>>,
}

/// How a JPEG frame is coded, as the kind of its frame header (SOFn) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// Baseline or extended sequential DCT, Huffman coded (SOF0, SOF1).
    Sequential,
    /// Progressive DCT, Huffman coded (SOF2).
    Progressive,
    /// Lossless (SOF3, SOF11).
    Lossless,
    /// Hierarchical, differential frames (SOF5-7, SOF13-15).
    Hierarchical,
    /// Arithmetic coded (SOF9, SOF10).
    Arithmetic,
}

impl Coding {
    fn of_marker(marker: u8) -> Coding {
        match marker {
            0xC0 | 0xC1 => Coding::Sequential,
            0xC2 => Coding::Progressive,
            0xC3 | 0xCB => Coding::Lossless,
            0xC5..=0xC7 | 0xCD..=0xCF => Coding::Hierarchical,
            _ => Coding::Arithmetic,
        }
    }
}

/// Reads the header of the JPEG at `path`.
pub fn probe(path: &Path, max_megapixels: u32) -> Result<Header, SkipReason> {
    let meta = std::fs::metadata(path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    if meta.is_dir() {
        return Err(SkipReason::Directory);
    }
    if meta.len() == 0 {
        return Err(SkipReason::Empty);
    }
    let file = File::open(path).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    let header = read_header(&mut BufReader::with_capacity(64 * 1024, file))?;
    check_header(&header, max_megapixels)?;
    Ok(header)
}

/// Refuses what the decoder cannot read or the analysis cannot use, each
/// with its plain name, in the order a person would want to hear it: a
/// damaged header, then an encoding this decoder does not read, then a size
/// over the limit, then colour.
pub fn check_header(header: &Header, max_megapixels: u32) -> Result<(), SkipReason> {
    let unsupported = |u| Err(SkipReason::Unsupported(u));
    match header.precision {
        8 => {}
        // Lossless JPEG may use any precision from 2 to 16 bits.
        2..=16 if header.coding == Coding::Lossless => {}
        12 => {}
        p => {
            return Err(SkipReason::BadHeader(format!(
                "frame header says {p}-bit samples (JPEG has 8 or 12)"
            )))
        }
    }
    match header.coding {
        Coding::Sequential | Coding::Progressive => {}
        Coding::Arithmetic => return unsupported(Unsupported::Arithmetic),
        Coding::Lossless => return unsupported(Unsupported::Lossless),
        Coding::Hierarchical => return unsupported(Unsupported::Hierarchical),
    }
    if header.precision != 8 {
        return unsupported(Unsupported::Precision(header.precision));
    }
    let pixels = u64::from(header.width) * u64::from(header.height);
    if pixels > u64::from(max_megapixels) * 1_000_000 {
        return Err(SkipReason::TooLarge {
            width: header.width,
            height: header.height,
            limit_mp: max_megapixels,
        });
    }
    match header.components {
        // Colour, or greyscale (monochrome cameras write it): one channel.
        1 | 3 => Ok(()),
        4 if header.adobe_transform == Some(2) => unsupported(Unsupported::Ycck),
        4 => unsupported(Unsupported::Cmyk),
        0 => Err(SkipReason::BadHeader(
            "frame header says 0 colour components".into(),
        )),
        n => unsupported(Unsupported::Components(n)),
    }
}

fn read_header<R: Read + Seek>(r: &mut R) -> Result<Header, SkipReason> {
    let truncated = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            SkipReason::BadHeader("file ends inside the header".into())
        } else {
            SkipReason::Unreadable(e.to_string())
        }
    };
    let mut soi = [0u8; 2];
    if r.read_exact(&mut soi).is_err() || soi != [0xFF, 0xD8] {
        return Err(SkipReason::NotJpeg);
    }
    let mut exif = None;
    let mut adobe_transform = None;
    loop {
        let marker = next_marker(r).map_err(truncated)?;
        match marker {
            // Stand-alone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => {
                return Err(SkipReason::BadHeader(
                    "image ends before a frame header".into(),
                ))
            }
            0xDA => {
                return Err(SkipReason::BadHeader(
                    "scan data before a frame header".into(),
                ))
            }
            _ => {}
        }
        let mut len = [0u8; 2];
        r.read_exact(&mut len).map_err(truncated)?;
        let len = u16::from_be_bytes(len);
        if len < 2 {
            return Err(SkipReason::BadHeader(format!(
                "segment 0x{marker:02X} has length {len}"
            )));
        }
        let payload_len = usize::from(len - 2);
        if is_frame_header(marker) {
            let mut sof = [0u8; 6];
            if payload_len < sof.len() {
                return Err(SkipReason::BadHeader("frame header too short".into()));
            }
            r.read_exact(&mut sof).map_err(truncated)?;
            let height = u32::from(u16::from_be_bytes([sof[1], sof[2]]));
            let width = u32::from(u16::from_be_bytes([sof[3], sof[4]]));
            if width == 0 || height == 0 {
                return Err(SkipReason::BadHeader(format!(
                    "frame header says {width}x{height}"
                )));
            }
            return Ok(Header {
                width,
                height,
                components: sof[5],
                precision: sof[0],
                coding: Coding::of_marker(marker),
                adobe_transform,
                exif,
            });
        }
        if marker == 0xE1 && exif.is_none() {
            let mut payload = vec![0u8; payload_len];
            r.read_exact(&mut payload).map_err(truncated)?;
            if let Some(tiff) = payload.strip_prefix(b"Exif\0\0") {
                exif = Some(tiff.to_vec());
            }
        } else if marker == 0xEE && payload_len >= ADOBE_APP14_LEN {
            // "Adobe", version (2 bytes), flags (2 + 2), colour transform.
            let mut payload = [0u8; ADOBE_APP14_LEN];
            r.read_exact(&mut payload).map_err(truncated)?;
            if payload.starts_with(b"Adobe") {
                adobe_transform = Some(payload[11]);
            }
            r.seek(SeekFrom::Current((payload_len - ADOBE_APP14_LEN) as i64))
                .map_err(truncated)?;
        } else {
            r.seek(SeekFrom::Current(payload_len as i64))
                .map_err(truncated)?;
        }
    }
}

/// Bytes of an Adobe APP14 payload up to its colour transform.
const ADOBE_APP14_LEN: usize = 12;

/// The next marker code. As libjpeg's `next_marker` (jdmarker.c) does, it
/// passes over junk bytes before the marker (some editors leave a few after
/// a segment whose length they got wrong; libjpeg warns and reads on), the
/// 0xFF fill bytes JPEG allows, and 0xFF 0x00, which is not a marker.
fn next_marker<R: Read>(r: &mut R) -> std::io::Result<u8> {
    let mut byte = [0u8; 1];
    loop {
        r.read_exact(&mut byte)?;
        while byte[0] != 0xFF {
            r.read_exact(&mut byte)?;
        }
        while byte[0] == 0xFF {
            r.read_exact(&mut byte)?;
        }
        if byte[0] != 0x00 {
            return Ok(byte[0]);
        }
    }
}

/// SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
fn is_frame_header(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Decodes frames of one known size; owns the buffers a frame needs (its
/// file's bytes and its pixels), reused from frame to frame.
pub struct FrameDecoder {
    width: u32,
    height: u32,
    channels: usize,
    file_bytes: Vec<u8>,
    pixels: Vec<u8>,
}

impl FrameDecoder {
    /// A decoder for `width` x `height` frames of `channels` channels (3:
    /// RGB, 1: greyscale), or an error if its pixel buffer cannot be had.
    pub fn new(width: u32, height: u32, channels: usize) -> Result<Self, crate::Error> {
        let len = width as usize * height as usize * channels;
        Ok(FrameDecoder {
            width,
            height,
            channels,
            file_bytes: Vec::new(),
            // Written through once now so the pages are faulted in before timing
            // matters (and not lazily inside the first decode).
            pixels: crate::stats::filled(len, 0u8, "the frame buffers")?,
        })
    }

    /// Decodes the RGB pixels of `path` (row-major, 3 bytes a pixel, stored
    /// orientation) into the reused buffer and returns it.
    pub fn decode(&mut self, path: &Path) -> Result<&[u8], SkipReason> {
        self.read(path)?;
        self.decode_read()
    }

    /// Reads the file at `path` into the reused buffer and returns its bytes
    /// (to be hashed, say), without decoding them.
    pub fn read(&mut self, path: &Path) -> Result<&[u8], SkipReason> {
        self.file_bytes.clear();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut self.file_bytes))
            .map_err(|e| SkipReason::Unreadable(e.to_string()))?;
        Ok(&self.file_bytes)
    }

    /// The frame size this decoder accepts.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The pixels of the last successful decode.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Decodes the bytes the last [`FrameDecoder::read`] read.
    pub fn decode_read(&mut self) -> Result<&[u8], SkipReason> {
        let (width, height, channels) = (self.width, self.height, self.channels);
        match decode_into(&self.file_bytes, width, height, channels, &mut self.pixels) {
            Err(Failure::ShortAdobeSegment) => {
                // libjpeg passes over an APP14 "Adobe" segment too short to
                // hold its colour transform; zune-jpeg refuses the file. A
                // copy with that segment renamed APP15 (which nobody reads)
                // decodes as libjpeg decodes the original.
                let renamed = without_short_adobe_segments(&self.file_bytes);
                decode_into(&renamed, width, height, channels, &mut self.pixels)
                    .map_err(Failure::into_reason)?;
            }
            other => other.map_err(Failure::into_reason)?,
        }
        Ok(&self.pixels)
    }
}

/// Why [`decode_into`] failed.
enum Failure {
    /// An APP14 "Adobe" segment shorter than its colour transform.
    ShortAdobeSegment,
    Reason(SkipReason),
}

impl Failure {
    fn into_reason(self) -> SkipReason {
        match self {
            Failure::ShortAdobeSegment => {
                SkipReason::BadHeader("an Adobe (APP14) segment is too short".into())
            }
            Failure::Reason(r) => r,
        }
    }
}

/// Decodes `bytes`, a frame of `width` x `height`, into `pixels` (RGB).
fn decode_into(
    bytes: &[u8],
    width: u32,
    height: u32,
    channels: usize,
    pixels: &mut [u8],
) -> Result<(), Failure> {
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .set_max_width(width as usize)
        .set_max_height(height as usize)
        .jpeg_set_out_colorspace(if channels == 1 {
            ColorSpace::Luma
        } else {
            ColorSpace::RGB
        });
    // The headers are read leniently: zune-jpeg's strict mode refuses junk
    // bytes between header segments, which libjpeg (and the probe) pass
    // over; the image data is then decoded strictly.
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        ZCursor::new(bytes),
        options.set_strict_mode(false),
    );
    if let Err(e) = decoder.decode_headers() {
        if matches!(e, DecodeErrors::FormatStatic(s) if s.contains("length for App14")) {
            return Err(Failure::ShortAdobeSegment);
        }
        return Err(Failure::Reason(decode_error(e, Stage::Headers)));
    }
    decoder.set_options(options);
    let (w, h) = decoder.dimensions().expect("headers decoded");
    if (w as u32, h as u32) != (width, height) {
        return Err(Failure::Reason(SkipReason::OtherSize {
            width: w as u32,
            height: h as u32,
            series_width: width,
            series_height: height,
        }));
    }
    decoder
        .decode_into(pixels)
        .map_err(|e| Failure::Reason(decode_error(e, Stage::Data)))
}

/// A copy of a JPEG's bytes in which every APP14 segment that starts with
/// "Adobe" but is too short for its colour transform (under 12 bytes after
/// the length) is an APP15 segment instead. Only the header, up to the
/// first scan, is walked.
fn without_short_adobe_segments(bytes: &[u8]) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    let mut r = std::io::Cursor::new(bytes);
    r.set_position(2);
    while let Ok(marker) = next_marker(&mut r) {
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            continue;
        }
        let at = r.position() as usize;
        let Some(len) = bytes.get(at..at + 2) else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if marker == 0xDA || marker == 0xD9 || len < 2 {
            break;
        }
        let payload = bytes
            .get(at + 2..(at + len).min(bytes.len()))
            .unwrap_or(&[]);
        if marker == 0xEE && payload.starts_with(b"Adobe") && len - 2 < ADOBE_APP14_LEN {
            copy[at - 1] = 0xEF;
        }
        r.set_position((at + len) as u64);
    }
    copy
}

/// Where decoding failed: in the headers or in the image data.
#[derive(Clone, Copy)]
enum Stage {
    Headers,
    Data,
}

/// The decoder's error in words a person reads: zune-jpeg's own text quotes
/// some messages and not others, and names its internals.
fn decode_error(e: DecodeErrors, stage: Stage) -> SkipReason {
    use zune_jpeg::errors::UnsupportedSchemes as U;
    use DecodeErrors as E;
    // "Bad Huffman Code 0xEE89, corrupt JPEG" -> "bad Huffman Code 0xEE89".
    let detail = |s: &str| {
        let s = s
            .trim()
            .trim_start_matches("[strict-mode]:")
            .trim()
            .trim_end_matches(", corrupt JPEG")
            .trim_end_matches('.');
        let mut chars = s.chars();
        match chars.next() {
            Some(first) if !s.starts_with("JPEG") => first.to_lowercase().chain(chars).collect(),
            _ => s.to_string(),
        }
    };
    let in_stage = |s: &str| match stage {
        Stage::Headers => format!("damaged or unusual header ({})", detail(s)),
        Stage::Data => format!("damaged image data ({})", detail(s)),
    };
    SkipReason::Decode(match e {
        E::Unsupported(U::LosslessHuffman | U::LosslessArithmetic) => {
            return SkipReason::Unsupported(Unsupported::Lossless)
        }
        E::Unsupported(_) => return SkipReason::Unsupported(Unsupported::Arithmetic),
        E::Format(s) => in_stage(&s),
        E::FormatStatic(s) => in_stage(s),
        E::HuffmanDecode(s) => format!("damaged Huffman table or data ({})", detail(&s)),
        E::MCUError(s) => format!("damaged image data ({})", detail(&s)),
        E::DqtError(s) => format!("damaged quantisation table ({})", detail(&s)),
        E::SosError(s) => format!("damaged scan header ({})", detail(&s)),
        E::SofError(s) => format!("damaged frame header ({})", detail(&s)),
        E::ZeroError => "the frame has no width or height".to_string(),
        E::IllegalMagicBytes(_) => "not a JPEG stream".to_string(),
        E::ExhaustedData | E::IoErrors(_) => "the image data ends early (truncated?)".to_string(),
        E::LargeDimensions(_) | E::TooSmallOutput(..) => {
            "the frame is larger than its header said".to_string()
        }
    })
}

#[cfg(test)]
mod tests;
