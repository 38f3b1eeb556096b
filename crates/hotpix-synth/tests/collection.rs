//! The night collection checked from its files: mostly night frames with night skies among
//! them, and hand-held night bursts whose frames each have their own settings (EXIF), a
//! brightness a stop or more apart, about a photosite of jitter, and thumbnails that mostly
//! correlate below a "same view" threshold of 0.98.

mod common;
use common::*;

use std::fs;
use std::io::Cursor;

use exif::{In, Tag};
use hotpix_synth::{self as synth, Condition, Preset, SeriesSpec};

/// 16x12 block means of the sum of the channels (independent of the detector's own).
fn thumbnail(px: &[u8], w: usize, h: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(192);
    for gy in 0..12 {
        for gx in 0..16 {
            let (x0, x1) = (gx * w / 16, (gx + 1) * w / 16);
            let (y0, y1) = (gy * h / 12, (gy + 1) * h / 12);
            let mut sum = 0.0;
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += px[(y * w + x) * 3..][..3]
                        .iter()
                        .map(|&v| f64::from(v))
                        .sum::<f64>();
                }
            }
            out.push(sum / ((x1 - x0) * (y1 - y0)) as f64);
        }
    }
    out
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, _) = mean_sd(a);
    let (mb, _) = mean_sd(b);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    ab / (aa * bb).sqrt()
}

fn f_number(jpeg: &[u8]) -> Option<(u32, u32)> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(jpeg))
        .unwrap();
    match &exif.get_field(Tag::FNumber, In::PRIMARY)?.value {
        exif::Value::Rational(r) => Some((r[0].num, r[0].denom)),
        other => panic!("FNumber {other:?}"),
    }
}

#[test]
fn a_night_collection_has_hand_held_bursts_with_their_own_settings() {
    let (mut pairs, mut below) = (0, 0);
    for seed in [1, 2] {
        let spec = SeriesSpec::preset(Preset::NightCollection, 320, 240, 24, seed);
        let dir = tempfile::tempdir().unwrap();
        let truth = synth::write_series(&spec, dir.path()).unwrap();
        let shots = &truth.shots;
        let night = shots
            .iter()
            .filter(|s| matches!(s.condition, Condition::Night | Condition::NightSky))
            .count();
        assert!(
            (12..=19).contains(&night),
            "seed {seed}: {night} night frames of 24"
        );
        assert!(shots.iter().any(|s| s.condition == Condition::NightSky));
        // Bursts: runs of consecutive frames of one view.
        let mut bursts: Vec<Vec<usize>> = Vec::new();
        for (i, s) in shots.iter().enumerate() {
            match bursts.last_mut() {
                Some(b) if shots[b[0]].view == s.view => b.push(i),
                _ => bursts.push(vec![i]),
            }
        }
        bursts.retain(|b| b.len() > 1);
        assert_eq!(bursts.len(), 3, "seed {seed}: {bursts:?}");
        for b in &bursts {
            assert!((3..=5).contains(&b.len()), "{b:?}");
            let jpegs: Vec<Vec<u8>> = b
                .iter()
                .map(|&i| fs::read(dir.path().join(&shots[i].file)).unwrap())
                .collect();
            let settings: Vec<_> = jpegs
                .iter()
                .map(|j| (exif_exposure_iso(j), f_number(j).expect("FNumber")))
                .collect();
            let thumbs: Vec<Vec<f64>> = jpegs
                .iter()
                .map(|j| thumbnail(&decode(j).unwrap().2, 320, 240))
                .collect();
            for (k, &i) in b.iter().enumerate() {
                let s = &shots[i];
                assert!(s.burst && s.condition == Condition::Night);
                let first = &shots[b[0]];
                assert!((s.offset.0 - first.offset.0).abs() <= 1.5);
                assert!((s.offset.1 - first.offset.1).abs() <= 1.5);
                for l in k + 1..b.len() {
                    assert_ne!(settings[k], settings[l], "seed {seed} frames {b:?}");
                    assert_ne!(settings[k].1, settings[l].1, "one aperture twice");
                    // Brightness: the exposure the light meets, a stop or more apart.
                    let ratio = s.exposure_scale / shots[b[l]].exposure_scale;
                    assert!(!(0.6..=1.65).contains(&ratio), "seed {seed}: {ratio}");
                    pairs += 1;
                    if correlation(&thumbs[k], &thumbs[l]) < 0.98 {
                        below += 1;
                    }
                }
            }
        }
    }
    // Measured: 97% of such pairs at 800x600 over ten seeds; the rest are pairs of dark
    // frames whose few lamps dominate both thumbnails.
    assert!(
        below * 10 >= pairs * 8,
        "{below} of {pairs} burst pairs below 0.98"
    );
}
