//! Per-frame evidence of defects, and what it adds up to over a series.
//!
//! - [`ring`]: each subpixel's neighbourhood (the same channel 2 pixels
//!   away), its median (the reference) and spread, taken branch-free;
//! - [`frame`]: the per-frame rule: the excess over the reference in linear
//!   light, whether the subpixel was seen standing out, and whether the
//!   frame could have shown it;
//! - [`record`]: the per-subpixel record those observations add up to (sums
//!   and counts), its merge, its bounds and its state-file members.
//!
//! Adding a kind of evidence means a field of [`Observation`], of
//! [`Evidence`] and its [`MEMBERS`] entry, and its place in the
//! accumulator's packed words (`stats::packed`, checked against
//! [`Evidence::add`] by the accumulator's tests).
//!
//! Nothing here assumes JPEG: the rule takes 8-bit values of one channel and
//! their ring, which a raw mosaic (one channel a photosite, its ring the
//! nearest photosites of the same colour) gives as well.

pub mod frame;
pub mod record;
pub mod ring;

pub use crate::params::CLIPPED;
pub use frame::{
    dark_weight, excess, observe, seen_threshold, Observation, CLAMP, DARK_FULL_SECONDS,
    DARK_WEIGHT_MAX,
};
pub use record::{Evidence, Member, Seen, EVIDENCE_BYTES, MEMBERS};
pub use ring::{
    median5, median8, median_of, ring5, ring8, ring_medians_row, ring_of, ring_stats_row, Layout,
    MinMax, RING,
};
