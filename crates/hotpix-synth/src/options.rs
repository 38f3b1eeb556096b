//! Settings of a series that came after the first presets: how night skies are taken and
//! how the camera demosaics. Each defaults to what the generator did before it existed.

use serde::{Deserialize, Serialize};

/// How the camera turns raw mosaics into full colour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Demosaic {
    /// Malvar-He-Cutler (bilinear plus a Laplacian correction from the other colours), as
    /// current cameras do.
    #[default]
    Malvar,
    /// Bilinear interpolation of each colour from its own photosites alone, as older
    /// cameras did: softer, with colour fringes (zipper) at edges and around defects.
    Bilinear,
}

impl Demosaic {
    pub(crate) fn is_malvar(&self) -> bool {
        *self == Demosaic::Malvar
    }
}

/// How a night-sky series (scene `sky`) and the night-sky views of a varied series are taken.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SkyOptions {
    /// On a tracking mount: the camera turns with the sky, so the stars stay put (up to a
    /// tracking error of a fraction of a photosite) and the foreground turns the other way,
    /// smeared within each exposure. Otherwise the camera stands still on a tripod.
    pub tracked: bool,
    /// Drift per frame in photosites, drawn log-uniform per view: the RMS over the frame of
    /// how far the sky (tripod) or the ground (tracking mount) moves from one frame's start
    /// to the next one's, for a frame period of the exposure plus 2 s.
    pub drift: [f32; 2],
    /// On a tracking mount: how far the mount is moved between frames
    /// (dithering, as capture programs do to tell stars from hot pixels),
    /// in photosites: each frame's offset is uniform over a disc of this
    /// radius (0: only the tracking error).
    #[serde(default)]
    pub dither: f32,
}

impl Default for SkyOptions {
    fn default() -> Self {
        SkyOptions {
            tracked: false,
            drift: [1.0, 15.0],
            dither: 0.0,
        }
    }
}

impl SkyOptions {
    pub(crate) fn is_default(&self) -> bool {
        *self == SkyOptions::default()
    }
}
