//! The sensor physics checked against independent computations on the raw frames: hot excess
//! is rate x t x ISO/100 with t and ISO read back from the JPEG's EXIF, warm offsets are
//! constant, stuck and dead photosites are pinned, blinking ones are on in the frames the truth
//! says, and the noise on a flat field grows with ISO as the stated model says.

mod common;
use common::*;

use std::fs;

use hotpix_synth::{
    self as synth, ConditionMix, DefectKind, KindCounts, RawFrame, Renderer, SceneMode, SeriesSpec,
    StuckLevel, Truth,
};

const FULL: f64 = 4095.0;

/// A varied series of every condition with many singles of one kind.
fn series_of(kind: KindCounts, seed: u64) -> (tempfile::TempDir, Truth, Renderer) {
    let mut spec = SeriesSpec::new(192, 144, 8, seed);
    // Every condition, so exposure times span 1/4000 s to 30 s.
    spec.conditions = ConditionMix {
        daylight: 1.0,
        clipped_sky: 1.0,
        indoor: 1.0,
        night: 1.0,
        night_sky: 0.0,
    };
    spec.defects.singles = kind;
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    let renderer = Renderer::new(&truth.spec);
    (dir, truth, renderer)
}

fn raw_pair(r: &Renderer, truth: &Truth, i: usize) -> (RawFrame, RawFrame) {
    (r.raw(&truth.defects, i), r.raw(&[], i))
}

#[test]
fn hot_excess_is_rate_times_exposure_times_gain() {
    let (dir, truth, r) = series_of(
        KindCounts {
            hot: 12,
            ..KindCounts::default()
        },
        31,
    );
    let (mut residuals, mut long, mut short) = (Vec::new(), 0, 0);
    for (i, file) in truth.files.iter().enumerate() {
        let ((num, den), iso) = exif_exposure_iso(&fs::read(dir.path().join(file)).unwrap());
        let (t, g) = (f64::from(num) / f64::from(den), f64::from(iso) / 100.0);
        let (with, without) = raw_pair(&r, &truth, i);
        for (group, p) in truth.photosites() {
            assert_eq!(group.kind, DefectKind::Hot);
            let excess = f64::from(p.rate.unwrap()) * t * g;
            let clean = f64::from(without.at(p.x, p.y)) / FULL;
            let got = f64::from(with.at(p.x, p.y)) / FULL;
            if clean + excess > 1.05 {
                assert_eq!(with.at(p.x, p.y), 4095, "clips at full scale");
                continue;
            }
            // Near full scale the sum may clip; at 0 the clean value was clipped at black.
            if clean + excess >= 0.98 || without.at(p.x, p.y) == 0 {
                continue;
            }
            // The hot charge brings its own shot noise; the noise draw is shared, so the
            // difference from the prediction is bounded by the bounded Gaussian's reach.
            let extra_sigma = (excess * g / 40_000.0).sqrt();
            let bound = f64::from(synth::NOISE_BOUND_SIGMAS) * extra_sigma + 1.0 / FULL;
            let residual = got - (clean + excess);
            assert!(
                residual.abs() <= bound,
                "frame {i} {p:?}: t {t} ISO {iso}: excess {excess:.5} got {:.5}",
                got - clean
            );
            residuals.push(residual);
            if t >= 1.0 {
                long += 1;
                assert!(excess >= 0.02 * g * 0.99, "glaring at 1 s");
            }
            if t <= 1.0 / 1000.0 {
                short += 1;
                assert!(
                    got - clean <= 2.5 / FULL + extra_sigma * 4.0,
                    "invisible at 1/1000 s"
                );
            }
        }
    }
    // The residuals are the hot charge's own shot noise: centred on 0.
    let (mean, sd) = mean_sd(&residuals);
    let n = residuals.len() as f64;
    assert!(
        mean.abs() <= 3.0 * sd / n.sqrt() + 0.5 / FULL,
        "mean residual {mean} (sd {sd}, n {n})"
    );
    assert!(long > 0 && short > 0, "long {long} short {short}");
}

#[test]
fn warm_offset_is_constant_and_blinking_follows_its_frames() {
    let (_dir, truth, r) = series_of(
        KindCounts {
            warm: 8,
            blinking: 8,
            ..KindCounts::default()
        },
        32,
    );
    let mut seen_off = 0;
    for i in 0..truth.frames {
        let (with, without) = raw_pair(&r, &truth, i);
        for (group, p) in truth.photosites() {
            let (a, b) = (with.at(p.x, p.y), without.at(p.x, p.y));
            let offset = f64::from(p.offset.unwrap()) * FULL;
            let on =
                group.kind == DefectKind::Warm || group.on_frames.as_ref().unwrap().contains(&i);
            if !on {
                assert_eq!(a, b, "{group:?} is off in frame {i}");
                seen_off += 1;
            } else if f64::from(b) + offset < FULL - 1.0 {
                let diff = f64::from(a) - f64::from(b);
                assert!(
                    (diff - offset).abs() <= 1.0,
                    "frame {i} {p:?}: {diff} vs {offset}"
                );
            } else {
                assert_eq!(a, 4095);
            }
        }
    }
    assert!(seen_off > 0);
    for g in &truth.defects {
        if let (Some(p), Some(on)) = (g.on_probability, &g.on_frames) {
            assert!((0.3..=0.7).contains(&p));
            assert!(on.iter().all(|&f| f < truth.frames));
        }
    }
}

