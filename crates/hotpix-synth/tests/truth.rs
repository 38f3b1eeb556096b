//! The truth checked against the frames: every photosite that differs is listed with its CFA
//! colour, shapes and edge places are what they claim, groups keep apart, and the
//! `detectable` flag agrees with developing each frame again without the defect.

mod common;
use common::*;

use std::collections::BTreeSet;

use hotpix_synth::{
    self as synth, DefectGroup, DefectKind, DefectPlan, KindCounts, Renderer, SeriesSpec, Shape,
    StuckLevel, EDGE_BAND, GROUP_GAP, INTERIOR_MARGIN, RING, VISIBLE_LEVELS,
};

fn every_shape_spec(width: u32, height: u32, frames: usize, seed: u64) -> SeriesSpec {
    let mut spec = SeriesSpec::new(width, height, frames, seed);
    spec.defects = DefectPlan {
        singles: KindCounts::each(2),
        pairs: KindCounts::each(1),
        clusters: KindCounts::each(1),
        edge: KindCounts::each(2),
        ..DefectPlan::default()
    };
    spec
}

#[test]
fn every_differing_photosite_is_in_the_truth_with_its_cfa_colour() {
    let spec = every_shape_spec(256, 192, 6, 51);
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    let r = Renderer::new(&spec);
    let listed: BTreeSet<(u32, u32)> = truth.photosites().map(|(_, p)| (p.x, p.y)).collect();
    assert_eq!(
        listed.len(),
        spec.defects.photosites(),
        "photosites are distinct"
    );
    let mut differed = BTreeSet::new();
    for i in 0..spec.frames {
        let (with, without) = (r.raw(&truth.defects, i), r.raw(&[], i));
        assert_eq!(with.cfa, "RGGB");
        for (k, (a, b)) in with.data.iter().zip(&without.data).enumerate() {
            if a != b {
                let at = ((k % 256) as u32, (k / 256) as u32);
                assert!(
                    listed.contains(&at),
                    "frame {i}: {at:?} changed but is not listed"
                );
                differed.insert(at);
            }
        }
    }
    for (g, p) in truth.photosites() {
        assert_eq!(p.channel, cfa_channel("RGGB", p.x, p.y), "{p:?}");
        if g.kind == DefectKind::Stuck || g.kind == DefectKind::Warm {
            assert!(
                differed.contains(&(p.x, p.y)),
                "{g:?} never changed its photosite"
            );
        }
    }
    // Counts by shape and kind are the plan's.
    for (shape, counts) in [
        (
            Shape::Single,
            spec.defects.singles.total() + spec.defects.edge.total(),
        ),
        (Shape::Pair, spec.defects.pairs.total()),
        (Shape::Cluster, spec.defects.clusters.total()),
    ] {
        assert_eq!(
            truth.defects.iter().filter(|g| g.shape == shape).count(),
            counts
        );
    }
    let stuck_high = |g: &&DefectGroup| g.stuck == Some(StuckLevel::High);
    assert_eq!(
        truth.defects.iter().filter(stuck_high).count(),
        2 + 1 + 1 + 2
    );
}

#[test]
fn shapes_edges_and_spacing_are_what_the_truth_claims() {
    let spec = every_shape_spec(320, 240, 1, 52);
    let groups = synth::place_defects(&spec);
    assert_eq!(
        groups,
        synth::place_defects(&spec),
        "placement is deterministic"
    );
    let (w, h) = (spec.width, spec.height);
    let depth = |x: u32, y: u32| x.min(y).min(w - 1 - x).min(h - 1 - y);
    for g in &groups {
        let ps = &g.photosites;
        match g.shape {
            Shape::Single => assert_eq!(ps.len(), 1),
            Shape::Pair => {
                assert_eq!(ps.len(), 2);
                let (a, b) = (&ps[0], &ps[1]);
                assert_eq!(
                    a.x.abs_diff(b.x).max(a.y.abs_diff(b.y)),
                    1,
                    "{g:?} not adjacent"
                );
            }
            Shape::Cluster => {
                assert_eq!(ps.len(), 4);
                let (x0, y0, x1, y1) = g.bounds();
                assert_eq!((x1 - x0, y1 - y0), (1, 1), "{g:?} not 2x2");
                let mut colours: Vec<u8> = ps.iter().map(|p| p.channel).collect();
                colours.sort();
                assert_eq!(colours, [0, 1, 1, 2], "{g:?}");
            }
        }
        let within = ps.iter().all(|p| depth(p.x, p.y) <= EDGE_BAND);
        assert_eq!(g.edge, within, "{g:?}");
        if !g.edge {
            assert!(
                ps.iter().all(|p| depth(p.x, p.y) >= INTERIOR_MARGIN),
                "{g:?}"
            );
        }
    }
    let edge: Vec<_> = groups.iter().filter(|g| g.edge).collect();
    assert_eq!(edge.len(), spec.defects.edge.total());
    let at = |x: u32, y: u32| {
        edge.iter()
            .any(|g| g.photosites[0].x == x && g.photosites[0].y == y)
    };
    assert!(
        at(0, 0) && at(w - 1, h - 1) && at(w - 1, 0) && at(0, h - 1),
        "corners"
    );
    assert!(
        edge.iter()
            .any(|g| g.photosites[0].y == 0 && g.photosites[0].x > 0),
        "row 0"
    );
    assert!(
        edge.iter()
            .any(|g| g.photosites[0].x == 0 && g.photosites[0].y > 0),
        "column 0"
    );
    for (i, a) in groups.iter().enumerate() {
        for b in &groups[i + 1..] {
            for p in &a.photosites {
                for q in &b.photosites {
                    let d = p.x.abs_diff(q.x).max(p.y.abs_diff(q.y));
                    assert!(d >= GROUP_GAP, "{a:?} and {b:?} are {d} apart");
                }
            }
        }
    }
    let mut crowded = spec.clone();
    crowded.defects.singles = KindCounts::each(200);
    assert!(synth::try_place_defects(&crowded).is_err());
}

