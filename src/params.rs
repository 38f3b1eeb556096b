//! Every number the evidence and the detector are built on that is not
//! forced by arithmetic, in one table, each with its origin:
//! - **physics**: follows from what sensors, optics and JPEG do;
//! - **cost**: chosen for speed or memory, with what it gives up;
//! - **fitted**: chosen by measuring, with what it was measured on. The
//!   generated series named are `benches/detection.py`'s at seed offset 0
//!   (seeds 11 to 27), which no test uses (the tests use seeds 201 to 216;
//!   `--seed-offset 100` gives a further held-out check); the real files are
//!   the nine COOLPIX P6000 photos in `../shared/real-samples/same-camera`,
//!   every combination of 2 to 9 of them.
//!
//! A number used in only one place is still listed here, so that a reader
//! can see at once what the detector assumes.

// ---------------------------------------------------------------- per frame

/// A reference at or above this 8-bit level is clipped: no bright excess can
/// show against it. Physics: JPEG encoders leave clipped highlights at 250
/// to 255 (ringing of the 8x8 blocks next to them).
pub const CLIPPED: u8 = 250;

/// The least a subpixel must stand out from its reference (8-bit levels) to
/// count as seen in a frame. Physics: JPEG noise of a smooth area is 1 to 2
/// levels; the generator's "visible" is 3 levels before JPEG.
pub const SEEN_MIN: u8 = 3;

/// In texture, a subpixel counts as seen only when it stands out by this
/// many ring spreads (the middle half of the 8 ring members). Fitted (a
/// prototype of the rule run on the generated series and the P6000
/// photos): with 2, a scene subpixel is seen in 3 to 8% of frames on both,
/// while 90% of the generated defects are seen in 80% or more of the
/// frames that could show them; with 1 spread, 12 to 19% of scene
/// subpixels are, and with a fixed 4 levels 21 to 41%.
pub const SEEN_SPREADS: u8 = 2;

// ------------------------------------------------------------ the detector

/// Standard deviation (8-bit levels) added under a division by σ. Physics:
/// JPEG noise alone moves a subpixel by 1 to 3 levels.
pub const NOISE_FLOOR: f32 = 2.0;

/// The least noise JPEG leaves on a subpixel (8-bit levels), the low end
/// of [`NOISE_FLOOR`]'s range. Where the neighbours of a subpixel over a
/// dark reference move by less than [`NOISE_FLOOR`] a frame (a foreground
/// clipped to black), the noise of a frame there is taken as what they
/// move, down to this, and the noise of their mean as that over √views
/// (independent views average it; a still scene repeats it: see
/// `detect::score`). Physics, then checked on detection.py seeds 0, 100, 300
/// and 400 (so those are no longer held out for it): at 1.0, 7 more hot
/// pixels found and no false report added; at 0.5 (half a level of
/// rounding) 14 false reports more, faint lights of a black foreground; at
/// 1.5, 3 more found.
pub const JPEG_NOISE_MIN: f32 = 1.0;

/// Spread of a subpixel's excess sum below which a spread says nothing
/// (linear levels). Physics: quantisation of 8-bit values in dark areas.
/// The floor of Σ weight × excess is this times the root mean square of the
/// frames' dark weights: one quantum of excess in a frame of weight w is w
/// there, so where both floors bind (a sky or a ground clipped to black)
/// the two sums say equally much. Measured with one floor for both: on a
/// 5-frame night sky at ISO 100 (hotpix-synth seed 7, 3872x2592, weight 15
/// in every frame) faint points 3 to 5 levels over black passed for 10 to 30
/// spreads in the weighted sum, and 19 reports were false; now 12. 9 of its
/// 633 hot pixels found before were found only through such a neighbour of
/// theirs, their own photosite short of the count strength 5 frames give.
pub const EXCESS_FLOOR: f32 = 1.5;

