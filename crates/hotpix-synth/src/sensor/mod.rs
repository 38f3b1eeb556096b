//! The sensor between scene and development: light, vignetting, photon shot noise, PRNU, dark
//! current, read and ADC noise, broken photosites, 12-bit quantisation and clipping. Its output,
//! a [`RawFrame`], is what a raw file holds; development is a separate stage (`develop/`).
//!
//! Units: fractions of full scale (FS). At gain g = ISO/100 full scale holds
//! `full_well / g` electrons, so a signal S (FS) carries `S * full_well / g` electrons and its
//! Poisson noise is `sqrt(S * g / full_well)` FS (approximated by a bounded Gaussian).

mod faults;

use rand::Rng as _;
use rayon::prelude::*;

use crate::num::{bounded_gauss, mix};
use crate::scene::{Framing, ViewLight, World};
use crate::shot::{vignette, Shot};
use crate::{bayer_channel, stream_rng, SensorModel, Stream};

pub(crate) use faults::{frame_faults, Effect, Fault};

/// Levels of the analogue-to-digital converter: 12 bits, as a Nikon D80's.
pub const WHITE_LEVEL: u16 = 4095;

/// A raw mosaic as the sensor read it out, after the camera subtracted its black level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// Photosites per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Row-major ADC counts, 0..=`white_level`.
    pub data: Vec<u16>,
    /// The count of full scale (clipping).
    pub white_level: u16,
    /// The count of no light (0: already subtracted, negative noise clipped as Nikon does).
    pub black_level: u16,
    /// The colour filter pattern of the top-left 2x2 block.
    pub cfa: &'static str,
}

impl RawFrame {
    /// The count at photosite (x, y).
    pub fn at(&self, x: u32, y: u32) -> u16 {
        self.data[y as usize * self.width as usize + x as usize]
    }
}

/// The noise model of one frame, in FS units, from its ISO and exposure time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Noise {
    /// `g / full_well`: the shot-noise variance per FS of signal.
    pub shot: f32,
    /// Read noise (input-referred, amplified by g) and ADC noise, as one variance.
    pub floor: f32,
    /// Dark signal every photosite collects during the exposure.
    pub dark: f32,
}

impl Noise {
    pub fn new(model: &SensorModel, shot: &Shot) -> Noise {
        let g = shot.gain();
        let fw = model.full_well;
        let read_e = model.read_noise[0] + model.read_noise[1] / g;
        let read = read_e * g / fw;
        let adc = model.adc_noise / WHITE_LEVEL as f32;
        Noise {
            shot: g / fw,
            floor: read * read + adc * adc,
            dark: (f64::from(model.dark_current) * shot.exposure_seconds) as f32 * g / fw,
        }
    }

    /// Standard deviation (FS) of a photosite collecting `signal` (FS).
    #[inline]
    pub fn sigma(&self, signal: f32) -> f32 {
        (signal.max(0.0) * self.shot + self.floor).sqrt()
    }
}

/// Multiplier of each photosite's sensitivity: fixed for the sensor, so keyed by the series
/// seed and position only (a hash, so no stream has to be walked to reach a photosite).
#[inline]
pub(crate) fn prnu(seed: u64, prnu: f32, x: u32, y: u32) -> f32 {
    let h =
        mix(seed ^ 0x5052_4E55 ^ ((y as u64) << 32 | x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    1.0 + prnu * bounded_gauss(h)
}

/// What the light and faults of one frame need besides the world.
pub(crate) struct Exposure<'a> {
    pub seed: u64,
    pub index: usize,
    pub width: u32,
    pub height: u32,
    pub model: &'a SensorModel,
    pub shot: &'a Shot,
    pub light: &'a ViewLight,
    /// The frame's light per photosite (FS before vignetting), where the view computes it
    /// whole (a night sky) instead of the world being sampled.
    pub map: Option<&'a [f32]>,
    /// Each lamp's brightness in this frame, if they flicker (empty: steady).
    pub flicker: &'a [f32],
    pub faults: &'a [Fault],
}

/// Exposes the frame: returns the raw mosaic with its faults and, for each fault in order,
/// the count the photosite would have read if it were sound (same light, same noise draw).
pub(crate) fn expose(world: &World, e: &Exposure<'_>) -> (RawFrame, Vec<u16>) {
    let (w, h) = (e.width as usize, e.height as usize);
    let shot = e.shot;
    let strength = shot.vignetting.unwrap_or(e.model.vignetting);
    // Where each column and row lands in the world (bilinear), and its vignetting.
    let place = |n: usize, offset: f32, limit: usize| -> Vec<(usize, f32, f32)> {
        (0..n)
            .map(|i| {
                let p = offset + (i as f32 + 0.5) / shot.zoom - 0.5;
                let p0 = p.floor().clamp(0.0, (limit - 2) as f32);
                let v = vignette(strength, i as f32, n as u32);
                (p0 as usize, (p - p0).clamp(0.0, 1.0), v)
            })
            .collect()
    };
    let sensor = Readout {
        world,
        e,
        cols: place(w, shot.offset.0, world.width),
        rows: place(h, shot.offset.1, world.height),
        gain: [0, 1, 2]
            .map(|c| shot.exposure_scale * shot.cast[c] / shot.white_balance[c] / 65535.0),
        noise: Noise::new(e.model, shot),
        hot_scale: (shot.exposure_seconds * f64::from(shot.gain())) as f32,
        overlay: e.light.sky.is_some() || !e.light.lamps.is_empty(),
    };
    let mut data = vec![0u16; w * h];
    let clean: Vec<Vec<u16>> = data
        .par_chunks_mut(w)
        .enumerate()
        .map(|(y, out)| sensor.row(y, out))
        .collect();
    let raw = RawFrame {
        width: e.width,
        height: e.height,
        data,
        white_level: WHITE_LEVEL,
        black_level: 0,
        cfa: "RGGB",
    };
    (raw, clean.into_iter().flatten().collect())
}

/// What reading out one frame needs, computed once for all its rows.
struct Readout<'a> {
    world: &'a World,
    e: &'a Exposure<'a>,
    /// Per column and per row: world cell, fraction within it, vignetting.
    cols: Vec<(usize, f32, f32)>,
    rows: Vec<(usize, f32, f32)>,
    /// World plane value to FS, per CFA colour: exposure, cast, the light's colour.
    gain: [f32; 3],
    noise: Noise,
    /// Exposure time times gain: what a hot photosite's rate is multiplied by.
    hot_scale: f32,
    /// The view has a sky or lamps.
    overlay: bool,
}

