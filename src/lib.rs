//! hotpix finds the defective pixels (stuck, hot, warm, dead) of a camera
//! sensor from ordinary photos taken with it: a subpixel that stays the same,
//! or stays brighter than its neighbours, across many different scenes is the
//! sensor's fault, not the scene's.
//!
//! The data flows one way through the modules:
//! [`inputs`] (paths, globs, stdin list) -> [`decode`] (JPEG header, EXIF via
//! [`camera`], pixels) -> [`stats`] (exact sums and the [`evidence`] of every
//! subpixel, in the run's one accumulator, which the workers fold frames
//! into band by band; the Welford form only for states merged past the
//! exact range) -> [`detect`] (with [`similarity`]: which frames show one
//! view, tile by tile) and [`rank`] -> [`report`] (one value, written as
//! table, JSON or CSV).
//! [`state`] saves the statistics, to resume, merge or report again.
//! [`visual`] draws the defects as PNG pictures and [`export`] lists them
//! for the programs that mend them (raw converters, Siril, jpegpixi), both
//! from the finished report. [`output`] writes every file atomically.
//! [`engine::find`] runs the whole path; it takes plain options and knows
//! nothing of the command line.

pub mod camera;
pub mod decode;
pub mod detect;
pub mod diff;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod export;
pub mod inputs;
pub mod output;
pub mod params;
pub mod plural;
pub mod rank;
pub mod report;
pub mod similarity;
pub mod state;
pub mod stats;
pub mod visual;

pub use engine::{find, Event, FindOptions, Outcome, Selection};
pub use error::{Error, SkipReason, Skipped};
pub use report::{Format, Report};
pub use stats::Stats;
