//! Where the planned defect groups go on the sensor and how strong each photosite is: drawn
//! from the series seed, far enough apart that no two groups' development footprints meet.

use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use super::{bayer_channel, DefectGroup, DefectPlan, KindCounts, Photosite, PlanKind, Shape};
use crate::num::{log_uniform, round_sig, uniform, unit};
use crate::{stream_rng, SeriesSpec, Stream, SynthError};

/// Smallest Chebyshev distance between photosites of two groups. The development spreads a
/// photosite over 4 px each way (demosaic 2, then sharpening and chroma blur 2), so 16 keeps
/// every group's footprint clear of the next one's with room for a detector's ring.
pub const GROUP_GAP: u32 = 16;
/// Interior groups keep this many photosites between themselves and the edge, so only the
/// planned edge groups are within [`EDGE_BAND`] of it.
pub const INTERIOR_MARGIN: u32 = 4;
/// Edge groups lie within this distance of the edge: row or column 0..=3 from a side.
pub const EDGE_BAND: u32 = 3;

/// Places the spec's defect groups; the same spec always gives the same list.
///
/// # Panics
///
/// If the frame has no room for them; [`try_place_defects`] reports that as an error.
pub fn place_defects(spec: &SeriesSpec) -> Vec<DefectGroup> {
    match try_place_defects(spec) {
        Ok(groups) => groups,
        Err(err) => panic!("{err}"),
    }
}

/// Places the spec's defect groups: edge groups first (their places are scarce), then
/// clusters, pairs and singles; the list is sorted by row then column and numbered.
pub fn try_place_defects(spec: &SeriesSpec) -> Result<Vec<DefectGroup>, SynthError> {
    spec.validate()?;
    let plan = &spec.defects;
    let mut rng = stream_rng(spec.seed, Stream::Defects, 0, 0);
    let mut grid = Grid::new(spec.width, spec.height);
    let wanted = plan.groups();
    let budget = 4000 + 400 * wanted;
    let mut attempts = 0usize;
    let mut placed: Vec<DefectGroup> = Vec::with_capacity(wanted);
    let no_room = |placed: usize| SynthError::NoRoomForDefects {
        placed,
        wanted,
        edge: plan.edge.total(),
        gap: GROUP_GAP,
        width: spec.width,
        height: spec.height,
    };

    let batches: [(&KindCounts, Option<Shape>); 4] = [
        (&plan.edge, None),
        (&plan.clusters, Some(Shape::Cluster)),
        (&plan.pairs, Some(Shape::Pair)),
        (&plan.singles, Some(Shape::Single)),
    ];
    let mut edge_index = 0usize;
    for (counts, shape) in batches {
        for kind in PlanKind::ALL {
            for _ in 0..counts.get(kind) {
                let mut first = true;
                let sites = loop {
                    if attempts >= budget {
                        return Err(no_room(placed.len()));
                    }
                    attempts += 1;
                    let candidate = match shape {
                        None => edge_site(&mut rng, spec.width, spec.height, edge_index, first),
                        Some(shape) => interior_sites(&mut rng, spec.width, spec.height, shape),
                    };
                    first = false;
                    if let Some(sites) = candidate.filter(|s| grid.is_free(s)) {
                        break sites;
                    }
                };
                if shape.is_none() {
                    edge_index += 1;
                }
                grid.insert(&sites);
                let shape = shape.unwrap_or(Shape::Single);
                placed.push(make_group(&mut rng, spec, plan, kind, shape, &sites));
            }
        }
    }

    placed.sort_by_key(|g| (g.photosites[0].y, g.photosites[0].x));
    for (id, g) in placed.iter_mut().enumerate() {
        g.id = id;
        if let Some(p) = g.on_probability {
            g.on_frames = Some(blink_frames(spec.seed, id, spec.frames, p));
        }
    }
    Ok(placed)
}

/// The frames in which a blinking group is on: one draw per frame, keyed by group and frame
/// so that a longer series keeps the earlier frames' states.
fn blink_frames(seed: u64, id: usize, frames: usize, p: f32) -> Vec<usize> {
    (0..frames)
        .filter(|&f| unit(&mut stream_rng(seed, Stream::Blink, id as u64, f as u64)) < p as f64)
        .collect()
}