/// Below this reference (8-bit) the shape of a rise is read from the 8-bit
/// means instead of the linear excess, and counts on varied frames too
/// (where the linear sums are as blind; the frame counts must then support
/// it). Physics: one 8-bit
/// level there is worth about 1/8 of a linear level or less ((2r + 1) /
/// 256), so the linear excess (v² − r²) / 256, rounded down each frame,
/// loses small rises and its neighbours' share of them: over black, every
/// rise under 16 levels is 0 (the hot pixels of a dark foreground, and the
/// wings of a faint star that would make it look sharp). Measured on
/// detection.py seeds 0 and 100: sky5 2 and 1, tracked 3 and 1 more
/// found, sky20 (seed 0) 1 fewer, no false report added. On varied frames
/// as well: sky20 and dithered (seed 100) 1 more hot pixel found each, and
/// on held-out seed 300 sky5 and dithered 1 more each, no false report
/// added on seeds 0, 100, 300 and 400.
pub const LINEAR_COARSE_BELOW: f32 = 16.0;

/// A subpixel counts as pinned once it moves less than this share of what a
/// scene point there would (stillness 1 − σ/σ_ring above it), fully at 1.
/// Physics: a scene point moves as much as its neighbours; a pinned
/// photosite by its noise only.
pub const PINNED_FROM: f32 = 0.5;

/// Levels (8-bit) from its neighbourhood at which a pinned subpixel counts
/// fully; nearer, in proportion. Physics: two frames at one value a few
/// levels from the neighbours are a coincidence, not a photosite.
pub const STUCK_FULL_LEVELS: f32 = 24.0;

/// The scene counts as seen to move around a subpixel from this σ of its
/// neighbours over the frames (8-bit levels), fully from the second.
/// Physics: JPEG noise is 1 to 3 levels; a σ of 3 noise levels or more is
/// the scene's light changing. Below it (a constant border row, a sky
/// clipped to black or white in every frame, a night sky) nothing can be
/// seen to be pinned, and nothing is called stuck.
pub const SCENE_MOVED_FROM: f32 = 4.0;
pub const SCENE_MOVED_FULL: f32 = 8.0;

/// Sharpness (share of a bright excess its immediate same-channel
/// neighbours do not share) from which the shape is a defect's, and at
/// which it fully is. Physics: demosaicing and sharpening leave a bad
/// photosite's neighbours a third of its excess or less; the optics spread a
/// scene point so that its neighbours keep 40% or more.
pub const SHARP_FROM: f32 = 0.6;
pub const SHARP_FULL: f32 = 0.8;

/// A defect shows in at least this share of the frames that could show it.
/// Physics: a stuck, warm or dead photosite shows in every frame whose
/// surroundings do not clip, a hot one in every long frame; a star, a lamp
/// or a glint in the few that put it there.
pub const SEEN_SHARE: f64 = 0.5;

/// How sure the frames must make a defect: the chance that the scene alone
/// shows a subpixel that often must be at most 10^−STRENGTH_MIN. Cost of a
/// false report against a missed defect: only subpixels strong enough in
/// magnitude are asked, a few thousand in a 24 MP series, so at 10^−5 a
/// chance report is rare. Fitted: with [`CHANCE_MIN`] it keeps every run of
/// 2 to 4 P6000 photos free of reports (3 frames reach at most 10^−4.97);
/// the hot pixels of a 5-frame night sky, where drifting trails light 9% of
/// the photosites by chance in each frame, reach 10^−5.1.
pub const STRENGTH_MIN: f32 = 5.0;

/// A 64x64 tile holding this many defects or more after a first pass is
/// crowded: judged again as one view (see `detect::crowd`). Physics: a
/// sensor's defects are sparse (the generator's dense 115 a megapixel, 0.5
/// a tile, reach 4 in about 1 tile of 700), while a still star field (a
/// tracking mount) or a lit foreground puts a dozen points standing out in
/// every frame in one tile. Measured on detection.py seed 0 (this rule
/// alone): tracked sky 356 -> 52 false reports for 6 true ones lost of 59,
/// tripod 5 -> 2, no other series changes; seed 100: tracked 232 -> 83,
/// defect-free sky 28 -> 15; at 3 the textured and old-style series lose
/// 5 and 2 true defects (seed 0).
pub const CROWDED_TILE: usize = 4;

