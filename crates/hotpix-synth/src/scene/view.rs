//! Light that belongs to one view rather than to the world: a sky above a horizon that is
//! brighter than full scale (clipped-sky frames) and lamps that clip in the dark (night
//! frames). Both are placed in world coordinates, so a burst's jittered frames and a tripod's
//! bracket see them in the same place.

use rand_chacha::ChaCha8Rng;

use super::NightSky;
use crate::num::{log_uniform, uniform};
use crate::{stream_rng, Condition, Stream};

/// Raw colour ratios of the lamps a night view may hold: sodium street lights (orange: red and
/// green clip, blue stays low), cold LEDs and warm-white bulbs.
pub(crate) const LAMP_COLOURS: [[f32; 3]; 3] =
    [[1.0, 0.55, 0.12], [0.5, 1.0, 0.75], [0.75, 1.0, 0.4]];

/// How frame coordinates map to the world for one frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Framing {
    pub zoom: f32,
    pub offset: (f32, f32),
}

impl Framing {
    /// World position of the centre of frame photosite (x, y).
    pub fn world_at(self, x: f32, y: f32) -> (f32, f32) {
        (
            self.offset.0 + (x + 0.5) / self.zoom - 0.5,
            self.offset.1 + (y + 0.5) / self.zoom - 0.5,
        )
    }
}

/// A horizon line with a sky above it.
pub(crate) struct Sky {
    /// World row of the horizon at world column `cx`.
    y0: f32,
    cx: f32,
    /// World rows the horizon drops per world column.
    slope: f32,
    /// Raw level per CFA colour at the horizon (fractions of full scale, above 1).
    level: [f32; 3],
    /// World rows over which the sky dims to three quarters of its level towards the zenith.
    fade: f32,
}

/// A light source in the scene, much brighter than full scale at its core.
pub(crate) struct Lamp {
    cx: f32,
    cy: f32,
    /// Core radius in world pixels.
    r: f32,
    /// Raw level of the core (fractions of full scale) times its colour ratios.
    level: [f32; 3],
}

/// The sky and lamps of one view, or its night sky (which lights the whole frame itself).
#[derive(Default)]
pub(crate) struct ViewLight {
    pub sky: Option<Sky>,
    pub lamps: Vec<Lamp>,
    pub night: Option<Box<NightSky>>,
}

/// Lamp glow reaches this many core radii (plus 3 px) before it is cut off.
const GLOW_REACH: f32 = 6.0;
/// Glow at the core's rim relative to the core: a lens' veiling glare around a bright light.
const GLOW: f32 = 0.03;
/// Mains lamps flicker at twice the 50 Hz supply, by up to 90% (sodium lamps on magnetic
/// ballasts, LEDs on cheap drivers).
const FLICKER_HZ: f64 = 100.0;
const FLICKER_DEPTH: f64 = 0.9;

impl ViewLight {
    /// How bright each lamp comes out in frame `index` of exposure `seconds`: a short
    /// exposure catches the flicker at a random phase; averaging over t seconds leaves about
    /// 1 / (1 + pi f t) of its depth (1 for t -> 0, 1 / (pi f t) over many periods).
    pub fn flicker(&self, seed: u64, index: usize, seconds: f64) -> Vec<f32> {
        let keep = 1.0 / (1.0 + std::f64::consts::PI * FLICKER_HZ * seconds);
        (0..self.lamps.len())
            .map(|i| {
                let h = crate::num::mix(seed ^ 0xF11C_4E55 ^ ((index as u64) << 20 | i as u64));
                let phase = (h >> 11) as f64 / (1u64 << 53) as f64 * std::f64::consts::TAU;
                (1.0 + FLICKER_DEPTH * keep * crate::num::cos_sin(phase).0) as f32
            })
            .collect()
    }
}

