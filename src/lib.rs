//! hotpix: find the defective pixels of a camera sensor from ordinary photos.

pub mod synth;
