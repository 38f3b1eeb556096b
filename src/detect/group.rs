//! Flagged subpixels into defects: neighbouring flags are one defect (a
//! photosite and what demosaicing and sharpening spread it over, a pair, a
//! cluster); its peak and photosites are the strongest flags of the
//! defect's own sign (a bright defect's dark sharpening fringe is not its
//! photosite); its kind and fit come from the peak's evidence.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::context::rate_per_second;
use super::score::{self, scene_moved, Features, Scorer};
use super::{Defect, Kind, Photosite};
use crate::evidence::{Layout, RING};
use crate::params::{
    DEAD_MEAN, ECHO_SHARE, HOT_OVER_OFFSET, JPEG_BLOCK, NOISE_FLOOR, OVERTAKEN_SHARE,
    PHOTOSITE_SHARE, PHOTOSITE_SHARE_DIAGONAL, PINNED_MOVES, SATURATED_MEAN, SATURATED_MOVES,
};
use crate::rank::Channel;

/// A group of flagged pixels (by pixel index, its echoes folded in) and its
/// peak subpixel.
pub(super) type Group = (Vec<usize>, usize);

/// The defects the flags make (see [`groups`]).
pub(super) fn defects(scorer: &Scorer, flagged: &HashMap<usize, Features>) -> Vec<Defect> {
    describe_all(scorer, flagged, groups(scorer.stats.layout(), flagged))
}

/// Each group's defect.
pub(super) fn describe_all(
    scorer: &Scorer,
    flagged: &HashMap<usize, Features>,
    groups: Vec<Group>,
) -> Vec<Defect> {
    groups
        .into_iter()
        .map(|(members, peak)| describe(scorer, flagged, &members, peak))
        .collect()
}

/// The flags' groups, strongest first (ties by position): 8-connected
/// flagged pixels, a weaker group's echoes folded into the stronger.
pub(super) fn groups(layout: Layout, flagged: &HashMap<usize, Features>) -> Vec<Group> {
    let (w, ch) = (layout.width, layout.channels);
    let pixels: BTreeSet<usize> = flagged.keys().map(|&i| i / ch).collect();
    let mut seen: HashSet<usize> = HashSet::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for &start in &pixels {
        if !seen.insert(start) {
            continue;
        }
        // Flood fill the 8-connected group of flagged pixels.
        let mut stack = vec![start];
        let mut members = Vec::new();
        while let Some(p) = stack.pop() {
            members.push(p);
            let (px, py) = (p % w, p / w);
            for ny in py.saturating_sub(1)..=py + 1 {
                for nx in px.saturating_sub(1)..=(px + 1).min(w - 1) {
                    let q = ny * w + nx;
                    if pixels.contains(&q) && seen.insert(q) {
                        stack.push(q);
                    }
                }
            }
        }
        members.sort_unstable();
        groups.push(members);
    }
    let mut described: Vec<(Vec<usize>, usize)> = groups
        .into_iter()
        .map(|members| {
            let peak = peak_of(flagged, &members, ch);
            (members, peak)
        })
        .collect();
    described.sort_by(|a, b| {
        flagged[&b.1]
            .score
            .total_cmp(&flagged[&a.1].score)
            .then(a.1.cmp(&b.1))
    });
    // A strong defect raises the reference of pixels RING away, and
    // sharpening leaves a dark fringe: a weaker group whose peak is within
    // RING of a stronger one's is its echo, folded into it. So is a weaker
    // group in the stronger one's JPEG block whose excess JPEG's ringing of
    // the stronger one can leave there.
    let mut kept: Vec<(Vec<usize>, usize)> = Vec::new();
    for (members, peak) in described {
        let (x, y) = ((peak / ch) % w, peak / ch / w);
        let excess = flagged[&peak].excess.abs();
        match kept.iter_mut().find(|(_, k)| {
            let (kx, ky) = ((k / ch) % w, k / ch / w);
            (kx.abs_diff(x) <= RING && ky.abs_diff(y) <= RING)
                || (same_block((kx, ky), (x, y)) && excess <= ECHO_SHARE * flagged[k].excess.abs())
        }) {
            Some((m, _)) => m.extend(members),
            None => kept.push((members, peak)),
        }
    }
    kept
}

/// Whether two pixels can share a JPEG block: the 16x16 block of a 4:2:0
/// MCU (which holds the 8x8 and 16x8 blocks of other samplings), with a
/// pixel's slack for chroma upsampling across a block edge. JPEG's
/// quantisation error stays inside its block: a defect's ringing reaches
/// nothing outside it.
fn same_block(a: (usize, usize), b: (usize, usize)) -> bool {
    let blocks = |v: usize| [(v.saturating_sub(1)) / JPEG_BLOCK, (v + 1) / JPEG_BLOCK];
    let shares = |p: usize, q: usize| {
        let (bp, bq) = (blocks(p), blocks(q));
        bp.iter().any(|b| bq.contains(b))
    };
    shares(a.0, b.0) && shares(a.1, b.1)
}

