use super::*;
use std::io::Cursor;

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

#[test]
fn decoder_name_matches_the_locked_version() {
    let lock = include_str!("../../Cargo.lock");
    let at = lock
        .find("name = \"zune-jpeg\"\nversion = \"")
        .expect("zune-jpeg is locked");
    let rest = &lock[at + "name = \"zune-jpeg\"\nversion = \"".len()..];
    let version = &rest[..rest.find('"').unwrap()];
    assert_eq!(DECODER, format!("zune-jpeg {version} strict"));
}

#[test]
fn reads_size_components_and_exif() {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend(segment(0xE0, b"JFIF\0\x01\x01"));
    jpeg.extend(segment(0xE1, b"Exif\0\0MM\0*rest"));
    jpeg.extend([0xFF, 0xFF]); // fill bytes are allowed before a marker
    jpeg.extend(segment(0xC0, &[8, 0x0A, 0x20, 0x0F, 0x20, 3, 1, 0x21, 0]));
    let h = read_header(&mut Cursor::new(jpeg)).unwrap();
    assert_eq!((h.width, h.height, h.components), (3872, 2592, 3));
    assert_eq!(h.exif.as_deref(), Some(&b"MM\0*rest"[..]));
}

#[test]
fn refuses_non_jpeg_and_truncated_headers() {
    assert_eq!(
        read_header(&mut Cursor::new(b"hello".to_vec())),
        Err(SkipReason::NotJpeg)
    );
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend(&segment(0xE1, b"Exif\0\0MM\0*")[..6]);
    assert!(matches!(
        read_header(&mut Cursor::new(jpeg)),
        Err(SkipReason::BadHeader(_))
    ));
    let mut scan_first = vec![0xFF, 0xD8];
    scan_first.extend(segment(0xDA, &[1, 2, 3]));
    assert!(matches!(
        read_header(&mut Cursor::new(scan_first)),
        Err(SkipReason::BadHeader(_))
    ));
}

fn frame(marker: u8, precision: u8, components: u8) -> Vec<u8> {
    let mut sof = vec![precision, 0, 16, 0, 16, components];
    for c in 0..components {
        sof.extend([c + 1, 0x11, 0]);
    }
    segment(marker, &sof)
}

/// Regression guard (issue 12): junk between segments (a segment whose
/// length an editor got wrong) made the probe refuse files libjpeg reads.
#[test]
fn junk_between_segments_is_passed_over_as_libjpeg_does() {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend(segment(0xFE, b"comment"));
    jpeg.extend(b"hello\x00\x01"); // junk, a stuffed-looking FF 00 among it
    jpeg.extend([0xFF, 0x00, 0x42]);
    jpeg.extend([0xFF, 0xFF, 0xFF]); // fill bytes
    jpeg.extend(frame(0xC0, 8, 3));
    let h = read_header(&mut Cursor::new(jpeg)).unwrap();
    assert_eq!((h.width, h.height, h.components), (16, 16, 3));
}

/// Regression guard (issue 12): encodings the decoder does not read were
/// named in its own internal words, or as damage.
#[test]
fn unsupported_encodings_are_named_plainly() {
    let reason = |marker, precision, components, adobe: Option<u8>| {
        let mut jpeg = vec![0xFF, 0xD8];
        if let Some(t) = adobe {
            jpeg.extend(segment(
                0xEE,
                &[b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, t],
            ));
        }
        jpeg.extend(frame(marker, precision, components));
        let h = read_header(&mut Cursor::new(jpeg)).unwrap();
        check_header(&h, DEFAULT_MAX_MEGAPIXELS).map_err(|e| e.to_string())
    };
    assert_eq!(reason(0xC0, 8, 3, None), Ok(()));
    assert_eq!(reason(0xC2, 8, 3, None), Ok(()));
    assert_eq!(reason(0xC1, 8, 3, Some(1)), Ok(()));
    let refused = |r: Result<(), String>| r.unwrap_err();
    assert_eq!(
        refused(reason(0xC1, 12, 3, None)),
        "12-bit JPEG is not supported (only 8-bit)"
    );
    assert_eq!(
        refused(reason(0xC9, 8, 3, None)),
        "arithmetic-coded JPEG is not supported"
    );
    assert_eq!(
        refused(reason(0xCA, 8, 3, None)),
        "arithmetic-coded JPEG is not supported"
    );
    assert_eq!(
        refused(reason(0xC3, 16, 1, None)),
        "lossless JPEG is not supported"
    );
    assert_eq!(
        refused(reason(0xC5, 8, 3, None)),
        "hierarchical JPEG is not supported"
    );
    assert_eq!(
        refused(reason(0xC0, 8, 4, None)),
        "CMYK JPEG is not supported (4 components)"
    );
    assert_eq!(
        refused(reason(0xC0, 8, 4, Some(2))),
        "CMYK (YCCK) JPEG is not supported (4 components)"
    );
    // Greyscale is read, with one channel.
    assert_eq!(reason(0xC0, 8, 1, None), Ok(()));
    assert!(refused(reason(0xC0, 9, 3, None)).contains("JPEG header is damaged"));
}

/// An "Adobe" APP14 segment too short for its colour transform is
/// renamed APP15 for the decoder (libjpeg ignores it; zune-jpeg refuses).
#[test]
fn short_adobe_segments_become_app15() {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend(segment(0xEE, b"Adobe\x00\x64\x40\x00\x00\x00"));
    let full = segment(0xEE, &[b'A', b'd', b'o', b'b', b'e', 0, 100, 0, 0, 0, 0, 1]);
    jpeg.extend(&full);
    jpeg.extend(frame(0xC0, 8, 3));
    let renamed = without_short_adobe_segments(&jpeg);
    assert_eq!(renamed[3], 0xEF, "the short one");
    assert_eq!(renamed[2 + 4 + 11 + 1], 0xEE, "the full one stays");
    assert_eq!(renamed.len(), jpeg.len());
}

/// Regression guard (issue 12): zune-jpeg's messages came quoted or not
/// by their kind ("cannot decode: \"Bad Huffman Code ...\""), and with
/// its internal words.
#[test]
fn decoder_errors_read_alike_without_quotes() {
    let texts = [
        decode_error(
            DecodeErrors::Format("Bad Huffman Code 0xEE89, corrupt JPEG".into()),
            Stage::Data,
        ),
        decode_error(
            DecodeErrors::FormatStatic("[strict-mode]: Extra bytes between headers"),
            Stage::Headers,
        ),
        decode_error(
            DecodeErrors::HuffmanDecode("Bad Huffman Table".into()),
            Stage::Data,
        ),
        decode_error(DecodeErrors::ExhaustedData, Stage::Data),
    ]
    .map(|r| r.to_string());
    assert_eq!(
        texts[0],
        "cannot decode: damaged image data (bad Huffman Code 0xEE89)"
    );
    assert_eq!(
        texts[1],
        "cannot decode: damaged or unusual header (extra bytes between headers)"
    );
    assert_eq!(
        texts[3],
        "cannot decode: the image data ends early (truncated?)"
    );
    for t in &texts {
        assert!(!t.contains('"') && !t.contains("strict-mode"), "{t}");
    }
}
