//! The stars of a night sky: a catalogue drawn once per view (places, power-law fluxes,
//! colours after their B-V index), and per frame each star integrated along the arc it
//! travels about the pole during the exposure, spread by the optics' point-spread function.
//!
//! The PSF is a Moffat profile with beta = 4, `(1 + r^2/a^2)^-4`: the shape of real star
//! images (a Gaussian core with wider wings, Moffat 1969; Trujillo et al. 2001 fit beta near
//! 4.8 for atmospheric seeing), and, unlike a Gaussian, it needs only `+ - * /`. Its width is
//! given as the sigma of the Gaussian with the same FWHM.

use rand::Rng;
use rayon::prelude::*;

use crate::bayer_channel;
use crate::num::{cos_sin, pow, uniform, unit};

/// Moffat a per unit of the equivalent Gaussian's sigma: a Gaussian's FWHM is 2.35482 sigma,
/// a beta = 4 Moffat's is 2 a sqrt(2^(1/4) - 1) = 0.869958 a.
const MOFFAT_A_PER_SIGMA: f64 = 2.354_820 / 0.869_958;
/// Trail points are at most this far apart (photosites): with a PSF sigma of 0.7 or more
/// their sum is a continuous line.
const TRAIL_STEP: f64 = 0.25;
/// A star's light is cut off where its profile falls below this (FS): a tenth of a count.
const CUT: f64 = 2.5e-5;
/// And in any case this far (photosites) from the trail.
const MAX_REACH: f64 = 24.0;
/// Rows rendered per parallel task.
const BAND: usize = 32;
/// Slope of the star counts: N(> F) falls as F^-1.1 (counts of field stars grow by about
/// 10^0.44 a magnitude at mid galactic latitudes, i.e. a slope of 1.1 in flux).
const COUNT_SLOPE: f64 = 1.1;
/// The brightest star drawn is this many times the faintest (about 10.5 magnitudes).
const BRIGHTEST: f64 = 15_000.0;

/// One star, at its place when the view's first exposure began.
#[derive(Clone, Debug)]
pub(crate) struct Star {
    pub x: f64,
    pub y: f64,
    /// Green light in FS x photosites per second at ISO 100 (the sum over its image).
    pub flux: f32,
    /// Raw colour ratios (R, G, B), green 1.
    pub colour: [f32; 3],
}

/// The stars of a view and the PSF they are seen through.
pub(crate) struct Stars {
    pub list: Vec<Star>,
    /// Moffat a, photosites.
    a: f64,
}

/// How the stars lie in one frame: the sky's turn about the pole at the exposure's start and
/// end (radians, counter-clockwise as seen), a shift (tracking error), and the exposure.
pub(crate) struct Motion {
    pub pole: (f64, f64),
    pub turn: (f64, f64),
    pub shift: (f64, f64),
    /// Seconds times ISO/100: what a rate at ISO 100 is multiplied by.
    pub scale: f64,
}

/// Colours of stars through a camera's daylight white balance, by B-V index: a B star is
/// blue-white, the Sun (0.65) white, K and M stars orange (after blackbody colours of the
/// stars' temperatures, Ballesteros 2012, rounded). (B-V, [R, G, B] as developed.)
const COLOURS: [(f64, [f64; 3]); 7] = [
    (-0.3, [0.62, 0.78, 1.25]),
    (0.0, [0.78, 0.88, 1.12]),
    (0.4, [0.92, 0.96, 1.03]),
    (0.65, [1.0, 1.0, 1.0]),
    (1.0, [1.18, 1.0, 0.82]),
    (1.4, [1.38, 1.0, 0.62]),
    (1.8, [1.55, 1.0, 0.48]),
];

/// The raw colour ratios (green 1) of a star of index `bv` under white balance `wb`: the
/// developed colour divided by the multipliers the camera will apply.
pub(crate) fn star_colour(bv: f64, wb: [f32; 3]) -> [f32; 3] {
    let bv = bv.clamp(COLOURS[0].0, COLOURS[COLOURS.len() - 1].0);
    let i = COLOURS
        .windows(2)
        .position(|p| bv <= p[1].0)
        .unwrap_or(COLOURS.len() - 2);
    let ((b0, c0), (b1, c1)) = (COLOURS[i], COLOURS[i + 1]);
    let t = (bv - b0) / (b1 - b0);
    let dev: [f64; 3] = std::array::from_fn(|c| c0[c] + (c1[c] - c0[c]) * t);
    std::array::from_fn(|c| (dev[c] / dev[1] / f64::from(wb[c]) * f64::from(wb[1])) as f32)
}

