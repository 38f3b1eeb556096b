//! Every file of `../shared/jpeg-corpus` (67 valid JPEGs of every encoding,
//! 52 broken ones): none makes hotpix panic or hang, memory stays bounded,
//! and each is either used or refused with a reason a person understands.
//! Each file's outcome is listed below, so that any change is seen.
//!
//! A run uses frames of one size, so files are taken one by one through the
//! library's probe and decoder (what `find` does to each frame), and whole
//! folders through the binary, which must name every file it does not use.
//! Skipped with a message when `../shared/jpeg-corpus` is absent.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hotpix::decode::{probe, FrameDecoder, DEFAULT_MAX_MEGAPIXELS};

/// What hotpix makes of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Decoded: usable in a series of its size.
    Used,
    /// Refused with a reason that starts with this.
    Refused(&'static str),
}
use Expect::{Refused, Used};

/// Every file of the corpus and what becomes of it.
const EXPECTED: &[(&str, &str, Expect)] = &[
    ("valid", "exiv2_canon_6d_bug876.jpg", Used),
    ("valid", "exiv2_sony_D5803.jpg", Used),
    ("valid", "exs_canon_sx60_hdr_NO.jpg", Used),
    ("valid", "exs_casio_35-empty.jpg", Used),
    ("valid", "exs_fujifilm-mx1700.jpg", Used),
    ("valid", "exs_iphone6_hdr_NO.jpg", Used),
    ("valid", "exs_jolla.jpg", Used),
    ("valid", "exs_kodak-dc210.jpg", Used),
    ("valid", "exs_nikon-e950.jpg", Used),
    ("valid", "exs_nikon_d70s_87_OSError.jpg", Used),
    ("valid", "exs_olympus-d320l.jpg", Used),
    ("valid", "exs_reconyx_trailcam.jpg", Used),
    ("valid", "exs_ricoh-rdc5300.jpg", Used),
    ("valid", "exs_samsung_67-0_length_string.jpg", Used),
    ("valid", "exs_sony-d700.jpg", Used),
    ("valid", "img_progressive_cat.jpg", Used),
    ("valid", "jd_16bit-qtables.jpg", Used),
    ("valid", "jd_extraneous-data.jpg", Used),
    ("valid", "jd_grayscale_1000x1.jpg", Used),
    ("valid", "jd_grayscale_1x1000.jpg", Used),
    (
        "valid",
        "jd_lossless_8bit.jpg",
        Refused("lossless JPEG is not supported"),
    ),
    (
        "valid",
        "jd_lossless_MR4_12bit.jpg",
        Refused("lossless JPEG is not supported"),
    ),
    ("valid", "jd_mjpeg.jpg", Used),
    (
        "valid",
        "jd_mozilla_cmyk-1.jpg",
        Refused("CMYK JPEG is not supported (4 components)"),
    ),
    (
        "valid",
        "jd_mozilla_cmyk-2.jpg",
        Refused("CMYK JPEG is not supported (4 components)"),
    ),
    ("valid", "jd_mozilla_gray.jpg", Used),
    ("valid", "jd_mozilla_progressive.jpg", Used),
    ("valid", "jd_mozilla_size-17x17.jpg", Used),
    ("valid", "jd_mozilla_size-1x1.jpg", Used),
    ("valid", "jd_mozilla_srgb-icc.jpg", Used),
    ("valid", "jd_non-interleaved-mcu.jpg", Used),
    ("valid", "jd_partial_progressive.jpg", Used),
    ("valid", "jd_restarts.jpg", Used),
    ("valid", "jd_rgb_adobe0.jpg", Used),
    (
        "valid",
        "jd_ycck.jpg",
        Refused("CMYK (YCCK) JPEG is not supported (4 components)"),
    ),
    ("valid", "jsjpeg_black-6000x6000.jpg", Used),
    (
        "valid",
        "jsjpeg_cmyk-grey_progressive.jpg",
        Refused("CMYK (YCCK) JPEG is not supported (4 components)"),
    ),
    ("valid", "jsjpeg_fillbytes.jpg", Used),
    ("valid", "jsjpeg_marker-ffdc-dnl.jpg", Used),
    ("valid", "jsjpeg_redbox-trailing-bytes.jpg", Used),
    ("valid", "jsjpeg_table-with-bad-e1.jpg", Used),
    (
        "valid",
        "jsjpeg_tree-cmyk-notransform.jpg",
        Refused("CMYK JPEG is not supported (4 components)"),
    ),
    ("valid", "jsjpeg_truecolor_adobe0.jpg", Used),
    ("valid", "jsjpeg_unconventional-table.jpg", Used),
    (
        "valid",
        "ljt_monkey12.jpg",
        Refused("12-bit JPEG is not supported (only 8-bit)"),
    ),
    (
        "valid",
        "ljt_testimgari.jpg",
        Refused("arithmetic-coded JPEG is not supported"),
    ),
    ("valid", "ljt_testorig.jpg", Used),
    ("valid", "pil_exif-ifd-offset.jpg", Used),
    ("valid", "pil_frozenpond_3ds.mpo", Used),
    ("valid", "pil_icc-after-SOF.jpg", Used),
    ("valid", "pil_invalid-exif.jpg", Used),
    ("valid", "pil_junk_jpeg_header.jpg", Used),
    ("valid", "pil_multiple_exif.jpg", Used),
    ("valid", "pil_photoshop-200dpi-broken.jpg", Used),
    ("valid", "pil_truncated_app14.jpg", Used),
    ("valid", "zune_440_2500x1786.jpg", Used),
    ("valid", "zune_440_7680x4320.jpg", Used),
    ("valid", "zune_fill_bytes_before_marker.jpg", Used),
    (
        "valid",
        "zune_four_components_ycck.jpg",
        Refused("CMYK (YCCK) JPEG is not supported (4 components)"),
    ),
    ("valid", "zune_fox410.jpg", Used),
    ("valid", "zune_gray_progressive.jpg", Used),
    ("valid", "zune_huffman_third_index.jpg", Used),
    ("valid", "zune_huge_sof_number.jpg", Used),
    ("valid", "zune_mjpeg_huffman.jpg", Used),
    ("valid", "zune_non_interleaved_422.jpg", Used),
    ("valid", "zune_sampling_factors.jpg", Used),
    ("valid", "zune_weird_sampling_rgb.jpeg", Used),
    (
        "broken",
        "exiv2_1-string-format.jpg",
        Refused("JPEG header is damaged: file ends inside the header"),
    ),
    (
        "broken",
        "exiv2_bug1247_17bytes.jpg",
        Refused("JPEG header is damaged: file ends inside the header"),
    ),
    (
        "broken",
        "exiv2_crash-23eba73b.jpg",
        Refused("not a JPEG file"),
    ),
    (
        "broken",
        "exiv2_ghsa_hrw9_poc.jpg",
        Refused("not a JPEG file"),
    ),
    (
        "broken",
        "exiv2_issue_1833_poc.jpg",
        Refused("JPEG header is damaged: frame header says 90-bit samples (JPEG has 8 or 12)"),
    ),
    (
        "broken",
        "exiv2_pentax_metadata_only.jpg",
        Refused("JPEG header is damaged: file ends inside the header"),
    ),
    (
        "broken",
        "exiv2_sigma_truncated_issue_3455.jpg",
        Refused("cannot decode: the image data ends early (truncated?)"),
    ),
    (
        "broken",
        "exiv2_table_no_sof.jpg",
        Refused("JPEG header is damaged: image ends before a frame header"),
    ),
    (
        "broken",
        "exiv2_test_issue_1472.jpg",
        Refused("not a JPEG file"),
    ),
    (
        "broken",
        "img_oss-fuzz-36829.jpeg",
        Refused("cannot decode: damaged frame header"),
    ),
    ("broken", "jd_afl_1byte.jpg", Refused("not a JPEG file")),
    (
        "broken",
        "jd_afl_49184x48.jpg",
        Refused("cannot decode: damaged quantisation table"),
    ),
    (
        "broken",
        "jd_afl_61472x32800.jpg",
        Refused("header claims 61472x32800, over the limit of 200 megapixels"),
    ),
    (
        "broken",
        "jd_afl_88x1952_ok.jpg",
        Refused("cannot decode: damaged image data"),
    ),
    (
        "broken",
        "jd_afl_cmyk_odd_sampling.jpg",
        Refused("CMYK JPEG is not supported (4 components)"),
    ),
    ("broken", "jd_dc-predictor-overflow.jpg", Used),
    (
        "broken",
        "jd_derive-huffman-codes-overflow.jpg",
        Refused("cannot decode: damaged Huffman table"),
    ),
    ("broken", "jd_empty.jpg", Refused("empty file (0 bytes)")),
    (
        "broken",
        "jd_invalid-dimensions.jpg",
        Refused("JPEG header is damaged: frame header says 3360x0"),
    ),
    (
        "broken",
        "jd_invalid-prediction-shift.jpg",
        Refused("lossless JPEG is not supported"),
    ),
    (
        "broken",
        "jd_its_159bit.jpg",
        Refused("JPEG header is damaged: frame header says 159-bit samples (JPEG has 8 or 12)"),
    ),
    (
        "broken",
        "jd_its_2820x3077_613b.jpg",
        Refused("cannot decode: damaged quantisation table"),
    ),
    (
        "broken",
        "jd_its_5x27397.jpg",
        Refused("cannot decode: the image data ends early (truncated?)"),
    ),
    (
        "broken",
        "jd_its_9bit.jpg",
        Refused("JPEG header is damaged: frame header says 9-bit samples (JPEG has 8 or 12)"),
    ),
    (
        "broken",
        "jd_its_chroma_14x5.jpg",
        Refused("cannot decode: damaged or unusual header"),
    ),
    (
        "broken",
        "jd_its_cmyk_bad.jpg",
        Refused("CMYK JPEG is not supported (4 components)"),
    ),
    (
        "broken",
        "jd_its_cmyk_no_eoi_ok.jpg",
        Refused("CMYK JPEG is not supported (4 components)"),
    ),
    (
        "broken",
        "jd_its_garbage_sof_74bit.jpg",
        Refused("JPEG header is damaged: frame header says 74-bit samples (JPEG has 8 or 12)"),
    ),
    (
        "broken",
        "jd_its_luma_4x4.jpg",
        Refused("cannot decode: damaged frame header"),
    ),
    ("broken", "jd_its_no_soi.jpg", Refused("not a JPEG file")),
    (
        "broken",
        "jd_its_tall_193x31237.jpg",
        Refused("cannot decode: damaged image data"),
    ),
    (
        "broken",
        "jd_its_truncated_gray_prog.jpg",
        Refused("cannot decode: damaged image data"),
    ),
    (
        "broken",
        "jd_max_size_65535.jpg",
        Refused("header claims 65535x65535, over the limit of 200 megapixels"),
    ),
    (
        "broken",
        "jd_missing-frame-image-1410.jpg",
        Refused("JPEG header is damaged: image ends before a frame header"),
    ),
    (
        "broken",
        "jd_missing-sof.jpg",
        Refused("JPEG header is damaged: file ends inside the header"),
    ),
    (
        "broken",
        "jd_missing-sos.jpg",
        Refused("cannot decode: damaged or unusual header"),
    ),
    ("broken", "jd_multiple-0xff-before-eoi.jpg", Used),
    (
        "broken",
        "jd_null_height.jpg",
        Refused("JPEG header is damaged: frame header says 0x800"),
    ),
    (
        "broken",
        "jd_png_named_jpg_6x6.jpg",
        Refused("not a JPEG file"),
    ),
    ("broken", "jd_progressive-missing-ac.jpg", Used),
    ("broken", "jd_progressive-missing-dc.jpg", Used),
    ("broken", "jd_scanner_extraneous-bytes-after-sos.jpg", Used),
    (
        "broken",
        "jd_subtract-with-overflow.jpg",
        Refused("cannot decode: damaged image data"),
    ),
    ("broken", "pil_sugarshack_no_data.mpo", Used),
    (
        "broken",
        "pil_truncated_jpeg.jpg",
        Refused("cannot decode: the image data ends early (truncated?)"),
    ),
    (
        "broken",
        "pil_ultrahdr_pixel6_truncated.jpg",
        Refused("cannot decode: the image data ends early (truncated?)"),
    ),
    (
        "broken",
        "zune_incomplete_3840x2160.jpg",
        Refused("cannot decode: the image data ends early (truncated?)"),
    ),
    (
        "broken",
        "zune_issue256.jpg",
        Refused("cannot decode: damaged image data"),
    ),
    (
        "broken",
        "zune_issue389.jpg",
        Refused("cannot decode: damaged or unusual header"),
    ),
    (
        "broken",
        "zune_neg_x.jpg",
        Refused("cannot decode: damaged or unusual header"),
    ),
    ("broken", "zune_re_3x28.jpg", Used),
    (
        "broken",
        "zune_small-img_8x8192.jpg",
        Refused("cannot decode: damaged image data"),
    ),
];

