//! What stays with the earth under a night sky: the horizon (hills, a tree line), the dark
//! textured ground with a few lit windows and street lights, and the sky's background with
//! its glow rising towards the horizon (airglow, light pollution). Everything is placed in
//! the coordinates of the view's first frame; a tracking mount's frames sample it turned
//! about the pole. Light is in FS per second at ISO 100, per CFA colour, before vignetting.

use rand::{Rng, RngExt as _};

use crate::num::{log_uniform, mix, uniform};
use crate::scene::view::LAMP_COLOURS;
use crate::scene::{Framing, World};

/// Lamp glow reaches this many core radii (plus 3 px) before it is cut off.
const GLOW_REACH: f32 = 6.0;
/// Glow at a street light's rim relative to its core (veiling glare); windows have less.
const GLOW: [f32; 2] = [0.03, 0.008];

/// One octave of 1-D value noise: `amp * (2 n - 1)` with n smooth in 0..1 over `period`.
struct Wave {
    period: f32,
    amp: f32,
    salt: u64,
}

impl Wave {
    fn unit(&self, x: f32) -> f32 {
        let f = x / self.period;
        let i = f.floor();
        let t = f - i;
        let t = t * t * (3.0 - 2.0 * t);
        let (a, b) = (
            lattice(self.salt, i as i64),
            lattice(self.salt, i as i64 + 1),
        );
        a + (b - a) * t
    }

    fn at(&self, x: f32) -> f32 {
        self.amp * (2.0 * self.unit(x) - 1.0)
    }
}

