//! Broken and odd inputs a run over a real photo folder meets, made from one good frame so the
//! bad-input paths can be tested without shipping anyone's photographs.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context as _};
use exif::{In, Tag};

use rand::Rng as _;

use crate::{
    encode_jpeg, stream_rng, write_atomic, Camera, FrameExif, Renderer, SeriesSpec, Stream,
};

/// The files [`write_bad_inputs`] writes, each with what it stands for.
pub const BAD_INPUTS: [(&str, &str); 6] = [
    ("empty.jpg", "0 bytes: an interrupted copy"),
    (
        "truncated.jpg",
        "the first 60% of a good frame: a card pulled mid-write",
    ),
    (
        "corrupt.jpg",
        "good headers, garbage entropy-coded data opening with a broken DHT: bit rot",
    ),
    (
        "not-an-image.jpg",
        "plain text with a .jpg name: a misnamed file",
    ),
    (
        "other-size.jpg",
        "a valid frame of another size from the same camera: a mixed folder",
    ),
    (
        "huge-header.jpg",
        "a small valid JPEG whose SOF0 claims 65000x65000: a decompression bomb",
    ),
];

/// The size `huge-header.jpg` claims.
pub const HUGE_SIDE: u16 = 65000;

/// Writes the files of [`BAD_INPUTS`] into `dir` (created if missing), derived from
/// `good_frame`, the bytes of a good JPEG with EXIF such as a frame of a synthetic series.
pub fn write_bad_inputs(dir: &Path, good_frame: &[u8]) -> anyhow::Result<()> {
    let (w, h) = frame_size(good_frame).context("the good frame has no readable SOF0 header")?;
    let exif = frame_exif(good_frame).context("reading the good frame's EXIF")?;
    if w < 32 || h < 32 {
        bail!("the good frame is {w}x{h}; at least 32x32 is needed");
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| write_atomic(&dir.join(name), bytes);

    write("empty.jpg", &[])?;
    write("truncated.jpg", &good_frame[..good_frame.len() * 6 / 10])?;
    write("corrupt.jpg", &corrupt(good_frame)?)?;
    write(
        "not-an-image.jpg",
        b"This is not a JPEG. It is a text file that was given a .jpg name.\n",
    )?;

    // Three quarters of the size, as if the camera had been set to a smaller image size.
    // The pixels are rendered, not decoded from the good frame: decoders differ in their last
    // bits between versions and CPUs, and the fixtures must regenerate byte for byte.
    let (ow, oh) = (w * 3 / 4, h * 3 / 4);
    write("other-size.jpg", &render_plain(ow, oh, &exif)?)?;

    let mut huge = render_plain(16, 16, &exif)?;
    let sof = find_marker(&huge, 0xC0).context("no SOF0 in the encoded JPEG")?;
    // SOF0: FF C0, length (2), precision (1), height (2), width (2).
    huge[sof + 5..sof + 7].copy_from_slice(&HUGE_SIDE.to_be_bytes());
    huge[sof + 7..sof + 9].copy_from_slice(&HUGE_SIDE.to_be_bytes());
    write("huge-header.jpg", &huge)?;
    Ok(())
}

/// A defect-free synthetic frame of the given size, stamped with `exif`.
fn render_plain(width: u32, height: u32, exif: &FrameExif) -> anyhow::Result<Vec<u8>> {
    let spec = SeriesSpec::new(width, height, 1, 0xBAD);
    let rgb = Renderer::new(&spec).render(&[], 0);
    Ok(encode_jpeg(
        &rgb,
        width,
        height,
        spec.quality,
        spec.subsampling,
        Some(exif),
    )?)
}

/// Width and height from a JPEG's SOF0 header.
fn frame_size(jpeg: &[u8]) -> Option<(u32, u32)> {
    let sof = find_marker(jpeg, 0xC0)?;
    let be = |i: usize| Some(u16::from_be_bytes([*jpeg.get(i)?, *jpeg.get(i + 1)?]) as u32);
    Some((be(sof + 7)?, be(sof + 5)?))
}

/// The camera, ISO, exposure and time of a JPEG, to stamp on frames derived from it.
fn frame_exif(jpeg: &[u8]) -> anyhow::Result<FrameExif> {
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(jpeg))?;
    let ascii = |tag| -> Option<String> {
        match &exif.get_field(tag, In::PRIMARY)?.value {
            exif::Value::Ascii(v) => v.first().map(|s| String::from_utf8_lossy(s).into_owned()),
            _ => None,
        }
    };
    let uint = |tag| exif.get_field(tag, In::PRIMARY)?.value.get_uint(0);
    let exposure = match exif
        .get_field(Tag::ExposureTime, In::PRIMARY)
        .map(|f| &f.value)
    {
        Some(exif::Value::Rational(r)) if !r.is_empty() => (r[0].num, r[0].denom),
        _ => (1, 125),
    };
    let fallback = Camera::nikon_d80();
    Ok(FrameExif {
        camera: Camera {
            make: ascii(Tag::Make).unwrap_or(fallback.make),
            model: ascii(Tag::Model).unwrap_or(fallback.model),
            serial: ascii(Tag::BodySerialNumber),
        },
        iso: uint(Tag::PhotographicSensitivity).unwrap_or(100),
        exposure,
        datetime: ascii(Tag::DateTimeOriginal).unwrap_or_else(|| "2007:06:02 09:00:00".into()),
        f_number: None,
    })
}

