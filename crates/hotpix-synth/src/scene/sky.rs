//! A night sky over a dark foreground, as a camera on a tripod or a tracking mount sees it
//! through a long exposure: thousands of stars (`stars.rs`) turning about the celestial pole,
//! a horizon with lamps below and a glowing sky above (`ground.rs`).
//!
//! The sky turns about the pole's image, in the image plane: exact for a pole on the optical
//! axis, and for a pole outside the frame the small-field approximation of the stars' arcs.
//! Turns use [`cos_sin`], a polynomial of `+ - * /` only, so the frames are the same bytes on
//! every platform.
//!
//! At the sidereal rate a star r photosites from the pole moves r x 7.29e-5 rad/s. What the
//! detector sees is the drift in photosites per frame, so a view draws that drift (the
//! spec's range, 1..15 by default, as in the real series) and places the pole so that the
//! rate needed lies between once and eight times sidereal: a small synthetic frame stands for
//! a crop of a larger sensor, where the same turn gives the same drift. A large drift thus
//! puts the pole far outside the frame (the drift nearly a translation), a small one lets it
//! into the frame, where a bright "pole star" sits in some views.

use rand::RngExt as _;
use rayon::prelude::*;

use super::ground::Ground;
use super::stars::{random_direction, rotate, Motion, Star, Stars};
use super::{Framing, World};
use crate::num::{cos_sin, log_uniform, uniform};
use crate::spec::SkyOptions;
use crate::{stream_rng, Stream};

/// The sidereal rate: one turn in 86,164.0905 s.
pub(crate) const SIDEREAL: f64 = std::f64::consts::TAU / 86_164.090_5;
/// The fastest turn a view is given, in multiples of sidereal (see the module's doc).
const FASTEST: f64 = 8.0;
/// Seconds between the end of one exposure and the next one's start that the drift is quoted
/// for (the camera's gaps are 1..3 s).
pub(crate) const NOMINAL_GAP: f64 = 2.0;
/// Ground samples along its path within one exposure (tracking mount) are at most this far
/// apart, photosites.
const SMEAR_STEP: f64 = 0.5;

/// What a view's sky needs to know of how it is shot.
pub(crate) struct SkyPlan {
    pub seed: u64,
    pub view: usize,
    pub width: u32,
    pub height: u32,
    /// Exposure time, s.
    pub exposure: f64,
    /// Seconds from the view's first exposure's start to its last one's end.
    pub span: f64,
    pub options: SkyOptions,
    /// The camera's white balance.
    pub white_balance: [f32; 3],
}

/// A view's night sky.
pub(crate) struct NightSky {
    /// The celestial pole in frame photosites (may lie far outside the frame).
    pub pole: (f64, f64),
    /// Radians a second the sky turns relative to the ground, counter-clockwise as seen.
    pub rate: f64,
    /// The RMS drift per frame (photosites) the view was drawn with.
    pub drift: f32,
    pub tracked: bool,
    stars: Stars,
    ground: Ground,
}

/// What one frame of the view is: when it starts, how long, at what gain, how far off the
/// tracking was.
pub(crate) struct SkyFrame {
    pub start: f64,
    pub exposure: f64,
    pub gain: f64,
    pub guide_error: (f64, f64),
}