fn lattice(salt: u64, i: i64) -> f32 {
    (mix(salt ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 40) as f32 / 16_777_216.0
}

/// Conifers along stretches of the horizon: triangles `spacing` apart where `forest` is high.
struct Trees {
    spacing: f32,
    tallest: f32,
    salt: u64,
    forest: Wave,
}

/// A lit window (a small rectangle) or a street light (a disc with glare).
struct Lamp {
    x: f32,
    y: f32,
    hx: f32,
    hy: f32,
    round: bool,
    /// Core light per CFA colour.
    level: [f32; 3],
}

/// The earth-bound part of a night view.
pub(crate) struct Ground {
    width: f32,
    height: f32,
    /// Mean row of the horizon.
    base: f32,
    hills: [Wave; 2],
    trees: Option<Trees>,
    lamps: Vec<Lamp>,
    /// Light from a white surface on the ground, green.
    pub white: f32,
    /// Sky background at the frame's centre per CFA colour.
    sky: [f32; 3],
    /// Relative change of the sky across the frame's width and down its height.
    gradient: (f32, f32),
    /// Glow at the horizon per CFA colour, and the height (rows) over which it halves twice.
    glow: [f32; 3],
    glow_height: f32,
    /// The horizon every [`TABLE_STEP`] photosites from column `table_x0` (linear between),
    /// and its highest point: a tracking mount's frames look it up a few dozen times a
    /// photosite.
    table: Vec<f32>,
    table_x0: f32,
    highest: f32,
}

/// Columns between the horizon table's entries: trees are straight-sided, so a table this
/// fine draws them as the direct computation does.
const TABLE_STEP: f32 = 0.25;

impl Ground {
    /// The ground of a `width` x `height` view under a sky of `sky_rate` (green, FS/s at
    /// ISO 100), for a camera's white balance `wb`.
    pub fn draw(
        rng: &mut impl Rng,
        width: f32,
        height: f32,
        sky_rate: f32,
        wb: [f32; 3],
    ) -> Ground {
        // The bottom 15..40% of the frame is ground.
        let base = height * (1.0 - uniform(rng, [0.15, 0.40]));
        let salt = rng.next_u64();
        let hills = [
            Wave {
                period: width * uniform(rng, [0.25, 0.6]),
                amp: height * uniform(rng, [0.01, 0.07]),
                salt: mix(salt ^ 1),
            },
            Wave {
                period: width * uniform(rng, [0.05, 0.12]),
                amp: height * uniform(rng, [0.003, 0.015]),
                salt: mix(salt ^ 2),
            },
        ];
        let trees = rng.random_bool(0.7).then(|| Trees {
            spacing: uniform(rng, [3.0, 9.0]),
            tallest: height * uniform(rng, [0.03, 0.09]),
            salt: mix(salt ^ 3),
            forest: Wave {
                period: width * uniform(rng, [0.1, 0.3]),
                amp: 1.0,
                salt: mix(salt ^ 4),
            },
        });
        // Developed colours: a neutral to bluish night sky; the glow of sodium lamps (orange)
        // or of white LEDs.
        let raw = |dev: [f32; 3]| [0, 1, 2].map(|c| dev[c] / wb[c] * wb[1]);
        let sky = raw([0.9, 1.0, 1.15]).map(|v| v * sky_rate);
        let glow_tint = if rng.random_bool(0.6) {
            [1.45, 1.0, 0.55]
        } else {
            [1.0, 1.0, 0.95]
        };
        let glow_share = if rng.random_bool(0.75) {
            uniform(rng, [0.3, 2.5])
        } else {
            0.0
        };
        let glow = raw(glow_tint).map(|v| v * glow_share * sky_rate);
        let mut ground = Ground {
            width,
            height,
            base,
            hills,
            trees,
            lamps: Vec::new(),
            white: sky_rate * uniform(rng, [0.4, 1.5]),
            sky,
            gradient: (uniform(rng, [-0.15, 0.15]), uniform(rng, [0.0, 0.2])),
            glow,
            glow_height: height * uniform(rng, [0.1, 0.35]),
            table: Vec::new(),
            table_x0: 0.0,
            highest: 0.0,
        };
        let lamps = 2 + (width * height / 60_000.0) as usize;
        for _ in 0..lamps {
            let lamp = ground.lamp(rng);
            ground.lamps.push(lamp);
        }
        ground
    }

    fn lamp(&self, rng: &mut impl Rng) -> Lamp {
        let x = uniform(rng, [0.0, self.width]);
        let top = self.horizon_at(x) + 2.0;
        let y = top + uniform(rng, [0.0, 1.0]) * (self.height - top).max(0.0);
        let round = rng.random_bool(0.5);
        let (hx, hy) = if round {
            let r = log_uniform(rng, [0.6, 2.2]);
            (r, r)
        } else {
            (uniform(rng, [0.7, 2.0]), uniform(rng, [0.8, 2.5]))
        };
        let colour = if round {
            LAMP_COLOURS[(uniform(rng, [0.0, 2.999]) as usize).min(2)]
        } else {
            // Windows: warm-white bulbs behind curtains.
            LAMP_COLOURS[2]
        };
        let l = log_uniform(rng, [0.003, 0.3]);
        Lamp {
            x,
            y,
            hx,
            hy,
            round,
            level: colour.map(|c| c * l),
        }
    }

    /// Tabulates the horizon over columns `x0..x1` (and finds its highest point there);
    /// outside them it is computed directly.
    pub fn tabulate(&mut self, x0: f32, x1: f32) {
        let n = ((x1 - x0) / TABLE_STEP).ceil().max(1.0) as usize + 2;
        self.table = (0..n)
            .map(|i| self.horizon_at(x0 + i as f32 * TABLE_STEP))
            .collect();
        self.table_x0 = x0;
        self.highest = self.table.iter().fold(f32::MAX, |a, &b| a.min(b));
    }

    /// The highest row the tabulated ground reaches (smallest y).
    pub fn highest(&self) -> f32 {
        self.highest
    }

    /// The row of the ground's top edge at column `x` (rows grow downwards).
    pub fn horizon(&self, x: f32) -> f32 {
        let f = (x - self.table_x0) / TABLE_STEP;
        if f >= 0.0 && f + 1.0 < self.table.len() as f32 {
            let i = f as usize;
            let t = f - i as f32;
            return self.table[i] + (self.table[i + 1] - self.table[i]) * t;
        }
        self.horizon_at(x)
    }

    fn horizon_at(&self, x: f32) -> f32 {
        let land = |x: f32| self.base + self.hills[0].at(x) + self.hills[1].at(x);
        let mut top = land(x);
        if let Some(t) = &self.trees {
            let half = t.tallest * 0.4;
            let k0 = ((x - half) / t.spacing).floor() as i64 - 1;
            let k1 = ((x + half) / t.spacing).floor() as i64 + 1;
            for k in k0..=k1 {
                let h = mix(t.salt ^ (k as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
                let u = |shift: u32| ((h >> shift) & 0xffff) as f32 / 65_536.0;
                let cx = (k as f32 + 0.2 + 0.6 * u(0)) * t.spacing;
                if t.forest.unit(cx) < 0.55 {
                    continue;
                }
                let tall = t.tallest * (0.35 + 0.65 * u(16));
                let hw = tall * (0.22 + 0.18 * u(32));
                let off = (x - cx).abs();
                if off < hw {
                    top = top.min(land(cx) - tall * (1.0 - off / hw));
                }
            }
        }
        top
    }

    /// How much of photosite-sized spot (x, y) is ground (1) rather than sky (0): a ramp of
    /// one photosite across the horizon, through the optics (see [`optics`]).
    pub fn cover(&self, x: f32, y: f32) -> f32 {
        optics(x, y, |x, y| (y - self.horizon(x) + 0.5).clamp(0.0, 1.0))
    }

    /// The sky's background light at (x, y) in colour `c`.
    pub fn sky(&self, x: f32, y: f32, c: usize) -> f32 {
        let (gx, gy) = self.gradient;
        let shade = 1.0 + gx * (x / self.width - 0.5) + gy * (y / self.height - 0.5);
        let h = self.glow_height / (self.glow_height + (self.base - y).max(0.0));
        self.sky[c] * shade + self.glow[c] * h * h
    }

    /// The ground's light at (x, y) in colour `c` (the world's texture, darkened, plus the
    /// lamps), `wb` the camera's white balance.
    pub fn ground(
        &self,
        world: &World,
        framing: Framing,
        (x, y): (f32, f32),
        c: usize,
        wb: [f32; 3],
    ) -> f32 {
        let (wx, wy) = framing.world_at(x, y);
        // Little colour survives in the dark: mostly the green plane's brightness.
        let v = 0.3 * world.sample(c, wx, wy) + 0.7 * world.sample(1, wx, wy);
        v * self.white / wb[c] * wb[1] + self.lamps(x, y, c)
    }

    /// The lamps' light at (x, y) in colour `c`, through the optics.
    fn lamps(&self, x: f32, y: f32, c: usize) -> f32 {
        optics(x, y, |x, y| self.sharp_lamps(x, y, c))
    }

    fn sharp_lamps(&self, x: f32, y: f32, c: usize) -> f32 {
        let mut sum = 0.0;
        for l in &self.lamps {
            let r = l.hx.max(l.hy);
            let reach = GLOW_REACH * r + 3.0;
            let (dx, dy) = (x - l.x, y - l.y);
            if dx.abs() > reach || dy.abs() > reach {
                continue;
            }
            let d2 = dx * dx + dy * dy;
            let core = if l.round {
                (r + 0.5 - d2.sqrt()).clamp(0.0, 1.0)
            } else {
                (l.hx + 0.5 - dx.abs()).clamp(0.0, 1.0) * (l.hy + 0.5 - dy.abs()).clamp(0.0, 1.0)
            };
            let glow = GLOW[usize::from(!l.round)] * r * r / (d2 + r * r);
            sum += l.level[c] * (core + glow);
        }
        sum
    }
}

/// `f` at (x, y) as the lens and the sensor's anti-aliasing filter pass it: the world's
/// [1 2 1]/4 kernel in each direction (see `scene::optical_blur`), so that a lamp or a gap
/// in the trees is never as sharp as a single broken photosite. The world's texture is
/// blurred already; what is drawn here on top of it is not.
fn optics(x: f32, y: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    const W: [f32; 3] = [0.25, 0.5, 0.25];
    let mut sum = 0.0;
    for (j, wy) in W.iter().enumerate() {
        for (i, wx) in W.iter().enumerate() {
            sum += wx * wy * f(x + i as f32 - 1.0, y + j as f32 - 1.0);
        }
    }
    sum
}