/// A tile whose block of 3x3 tiles (192x192 pixels, 0.037 megapixel,
/// moved inwards at the frame's edges) holds this many defects or more
/// after a first pass is crowded too: a tracked sky's stars scattered a
/// few to a tile. Physics: at 115 defects a megapixel (the generator's
/// dense sensors) a block holds 4.2 on average and 12 or more in about 1
/// block of 670 (Poisson); a real camera's defects, tens a megapixel,
/// hardly ever (30: 1 in 400 million); and where a crowd's points mostly
/// pass as one view, they are defects and keep their first verdicts.
/// Measured on detection.py with the tile rule and that check: tracked sky
/// false reports 52 -> 0 (seed 0) and 83 -> 0 (seed 100) for 3 and 4 true
/// ones lost of 53 and 58; sky20 of seed 100 9 false reports instead of
/// 12 and 1 more found, its defect-free sky 15 -> 13; no other series
/// changes. Without the check, at 12, seed 100 lost 1 true defect each on
/// weak-warm, texture and sky20; at 10 four series of seed 0 lost 1 to 2,
/// at 8 seven lost 1 to 3. A night sky with 960 defects a megapixel (400
/// hot, hotpix-synth seed 31): 350 of 461 found with the check (every
/// crowd refuted), 327 without, 338 with no crowded tiles.
pub const CROWDED_BLOCK: usize = 12;

/// Frames alike from this similarity (0 varied, 1 one view) count as one
/// view: only stillness and shape can tell a defect there.
pub const ALIKE_ONE_VIEW: f32 = 0.5;

/// Where the scene moves (see `detect::motion`): a tile moves where at
/// least [`MOTION_SUBPIXELS`] of its subpixels at least
/// [`MOTION_UNCLIPPED`] levels from either end move over the frames (their
/// σ) by more than [`MOTION_TIMES`] times the tile's median σ and more than
/// [`MOTION_LEVELS`]. Physics: a still scene moves by noise, about the same
/// over a tile (a sample σ over 5 frames reaches twice the true one in
/// under 1% of subpixels, over 20 frames 1.4 times); light passing over a
/// few subpixels moves them by tens of levels in some frames. 6 levels is 3
/// times [`NOISE_FLOOR`]; 8 subpixels a few pixels of a star's trail, more
/// than a hot pixel's noise lends its own footprint; within 8 levels of
/// black or white, clipping takes the noise away, so the tile's median σ is
/// taken without them. Light lifting a subpixel near black still moves it
/// (a trail over the black sky of a low-ISO frame, lit in 1 of 5 frames,
/// keeps a mean under 8): those count among the moving ones. Checked on
/// hotpix-synth night skies at 3872x2592 (5 frames at ISO 100 drifting 10
/// to 15 px, 20 at ISO 400 drifting 1 to 4): 67 to 100% of the sky's tiles
/// move, 0 to 13% of the foreground's. Counting the subpixels near black,
/// on the 5-frame sky of seed 7: 767 -> 797 of 1,090 defects found (stuck
/// 168 -> 186, warm 172 -> 181), false reports 12 -> 12; held out, seed 21:
/// 923 -> 936 of 1,323, false 5 -> 5; the defect-free skies of seeds 8, 14,
/// 16, 22 and 23 and detection.py's four seeds unchanged.
pub const MOTION_TIMES: f32 = 3.0;
pub const MOTION_LEVELS: f32 = 6.0;
pub const MOTION_SUBPIXELS: usize = 8;
pub const MOTION_UNCLIPPED: f32 = 8.0;