/// The group's peak: its highest-scoring flagged subpixel of the group's
/// own sign (ties: the larger excess, then the lowest index). The sign is
/// that of its largest excess: sharpening leaves a fringe of the other sign
/// around a defect, weaker in excess but on a busier neighbourhood perhaps
/// higher in score, and the defect is where the light was, not its fringe.
fn peak_of(flagged: &HashMap<usize, Features>, members: &[usize], ch: usize) -> usize {
    let flags = || {
        members
            .iter()
            .flat_map(move |&p| (0..ch).map(move |c| p * ch + c))
            .filter_map(|i| flagged.get(&i).map(|f| (i, f)))
    };
    let sign = flags()
        .max_by(|a, b| {
            a.1.excess
                .abs()
                .total_cmp(&b.1.excess.abs())
                .then(b.0.cmp(&a.0))
        })
        .map_or(1.0, |(_, f)| f.excess.signum());
    let mut best: Option<(usize, &Features)> = None;
    for (i, f) in flags().filter(|(_, f)| f.excess * sign >= 0.0) {
        let better = match best {
            None => true,
            Some((_, b)) => {
                f.score > b.score || (f.score == b.score && f.excess.abs() > b.excess.abs())
            }
        };
        if better {
            best = Some((i, f));
        }
    }
    best.expect("a group has a flagged subpixel").0
}

fn describe(
    scorer: &Scorer,
    flagged: &HashMap<usize, Features>,
    members: &[usize],
    peak: usize,
) -> Defect {
    let layout = scorer.stats.layout();
    let (w, ch) = (layout.width, layout.channels);
    let f = flagged[&peak];
    let sign = if f.excess != 0.0 {
        f.excess.signum()
    } else {
        (f.mean - f.reference).signum()
    };
    let channel_of = |i: usize| channel(ch, i % ch);
    let mut channels: Vec<Channel> = members
        .iter()
        .flat_map(|&p| (0..ch).map(move |c| p * ch + c))
        .filter(|i| flagged.contains_key(i))
        .map(channel_of)
        .collect();
    channels.sort();
    channels.dedup();
    let (px, py) = ((peak / ch) % w, peak / ch / w);
    // Photosites: flags of the defect's sign within a pixel of the peak, one
    // channel a pixel (the strongest), each a sizeable share of the peak.
    let mut by_pixel: HashMap<usize, (usize, f32)> = HashMap::new();
    for &p in members {
        let (x, y) = (p % w, p / w);
        if x.abs_diff(px) > 1 || y.abs_diff(py) > 1 {
            continue;
        }
        for c in 0..ch {
            let i = p * ch + c;
            let Some(m) = flagged.get(&i) else { continue };
            let share = if x != px && y != py {
                PHOTOSITE_SHARE_DIAGONAL
            } else {
                PHOTOSITE_SHARE
            };
            if m.excess * sign <= 0.0 || (p != peak / ch && m.score < share * f.score) {
                continue;
            }
            let e = by_pixel.entry(p).or_insert((i, m.score));
            if m.score > e.1 {
                *e = (i, m.score);
            }
        }
    }
    let mut sites: Vec<(usize, f32)> = by_pixel.into_values().collect();
    sites.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut photosites: Vec<Photosite> = vec![photosite(w, ch, peak)];
    photosites.extend(
        sites
            .iter()
            .filter(|(i, _)| i / ch != peak / ch)
            .take(3)
            .map(|&(i, _)| photosite(w, ch, i)),
    );
    let (offset, slope) = scorer.ctx.fit(f64::from(f.excess), f64::from(f.dark));
    let fit = Fit {
        offset,
        slope,
        dark_frames: scorer.ctx.revealing > 0,
    };
    let kind = kind(&f, fit, || {
        // Pinned anywhere among its photosites' flagged channels: the
        // peak may be a channel demosaicing lent the excess to.
        sites
            .iter()
            .map(|&(i, _)| i)
            .chain(std::iter::once(peak))
            .flat_map(|i| {
                let base = i - i % ch;
                (base..base + ch).filter_map(|j| flagged.get(&j))
            })
            .any(|m| m.excess * sign > 0.0 && pinned(m))
    });
    let (seen, could_show) = seen_of(kind, &f, scorer.ctx.revealing);
    // A pinned subpixel has no dark current to speak of: its fit only says
    // how far it sits from its surroundings (the offset).
    let dark_rate = match kind {
        Kind::Stuck | Kind::Dead => None,
        _ => slope.map(|s| rate_per_second(s) as f32),
    };
    Defect {
        x: px as u32,
        y: py as u32,
        kind,
        channel: channel_of(peak),
        channels,
        photosites,
        pixels: members.len() as u32,
        score: f.score,
        mean: f.mean,
        reference: f.reference,
        variance: f.sd * f.sd,
        offset: offset as f32,
        dark_rate,
        seen,
        could_show,
        views: (score::views(scorer.ctx, scorer.ctx.view_at(px, py)) * 10.0).round() as f32 / 10.0,
        found_by: f.found_by,
    }
}