impl NightSky {
    /// Draws the pole, the turn, the stars and the ground of a view.
    pub fn plan(p: &SkyPlan) -> NightSky {
        let mut rng = stream_rng(p.seed, Stream::Sky, p.view as u64, 0);
        let (w, h) = (f64::from(p.width), f64::from(p.height));
        let drift = log_uniform(&mut rng, p.options.drift);
        let period = p.exposure + NOMINAL_GAP;
        // RMS distance of the frame's photosites from a pole `d` from its centre:
        // sqrt(d^2 + (w^2 + h^2) / 12).
        let spread2 = (w * w + h * h) / 12.0;
        let fastest = f64::from(drift) / (FASTEST * SIDEREAL * period);
        let slowest = f64::from(drift) / (SIDEREAL * period);
        let lo = fastest.max(spread2.sqrt());
        let hi = slowest.max(lo);
        let rms = f64::from(log_uniform(&mut rng, [lo as f32, hi as f32])).max(spread2.sqrt());
        let d = (rms * rms - spread2).max(0.0).sqrt();
        // Mostly upwards (the camera faces the pole's side of the sky), up to ~60 deg off.
        let (dx, dy) = random_direction(&mut rng);
        let (ux, uy) = (dx * 0.8, -(0.5 + 0.5 * dy.abs()));
        let n = (ux * ux + uy * uy).sqrt();
        let pole = (
            round_to(w / 2.0 + d * ux / n, 1.0 / 64.0),
            round_to(h / 2.0 + d * uy / n, 1.0 / 64.0),
        );
        // Rounded to 10 decimals (5 or more significant digits) so truth.json reads well.
        let rate = (f64::from(drift) / (rms * period) * 1e10).round() / 1e10;

        let wb = p.white_balance;
        // Green sky background: 7e-5..2.5e-4 FS/s at ISO 100 puts it at 15..40 of 255 in a
        // 20 s frame at ISO 400 (0.6..2% of full scale through the tone curve), darker at
        // ISO 100, as in the real series.
        let sky_rate = log_uniform(&mut rng, [7e-5, 2.5e-4]);
        let ground = Ground::draw(&mut rng, w as f32, h as f32, sky_rate, wb);
        // The lens' blur of a star (σ 0.7..1.3 photosites), then the sensor's anti-aliasing
        // filter, the world's [1 2 1]/4 kernel (variance 0.5 each way): variances add. No
        // star is as sharp as a single broken photosite.
        let lens = f64::from(uniform(&mut rng, [0.7, 1.3]));
        let sigma = (lens * lens + AA_VARIANCE).sqrt();
        // 3,000..8,500 stars a megapixel (1,500..4,000 in 800x600), the faintest giving about
        // as much light as 1.5..3 photosites of sky: most sit near the noise.
        let density = f64::from(uniform(&mut rng, [0.003, 0.0085]));
        let faintest = f64::from(sky_rate * uniform(&mut rng, [1.5, 3.0]));
        let pole_star = rng.random_bool(0.6);
        let mut srng = stream_rng(p.seed, Stream::Sky, p.view as u64, 1);
        let turn = if p.options.tracked {
            0.0
        } else {
            rate * p.span
        };
        let region = star_region(pole, turn, w, h);
        let mut stars = Stars::draw(&mut srng, region, density, faintest, sigma, wb);
        let in_sky = pole.0 >= 0.0
            && pole.0 < w
            && pole.1 >= 0.0
            && pole.1 < f64::from(ground.horizon(pole.0 as f32)) - 10.0;
        if pole_star && in_sky {
            let (ex, ey) = random_direction(&mut srng);
            let r = f64::from(uniform(&mut srng, [0.5, 4.0]));
            stars.push(Star {
                x: pole.0 + r * ex,
                y: pole.1 + r * ey,
                flux: (faintest * f64::from(uniform(&mut srng, [300.0, 1500.0]))) as f32,
                colour: super::stars::star_colour(0.6, wb),
            });
        }
        let mut sky = NightSky {
            pole,
            rate,
            drift,
            tracked: p.options.tracked,
            stars,
            ground,
        };
        // The columns of the ground any frame sees.
        let reach = sky.ground_travel(p.width, p.height, p.span).min(w.max(h)) as f32 + 8.0;
        sky.ground.tabulate(-reach, w as f32 + reach);
        sky
    }

    /// Light of a white surface on the ground, green, FS/s at ISO 100.
    pub fn ground_white(&self) -> f32 {
        self.ground.white
    }

    /// The farthest (photosites) any frame photosite's ground moves over `span` seconds: how
    /// much world a tracking mount's frames need beyond the frame.
    pub fn ground_travel(&self, width: u32, height: u32, span: f64) -> f64 {
        if !self.tracked {
            return 0.0;
        }
        let (w, h) = (f64::from(width), f64::from(height));
        let far = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
            .iter()
            .map(|&(x, y)| {
                let (dx, dy) = (x - self.pole.0, y - self.pole.1);
                (dx * dx + dy * dy).sqrt()
            })
            .fold(0.0, f64::max);
        far * (self.rate * span).min(std::f64::consts::PI)
    }