/// Where most of a tile is near black (under [`MOTION_UNCLIPPED`]: a
/// low-ISO night sky), its few unclipped subpixels may be the very light
/// passing over it (a trail's core), whose median σ says nothing of its
/// noise: the subpixels near black then move from [`MOTION_TIMES`] times
/// their own median σ, and at least this many levels. Physics: light that
/// lifts a black subpixel to L in 1 frame of n gives it σ L/√n, tens of
/// levels for a trail over 5 frames; near black, clipping leaves the noise
/// of a noisy ground a tail to 6 or 7 levels. Measured on hotpix-synth
/// 3872x2592 series: 28% of the sky's tiles of the 5-frame sky of seed 7
/// (ISO 100) were judged still, among them a trail's tiles whose 337
/// unclipped subpixels had a median σ of 19; with this rule 836 of 1,090
/// defects are found there (825 before), 14 false reports (13); held out,
/// seed 21: 1,001 of 1,323 (970), 7 (6); the defect-free skies of seeds 8,
/// 14, 16, 22, 23, 24 and detection.py's four seeds unchanged but one more
/// stuck found. At 6 levels (as [`MOTION_LEVELS`]) the noisy ground of seed
/// 24 (5 frames at ISO 400) moved, and its lamps gave 10 more false
/// reports.
pub const MOTION_LIFT_LEVELS: f32 = 10.0;

/// A tile that does not move itself still takes the scene's motion from its
/// block of 3x3 tiles where this many of their subpixels move together
/// (see `detect::motion`): sky that a few frames' stars happened to miss,
/// between tiles they crossed. Physics: a star field moves tens of
/// subpixels a tile; one lamp blinking in a still foreground moves a dozen
/// (a lit window's or a lamp's disc), and the tiles beside it stay still.
/// 3 times [`MOTION_SUBPIXELS`]. Checked on the 3872x2592 skies of seeds 7,
/// 9 and 10: against any moving tile in the block, it leaves 22 to 111
/// more tiles still, in the foreground but for at most 3 a row in the sky
/// of seed 9 (short trails at ISO 400).
pub const MOTION_BLOCK_SUBPIXELS: usize = 24;

/// ... and only where it moves beyond its noise itself, this many of its
/// subpixels over this many times its typical σ (faint stars drifting
/// through sky no bright one crossed), or lies between moving tiles (above
/// and below, or left and right): a still foreground moves by noise alone,
/// and the ground below a horizon takes no motion from the sky above it.
/// Physics: over 20 frames a σ estimated from noise alone stays within 20%
/// of the tile's typical one nearly always (brighter in a lit window than
/// on the dark ground: 1.5 times); fewer frames spread it more, so short
/// series keep borrowing. Measured on hotpix-synth 3872x2592 night skies:
/// the foreground tiles below the horizon holding false reports had 0 or 1
/// subpixel over 2 times (seed 16), the sky tiles no bright star crossed
/// mostly 2 to 25 (seed 15); some of seed 15 (drift 10 px a frame) show
/// none and are judged still, 28 of its 1,471 defects lost; the defect-free skies of seeds 8, 9, 11, 14 and 16 went
/// from 9, 7, 13, 16 and 29 reports to 4, 5, 9, 5 and 3.
pub const MOTION_FAINT_TIMES: f32 = 2.0;
pub const MOTION_FAINT_SUBPIXELS: usize = 2;

/// A tile whose unclipped subpixels' median σ over the frames is over this
/// many levels moves as a whole (see `detect::motion`): frames of different
/// scenes or exposures there. Physics: a still scene moves by noise, which
/// JPEG keeps under this up to the highest ISOs; a change of scene or of
/// exposure moves a tile by tens of levels. Measured (tiles' median σ, 10th
/// to 99th percentile): generated night skies 3 to 5 levels at ISO 400, 6
/// to 8 at ISO 1250, 10 to 13 at ISO 3200, 10 to 18 at ISO 6400; generated
/// tripod exposure brackets 23 to 54. It was [`MOTION_LEVELS`] (6) before:
/// the foreground of a 3872x2592 sky at ISO 1250 then moved as a whole, and
/// its lamps passed for warm photosites (hotpix-synth seed 13: 97 false
/// reports).
pub const MOTION_WHOLE_LEVELS: f32 = 20.0;

