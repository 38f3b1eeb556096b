//! Pictures of the defects for people: a map of the whole sensor with every
//! defect circled ([`map`]) and a contact sheet of close-ups ([`crops`]).
//!
//! Both are drawn from the finished statistics and report, never from the
//! photos again, and are deterministic: the same series gives byte-identical
//! PNG files (no time stamps, no dependence on the number of workers).

pub mod colour;
pub mod crops;
pub mod draw;
pub mod map;
pub mod scoremap;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};

/// The colour of circles, outlines and numbers: a cyan that the inferno
/// scale of [`colour`] never produces, so a marker cannot be mistaken for a score.
pub const MARKER: [u8; 3] = [0, 255, 255];

/// Writes `image` as a PNG. The encoder adds only the image chunks (no time
/// stamp), so equal images give equal bytes.
pub fn write_png(image: &RgbImage, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    PngEncoder::new_with_quality(out, CompressionType::Best, FilterType::Adaptive)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| match e {
            image::ImageError::IoError(e) => e,
            other => std::io::Error::other(other),
        })
}