/// Whether a defect shows at a photosite, written from the definition: it moved its developed
/// value (before JPEG) by `own` levels from the value developed without it, at least 3 levels
/// its way (brighter for hot, warm, blinking and stuck-high, darker for dead, either way for
/// stuck-mid), and in the decoded photo its value stands off the median of its `ring` (the
/// same channel 2 pixels away) by at least 3 levels, either way.
fn shows(g: &DefectGroup, own: i32, shown: i32, ring: &mut [i32]) -> bool {
    ring.sort();
    let median = f64::from(ring[(ring.len() - 1) / 2] + ring[ring.len() / 2]) / 2.0;
    let own = f64::from(own);
    let beside = f64::from(shown) - median;
    let dir = match (g.kind, g.stuck) {
        (DefectKind::Dead, _) => -1.0,
        (DefectKind::Stuck, Some(StuckLevel::Mid)) => own.signum(),
        _ => 1.0,
    };
    own * dir >= 3.0 && beside.abs() >= 3.0
}

#[test]
fn detectable_agrees_with_full_developments_without_each_defect() {
    assert_eq!((VISIBLE_LEVELS, RING), (3, 2));
    let mut spec = every_shape_spec(160, 120, 6, 53);
    spec.conditions = "daylight=1,clipped_sky=1,indoor=1,night=1".parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let truth = synth::write_series(&spec, dir.path()).unwrap();
    let r = Renderer::new(&spec);
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut kinds_seen = BTreeSet::new();
    // Frames where a defect moved its own value, yet the photo does not show it out of its
    // ring.
    let mut hidden_by_ring = 0;
    for (gi, g) in truth.defects.iter().enumerate() {
        let others: Vec<DefectGroup> = truth
            .defects
            .iter()
            .enumerate()
            .filter(|&(k, _)| k != gi)
            .map(|(_, o)| o.clone())
            .collect();
        let mut visible = Vec::new();
        for i in 0..spec.frames {
            let with = r.render(&truth.defects, i);
            let without = r.render(&others, i);
            let jpeg = r.render_jpeg(&truth.defects, i).unwrap();
            let photo = image::load_from_memory(&jpeg)
                .unwrap()
                .into_rgb8()
                .into_raw();
            let moved = g.photosites.iter().any(|p| {
                let at = |x: usize, y: usize| (y * w + x) * 3 + p.channel as usize;
                let (x, y) = (p.x as usize, p.y as usize);
                let mut ring: Vec<i32> = (y.saturating_sub(2)..(y + 3).min(h))
                    .flat_map(|yy| (x.saturating_sub(2)..(x + 3).min(w)).map(move |xx| (xx, yy)))
                    .filter(|&(xx, yy)| xx.abs_diff(x).max(yy.abs_diff(y)) == 2)
                    .map(|(xx, yy)| i32::from(photo[at(xx, yy)]))
                    .collect();
                let k = at(x, y);
                let own = i32::from(with[k]) - i32::from(without[k]);
                let shown = i32::from(photo[k]);
                // The old definition: the move alone.
                let moved_own = shows(g, own, 3 * own.signum(), &mut [0]);
                let visible = shows(g, own, shown, &mut ring);
                hidden_by_ring += usize::from(moved_own && !visible);
                visible
            });
            if moved {
                visible.push(i);
            }
        }
        assert_eq!(g.visible_frames, visible, "{g:?}");
        assert_eq!(g.detectable, 2 * visible.len() >= spec.frames, "{g:?}");
        kinds_seen.insert((format!("{:?}", g.kind), g.detectable));
    }
    // The series is mixed enough that some groups are detectable and some are not.
    assert!(
        kinds_seen.iter().any(|k| k.1) && kinds_seen.iter().any(|k| !k.1),
        "{kinds_seen:?}"
    );
    // And the photo decides some frames: the definition is not the value's move alone.
    assert!(hidden_by_ring > 0);
}