/// From this similarity stillness and shape count beside the frame counts,
/// as fully as on one view (a tripod series whose tiles are a third alike,
/// a burst of 3 among 5 frames); below it the frames are different scenes
/// and the counts decide. Fitted on detection.py `tripod`, seed 0, when they
/// counted in proportion up to [`ALIKE_ONE_VIEW`]. Counting fully from here,
/// on detection.py's four seeds: the 5-frame `five` series found 71 → 112
/// of 174 (stuck 59 → 68 of 70), tripod false reports 8 → 10 (two scene
/// points black in blue on a bracket whose tiles read a third alike); no
/// other series changed; the P6000 photos unchanged. Counting them on
/// frames of different scenes too gave every run of 2 of the P6000 photos
/// reports.
pub const ALIKE_PARTLY_FROM: f32 = 0.2;

/// Frames whose exposure × ISO agree within this share were taken at one
/// exposure (see `detect::Exposures`). Physics: EXIF rounds exposure
/// times and ISOs to a few significant digits; the steps a camera offers
/// differ by a third of a stop (26%) or more.
pub const SAME_EXPOSURE: f64 = 0.02;

/// On frames of one exposure, a subpixel clipped to white whose 4th
/// brightest neighbour rises this share of its own rise (linear light) or
/// more is a clipped lamp, window or star core, not a defect group, and
/// its stillness is the clipping's (see `detect::score`); on any frames, a
/// bright subpixel lit so beyond a square is light the lens spread where
/// its ring at 2 pixels keeps [`HALO_WIDE`] of its rise. Physics: a 2x2
/// cluster, the largest group, has 3 partners among its 8 neighbours, and
/// demosaicing lends the others half of a photosite's light at most
/// (bilinear), less in modern cameras; the anti-aliasing filter lends a
/// lamp's 4 nearest pixels half of its light or more. Fitted on hotpix-synth
/// night skies at 3872x2592 (seeds 13 and 14) and 800x600 (tracked, seed
/// 218; the tests' series of that seed are 640x480): clipped lamps and
/// windows 0.68 to 1, their rims 0.46 to 0.59, clipped pairs and clusters
/// 0.04 to 0.35.
pub const CLIPPED_SQUARE_SHARE: f32 = 0.4;

/// The automatic threshold is this many times the [`AUTO_TAIL_QUANTILE`] of
/// the magnitudes of a sample of subpixels, and never below
/// [`MIN_THRESHOLD`]. The magnitudes are z-scores against each
/// neighbourhood's spread, so on a clean series the tail is that of noise
/// and scene details; a weak series (few frames, alike frames) has a
/// heavier one. Fitted (issue 10, on the generated series of seeds 0 and
/// 100): the 99.5th percentile, not a higher one, because the defects
/// themselves are a share of the last 0.1% on a sensor that has many; on a
/// defect-free series the 99.5th percentile is about 2, so the floor decides.
pub const AUTO_TAIL_FACTOR: f64 = 3.5;
pub const AUTO_TAIL_QUANTILE: f64 = 0.995;
pub const MIN_THRESHOLD: f64 = 8.0;

/// A photosite of a defect beside its peak scores at least this share of the
/// peak's score; one diagonal to it, `PHOTOSITE_SHARE_DIAGONAL`. Fitted
/// (issue 10, six generated presets of seeds 0 and 100): demosaicing lends a
/// photosite's excess to the pixels beside it (about half, in its own colour
/// and, through chroma, in others) and less to the diagonal ones; second
/// photosites scoring under these shares were mostly such echoes.
pub const PHOTOSITE_SHARE: f32 = 0.6;
pub const PHOTOSITE_SHARE_DIAGONAL: f32 = 0.5;

