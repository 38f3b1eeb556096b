//! What is wrong with a series, or with what it gave, each with what to do
//! about it: the report's `warnings`.

use std::collections::HashMap;

use super::FEW_FRAMES;
use crate::detect::{fewest_sure_views, Context, Detection, FoundBy};
use crate::params::{
    CROWDED_BLOCK, CROWDED_TILE, SCENE_LIKE_ONE_KIND, SCENE_LIKE_REPORTS, SCENE_LIKE_WEAK,
};
use crate::plural::plural;
use crate::similarity::TOO_ALIKE;

/// The warnings about the series `ctx` describes and what its detection
/// found, in that order.
pub(super) fn of(ctx: &Context, detection: &Detection) -> Vec<String> {
    let mut w = about_series(ctx);
    w.extend(about_result(detection));
    w
}

/// What is wrong with the series itself: its exposures, its views, its
/// number of frames.
fn about_series(ctx: &Context) -> Vec<String> {
    let frames = ctx.frames;
    let fewest = fewest_sure_views();
    let mut w = Vec::new();
    if ctx.revealing == 0 {
        w.push(
            "no frame was long or high-ISO enough to show dark current (none reached 1/30 s at \
             ISO 100, or the same exposure × gain): hot pixels that only show in night, indoor or \
             long exposures cannot be found; add some"
                .to_string(),
        );
    } else if ctx.revealing < fewest && frames >= fewest {
        w.push(format!(
            "only {} long or high-ISO enough to show dark current (1/30 s at ISO 100, or the same \
             exposure × gain): hot pixels show in no other, and fewer than {fewest} views cannot \
             tell one from a point of light in their scenes, so hot pixels are reported only where \
             their stillness or shape shows them; add long exposures of {fewest} or more \
             different scenes",
            plural(ctx.revealing, "frame") + if ctx.revealing == 1 { " was" } else { " were" }
        ));
    } else if !ctx.separates_dark() {
        w.push(
            "every frame has the same exposure × ISO: dark current cannot be told from a constant \
             offset or a stuck photosite, so hot pixels (and stuck ones the scene never overtook) \
             are reported as warm (dark_rate null); frames of other exposures would tell them \
             apart"
                .to_string(),
        );
    }
    if ctx.largest_group >= 3 && ctx.largest_group * 2 <= frames {
        w.push(format!(
            "{} frames show the same view (a burst); they count as one view, so a defect seen only \
             in them is not reported",
            ctx.largest_group
        ));
    }
    if let Some(s) = ctx.similarity.filter(|&s| s >= TOO_ALIKE) {
        w.push(format!(
            "the frames are too alike (median similarity {s:.2}): static scene details can look like \
             defects; add photos of different scenes"
        ));
    }
    if frames < FEW_FRAMES {
        w.push(format!(
            "only {frames} frames: the result is weak; a defect is reported only where so few frames \
             make a coincidence of scene details improbable (never with {} or fewer), and \
             {FEW_FRAMES} or more photos of different scenes separate defects from scene details \
             far better",
            fewest - 1
        ));
    }
    w
}

/// What is wrong with what the detection gave: crowded tiles judged again,
/// reports resting on shape alone, reports that look like the scene.
fn about_result(detection: &Detection) -> Vec<String> {
    let mut w = Vec::new();
    if !detection.crowded_tiles.is_empty() {
        let n = detection.crowded_tiles.len();
        w.push(format!(
            "{} of 64x64 pixels {} crowded with points standing out in every frame ({} or more \
             in the tile, or {} or more in its block of 3x3 tiles: a still star field, a lit \
             foreground): a sensor's defects are sparse, so {} judged as one view, by \
             stillness and shape only (summary.crowded_tiles lists {}); on a tracking mount, \
             dithering between frames moves the stars and lets them be told from hot pixels",
            plural(n as u64, "tile"),
            if n == 1 { "was" } else { "were" },
            CROWDED_TILE,
            CROWDED_BLOCK,
            if n == 1 { "it was" } else { "they were" },
            if n == 1 { "it" } else { "them" }
        ));
    }
    let by_shape = detection
        .defects
        .iter()
        .filter(|d| d.found_by == FoundBy::Shape)
        .count();
    if by_shape > 0 {
        w.push(format!(
            "{} of {} rest on shape alone (found_by \"shape\"): where {} the frames show one \
             view of the scene or mostly one (a static foreground under a moving sky, a tripod, \
             a burst), so they cannot show a defect coming back where the scene changed, and a \
             small sharp light of that scene (a distant lamp, a lit window, a still star) looks \
             the same; look at them (--crops), or add frames of different scenes there",
            by_shape,
            plural(detection.defects.len() as u64, "report"),
            if by_shape == 1 { "it lies" } else { "they lie" }
        ));
    }
    if let Some(why) = scene_like(detection) {
        w.push(format!(
            "{} reports, {why}: this looks like the scene rather than the sensor (stars, lamps or \
             texture seen in many frames); look at the pictures (--map, --crops) before trusting \
             it, and add photos of different scenes",
            detection.defects.len()
        ));
    }
    w
}