impl Stars {
    /// Draws `density` stars a photosite over `region` (x0, y0, x1, y1), the faintest with
    /// flux `faintest`, the counts falling as [`COUNT_SLOPE`]; seen with a PSF of `sigma`.
    pub fn draw(
        rng: &mut impl Rng,
        region: (f64, f64, f64, f64),
        density: f64,
        faintest: f64,
        sigma: f64,
        wb: [f32; 3],
    ) -> Stars {
        let (x0, y0, x1, y1) = region;
        let count = ((x1 - x0) * (y1 - y0) * density).round() as usize;
        let list = (0..count)
            .map(|_| {
                let x = x0 + (x1 - x0) * unit(rng);
                let y = y0 + (y1 - y0) * unit(rng);
                // Inverse of the counts' distribution: P(F > f) = (f / faintest)^-slope.
                let u = 1.0 - unit(rng);
                let times = pow(u, -1.0 / COUNT_SLOPE).min(BRIGHTEST);
                // Triangular over -0.25..1.6 (mode 0.68): most stars yellowish-white, a few
                // blue or orange.
                let bv = -0.25 + 1.85 * (unit(rng) + unit(rng)) / 2.0;
                Star {
                    x,
                    y,
                    flux: (faintest * times) as f32,
                    colour: star_colour(bv, wb),
                }
            })
            .collect();
        Stars {
            list,
            a: sigma * MOFFAT_A_PER_SIGMA,
        }
    }

    /// A star pushed after the drawn ones (a pole star).
    pub fn push(&mut self, star: Star) {
        self.list.push(star);
    }

    /// Adds the stars' light in one frame (FS, each photosite in its own RGGB colour) to the
    /// `width` x `height` mosaic `out`.
    pub fn render(&self, m: &Motion, width: usize, height: usize, out: &mut [f32]) {
        let turns = (cos_sin(m.turn.0), cos_sin(m.turn.1));
        let size = (width as f64, height as f64);
        let trails: Vec<Option<Trail>> = self
            .list
            .par_iter()
            .map(|s| Trail::plan(s, m, turns, self.a, size))
            .collect();
        let mut bands: Vec<Vec<u32>> = vec![Vec::new(); height.div_ceil(BAND)];
        for (i, t) in trails.iter().enumerate() {
            if let Some(t) = t {
                for band in &mut bands[t.rows.0 / BAND..=t.rows.1 / BAND] {
                    band.push(i as u32);
                }
            }
        }
        out.par_chunks_mut(BAND * width)
            .zip(&bands)
            .enumerate()
            .for_each(|(b, (rows, list))| {
                let y0 = b * BAND;
                let y1 = y0 + rows.len() / width;
                for &i in list {
                    if let Some(t) = &trails[i as usize] {
                        t.draw(self.a, width, (y0, y1), rows);
                    }
                }
            });
    }
}

/// (c, s) applied to (x, y): a turn counter-clockwise as seen in an image whose y points down.
#[inline]
pub(crate) fn rotate((c, s): (f64, f64), (x, y): (f64, f64)) -> (f64, f64) {
    (c * x + s * y, c * y - s * x)
}

/// One star's path in one frame: `points` places from `origin + start`, each turned by
/// `step` from the one before, each carrying `amp` at the profile's peak.
struct Trail {
    origin: (f64, f64),
    start: (f64, f64),
    step: (f64, f64),
    points: usize,
    amp: f32,
    reach: f64,
    rows: (usize, usize),
    colour: [f32; 3],
}

impl Trail {
    /// Star `s`'s path in the frame of motion `m` (`turns`: the rotations at the exposure's
    /// start and end), seen through a Moffat of `a`; `None` if it misses the frame `size`.
    fn plan(
        s: &Star,
        m: &Motion,
        turns: ((f64, f64), (f64, f64)),
        a: f64,
        (w, h): (f64, f64),
    ) -> Option<Trail> {
        let sweep = m.turn.1 - m.turn.0;
        let a2 = a * a;
        // Peak of a unit flux: (beta - 1) / (pi a^2).
        let norm = 3.0 / (std::f64::consts::PI * a2);
        let (vx, vy) = (s.x - m.pole.0, s.y - m.pole.1);
        let start = rotate(turns.0, (vx, vy));
        let end = rotate(turns.1, (vx, vy));
        let r = (vx * vx + vy * vy).sqrt();
        let arc = r * sweep.abs();
        let points = if arc < 1e-3 {
            1
        } else {
            (arc / TRAIL_STEP).ceil() as usize + 1
        };
        let step = if points > 1 {
            cos_sin(sweep / (points - 1) as f64)
        } else {
            (1.0, 0.0)
        };
        let total = f64::from(s.flux) * m.scale;
        let peak = total * norm * f64::from(s.colour.iter().fold(1f32, |a, &b| a.max(b)));
        let reach = if peak <= CUT {
            1.5
        } else {
            (a2 * ((peak / CUT).sqrt().sqrt() - 1.0))
                .sqrt()
                .clamp(1.5, MAX_REACH)
        };
        // The arc bulges from its chord by at most r sweep^2 / 8.
        let bulge = r * sweep * sweep / 8.0 + reach + 1.0;
        let (ox, oy) = (m.pole.0 + m.shift.0, m.pole.1 + m.shift.1);
        let xs = (
            ox + start.0.min(end.0) - bulge,
            ox + start.0.max(end.0) + bulge,
        );
        let ys = (
            oy + start.1.min(end.1) - bulge,
            oy + start.1.max(end.1) + bulge,
        );
        if xs.1 < 0.0 || ys.1 < 0.0 || xs.0 > w - 1.0 || ys.0 > h - 1.0 {
            return None;
        }
        Some(Trail {
            origin: (ox, oy),
            start,
            step,
            points,
            amp: (total * norm / points as f64) as f32,
            reach,
            rows: (ys.0.max(0.0) as usize, (ys.1.min(h - 1.0)) as usize),
            colour: s.colour,
        })
    }