/// Keeps every segment up to and including the scan header, replaces most of the entropy-coded
/// data with garbage, and ends the file properly.
///
/// Undecodable bits alone do not fail image's JpegDecoder: zune-jpeg, in the lenient mode
/// image uses, stops at the first bad Huffman code (or unknown marker), paints the rest grey
/// and returns Ok. What it does not forgive is a table segment it cannot parse: a DHT marker
/// met inside the scan is parsed as a table between scans, so the garbage opens with a DHT
/// whose table class is 2 (only 0 = DC and 1 = AC exist), as bit rot might leave it.
fn corrupt(good: &[u8]) -> anyhow::Result<Vec<u8>> {
    let sos = find_marker(good, 0xDA).context("no SOS in the good frame")?;
    let header_len = u16::from_be_bytes([good[sos + 2], good[sos + 3]]) as usize;
    let data_start = sos + 2 + header_len;
    // Garbage need not be as long as the scan it replaces; a few KB keeps the fixture small.
    let data_len = 4096;
    // A few good bytes first: zune reports a marker met with no bits buffered as a Huffman
    // error (forgiven) rather than parsing it.
    let mut out = good[..data_start + 8].to_vec();
    // DHT, length 19, class 2 / id 7, then sixteen code counts.
    out.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x13, 0x27]);
    out.extend_from_slice(&[0x01; 16]);
    let mut rng = stream_rng(0xBAD, Stream::Garbage, 0, 0);
    while out.len() < data_start + data_len {
        let byte = rng.next_u32() as u8;
        out.push(byte);
        // Stuffed like entropy data, so the only marker in the scan is the DHT.
        if byte == 0xFF {
            out.push(0x00);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

/// Offset of the first marker `code` (the 0xFF byte) among the header segments, walking
/// segment lengths so bytes inside EXIF or tables are never mistaken for a marker.
pub(crate) fn find_marker(jpeg: &[u8], code: u8) -> Option<usize> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    loop {
        if *jpeg.get(i)? != 0xFF {
            return None;
        }
        // Markers may be preceded by any number of 0xFF fill bytes.
        while *jpeg.get(i + 1)? == 0xFF {
            i += 1;
        }
        let marker = *jpeg.get(i + 1)?;
        if marker == code {
            return Some(i);
        }
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = u16::from_be_bytes([*jpeg.get(i + 2)?, *jpeg.get(i + 3)?]) as usize;
        i += 2 + len;
    }
}