/// Below this mean (8-bit) a pinned photosite reads nothing: dead. Physics:
/// black level and JPEG noise keep a dead photosite's pixel under 6.
pub const DEAD_MEAN: f32 = 6.0;

/// A pinned photosite moves at most this share of its neighbours' σ; when
/// saturated (mean at or above `SATURATED_MEAN`), `SATURATED_MOVES`.
/// Fitted (issue 10, generated presets): a pinned photosite moves by JPEG
/// noise and its neighbours' ringing only; a saturated one also by the
/// highlights' clipping around it.
pub const PINNED_MOVES: f32 = 0.1;
pub const SATURATED_MEAN: f32 = 245.0;
pub const SATURATED_MOVES: f32 = 0.4;

/// A bright photosite seen darker than its neighbourhood in at least this
/// share of the frames that could show it darker is pinned at a level the
/// scene crosses (stuck), not offset from the scene. Physics: a warm or hot
/// photosite adds to the scene and is darker only where the scene's texture
/// beats its offset, which the seen threshold makes rare.
pub const OVERTAKEN_SHARE: f64 = 0.2;

/// Dark current at one second at ISO 100 over the offset: hot. Physics:
/// a hot photosite's excess grows with exposure × gain from near 0.
pub const HOT_OVER_OFFSET: f64 = 4.0;

/// The least rate at which a neighbourhood is taken to show something by
/// chance in a frame, however rarely its own subpixels were seen. Physics:
/// JPEG noise of 1 to 2 levels passes the [`SEEN_MIN`] of 3 in 1 to 2% of
/// frames even where the scene is smooth. Measured: the 1st percentile of
/// the local rates is 0.9% to 1.3% on runs of 2 to 5 frames (the COOLPIX
/// P6000 photos and the generated five-frame series) and 3% to 5% on
/// generated series of 30. With [`STRENGTH_MIN`], it means that 3 frames of
/// different scenes can never make a defect sure (at most 10^−4.97): 4 can,
/// where the scene around it is smooth.
pub const CHANCE_MIN: f64 = 0.022;

/// A subpixel moving this many times as much as its neighbours (σ over the
/// frames, with [`NOISE_FLOOR`] under both; the neighbours' σ is the ring's
/// 2 pixels out, or the one 4 pixels out where that is less, as a star's
/// light moves its own ring 2 pixels out) is bright in some frames only,
/// and must show in [`SEEN_SHARE_INTERMITTENT`] of the frames that could
/// show it. Physics: a steady offset moves as the scene around it does; a
/// star lingering on a photosite for part of a slowly drifting series, a
/// lamp in some frames, and a hot photosite in the long frames of a varied
/// series move much more, and of these only the hot one shows in nearly
/// every frame that could show it.
pub const INTERMITTENT_MOVES: f32 = 2.0;
pub const SEEN_SHARE_INTERMITTENT: f64 = 0.8;

/// [`INTERMITTENT_MOVES`] on a series whose frames all have one exposure ×
/// gain (an astro series). Physics: there dark current adds the same to
/// every frame, so a hot photosite is as steady as a warm one and moves by
/// noise as its neighbours do (a little more for its own shot noise: 1.0
/// to 1.2); only light passing over it moves it more. Measured on the
/// defect-free 3872x2592 sky of seed 8: stars near the pole, lighting a
/// photosite in a run of 10 or 11 of 20 frames, move 1.84 to 1.91 times as
/// much as their neighbours, under [`INTERMITTENT_MOVES`].
pub const INTERMITTENT_MOVES_STEADY: f32 = 1.5;

// ---------------------------------------------------------------- warnings