impl ViewLight {
    /// The sky or lamps of `view` under `condition`, framed as `framing` shows a
    /// `width` x `height` frame.
    pub fn plan(
        seed: u64,
        view: usize,
        condition: Condition,
        framing: Framing,
        width: u32,
        height: u32,
    ) -> ViewLight {
        let mut rng = stream_rng(seed, Stream::View, view as u64, 0);
        let (w, h) = (width as f32, height as f32);
        match condition {
            Condition::ClippedSky => {
                let row = uniform(&mut rng, [0.2, 0.5]) * h;
                let (cx, y0) = framing.world_at(w / 2.0, row);
                let slope = uniform(&mut rng, [-0.08, 0.08]);
                let l = uniform(&mut rng, [1.8, 3.5]);
                ViewLight {
                    sky: Some(Sky {
                        y0,
                        cx,
                        slope,
                        level: [0.9 * l, l, 1.1 * l],
                        fade: row / framing.zoom,
                    }),
                    ..ViewLight::default()
                }
            }
            Condition::Night => {
                let n = 3 + (w * h / 150_000.0).round() as usize;
                let lamps = (0..n).map(|_| lamp(&mut rng, framing, w, h)).collect();
                ViewLight {
                    lamps,
                    ..ViewLight::default()
                }
            }
            // A night sky is planned with the view's exposure (`NightSky::plan`).
            Condition::Daylight | Condition::Indoor | Condition::NightSky => ViewLight::default(),
        }
    }

    /// Whether world position (wx, wy) is sky rather than ground (for the meter).
    pub fn is_sky(&self, wx: f32, wy: f32) -> bool {
        self.sky
            .as_ref()
            .is_some_and(|s| s.y0 + s.slope * (wx - s.cx) > wy)
    }

    /// Fills, for frame row `y`, how much of the world shows through (`occ`, 1 = all) and
    /// the light added on top (`add`, fractions of full scale before vignetting), each
    /// photosite in its own CFA colour `colour(x)`; `flicker`, if not empty, scales each
    /// lamp's light in this frame.
    pub fn overlay_row(
        &self,
        y: usize,
        framing: Framing,
        colour: impl Fn(usize) -> usize,
        flicker: &[f32],
        occ: &mut [f32],
        add: &mut [f32],
    ) {
        occ.fill(1.0);
        add.fill(0.0);
        let width = occ.len();
        if let Some(s) = &self.sky {
            for x in 0..width {
                let (wx, wy) = framing.world_at(x as f32, y as f32);
                let above = s.y0 + s.slope * (wx - s.cx) - wy;
                // A 1.5-photosite ramp across the horizon stands for the optics' blur.
                let weight = (above * framing.zoom / 1.5 + 0.5).clamp(0.0, 1.0);
                if weight > 0.0 {
                    let dim = 1.0 - 0.25 * (above / s.fade).clamp(0.0, 1.0);
                    occ[x] = 1.0 - weight;
                    add[x] = weight * dim * s.level[colour(x)];
                }
            }
        }
        let fy = y as f32;
        for (i, lamp) in self.lamps.iter().enumerate() {
            // The lamp in frame coordinates.
            let (cx, cy, r) = (
                (lamp.cx - framing.offset.0 + 0.5) * framing.zoom - 0.5,
                (lamp.cy - framing.offset.1 + 0.5) * framing.zoom - 0.5,
                lamp.r * framing.zoom,
            );
            let reach = GLOW_REACH * r + 3.0;
            let dy = fy - cy;
            if dy.abs() > reach {
                continue;
            }
            let x0 = (cx - reach).floor().max(0.0) as usize;
            let x1 = ((cx + reach).ceil().max(0.0) as usize).min(width);
            for (x, out) in add.iter_mut().enumerate().take(x1).skip(x0) {
                let dx = x as f32 - cx;
                let d2 = dx * dx + dy * dy;
                let d = d2.sqrt();
                let core = (r + 0.5 - d).clamp(0.0, 1.0);
                let glow = GLOW * r * r / (d2 + r * r);
                match flicker.get(i) {
                    Some(&k) => *out += lamp.level[colour(x)] * k * (core + glow),
                    None => *out += lamp.level[colour(x)] * (core + glow),
                }
            }
        }
    }
}

fn lamp(rng: &mut ChaCha8Rng, framing: Framing, w: f32, h: f32) -> Lamp {
    let (cx, cy) = framing.world_at(uniform(rng, [0.0, w]), uniform(rng, [0.0, h]));
    let r = log_uniform(rng, [0.6, 4.0]) / framing.zoom;
    let l = log_uniform(rng, [3.0, 30.0]);
    let colour = LAMP_COLOURS[(uniform(rng, [0.0, 2.999]) as usize).min(2)];
    Lamp {
        cx,
        cy,
        r,
        level: colour.map(|c| c * l),
    }
}