/// In how many frames the peak was seen its kind's way, of how many could
/// show it (`revealing`: frames long or high-ISO enough for dark current).
fn seen_of(kind: Kind, f: &Features, revealing: u64) -> (u32, u32) {
    let s = &f.seen;
    match kind {
        Kind::Hot => (s.hot, revealing as u32),
        Kind::Dead => (s.dark, s.could_dark),
        Kind::Stuck => (s.bright + s.dark, s.could_bright.max(s.could_dark)),
        Kind::Warm => (s.bright, s.could_bright),
    }
}

/// The fitted offset and dark-current slope of a peak (the slope `None`
/// where the frames cannot separate them), and whether any frame could
/// show dark current.
#[derive(Clone, Copy)]
struct Fit {
    offset: f64,
    slope: Option<f64>,
    dark_frames: bool,
}

/// The kind, from the peak's evidence, in this order:
/// - `dead`: darker than its neighbourhood (reading low or nothing);
/// - `stuck`: pinned while the scene around it was seen to move: moving at
///   most a tenth as much as its neighbours; or saturated and moving under
///   40% as much; or, less pinned, seen darker than the scene in a fifth of
///   the frames that could show it (a fixed level the scene crosses, which
///   an offset never is). Where the scene never moved (a night sky, a
///   clipped sky) nothing is called stuck. On a series whose frames all
///   have one exposure × gain with dark current (an astro series) a hot
///   pixel is as steady as a stuck one, saturated or not, even where stars
///   passed around it: there only one the scene overtook is stuck;
/// - `hot`: the fitted dark current at one second at ISO 100 is over four
///   times the fitted offset: it grows with exposure × gain;
/// - `warm`: a constant offset; also a hot pixel on a series whose frames
///   all have one exposure × gain, where dark current and an offset cannot
///   be told apart (the summary says so, and `dark_rate` is null).
fn kind(f: &Features, fit: Fit, any_pinned: impl FnOnce() -> bool) -> Kind {
    let darker = f.excess < 0.0 || (f.excess == 0.0 && f.mean < f.reference);
    if darker {
        return Kind::Dead;
    }
    let Fit {
        offset,
        slope,
        dark_frames,
    } = fit;
    if any_pinned() {
        let steady_dark_current = slope.is_none() && dark_frames && !overtaken(f);
        return if f.mean < DEAD_MEAN {
            Kind::Dead
        } else if steady_dark_current {
            Kind::Warm
        } else {
            Kind::Stuck
        };
    }
    if let Some(slope) = slope {
        let per_second = slope * f64::from(crate::evidence::DARK_WEIGHT_MAX);
        if slope > 0.0 && per_second > HOT_OVER_OFFSET * offset.max(0.0) {
            return Kind::Hot;
        }
    }
    Kind::Warm
}

/// How much a subpixel moves, as a share of its neighbours' σ.
fn moves(f: &Features) -> f32 {
    (f.sd + NOISE_FLOOR) / (f.ring_sd + NOISE_FLOOR)
}

/// Whether a subpixel is pinned (see [`kind`]).
fn pinned(f: &Features) -> bool {
    let moves = moves(f);
    scene_moved(f.ring_sd) >= 1.0
        && (moves <= PINNED_MOVES
            || (f.mean >= SATURATED_MEAN && moves <= SATURATED_MOVES)
            || (overtaken(f) && moves < 1.0))
}

/// Whether the scene overtook a subpixel: it was seen darker than its
/// neighbourhood in a fifth of the frames that could show it (a fixed
/// level the scene's light crosses).
fn overtaken(f: &Features) -> bool {
    let s = &f.seen;
    f64::from(s.dark) >= OVERTAKEN_SHARE * f64::from(s.could_dark.max(1))
}

fn photosite(w: usize, ch: usize, i: usize) -> Photosite {
    Photosite {
        x: ((i / ch) % w) as u32,
        y: (i / ch / w) as u32,
        channel: channel(ch, i % ch),
    }
}

fn channel(channels: usize, c: usize) -> Channel {
    if channels == 1 {
        Channel::L
    } else {
        Channel::ALL[c]
    }
}
