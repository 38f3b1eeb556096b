//! The ground truth of a written series, saved beside the frames as `truth.json`: everything
//! needed to score a detector against it.

use std::fs;
use std::path::Path;

use anyhow::Context as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::defects::{try_place_defects, DefectGroup, Photosite};
use crate::render::Renderer;
use crate::shot::Shot;
use crate::spec::{Camera, SceneMode, SeriesSpec};
use crate::write_atomic;

/// Ground truth of a written series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Number of frames.
    pub frames: usize,
    /// The series seed.
    pub seed: u64,
    /// What the frames show.
    pub scene: SceneMode,
    /// The camera named in EXIF.
    pub camera: Camera,
    /// Every defect group, sorted by the row then column of its first photosite, with whether
    /// it is detectable and in which frames it was visible.
    pub defects: Vec<DefectGroup>,
    /// Frame file names in shooting order.
    pub files: Vec<String>,
    /// Per frame: condition, ISO, exposure, date, view and framing, white balance, JPEG
    /// settings; in shooting order.
    pub shots: Vec<Shot>,
    /// The spec that produced the series, to regenerate it or a variation of it.
    pub spec: SeriesSpec,
}

impl Truth {
    /// Every broken photosite with its group.
    pub fn photosites(&self) -> impl Iterator<Item = (&DefectGroup, &Photosite)> {
        self.defects
            .iter()
            .flat_map(|g| g.photosites.iter().map(move |p| (g, p)))
    }
}

/// Renders the whole series into `dir` (created if missing): the frames, then `truth.json`.
///
/// Frames are rendered in parallel; each file is written under a temporary name and renamed,
/// so a reader never sees half a frame.
pub fn write_series(spec: &SeriesSpec, dir: &Path) -> anyhow::Result<Truth> {
    spec.validate()?;
    let mut defects = try_place_defects(spec)?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let renderer = Renderer::new(spec);

    let visible = (0..spec.frames)
        .into_par_iter()
        .map(|index| -> anyhow::Result<Vec<bool>> {
            let file = &renderer.shot(index).file;
            let frame = renderer
                .frame(&defects, index)
                .with_context(|| format!("rendering frame {file}"))?;
            write_atomic(&dir.join(file), &frame.jpeg)?;
            Ok(frame.visible)
        })
        .collect::<anyhow::Result<Vec<Vec<bool>>>>()?;

    for (gi, g) in defects.iter_mut().enumerate() {
        g.visible_frames = (0..spec.frames).filter(|&f| visible[f][gi]).collect();
        g.detectable = spec.frames > 0 && 2 * g.visible_frames.len() >= spec.frames;
    }
    let shots = renderer.shots().to_vec();
    let truth = Truth {
        width: spec.width,
        height: spec.height,
        frames: spec.frames,
        seed: spec.seed,
        scene: spec.scene,
        camera: spec.camera.clone(),
        defects,
        files: shots.iter().map(|s| s.file.clone()).collect(),
        shots,
        spec: spec.clone(),
    };
    let mut json = serde_json::to_vec_pretty(&truth)?;
    json.push(b'\n');
    write_atomic(&dir.join("truth.json"), &json)?;
    Ok(truth)
}