/// A detection of at least this many reports is looked at for the scene's
/// doing: a real sensor's defects number from a few to a few hundred, and
/// stars or texture gave the real series of issue 18 over 1,700.
pub const SCENE_LIKE_REPORTS: usize = 200;
/// ... and warned about when half of them score under this many times the
/// threshold (a sensor's defects stand well clear of it) ...
pub const SCENE_LIKE_WEAK: f64 = 1.5;
/// ... or when this share of them is of one kind on one channel (a sensor's
/// defects fall on every channel: stars along their paths lit the green).
pub const SCENE_LIKE_ONE_KIND: f64 = 0.8;

/// A bright subpixel whose ring at 2 pixels rises above its ring at 4 by more
/// than this share of its own rise is light the lens spread (a star, a lamp,
/// a glint), not a photosite; and a dark one whose ring at 2 falls as far
/// below its ring at 4 (a gap, a hole: the lens blurs darkness alike).
/// Measured on bright points; on dark ones applied as the same physics,
/// checked on detection.py's four seeds (tripod 1 false report fewer,
/// oldstyle 1 stuck more found, nothing else changed). Physics: demosaicing
/// spreads a photosite one pixel, so its ring at 2 stays at the background (measured: at most 0.21 of
/// the rise for the generated hot, warm and stuck photosites of night skies,
/// mostly under 0.1), while a star or a lamp through the lens and the
/// anti-aliasing filter keeps a tenth to a third of its rise 2 pixels out.
pub const HALO_MAX: f32 = 0.25;

/// ... and a bright subpixel whose pixel is lit beyond a defect's 2x2
/// square in luma (a dark one darkened so, as for [`HALO_MAX`]; lit beyond
/// it: the 4th brightest of its 8 neighbours rises [`CLIPPED_SQUARE_SHARE`]
/// of its rise in linear light, and [`NOISE_FLOOR`] levels at least) is
/// such light as soon as the ring 2
/// pixels out keeps this share of its luma's rise. Physics: demosaicing
/// lends a photosite's light one pixel around it and nothing 2 pixels out
/// (sharpening pulls that ring down); subsampled chroma and chroma noise
/// reduction spread its colour further but not its luma; a lens blurs luma
/// and colour alike (a star drifting a pixel or two a frame through a short
/// series, a disc in the mean). Measured on hotpix-synth series: of the
/// defects of the modern-camera series (varied30, q85, texture, sky20 of
/// detection.py seed 0) none is lit beyond a square in luma; of the older
/// camera's (bilinear, strong sharpening, 4:2:0; 7 series) 79 are, their
/// ring at 2 keeping -0.12 to 0.09 of their luma's rise, 4 of them 0.13 to
/// 0.27 (2 of those lost: a stuck pair whose partner lights the ring, a
/// weak warm photosite in texture); the slowly drifting stars reported on
/// defect-free 5-frame skies at 3872x2592 (seeds 23 and 24) 0.10 to 0.30.
/// Seed 24 (ISO 400, drift 1 to 3 px): 104 -> 5 reports; seed 23 10 -> 0;
/// detection.py's four seeds: skyclean 1 -> 0 false, the older camera 167
/// -> 166 of 180 found, every other series the same; at 3872x2592 every sky
/// finds the same.
pub const HALO_WIDE: f32 = 0.1;

/// A subpixel whose ring at 2 or 4 pixels holds a member standing out the
/// same way by more than this many times its own rise (8-bit means over the
/// frames, from the ring median), and by 2 levels more at least, is part of
/// a larger shape of the scene, not a photosite (see
/// `detect::score::beyond`). Physics: a photosite is the
/// extreme of its neighbourhood, demosaicing lends the pixels around it part
/// of its excess; the margin over 1 is for noise and ringing. Measured on
/// detection.py seeds 0 and 100, ring at 2: the 1,868 true reports reach at
/// most 1.29 (old-style sharpening), 5 of them over 1.1; the false ones on
/// the night skies that this removes (tree tops against the sky, the edges
/// of lit windows, lamps' glare) lie at 1.67 to 5.5. The ring at 4 added
/// later (a tree's tip narrows and pales over a few pixels): of the 4,163
/// true reports of seeds 0, 100, 300 and 400 and a 3872x2592 5-frame sky,
/// 3 subpixels pass 1.5 (pairs and a single at a clipped lamp's edge) and
/// each defect is still found by another of its subpixels; the defect-free
/// 3872x2592 sky goes from 66 reports to 57 (tree tops along the horizon).
pub const BEYOND_MAX: f32 = 1.5;