#[test]
fn stuck_and_dead_photosites_are_pinned() {
    let (_dir, truth, r) = series_of(
        KindCounts {
            stuck_high: 4,
            stuck_mid: 4,
            dead: 4,
            ..KindCounts::default()
        },
        33,
    );
    for i in 0..truth.frames {
        let raw = r.raw(&truth.defects, i);
        for (group, p) in truth.photosites() {
            let want = match (group.kind, group.stuck) {
                (DefectKind::Dead, _) => 0,
                (DefectKind::Stuck, Some(StuckLevel::High)) => {
                    assert_eq!(p.level, Some(1.0));
                    4095
                }
                (DefectKind::Stuck, Some(StuckLevel::Mid)) => {
                    let l = f64::from(p.level.unwrap());
                    assert!((0.15..=0.7).contains(&l));
                    (l * FULL).round() as u16
                }
                other => panic!("{other:?}"),
            };
            assert_eq!(raw.at(p.x, p.y), want, "frame {i} {p:?}");
        }
    }
}

/// The model's noise (FS) at signal `s` and gain `g`, written out here from the stated
/// physics: Poisson shot noise with a 40,000 e- full well at ISO 100, read noise
/// 3 + 5/g e- before the gain, 0.6 counts of ADC noise after it, 0.5% PRNU and the
/// quantisation of a 12-bit converter.
fn model_sigma(s: f64, g: f64) -> f64 {
    let shot = s * g / 40_000.0;
    let read = (3.0 + 5.0 / g) * g / 40_000.0;
    let adc = 0.6 / FULL;
    let prnu = 0.005 * s;
    (shot + read * read + adc * adc + prnu * prnu + 1.0 / (12.0 * FULL * FULL)).sqrt()
}

#[test]
fn flat_field_noise_grows_with_iso_as_modelled() {
    let mut sigmas = Vec::new();
    for iso in [100, 400, 1600, 6400] {
        let mut spec = SeriesSpec::new(256, 192, 1, 40 + iso as u64);
        spec.scene = SceneMode::Flat;
        // Exposed to about 10% of full scale, well clear of the black clip at any ISO.
        spec.conditions = "daylight".parse().unwrap();
        spec.iso = Some([iso, iso]);
        // No lens falloff, so a patch is flat and its spread is noise alone.
        spec.sensor.vignetting = 0.0;
        let r = Renderer::new(&spec);
        let raw = r.raw(&[], 0);
        assert_eq!(r.shot(0).iso, iso);
        // Green photosites of a 96x96 patch in the middle.
        let values: Vec<f64> = (48..144u32)
            .flat_map(|y| (80..176u32).map(move |x| (x, y)))
            .filter(|&(x, y)| (x + y) % 2 == 1)
            .map(|(x, y)| f64::from(raw.at(x, y)) / FULL)
            .collect();
        let (mean, sd) = mean_sd(&values);
        let want = model_sigma(mean, f64::from(iso) / 100.0);
        assert!(
            (sd / want - 1.0).abs() < 0.08,
            "ISO {iso}: measured sigma {sd:.6} at {mean:.4} FS, model {want:.6}"
        );
        sigmas.push((mean, sd));
    }
    // At about the same signal, 6 stops of gain make the noise 6..8x larger (shot noise
    // alone would give 8x; PRNU does not grow with gain).
    let ratio = (sigmas[3].1 / sigmas[3].0.sqrt()) / (sigmas[0].1 / sigmas[0].0.sqrt());
    assert!((6.0..8.6).contains(&ratio), "{ratio}");
    assert!(sigmas.windows(2).all(|w| w[1].1 > w[0].1), "{sigmas:?}");
}

#[test]
fn noise_never_exceeds_its_bound() {
    // The Irwin-Hall draw reaches 3.46 sigma at most: on a flat field without PRNU or
    // vignetting no photosite strays further, so noise alone never fakes a defect.
    let mut spec = SeriesSpec::new(128, 96, 1, 77);
    spec.scene = SceneMode::Flat;
    spec.iso = Some([3200, 3200]);
    spec.sensor.vignetting = 0.0;
    spec.sensor.prnu = 0.0;
    let raw = Renderer::new(&spec).raw(&[], 0);
    let values: Vec<f64> = raw
        .data
        .iter()
        .enumerate()
        .filter(|(i, _)| (i % 128 + i / 128) % 2 == 1)
        .map(|(_, &v)| f64::from(v) / FULL)
        .collect();
    let (mean, _) = mean_sd(&values);
    let sigma = model_sigma(mean, 32.0);
    let worst = values.iter().map(|v| (v - mean).abs()).fold(0.0, f64::max);
    assert!(
        worst <= 3.5 * sigma + 1.0 / FULL,
        "{worst} vs sigma {sigma}"
    );
}