impl Readout<'_> {
    /// Reads out row `y` into `out`; returns the sound counts of the row's faulty photosites.
    fn row(&self, y: usize, out: &mut [u16]) -> Vec<u16> {
        let (e, world) = (self.e, self.world);
        let full = WHITE_LEVEL as f32;
        let mut rng = stream_rng(e.seed, Stream::Noise, e.index as u64, y as u64);
        let (y0, fy, vy) = self.rows[y];
        let row_faults = fault_row(e.faults, y as u32);
        let mut clean = Vec::with_capacity(row_faults.len());
        let mut next = row_faults.iter().peekable();
        let (mut occ, mut add) = (Vec::new(), Vec::new());
        if self.overlay {
            (occ, add) = (vec![1f32; out.len()], vec![0f32; out.len()]);
            let framing = Framing {
                zoom: e.shot.zoom,
                offset: e.shot.offset,
            };
            let colour = |x: usize| bayer_channel(x as u32, y as u32) as usize;
            e.light
                .overlay_row(y, framing, colour, e.flicker, &mut occ, &mut add);
        }
        let map = e.map.map(|m| &m[y * out.len()..][..out.len()]);
        for (x, out) in out.iter_mut().enumerate() {
            let c = bayer_channel(x as u32, y as u32) as usize;
            let (x0, fx, vx) = self.cols[x];
            let mut light = match map {
                Some(m) => m[x],
                None => {
                    let plane = &world.planes[c];
                    let top = &plane[y0 * world.width + x0..][..2];
                    let bottom = &plane[(y0 + 1) * world.width + x0..][..2];
                    let t = top[0] as f32 + (top[1] as f32 - top[0] as f32) * fx;
                    let b = bottom[0] as f32 + (bottom[1] as f32 - bottom[0] as f32) * fx;
                    (t + (b - t) * fy) * self.gain[c]
                }
            };
            if self.overlay {
                light = light * occ[x] + add[x];
            }
            let signal =
                light * vx * vy * prnu(e.seed, e.model.prnu, x as u32, y as u32) + self.noise.dark;
            // One draw per photosite whether or not it is broken, so faults never shift the
            // noise of the photosites after them.
            let z = bounded_gauss(rng.next_u64());
            let value = signal + self.noise.sigma(signal) * z;
            let count = quantise(value, full);
            *out = count;
            if let Some(f) = next.next_if(|f| f.x as usize == x) {
                clean.push(count);
                *out = match f.effect {
                    Effect::Pinned(level) => level,
                    Effect::Offset(o) => quantise(value + o, full),
                    Effect::Hot(rate) => {
                        // Dark current is collected charge: it adds its own shot noise.
                        let s = signal + rate * self.hot_scale;
                        quantise(s + self.noise.sigma(s) * z, full)
                    }
                };
            }
        }
        clean
    }
}

/// The 12-bit count of a value in FS: black level subtracted (so negative noise clips at 0)
/// and clipped at full scale.
#[inline]
fn quantise(v: f32, full: f32) -> u16 {
    (v * full + 0.5).clamp(0.0, full) as u16
}

/// The faults of row `y` (they are sorted by row then column).
fn fault_row(faults: &[Fault], y: u32) -> &[Fault] {
    let lo = faults.partition_point(|f| f.y < y);
    let hi = faults.partition_point(|f| f.y <= y);
    &faults[lo..hi]
}