/// A subpixel that both members of an opposite pair of its ring at 2 pixels
/// (left and right, above and below, either diagonal) stand out from the
/// ring median the same way by more than this share of its own rise (8-bit
/// means over the frames), and by 2 levels at least, lies on a line or an
/// area of the scene running through it, not on a photosite (see
/// `detect::score::through`). Physics: demosaicing and sharpening lend the
/// pixels 2 out of a photosite a little of its rise, and not on both sides
/// of it at once past half (a pair or a cluster lies to one side of its
/// peak); a star trailing along a column, a wire, a road between lamps
/// runs on both sides. Checked: of the 4,264 true reports of detection.py
/// seeds 0, 100, 300 and 400 and a 3872x2592 5-frame sky, the largest is
/// 0.49 (an old-style pair), then 0.38; the false reports over 0.5 are stars
/// trailing along a row or column near the pole of a defect-free 3872x2592
/// sky.
pub const THROUGH_MAX: f32 = 0.5;

/// A subpixel from which a ray of the scene runs out: every pixel 1 to 4
/// pixels along one direction (of 8) stands out from the ring median the
/// same way by more than this share of its own rise (8-bit means over the
/// frames), and by 2 levels at least. It ends a shape of the scene (a
/// tree's tip against a lit sky, a lamp's rim, the point of sky between
/// two trees) and is not a photosite (see `detect::score::ray`). Physics:
/// a photosite lends the pixel beside it part of its rise and those 2 out
/// a tenth or so (see [`HALO_MAX`]), so no ray of 4 stays up. Measured on
/// the reports of detection.py seeds 0, 100, 300 and 400 and of three
/// 3872x2592 skies (seeds 7, 8, 9): the 4,165 true ones reach at most 0.62
/// (a warm photosite beside a tripod scene's edge), then 0.43; 60 of the
/// 131 false ones lie over 0.7 (tree tips and lamps along the horizon of
/// the defect-free skies: 35 of 57, 16 of 23).
pub const RAY_MAX: f32 = 0.75;

/// A defect whose peak a subpixel of the scene within one pixel (any
/// channel; turned away by its shape or as passing light) outshines by more
/// than this many times (their magnitudes) is that scene point's weaker
/// spread (a star's other channel), not a photosite (see
/// `detect::outshone`). Physics: demosaicing lends the pixels and channels
/// around a photosite less than its own excess. Measured on detection.py
/// seeds 0, 100, 300 and 400: it removes the 9 false reports of the tracked
/// skies (stars' weaker channels, 7.7 to 50 times under the star's
/// strongest subpixel); it also removes 5 of their pairs and clusters whose
/// strongest member the shape rules turned away (2.7 to 9 times) and a
/// saturated stuck photosite of an old-style series (2.7 times), and
/// changes nothing on the other series.
pub const OUTSHINE_TIMES: f32 = 2.0;

/// Side of the largest JPEG block (a 4:2:0 MCU's chroma block), pixels.
/// Physics: the format's.
pub const JPEG_BLOCK: usize = 16;

/// A weaker group in a stronger defect's JPEG block is the stronger one's
/// ringing when its Σ excess is at most this share of the stronger one's.
/// Measured (the 90th percentile, over strong stuck, warm and hot defects,
/// of the largest Σ excess 4 to 16 pixels away as a share of the defect's):
/// 0.17 to 0.29 on the old-style series (quality 78, 4:2:0, sharpening 1.5),
/// 0.08 to 0.10 at quality 85 4:2:0, 0.07 (the scene's own) at quality 95.
pub const ECHO_SHARE: f32 = 0.3;