    /// The light (FS, before vignetting, each photosite in its own RGGB colour) of one frame:
    /// the ground and sky as the frame's framing of `world` shows them, and the stars.
    pub fn light(
        &self,
        world: &World,
        framing: Framing,
        frame: &SkyFrame,
        wb: [f32; 3],
        width: u32,
        height: u32,
    ) -> Vec<f32> {
        let (w, h) = (width as usize, height as usize);
        let scale = frame.exposure * frame.gain;
        let turn = (
            self.rate * frame.start,
            self.rate * (frame.start + frame.exposure),
        );
        let mut stars = vec![0f32; w * h];
        let motion = Motion {
            pole: self.pole,
            turn: if self.tracked { (0.0, 0.0) } else { turn },
            shift: frame.guide_error,
            scale,
        };
        self.stars.render(&motion, w, h, &mut stars);
        // Where the ground is sampled from: still on a tripod; on a tracking mount turned
        // with the camera, at evenly spaced times through the exposure.
        let turns: Vec<(f64, f64)> = if self.tracked {
            let travel = self.ground_travel(width, height, frame.exposure);
            let n = (travel / SMEAR_STEP).ceil().max(1.0) as usize;
            (0..n)
                .map(|k| cos_sin(turn.0 + (turn.1 - turn.0) * (k as f64 + 0.5) / n as f64))
                .collect()
        } else {
            vec![(1.0, 0.0)]
        };
        let inv = 1.0 / turns.len() as f32;
        let scale = scale as f32;
        stars.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let c = crate::bayer_channel(x as u32, y as u32) as usize;
                // Sky all through the exposure (the path's ends are above the highest ground,
                // and it bulges by hundredths of a photosite): its light is smooth, so one
                // sample in the middle of the path will do.
                let first = self.ground_point(turns[0], x, y).1;
                let last = self.ground_point(turns[turns.len() - 1], x, y).1;
                if first.max(last) + 2.0 < self.ground.highest() {
                    let (qx, qy) = self.ground_point(turns[turns.len() / 2], x, y);
                    *out += self.ground.sky(qx, qy, c) * scale;
                    continue;
                }
                let (mut lit, mut open) = (0f32, 0f32);
                for &t in &turns {
                    let (qx, qy) = self.ground_point(t, x, y);
                    let cover = self.ground.cover(qx, qy);
                    let sky = self.ground.sky(qx, qy, c);
                    let ground = if cover > 0.0 {
                        self.ground.ground(world, framing, (qx, qy), c, wb)
                    } else {
                        0.0
                    };
                    lit += cover * ground + (1.0 - cover) * sky;
                    open += 1.0 - cover;
                }
                *out = lit * inv * scale + *out * open * inv;
            }
        });
        stars
    }

    /// Where on the ground (first-frame coordinates) photosite (x, y) looks when the camera
    /// has turned by `t` (cos, sin) with the sky: nowhere else on a tripod.
    fn ground_point(&self, t: (f64, f64), x: usize, y: usize) -> (f32, f32) {
        if t == (1.0, 0.0) {
            return (x as f32, y as f32);
        }
        let v = (x as f64 - self.pole.0, y as f64 - self.pole.1);
        // The ground appears turned by -t; the photosite sees the ground point turned by +t.
        let (gx, gy) = rotate(t, v);
        ((self.pole.0 + gx) as f32, (self.pole.1 + gy) as f32)
    }
}

/// The part of the sky (first-frame coordinates) that any frame shows over a turn of `turn`
/// radians: the bounds of the frame turned back through the whole turn, corners sampled
/// every 0.02 rad, with room for star images and the arcs' bulge between samples.
fn star_region(pole: (f64, f64), turn: f64, w: f64, h: f64) -> (f64, f64, f64, f64) {
    let steps = ((turn.abs() / 0.02).ceil() as usize).clamp(1, 2000);
    let corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)];
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut far = 0f64;
    for k in 0..=steps {
        let t = cos_sin(-turn * k as f64 / steps as f64);
        for &(cx, cy) in &corners {
            let v = (cx - pole.0, cy - pole.1);
            far = far.max((v.0 * v.0 + v.1 * v.1).sqrt());
            let (rx, ry) = rotate(t, v);
            x0 = x0.min(pole.0 + rx);
            x1 = x1.max(pole.0 + rx);
            y0 = y0.min(pole.1 + ry);
            y1 = y1.max(pole.1 + ry);
        }
    }
    let step = turn.abs() / steps as f64;
    let room = 30.0 + far * step * step / 8.0;
    (x0 - room, y0 - room, x1 + room, y1 + room)
}

/// Variance (photosites²) of the anti-aliasing filter's [1 2 1]/4 kernel along each axis.
const AA_VARIANCE: f64 = 0.5;

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}