/// Why a detection's reports look like the scene, if they do: many of them,
/// and most just over the threshold, or most of one kind on one channel
/// (a sensor's defects are of every channel; stars along their paths, or a
/// texture, light one channel most).
fn scene_like(detection: &Detection) -> Option<String> {
    let n = detection.defects.len();
    if n < SCENE_LIKE_REPORTS {
        return None;
    }
    let weak = detection
        .defects
        .iter()
        .filter(|d| f64::from(d.score) < SCENE_LIKE_WEAK * detection.threshold)
        .count();
    if weak as f64 >= 0.5 * n as f64 {
        return Some(format!("{weak} of them weak"));
    }
    let mut by: HashMap<(&str, &str), usize> = HashMap::new();
    for d in &detection.defects {
        *by.entry((d.kind.name(), d.channel.name())).or_default() += 1;
    }
    let ((kind, channel), most) = by.into_iter().max_by_key(|&(k, v)| (v, k))?;
    (most as f64 >= SCENE_LIKE_ONE_KIND * n as f64)
        .then(|| format!("{most} of them {kind} on channel {channel}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{Defect, Kind, Photosite};
    use crate::rank::Channel;

    fn defect(kind: Kind, channel: Channel, score: f32) -> Defect {
        Defect {
            x: 1,
            y: 1,
            kind,
            channel,
            channels: vec![channel],
            photosites: vec![Photosite {
                x: 1,
                y: 1,
                channel,
            }],
            pixels: 1,
            score,
            mean: 100.0,
            reference: 50.0,
            variance: 10.0,
            offset: 10.0,
            dark_rate: None,
            seen: 10,
            could_show: 12,
            views: 12.0,
            found_by: FoundBy::Frames,
        }
    }

    #[test]
    fn too_few_long_frames_to_tell_hot_pixels_are_said_so() {
        let none = Detection {
            threshold: 8.0,
            defects: Vec::new(),
            crowded_tiles: Vec::new(),
        };
        // `frames` frames, `long` of them long enough for dark current
        // (weight 15, the others 0).
        let series = |frames: u64, long: u64| {
            let mut ctx = Context::unknown(frames);
            ctx.revealing = long;
            ctx.dark_sum = 15.0 * long as f64;
            ctx.dark_sq = 225.0 * long as f64;
            of(&ctx, &none)
        };
        let says = |w: &[String]| {
            w.iter()
                .any(|m| m.contains("enough to show dark current (1/30"))
        };
        // A burst of 3 night frames among daylight ones.
        let w = series(5, 3);
        assert!(says(&w), "{w:?}");
        assert!(w.iter().any(|m| m.starts_with("only 3 frames were long")));
        assert!(series(12, 1)
            .iter()
            .any(|m| m.starts_with("only 1 frame was long")));
        // 4 long frames can be enough; none at all has its own warning.
        assert!(!says(&series(12, 4)));
        assert!(series(12, 0)
            .iter()
            .any(|m| m.starts_with("no frame was long")));
        // With 3 frames in all, the warning about so few frames says it.
        assert!(!says(&series(3, 2)));
    }

    #[test]
    fn many_weak_or_one_sided_reports_look_like_the_scene() {
        let kinds = [Kind::Hot, Kind::Warm, Kind::Stuck, Kind::Dead];
        let channels = [Channel::R, Channel::G, Channel::B];
        let varied = |n: usize, score: f32| Detection {
            threshold: 8.0,
            defects: (0..n)
                .map(|i| defect(kinds[i % 4], channels[i % 3], score))
                .collect(),
            crowded_tiles: Vec::new(),
        };
        // A sensor's defects: many, strong, of every kind and channel.
        assert_eq!(scene_like(&varied(500, 40.0)), None);
        // A few weak ones are not the scene's doing either.
        assert_eq!(scene_like(&varied(20, 9.0)), None);
        let weak = scene_like(&varied(500, 9.0)).unwrap();
        assert!(weak.contains("500 of them weak"), "{weak}");
        let stars = Detection {
            threshold: 8.0,
            defects: (0..300)
                .map(|i| defect(Kind::Warm, channels[usize::from(i % 10 == 0)], 30.0))
                .collect(),
            crowded_tiles: Vec::new(),
        };
        let why = scene_like(&stars).unwrap();
        assert!(why.contains("270 of them warm on channel R"), "{why}");
    }

    #[test]
    fn reports_resting_on_shape_alone_are_said_so() {
        let with = |by: &[FoundBy]| Detection {
            threshold: 8.0,
            defects: by
                .iter()
                .map(|&found_by| Defect {
                    found_by,
                    ..defect(Kind::Warm, Channel::G, 30.0)
                })
                .collect(),
            crowded_tiles: Vec::new(),
        };
        let ctx = Context::unknown(20);
        let says = |w: &[String]| {
            w.iter()
                .find(|m| m.contains("rest on shape alone"))
                .cloned()
        };
        assert_eq!(
            says(&of(&ctx, &with(&[FoundBy::Frames, FoundBy::Stillness]))),
            None
        );
        let one = says(&of(&ctx, &with(&[FoundBy::Frames, FoundBy::Shape]))).unwrap();
        assert!(
            one.starts_with("1 of 2 reports rest on shape alone"),
            "{one}"
        );
        assert!(one.contains("where it lies"), "{one}");
        let all = says(&of(&ctx, &with(&[FoundBy::Shape; 3]))).unwrap();
        assert!(all.starts_with("3 of 3 reports"), "{all}");
    }
}
