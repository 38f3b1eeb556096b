//! The old-style preset checked from outside: 4:2:0 JPEG at a quality near 78 that decodes,
//! an older body in EXIF, and a bilinear demosaic, told from Malvar-He-Cutler by how far a
//! broken photosite reaches into the developed frame (bilinear 1 photosite, Malvar 2; the
//! sharpening and chroma blur after it add 2 either way).

mod common;
use common::*;

use std::fs;

use hotpix_synth::{self as synth, DefectPlan, Demosaic, Preset, Renderer, SceneMode, SeriesSpec};

/// The first quantisation table's DC entry (the DQT segment's first value).
fn dc_quantiser(jpeg: &[u8]) -> u8 {
    let at = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xDB])
        .expect("DQT");
    // Marker, 2 length bytes, then precision and table id, then 64 entries (8-bit).
    assert_eq!(jpeg[at + 4] >> 4, 0, "8-bit table");
    jpeg[at + 5]
}

#[test]
fn old_style_frames_are_coarse_4_2_0_jpegs_from_an_older_body() {
    let spec = SeriesSpec::preset(Preset::OldStyle, 192, 144, 3, 21);
    assert_eq!(Preset::OldStyle.default_frames(), 60);
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    let fine = SeriesSpec::preset(Preset::Varied, 192, 144, 1, 21);
    let fine_dir = tempfile::tempdir().unwrap();
    synth::write_series(&fine, fine_dir.path()).unwrap();
    let fine_jpeg = fs::read(fine_dir.path().join("DSC_0001.JPG")).unwrap();
    for f in &truth.files {
        let jpeg = fs::read(dir.path().join(f)).unwrap();
        let (w, h, _) = decode(&jpeg).unwrap();
        assert_eq!((w, h), (192, 144));
        let c = sof0_components(&jpeg);
        assert_eq!((c[0].1, c[0].2), (2, 2), "4:2:0");
        // IJG scaling: quality 78 scales the tables by 0.44, 95 by 0.1 (DC 16 -> 7 and 2).
        assert!(dc_quantiser(&jpeg) >= 3 * dc_quantiser(&fine_jpeg));
    }
    assert_eq!(truth.camera.model, "NIKON D70");
}

/// Chebyshev distance from (x, y) of the farthest pixel whose developed value changes when
/// the photosite there is broken (stuck at full scale) in a flat grey frame.
fn reach(demosaic: Demosaic) -> u32 {
    let mut spec = SeriesSpec::preset(Preset::OldStyle, 64, 48, 1, 22);
    spec.scene = SceneMode::Flat;
    spec.defects = DefectPlan::none();
    spec.defects.singles.stuck_high = 1;
    spec.demosaic = demosaic;
    let groups = synth::place_defects(&spec);
    let p = &groups[0].photosites[0];
    let r = Renderer::new(&spec);
    let (with, without) = (r.render(&groups, 0), r.render(&[], 0));
    let mut far = 0;
    for (i, (a, b)) in with.chunks(3).zip(without.chunks(3)).enumerate() {
        if a != b {
            let (x, y) = ((i % 64) as u32, (i / 64) as u32);
            far = far.max(x.abs_diff(p.x).max(y.abs_diff(p.y)));
        }
    }
    far
}

#[test]
fn the_old_style_demosaic_is_bilinear() {
    assert_eq!(
        SeriesSpec::preset(Preset::OldStyle, 64, 48, 1, 1).demosaic,
        Demosaic::Bilinear
    );
    assert_eq!(reach(Demosaic::Bilinear), 3);
    assert_eq!(reach(Demosaic::Malvar), 4);
}
