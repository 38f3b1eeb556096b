//! The textured-warm preset's world checked from the frames: the energy at the scale of a
//! few photosites (each pixel's difference from the mean of the 5x5 block around it) is
//! well above the varied preset's in the same views, and its warm photosites are
//! weak-warm's.

mod common;
use common::*;

use std::fs;

use hotpix_synth::{
    self as synth, Condition, ConditionMix, DefectKind, DefectPlan, Preset, SeriesSpec,
};

/// The median over the frame of |luma - its 5x5 mean|: fine detail, robust to the few
/// strong edges of shapes.
fn fine_detail(jpeg: &[u8]) -> f64 {
    let (w, h, px) = decode(jpeg).unwrap();
    let (w, h) = (w as usize, h as usize);
    let luma: Vec<f64> = px
        .chunks(3)
        .map(|p| p.iter().map(|&v| f64::from(v)).sum())
        .collect();
    let mut d = Vec::with_capacity(w * h);
    for y in 2..h - 2 {
        for x in 2..w - 2 {
            let mut sum = 0.0;
            for j in y - 2..=y + 2 {
                for i in x - 2..=x + 2 {
                    sum += luma[j * w + i];
                }
            }
            d.push((luma[y * w + x] - sum / 25.0).abs());
        }
    }
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

fn series(preset: Preset) -> Vec<Vec<u8>> {
    let mut spec = SeriesSpec::preset(preset, 320, 240, 4, 31);
    spec.defects = DefectPlan::none();
    // Daylight, where photon noise is low and the scene's own detail shows.
    spec.conditions = ConditionMix::only(Condition::Daylight);
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    truth
        .files
        .iter()
        .map(|f| fs::read(dir.path().join(f)).unwrap())
        .collect()
}

#[test]
fn textured_warm_has_fine_detail_well_above_varied_and_weak_warm_offsets() {
    let (textured, varied) = (series(Preset::TexturedWarm), series(Preset::Varied));
    for (i, (t, v)) in textured.iter().zip(&varied).enumerate() {
        let (a, b) = (fine_detail(t), fine_detail(v));
        assert!(
            a >= 1.8 * b,
            "frame {i}: fine detail {a:.2} against varied's {b:.2}"
        );
    }
    let spec = SeriesSpec::preset(Preset::TexturedWarm, 640, 480, 12, 31);
    assert!(spec.fine_texture);
    let warm: Vec<f32> = synth::place_defects(&spec)
        .iter()
        .filter(|g| g.kind == DefectKind::Warm)
        .flat_map(|g| g.photosites.iter().map(|p| p.offset.unwrap()))
        .collect();
    assert!(warm.len() >= 12 && warm.iter().all(|o| (0.02..=0.05).contains(o)));
}
