//! One series' camera: the world and the planned shots built once, then any frame rendered on
//! demand through the two stages a camera has, raw capture and in-camera development.

use crate::defects::{DefectGroup, DefectKind, StuckLevel};
use crate::develop::{Develop, Rect, ToneCurve};
use crate::encode::encode_jpeg;
use crate::night::{framing, plan_sky_series};
use crate::scene::{SkyFrame, ViewLight, World};
use crate::sensor::{self, Exposure, Fault, RawFrame};
use crate::shot::{plan_series, Shot};
use crate::spec::{SceneMode, SeriesSpec};
use crate::SynthError;

/// Developed 8-bit levels (before JPEG) a defect must move its photosite's own channel by,
/// in its direction, for the frame to count as one where it is visible.
pub const VISIBLE_LEVELS: i32 = 3;

/// Renders the frames of one series, sharing the scene and the plan between them.
pub struct Renderer {
    spec: SeriesSpec,
    world: World,
    shots: Vec<Shot>,
    lights: Vec<ViewLight>,
    tone: ToneCurve,
}

/// A finished frame and what the truth needs from it.
pub struct Frame {
    /// The JPEG file with EXIF.
    pub jpeg: Vec<u8>,
    /// For each defect group passed in, whether it was visible in this frame (see
    /// [`VISIBLE_LEVELS`]).
    pub visible: Vec<bool>,
}

impl Renderer {
    /// Builds the series' world and plans its frames; the world is the expensive part.
    ///
    /// The spec should have passed [`SeriesSpec::validate`].
    pub fn new(spec: &SeriesSpec) -> Self {
        let (w, h) = (spec.width as usize, spec.height as usize);
        if spec.scene == SceneMode::Sky {
            // Planned first: a tracking mount's turning ground needs world around the frame.
            let (shots, lights, margin) = plan_sky_series(spec);
            let world = World::build(
                spec.seed,
                w + 2 * margin + 2,
                h + 2 * margin + 2,
                spec.fine_texture,
            );
            return Renderer {
                spec: spec.clone(),
                world,
                shots,
                lights,
                tone: ToneCurve::new(),
            };
        }
        let world = match spec.scene {
            // Larger than the frame so crops can move and zoom.
            SceneMode::Varied => {
                World::build(spec.seed, w * 3 / 2 + 8, h * 3 / 2 + 8, spec.fine_texture)
            }
            SceneMode::Tripod | SceneMode::Sky => {
                World::build(spec.seed, w + 2, h + 2, spec.fine_texture)
            }
            SceneMode::Flat => World::flat(w + 2, h + 2),
        };
        let (shots, lights) = plan_series(spec, &world);
        Renderer {
            spec: spec.clone(),
            world,
            shots,
            lights,
            tone: ToneCurve::new(),
        }
    }

    /// The spec this renderer was built from.
    pub fn spec(&self) -> &SeriesSpec {
        &self.spec
    }

    /// What the camera did for frame `index`.
    pub fn shot(&self, index: usize) -> &Shot {
        &self.shots[index]
    }

    /// Every frame's shot, in shooting order.
    pub fn shots(&self) -> &[Shot] {
        &self.shots
    }

    /// Frame `index` as the sensor read it out, with `defects` broken.
    pub fn raw(&self, defects: &[DefectGroup], index: usize) -> RawFrame {
        self.expose(defects, index).0
    }

    /// The raw frame, its faults, and the counts the faulty photosites would read if sound.
    fn expose(&self, defects: &[DefectGroup], index: usize) -> (RawFrame, Vec<Fault>, Vec<u16>) {
        let shot = &self.shots[index];
        let faults = sensor::frame_faults(defects, index);
        let light = &self.lights[shot.view];
        // A night sky lights the whole frame itself.
        let map = light
            .night
            .as_ref()
            .zip(shot.sky.as_ref())
            .map(|(night, sky)| {
                let frame = SkyFrame {
                    start: sky.start,
                    exposure: shot.exposure_seconds,
                    gain: f64::from(shot.gain()),
                    guide_error: (f64::from(sky.guide_error.0), f64::from(sky.guide_error.1)),
                };
                night.light(
                    &self.world,
                    framing(shot),
                    &frame,
                    shot.white_balance,
                    self.spec.width,
                    self.spec.height,
                )
            });
        let flicker = if shot.flicker {
            light.flicker(self.spec.seed, index, shot.exposure_seconds)
        } else {
            Vec::new()
        };
        let exposure = Exposure {
            seed: self.spec.seed,
            index,
            width: self.spec.width,
            height: self.spec.height,
            model: &self.spec.sensor,
            shot,
            light,
            map: map.as_deref(),
            flicker: &flicker,
            faults: &faults,
        };
        let (raw, clean) = sensor::expose(&self.world, &exposure);
        (raw, faults, clean)
    }