fn make_group(
    rng: &mut ChaCha8Rng,
    spec: &SeriesSpec,
    plan: &DefectPlan,
    kind: PlanKind,
    shape: Shape,
    sites: &[(u32, u32)],
) -> DefectGroup {
    let r = &plan.ranges;
    let photosites = sites
        .iter()
        .map(|&(x, y)| {
            let mut p = Photosite {
                x,
                y,
                channel: bayer_channel(x, y),
                level: None,
                offset: None,
                rate: None,
            };
            match kind {
                PlanKind::StuckHigh => p.level = Some(1.0),
                PlanKind::StuckMid => p.level = Some(round_sig(uniform(rng, r.stuck_mid), 3)),
                PlanKind::Hot => p.rate = Some(round_sig(log_uniform(rng, r.hot_rate), 3)),
                PlanKind::Warm => p.offset = Some(round_sig(log_uniform(rng, r.warm_offset), 3)),
                PlanKind::Blinking => {
                    p.offset = Some(round_sig(log_uniform(rng, r.blink_offset), 3))
                }
                PlanKind::Dead => {}
            }
            p
        })
        .collect::<Vec<_>>();
    let on_probability = (kind == PlanKind::Blinking)
        .then(|| (uniform(rng, r.blink_probability) * 100.0).round() / 100.0);
    let (w, h) = (spec.width, spec.height);
    let edge = sites
        .iter()
        .all(|&(x, y)| x.min(y).min(w - 1 - x).min(h - 1 - y) <= EDGE_BAND);
    let (kind, stuck) = kind.kind();
    DefectGroup {
        id: 0,
        kind,
        stuck,
        shape,
        photosites,
        on_probability,
        on_frames: None,
        edge,
        detectable: false,
        visible_frames: Vec::new(),
    }
}

/// The photosites of an interior group of `shape` at a random place.
fn interior_sites(rng: &mut ChaCha8Rng, w: u32, h: u32, shape: Shape) -> Option<Vec<(u32, u32)>> {
    let m = INTERIOR_MARGIN;
    // One less room on the far side for the second column or row of a pair or cluster.
    if w < 2 * m + 2 || h < 2 * m + 2 {
        return None;
    }
    let (x, y) = (
        rng.random_range(m..w - m - 1),
        rng.random_range(m..h - m - 1),
    );
    Some(match shape {
        Shape::Single => vec![(x, y)],
        Shape::Cluster => vec![(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)],
        Shape::Pair => match rng.random_range(0..4u32) {
            0 => vec![(x, y), (x + 1, y)],
            1 => vec![(x, y), (x, y + 1)],
            2 => vec![(x, y), (x + 1, y + 1)],
            // The other diagonal.
            _ => vec![(x + 1, y), (x, y + 1)],
        },
    })
}

/// The place of the `index`-th edge group: the first eight go to the four corners, row 0,
/// column 0, the last row and the last column (where a detector's neighbourhood is cut
/// short); the rest, and any retry, anywhere within [`EDGE_BAND`] of a random side.
fn edge_site(
    rng: &mut ChaCha8Rng,
    w: u32,
    h: u32,
    index: usize,
    first_try: bool,
) -> Option<Vec<(u32, u32)>> {
    let (xs, ys) = (rng.random_range(0..w), rng.random_range(0..h));
    let depth = rng.random_range(0..=EDGE_BAND);
    let side = rng.random_range(0..4u32);
    // A fixed target is tried once; if that spot is taken, the group goes elsewhere on the band.
    let site = match (first_try, index) {
        (true, 0) => (0, 0),
        (true, 1) => (xs, 0),
        (true, 2) => (0, ys),
        (true, 3) => (w - 1, h - 1),
        (true, 4) => (xs, h - 1),
        (true, 5) => (w - 1, ys),
        (true, 6) => (w - 1, 0),
        (true, 7) => (0, h - 1),
        _ => match side {
            0 => (xs, depth),
            1 => (xs, h - 1 - depth),
            2 => (depth, ys),
            _ => (w - 1 - depth, ys),
        },
    };
    Some(vec![site])
}

/// Placed photosites bucketed in cells one gap (plus a group's extent) wide, so a candidate
/// need only look at the 3x3 cells around it.
struct Grid {
    cols: usize,
    rows: usize,
    cells: Vec<Vec<(u32, u32)>>,
}

const CELL: u32 = GROUP_GAP + 2;

impl Grid {
    fn new(w: u32, h: u32) -> Grid {
        let (cols, rows) = (w.div_ceil(CELL) as usize, h.div_ceil(CELL) as usize);
        Grid {
            cols,
            rows,
            cells: vec![Vec::new(); cols * rows],
        }
    }

    fn is_free(&self, sites: &[(u32, u32)]) -> bool {
        sites.iter().all(|&(x, y)| {
            let (cx, cy) = ((x / CELL) as usize, (y / CELL) as usize);
            (cy.saturating_sub(1)..=(cy + 1).min(self.rows - 1)).all(|gy| {
                (cx.saturating_sub(1)..=(cx + 1).min(self.cols - 1)).all(|gx| {
                    self.cells[gy * self.cols + gx]
                        .iter()
                        .all(|&(ox, oy)| ox.abs_diff(x).max(oy.abs_diff(y)) >= GROUP_GAP)
                })
            })
        })
    }

    fn insert(&mut self, sites: &[(u32, u32)]) {
        for &(x, y) in sites {
            self.cells[(y / CELL) as usize * self.cols + (x / CELL) as usize].push((x, y));
        }
    }
}
