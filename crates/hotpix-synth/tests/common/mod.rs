//! Helpers shared by the generator's integration tests: file listing, JPEG decoding and
//! header reading done independently of the generator's own code.

#![allow(dead_code)]

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use exif::{In, Tag};
use image::codecs::jpeg::JpegDecoder;
use image::ImageDecoder as _;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

pub fn read_dir_sorted(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

pub fn decode(jpeg: &[u8]) -> image::ImageResult<(u32, u32, Vec<u8>)> {
    let decoder = JpegDecoder::new(Cursor::new(jpeg))?;
    let (w, h) = decoder.dimensions();
    let mut buf = vec![0u8; decoder.total_bytes() as usize];
    decoder.read_image(&mut buf)?;
    Ok((w, h, buf))
}

/// ExposureTime (num, den) and PhotographicSensitivity from a JPEG's EXIF.
pub fn exif_exposure_iso(jpeg: &[u8]) -> ((u32, u32), u32) {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(jpeg))
        .unwrap();
    let t = match &exif
        .get_field(Tag::ExposureTime, In::PRIMARY)
        .unwrap()
        .value
    {
        exif::Value::Rational(r) => (r[0].num, r[0].denom),
        other => panic!("ExposureTime: {other:?}"),
    };
    let iso = exif
        .get_field(Tag::PhotographicSensitivity, In::PRIMARY)
        .unwrap()
        .value
        .get_uint(0)
        .unwrap();
    (t, iso)
}

/// Components of a baseline JPEG's SOF0 as (id, horizontal, vertical sampling).
pub fn sof0_components(jpeg: &[u8]) -> Vec<(u8, u8, u8)> {
    let mut i = 2;
    loop {
        assert_eq!(jpeg[i], 0xFF, "lost marker sync at {i}");
        let marker = jpeg[i + 1];
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        if marker == 0xC0 {
            let seg = &jpeg[i + 4..i + 2 + len];
            let n = seg[5] as usize;
            return (0..n)
                .map(|c| {
                    let s = &seg[6 + 3 * c..];
                    (s[0], s[1] >> 4, s[1] & 0x0F)
                })
                .collect();
        }
        assert_ne!(marker, 0xDA, "no SOF0 before the scan");
        i += 2 + len;
    }
}

/// The CFA colour of (x, y) read from a raw frame's pattern string: 0 = R, 1 = G, 2 = B.
pub fn cfa_channel(cfa: &str, x: u32, y: u32) -> u8 {
    let c = cfa.as_bytes()[((y % 2) * 2 + x % 2) as usize];
    match c {
        b'R' => 0,
        b'G' => 1,
        b'B' => 2,
        other => panic!("CFA colour {other}"),
    }
}

/// Mean and sample standard deviation in f64 (two passes).
pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64;
    (m, var.sqrt())
}