    fn developer(&self, index: usize) -> Develop<'_> {
        Develop {
            white_balance: self.shots[index].white_balance,
            tone: &self.tone,
            sharpen: self.spec.sharpen,
            demosaic: self.spec.demosaic,
        }
    }

    /// Develops a raw frame the way the camera develops frame `index` (its white balance),
    /// into 8-bit RGB, row-major, `width * height * 3` bytes.
    pub fn develop(&self, raw: &RawFrame, index: usize) -> Vec<u8> {
        self.developer(index).frame(raw)
    }

    /// Frame `index` as 8-bit RGB before JPEG compression.
    pub fn render(&self, defects: &[DefectGroup], index: usize) -> Vec<u8> {
        self.develop(&self.raw(defects, index), index)
    }

    /// Frame `index` as a finished JPEG with EXIF.
    pub fn render_jpeg(
        &self,
        defects: &[DefectGroup],
        index: usize,
    ) -> Result<Vec<u8>, SynthError> {
        self.encode(&self.render(defects, index), index)
    }

    fn encode(&self, rgb: &[u8], index: usize) -> Result<Vec<u8>, SynthError> {
        let shot = &self.shots[index];
        let exif = crate::FrameExif {
            camera: self.spec.camera.clone(),
            iso: shot.iso,
            exposure: shot.exposure,
            datetime: shot.datetime.clone(),
            f_number: shot.aperture,
        };
        encode_jpeg(
            rgb,
            self.spec.width,
            self.spec.height,
            self.spec.quality,
            self.spec.subsampling,
            Some(&exif),
        )
    }

    /// Frame `index` as a JPEG, and for each group whether it was visible in it (see
    /// [`shows`]): its photosites developed again without it, in a window just large enough
    /// (development is local), and compared in their own channel with the developed frame;
    /// and the JPEG decoded, to compare them with their ring in the photo.
    pub fn frame(&self, defects: &[DefectGroup], index: usize) -> Result<Frame, SynthError> {
        let (raw, faults, clean) = self.expose(defects, index);
        let dev = self.developer(index);
        let rgb = dev.frame(&raw);
        let jpeg = self.encode(&rgb, index)?;
        let photo = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)?
            .into_rgb8()
            .into_raw();
        let (w, h) = (raw.width as usize, raw.height as usize);
        let mut window = Vec::new();
        // Each group's photosites with the counts they would read if sound.
        let mut sound: Vec<Vec<(u32, u32, u16)>> = vec![Vec::new(); defects.len()];
        for (f, &c) in faults.iter().zip(&clean) {
            sound[f.group].push((f.x, f.y, c));
        }
        let visible = defects
            .iter()
            .zip(&sound)
            .map(|(g, overrides)| {
                if overrides.is_empty() {
                    return false;
                }
                let (x0, y0, x1, y1) = g.bounds();
                let out = Rect {
                    x0: i64::from(x0),
                    y0: i64::from(y0),
                    x1: i64::from(x1) + 1,
                    y1: i64::from(y1) + 1,
                };
                let ww = (x1 - x0 + 1) as usize;
                window.clear();
                window.resize(ww * (y1 - y0 + 1) as usize * 3, 0u8);
                dev.rect(&raw, overrides, out, &mut window);
                g.photosites.iter().any(|p| {
                    let c = p.channel as usize;
                    let (x, y) = (p.x as usize, p.y as usize);
                    let with = i32::from(rgb[(y * w + x) * 3 + c]);
                    let without =
                        i32::from(window[((p.y - y0) as usize * ww + (p.x - x0) as usize) * 3 + c]);
                    let shown = i32::from(photo[(y * w + x) * 3 + c]);
                    let ring = ring_median(&photo, (w, h), (x, y, c));
                    shows(g, with - without, shown as f32 - ring)
                })
            })
            .collect();
        Ok(Frame { jpeg, visible })
    }
}

/// The neighbourhood a defect must stand out of in the photo: the same channel's pixels this
/// far from its photosite (the ring the detector reads too).
pub const RING: usize = 2;

/// The median of the ring around subpixel (x, y, c) of an RGB image of size `(w, h)` (the
/// mean of the middle two for an even count; the ring is cut by the frame's edges).
fn ring_median(rgb: &[u8], (w, h): (usize, usize), (x, y, c): (usize, usize, usize)) -> f32 {
    let mut ring: Vec<u8> = (y.saturating_sub(RING)..(y + RING + 1).min(h))
        .flat_map(|yy| (x.saturating_sub(RING)..(x + RING + 1).min(w)).map(move |xx| (xx, yy)))
        .filter(|&(xx, yy)| xx.abs_diff(x).max(yy.abs_diff(y)) == RING)
        .map(|(xx, yy)| rgb[(yy * w + xx) * 3 + c])
        .collect();
    ring.sort_unstable();
    let n = ring.len();
    if n == 0 {
        return f32::NAN;
    }
    (f32::from(ring[(n - 1) / 2]) + f32::from(ring[n / 2])) / 2.0
}

/// Whether a defect shows at one photosite of a frame: it moved the developed value (before
/// JPEG) from what the photosite would read if sound by `own` levels, at least
/// [`VISIBLE_LEVELS`] in its direction, and in the photo (the decoded JPEG) the photosite
/// stands `beside` levels off its ring's median, at least as many either way. The first says
/// the defect did it, the second that the photo shows a point there: a dead photosite on a sky
/// darker than 3 levels, or a small offset that JPEG quantised away, does not show. Either
/// way, because a photosite clipped in one colour can come out of the colour matrix and the
/// chroma smoothing as a dark hole. (Before 2026-12-08 the truth asked only the first.)
fn shows(g: &DefectGroup, own: i32, beside: f32) -> bool {
    moved(g, own) && beside.abs() >= VISIBLE_LEVELS as f32
}

/// Whether a developed difference counts as the defect showing: brighter for hot, warm,
/// blinking and stuck-high, darker for dead, either way for stuck-mid.
fn moved(g: &DefectGroup, diff: i32) -> bool {
    match (g.kind, g.stuck) {
        (DefectKind::Dead, _) => -diff >= VISIBLE_LEVELS,
        (DefectKind::Stuck, Some(StuckLevel::Mid)) => diff.abs() >= VISIBLE_LEVELS,
        _ => diff >= VISIBLE_LEVELS,
    }
}
