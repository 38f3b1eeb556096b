use super::*;
use crate::camera::FrameMeta;
use crate::evidence::dark_weight;
use crate::similarity::THUMBNAIL_LEN;
use crate::stats::{Field, Stats};
use rand::{RngExt, SeedableRng};
use std::io::{Cursor, Read, Write};
use zip::write::SimpleFileOptions;

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
            tiles: (0..crate::similarity::TileGrid::of(w, h).len() * crate::similarity::TILE_WORDS)
                .map(|_| rng.random())
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

/// Members are deflated on as many threads as the pool has, each on its
/// own: the file is the same bytes for any number of threads.
#[test]
fn the_file_is_the_same_for_any_number_of_threads() {
    let state = random_state(4, 64, 40, 5);
    let with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| bytes_of(&state))
    };
    let one = with(1);
    for threads in [2, 3, 8] {
        assert!(with(threads) == one, "{threads} threads");
    }
    assert_eq!(read(&one).unwrap(), state);
    let mut zip = zip::ZipArchive::new(Cursor::new(&one)).unwrap();
    for k in 0..zip.len() {
        let member = zip.by_index(k).unwrap();
        assert_eq!(member.compression(), zip::CompressionMethod::Deflated);
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
    // Most of the file is checked data; only zip bookkeeping (timestamps and
    // "version made by" in the 12 members' headers, a sixth of this small
    // file) may be ignored.
    assert!(
        harmless * 6 < bytes.len() * 3,
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
    let newer = with_meta(&bytes, |m| {
        m["format_version"] = (FORMAT_VERSION + 1).into()
    });
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
    let edit = |s: &State, f: &dyn Fn(&mut Stats)| {
        let mut s = s.clone();
        f(&mut s.stats);
        s
    };
    // The Welford form's floats, through a wide copy of the statistics.
    let float = |s: &State, field: Field, i: usize, v: f32| {
        edit(s, &|st| {
            let mut wide = Stats::zeroed(st.frames, st.layout(), false).unwrap();
            for f in [Field::Mean, Field::M2] {
                for (k, &x) in st.floats(f).iter().enumerate() {
                    wide.set_float(f, k, if f == field && k == i { v } else { x });
                }
            }
            for (k, _) in crate::evidence::MEMBERS.iter().enumerate() {
                let values: Vec<i64> = st.ints(Field::Evidence(k)).collect();
                for (j, &x) in values.iter().enumerate() {
                    wide.set_int(Field::Evidence(k), j, x);
                }
            }
            *st = wide;
        })
    };
    let int = |s: &State, field: Field, i: usize, v: i64| edit(s, &|st| st.set_int(field, i, v));
    let bad = [
        float(&welford, Field::M2, 5, f32::NAN),
        float(&welford, Field::M2, 6, -1.0),
        float(&welford, Field::Mean, 0, 300.0),
        // Σx of two 8-bit values above 510.
        int(&exact, Field::Sum, 0, 511),
        // A negative variance: n Σx² < (Σx)².
        edit(&exact, &|st| {
            st.set_int(Field::Sum, 3, 200);
            st.set_int(Field::SumSq, 3, 100);
        }),
        // Σ excess beyond what 2 frames add.
        int(&exact, Field::Evidence(0), 1, 255),
        // Seen more often than the frames that could show it.
        edit(&exact, &|st| {
            st.set_int(Field::Evidence(2), 1, 2);
            st.set_int(Field::Evidence(3), 1, 1);
        }),
    ];
    for (k, b) in bad.iter().enumerate() {
        let err = read(&bytes_of(b)).unwrap_err();
        assert!(matches!(err.problem, Problem::Corrupt(_)), "{k}: {err}");
    }
}

#[test]
fn a_state_of_the_earlier_format_is_refused_with_advice() {
    let bytes = bytes_of(&random_state(3, 2, 2, 2));
    let older = with_meta(&bytes, |m| {
        m["format_version"] = (FORMAT_VERSION - 1).into()
    });
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