/// No file may take longer than this through probe and decoder.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Peak memory of this test process: the largest valid frame is 7680x4320
/// (100 MB of RGB); a header claiming more than `--max-megapixels` is
/// refused before anything is allocated for it.
const MEMORY_LIMIT_KB: u64 = 1 << 20;

fn corpus() -> Option<PathBuf> {
    let dir = common::repo().join("../shared/jpeg-corpus");
    if dir.join("valid").is_dir() && dir.join("broken").is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

/// Every file of a corpus folder, manifest aside.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "manifest.tsv"))
        .collect();
    files.sort();
    files
}

/// What `find` does to one frame: probe the header, then decode strictly.
fn outcome(path: &Path) -> Result<(), String> {
    let header = probe(path, DEFAULT_MAX_MEGAPIXELS).map_err(|e| e.to_string())?;
    FrameDecoder::new(header.width, header.height, usize::from(header.components))
        .map_err(|e| e.to_string())?
        .decode(path)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A reason a person understands: no decoder internals, no debug quoting.
fn plain(reason: &str) -> bool {
    ![
        "\"",
        "::",
        "Error",
        "strict-mode",
        "Some(",
        "Unsupported",
        "Zip",
        "zune",
    ]
    .iter()
    .any(|w| reason.contains(w))
}

#[test]
fn every_file_is_used_or_refused_plainly_in_time_and_memory() {
    let Some(corpus) = corpus() else { return };
    let mut seen = Vec::new();
    let mut wrong = Vec::new();
    let mut tally: std::collections::BTreeMap<String, usize> = Default::default();
    for folder in ["valid", "broken"] {
        for path in files(&corpus.join(folder)) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let expected = EXPECTED
                .iter()
                .find(|(f, n, _)| *f == folder && *n == name)
                .map(|e| e.2)
                .unwrap_or_else(|| panic!("{folder}/{name} is not in EXPECTED"));
            seen.push((folder, name.clone()));
            let (tx, rx) = mpsc::channel();
            let p = path.clone();
            let started = Instant::now();
            // A panic ends the thread and closes the channel: reported below.
            std::thread::spawn(move || tx.send(outcome(&p)).unwrap());
            let got = match rx.recv_timeout(TIME_LIMIT) {
                Ok(got) => got,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{folder}/{name}: no answer in {TIME_LIMIT:?} (a hang?)")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{folder}/{name}: panicked"),
            };
            let ok = match (&got, expected) {
                (Ok(()), Used) => true,
                (Err(reason), Refused(start)) => reason.starts_with(start) && plain(reason),
                _ => false,
            };
            if !ok {
                wrong.push(format!(
                    "{folder}/{name}: expected {expected:?}, got {got:?}"
                ));
            }
            let category = match &got {
                Ok(()) => "used".to_string(),
                Err(r) if r.starts_with("header claims") => "over --max-megapixels".to_string(),
                Err(r) => {
                    let head = r.split(':').next().unwrap_or(r);
                    head.rsplit_once(" (")
                        .filter(|_| head.ends_with(')'))
                        .map_or(head, |(h, _)| h)
                        .to_string()
                }
            };
            *tally.entry(format!("{folder}: {category}")).or_default() += 1;
            assert!(started.elapsed() < TIME_LIMIT);
        }
    }
    for (category, n) in &tally {
        eprintln!("{n:>3}  {category}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        seen.len(),
        EXPECTED.len(),
        "EXPECTED lists files the corpus lacks"
    );
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let peak: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/self/status");
        assert!(peak < MEMORY_LIMIT_KB, "peak memory {peak} kB");
    }
}

