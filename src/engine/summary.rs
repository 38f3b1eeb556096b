//! The report on a series' statistics: what the detector knows of the
//! series (its context), the summary of the frames, the detection and the
//! rankings, with the warnings about both.

use std::time::Instant;

use super::*;
/// The report on `stats`, which counts exactly `frames`; the summary lists
/// `skipped` (in path order, without any path that is counted). Used by a run,
/// and on saved statistics without decoding anything (`workers` is then 0).
pub fn make_report(
    stats: &Stats,
    frames: &[CountedFrame],
    mut skipped: Vec<SkippedInput>,
    top: usize,
    threshold: Option<f64>,
    workers: usize,
    started: Instant,
) -> Report {
    let counted: std::collections::HashSet<String> = frames
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    skipped.retain(|s| !counted.contains(&s.path));
    skipped.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.reason.cmp(&b.reason)));
    skipped.dedup_by(|a, b| a.path == b.path);
    let used_meta: Vec<&FrameMeta> = frames.iter().map(|f| &f.meta).collect();
    let ctx = context(frames, stats);
    let detection = detect(stats, &ctx, threshold);
    let mut summary = summarize(
        &used_meta,
        skipped,
        stats.width(),
        stats.height(),
        workers,
        started,
    );
    summary.threshold = detection.threshold;
    summary.threshold_automatic = threshold.is_none();
    summary.frame_similarity = ctx.similarity;
    summary.dark_current_frames = ctx.revealing;
    summary.largest_alike_group = ctx.largest_group;
    summary.crowded_tiles = detection.crowded_tiles.clone();
    summary.warnings = warnings::of(&ctx, &detection);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: format!("hotpix {}", env!("CARGO_PKG_VERSION")),
        summary,
        defects: detection.defects,
        lowest_variance: rank(stats, End::Lowest, top),
        highest_variance: rank(stats, End::Highest, top),
    }
}

/// The context a report's pictures are drawn with: the series' (see
/// [`context`]) with the tiles its detection judged as one view.
pub fn judged_context(frames: &[CountedFrame], stats: &Stats, summary: &Summary) -> Context {
    context(frames, stats).with_one_view(&summary.crowded_tiles)
}

/// What the detector knows of the series `frames` whose statistics are
/// `stats` (see [`Context`]): each frame's dark-current weight from its
/// EXIF, and how alike the frames are, as a whole and tile by tile, the
/// tiles where the scene stands still as alike as the whole frames (see
/// [`judge_still`]).
pub fn context(frames: &[CountedFrame], stats: &Stats) -> Context {
    let (width, height) = (stats.width(), stats.height());
    let weights: Vec<u8> = frames
        .iter()
        .map(|f| dark_weight(f.meta.exposure_s, f.meta.iso))
        .collect();
    let thumbs: Vec<Vec<f32>> = frames.iter().map(|f| f.thumbnail.clone()).collect();
    let tiles: Vec<&[u64]> = frames.iter().map(|f| f.tiles.as_slice()).collect();
    let views = TileViews::new(&tiles, width as usize, height as usize);
    let exposures: Vec<_> = frames
        .iter()
        .map(|f| (f.meta.exposure_s, f.meta.iso))
        .collect();
    let mut ctx = Context::new(&weights, &thumbs, views);
    ctx.exposures = Exposures::of(&exposures);
    judge_still(&ctx, stats)
}

fn summarize(
    used: &[&FrameMeta],
    skipped: Vec<SkippedInput>,
    width: u32,
    height: u32,
    workers: usize,
    started: Instant,
) -> Summary {
    let bodies = count_bodies(used.iter().copied());
    let mut cameras: Vec<CameraCount> = bodies
        .iter()
        .map(|(body, &frames)| CameraCount {
            camera: body_name(body.as_ref()),
            frames,
        })
        .collect();
    cameras.sort_by(|a, b| {
        b.frames
            .cmp(&a.frames)
            .then_with(|| a.camera.cmp(&b.camera))
    });
    let body = the_body(&bodies);
    let known = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Summary {
        camera: body.as_ref().map(|b| b.to_string()),
        make: body.as_ref().and_then(|b| known(&b.make)),
        model: body.as_ref().and_then(|b| known(&b.model)),
        cameras,
        frames_used: used.len() as u64,
        frames_skipped: skipped.len(),
        skipped,
        width,
        height,
        iso: Range::of(used.iter().filter_map(|m| m.iso)),
        exposure_s: Range::of(used.iter().filter_map(|m| m.exposure_s)),
        date: Range::of(used.iter().filter_map(|m| m.datetime.clone())),
        workers,
        elapsed_s: started.elapsed().as_secs_f64(),
        // The detection's figures are set by the report.
        threshold_automatic: true,
        ..Summary::default()
    }
}