    /// Adds the trail's light to rows `y0..y1` (held in `out`, `width` wide).
    fn draw(&self, a: f64, width: usize, (y0, y1): (usize, usize), out: &mut [f32]) {
        let inv_a2 = (1.0 / (a * a)) as f32;
        let reach2 = (self.reach * self.reach) as f32;
        let mut v = self.start;
        for _ in 0..self.points {
            let (px, py) = (self.origin.0 + v.0, self.origin.1 + v.1);
            v = rotate(self.step, v);
            let ya = (py - self.reach).ceil().max(y0 as f64);
            let yb = (py + self.reach).floor().min(y1 as f64 - 1.0);
            let xa = (px - self.reach).ceil().max(0.0);
            let xb = (px + self.reach).floor().min(width as f64 - 1.0);
            if ya > yb || xa > xb {
                continue;
            }
            let (xa, xb) = (xa as usize, xb as usize);
            for y in ya as usize..=yb as usize {
                let dy = (y as f64 - py) as f32;
                let row = &mut out[(y - y0) * width..][..width];
                for (x, o) in row.iter_mut().enumerate().take(xb + 1).skip(xa) {
                    let dx = (x as f64 - px) as f32;
                    let d2 = dx * dx + dy * dy;
                    if d2 > reach2 {
                        continue;
                    }
                    let t = 1.0 / (1.0 + d2 * inv_a2);
                    let t2 = t * t;
                    let c = bayer_channel(x as u32, y as u32) as usize;
                    *o += self.amp * t2 * t2 * self.colour[c];
                }
            }
        }
    }
}

/// A unit vector in a random direction (rejection from the unit disc, no trig).
pub(crate) fn random_direction(rng: &mut impl Rng) -> (f64, f64) {
    loop {
        let (x, y) = (uniform(rng, [-1.0, 1.0]), uniform(rng, [-1.0, 1.0]));
        let n2 = f64::from(x * x + y * y);
        if (0.01..=1.0).contains(&n2) {
            let n = n2.sqrt();
            return (f64::from(x) / n, f64::from(y) / n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PSF sums to the star's flux (a faint star's light is not lost to the cut-off nor
    /// to sampling at photosite centres), and a star moving during the exposure keeps it.
    #[test]
    fn a_star_delivers_its_flux_whether_still_or_trailed() {
        let wb = [1.0, 1.0, 1.0];
        let star = Star {
            x: 40.3,
            y: 30.7,
            flux: 0.5,
            colour: [1.0, 1.0, 1.0],
        };
        for (sigma, sweep) in [(0.7, 0.0), (1.3, 0.0), (1.0, 0.05), (0.7, 0.2)] {
            let mut rng = crate::stream_rng(1, crate::Stream::Sky, 0, 0);
            let mut stars = Stars::draw(&mut rng, (0.0, 0.0, 0.0, 0.0), 0.0, 1.0, sigma, wb);
            stars.push(star.clone());
            let mut out = vec![0f32; 96 * 64];
            let m = Motion {
                pole: (40.0, 0.0),
                turn: (0.0, sweep),
                shift: (0.0, 0.0),
                scale: 2.0,
            };
            stars.render(&m, 96, 64, &mut out);
            let sum: f64 = out.iter().map(|&v| f64::from(v)).sum();
            assert!(
                (sum - 1.0).abs() < 0.01,
                "sigma {sigma} sweep {sweep}: {sum}"
            );
            let lit = out.iter().filter(|&&v| v > 0.01).count();
            assert!(lit >= 4, "sigma {sigma}: {lit} photosites lit");
        }
    }

    #[test]
    fn colours_run_from_blue_white_to_orange() {
        let wb = [2.0, 1.0, 1.5];
        let blue = star_colour(-0.3, wb);
        let orange = star_colour(1.8, wb);
        // Developed: raw times white balance.
        assert!(blue[2] * wb[2] > 1.2 && blue[0] * wb[0] < 0.9);
        assert!(orange[0] * wb[0] > 1.5 && orange[2] * wb[2] < 0.5);
        let sun = star_colour(0.65, wb);
        assert!((sun[0] - 0.5).abs() < 1e-6 && (sun[2] - 1.0 / 1.5).abs() < 1e-6);
    }
}