/// The manifest's verdicts, read independently of EXPECTED: every valid file
/// that libjpeg-turbo decodes and that is 8-bit (colour or greyscale),
/// Huffman coded and not lossless must be used.
#[test]
fn every_8bit_file_libjpeg_decodes_is_used() {
    let Some(corpus) = corpus() else { return };
    let manifest = std::fs::read_to_string(corpus.join("valid/manifest.tsv")).unwrap();
    let mut checked = 0;
    for line in manifest.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, encoding, verdict) = (fields[0], fields[3], fields[5]);
        let not_ours = ["CMYK", "YCCK", "12-bit", "arith", "lossless"];
        if !verdict.starts_with("OK") || not_ours.iter().any(|w| encoding.contains(w)) {
            continue;
        }
        checked += 1;
        assert_eq!(
            outcome(&corpus.join("valid").join(name)),
            Ok(()),
            "{name} ({encoding})"
        );
    }
    assert!(checked >= 50, "only {checked} files checked");
}

/// Runs the binary with a time limit and (on Unix) an address-space limit.
fn hotpix(dir: &Path, args: &[&str]) -> common::Run {
    use std::process::{Command, Stdio};
    let mut command = if cfg!(unix) {
        // 4 GB of address space: a few workers' stacks and allocator arenas
        // and the statistics of the largest frame tried, not a header's claim.
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("ulimit -v 4000000 && exec \"$0\" \"$@\"")
            .arg(common::bin())
            .args(args);
        c
    } else {
        let mut c = Command::new(common::bin());
        c.args(args);
        c
    };
    let mut child = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(300) {
            child.kill().unwrap();
            panic!("hotpix {args:?} did not finish in 300 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    common::Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Whole folders through the binary: every file is counted in the state or
/// named on stderr with the reason the library gives for it (or, for a
/// usable frame of another size, that size).
#[test]
fn whole_folders_name_every_file_they_do_not_use() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for folder in ["valid", "broken"] {
        let dir = corpus.join(folder);
        let state = tmp.path().join(format!("{folder}.npz"));
        // The folder gives its .jpg/.jpeg files; the others (.mpo) are named.
        let others: Vec<String> = files(&dir)
            .into_iter()
            .filter(|p| !p.extension().is_some_and(|e| e == "jpg" || e == "jpeg"))
            .map(|p| p.display().to_string())
            .collect();
        let mut args = vec![
            "find",
            "-j",
            "2",
            "--mixed-cameras",
            "-o",
            "/dev/null",
            "--save",
            state.to_str().unwrap(),
            dir.to_str().unwrap(),
        ];
        args.extend(others.iter().map(String::as_str));
        let r = hotpix(tmp.path(), &args);
        assert_eq!(r.code, 0, "{folder}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        let counted: Vec<PathBuf> = hotpix::state::State::load(&state)
            .unwrap()
            .frames
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert!(counted.len() >= 2, "{folder}: {counted:?}");
        for path in files(&dir) {
            if counted.contains(&path) {
                assert_eq!(outcome(&path), Ok(()), "{}", path.display());
                continue;
            }
            let line = r
                .stderr
                .lines()
                .find(|l| l.starts_with(&format!("hotpix: skipped {}: ", path.display())))
                .unwrap_or_else(|| {
                    panic!(
                        "{} is neither used nor named:\n{}",
                        path.display(),
                        r.stderr
                    )
                });
            let reason = line.split_once(": ").unwrap().1.split_once(": ").unwrap().1;
            // Refused by the probe: for the same reason. Past the probe: of
            // another size than the series (told before decoding), or
            // refused by the decoder for the same reason.
            match (probe(&path, DEFAULT_MAX_MEGAPIXELS), outcome(&path)) {
                (Err(e), _) => assert_eq!(reason, e.to_string(), "{}", path.display()),
                (Ok(_), Err(e)) if reason == e => {}
                (Ok(_), _) => assert!(
                    reason.starts_with("frame is ") || reason.starts_with("same content as"),
                    "{}: {reason}",
                    path.display()
                ),
            }
            assert!(plain(reason), "{reason}");
        }
    }
}
