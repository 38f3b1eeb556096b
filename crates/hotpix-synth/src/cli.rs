//! The command line: clap structs whose doc comments are the help, and their translation into a
//! validated [`SeriesSpec`].

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, Subcommand};
use hotpix_synth::{Camera, ConditionMix, KindCounts, Preset, SceneMode, SeriesSpec, Subsampling};

/// Write synthetic camera JPEG series with known defective photosites.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a series of frames (DSC_0001.JPG, ...) and its truth.json.
    Series(Box<SeriesArgs>),
    /// Write the bad-input fixtures (empty, truncated, corrupt, ...) derived from a good frame.
    Bad(BadArgs),
}

/// Every flag but the size, seed and output overrides a setting of the preset.
#[derive(Debug, clap::Args)]
pub struct SeriesArgs {
    /// Directory to write into; created if missing.
    #[arg(long)]
    pub out: PathBuf,
    /// The series to start from: varied, five-burst, night-heavy, high-iso, q85-420,
    /// weak-warm, tripod, clean, night-sky (an untracked night sky from a tripod: stars
    /// drifting and trailing over a static foreground), night-sky-tracked (the same on a
    /// tracking mount: stars still, the foreground turning), night-collection (mostly night
    /// frames and skies, with hand-held night bursts at their own settings), textured-warm
    /// (weak-warm in a world of fine gravel, grass and brick texture) or old-style (an
    /// older camera: bilinear demosaic, strong sharpening, quality 78, 4:2:0). --singles none
    /// --pairs none --clusters none --edge none gives any preset without defects.
    #[arg(long, default_value = "varied", value_parser = Preset::from_str)]
    pub preset: Preset,
    /// Number of frames [default: 20 for night-sky and night-sky-tracked, 24 for
    /// night-collection, 60 for old-style, 12 for the others].
    #[arg(long)]
    pub frames: Option<usize>,
    /// Frame width in pixels (a D80 writes 3872).
    #[arg(long, default_value_t = 320)]
    pub width: u32,
    /// Frame height in pixels (a D80 writes 2592).
    #[arg(long, default_value_t = 240)]
    pub height: u32,
    /// Seed of everything random; the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// What the frames show: varied, tripod, flat or sky (a night sky, one exposure setting).
    #[arg(long, value_parser = SceneMode::from_str)]
    pub scene: Option<SceneMode>,
    /// Night skies: on a tracking mount (stars still, the foreground turning) rather than a
    /// tripod.
    #[arg(long)]
    pub tracked: bool,
    /// Night skies: drift per frame in photosites (RMS over the frame), drawn log-uniform per
    /// view, e.g. 10-15 [default: 1-15].
    #[arg(long, value_parser = parse_range::<f32>)]
    pub drift: Option<(f32, f32)>,
    /// Night skies on a tracking mount: the mount moved between frames by up to this many
    /// photosites (dithering) [default: 0].
    #[arg(long)]
    pub dither: Option<f32>,
    /// Condition weights, e.g. daylight=45,clipped_sky=15,indoor=25,night=15, or one name.
    #[arg(long, value_parser = ConditionMix::from_str)]
    pub conditions: Option<ConditionMix>,
    /// Frames of one burst (same view, condition and exposure), 0 for none; varied only.
    #[arg(long)]
    pub burst: Option<usize>,
    /// ISO range for every condition, e.g. 1600-6400.
    #[arg(long, value_parser = parse_range::<u32>)]
    pub iso: Option<(u32, u32)>,
    /// JPEG quality, 1 to 100.
    #[arg(long)]
    pub quality: Option<u8>,
    /// JPEG chroma subsampling: 4:2:2 or 4:2:0.
    #[arg(long, value_parser = Subsampling::from_str)]
    pub subsampling: Option<Subsampling>,
    /// Unsharp-mask amount on luma, 0 to 2.
    #[arg(long)]
    pub sharpen: Option<f32>,
    /// Single-photosite groups, e.g. stuck_high=2,stuck_mid=1,hot=3,warm=3,dead=2,blinking=1
    /// (kinds left out are 0; "none" for no groups).
    #[arg(long, value_parser = KindCounts::from_str)]
    pub singles: Option<KindCounts>,
    /// Two-photosite groups (adjacent, any direction), same syntax as --singles.
    #[arg(long, value_parser = KindCounts::from_str)]
    pub pairs: Option<KindCounts>,
    /// 2x2 groups, same syntax as --singles.
    #[arg(long, value_parser = KindCounts::from_str)]
    pub clusters: Option<KindCounts>,
    /// Single photosites within 3 px of the edge (first on corners, row 0 and column 0).
    #[arg(long, value_parser = KindCounts::from_str)]
    pub edge: Option<KindCounts>,
    /// Warm offsets (fraction of full scale), drawn log-uniform, e.g. 0.02-0.05.
    #[arg(long, value_parser = parse_range::<f32>)]
    pub warm_range: Option<(f32, f32)>,
    /// Hot dark-current rates (full scale per second at ISO 100), drawn log-uniform.
    #[arg(long, value_parser = parse_range::<f32>)]
    pub hot_range: Option<(f32, f32)>,
    /// Stuck-mid levels (fraction of full scale), drawn uniform.
    #[arg(long, value_parser = parse_range::<f32>)]
    pub stuck_mid_range: Option<(f32, f32)>,
    /// Blinking offsets (fraction of full scale), drawn log-uniform.
    #[arg(long, value_parser = parse_range::<f32>)]
    pub blink_range: Option<(f32, f32)>,
    /// Probability a blinking group is on in a frame, drawn uniform per group.
    #[arg(long, value_parser = parse_range::<f32>)]
    pub blink_probability: Option<(f32, f32)>,
    /// EXIF Make [default: NIKON CORPORATION].
    #[arg(long)]
    pub make: Option<String>,
    /// EXIF Model [default: NIKON D80].
    #[arg(long)]
    pub model: Option<String>,
    /// EXIF BodySerialNumber; an empty string leaves the tag out.
    #[arg(long, default_value = Camera::DEFAULT_SERIAL)]
    pub serial: String,
}

#[derive(Debug, clap::Args)]
pub struct BadArgs {
    /// Directory to write into; created if missing.
    #[arg(long)]
    pub out: PathBuf,
    /// A good JPEG with EXIF to derive the bad inputs from.
    #[arg(long)]
    pub from: PathBuf,
}

/// `LO-HI` or `LO..HI`.
fn parse_range<T: FromStr>(s: &str) -> Result<(T, T), String> {
    let (lo, hi) = s
        .split_once("..")
        .or_else(|| s.split_once('-'))
        .ok_or_else(|| format!("{s:?} is not a range LO-HI"))?;
    let parse = |v: &str| {
        v.trim()
            .parse::<T>()
            .map_err(|_| format!("{v:?} is not a number"))
    };
    Ok((parse(lo)?, parse(hi)?))
}

impl SeriesArgs {
    /// The preset with every given flag applied, validated.
    pub fn spec(&self) -> Result<SeriesSpec, hotpix_synth::SynthError> {
        let frames = self.frames.unwrap_or(self.preset.default_frames());
        let mut spec = SeriesSpec::preset(self.preset, self.width, self.height, frames, self.seed);
        if let Some(scene) = self.scene {
            spec.scene = scene;
            if scene != SceneMode::Varied {
                spec.burst = 0;
            }
        }
        macro_rules! set {
            ($($flag:ident => $field:expr),* $(,)?) => {
                $(if let Some(v) = self.$flag { $field = v; })*
            };
        }
        set! {
            conditions => spec.conditions,
            burst => spec.burst,
            quality => spec.quality,
            subsampling => spec.subsampling,
            sharpen => spec.sharpen,
            singles => spec.defects.singles,
            pairs => spec.defects.pairs,
            clusters => spec.defects.clusters,
            edge => spec.defects.edge,
        }
        let r = &mut spec.defects.ranges;
        for (flag, field) in [
            (self.warm_range, &mut r.warm_offset),
            (self.hot_range, &mut r.hot_rate),
            (self.stuck_mid_range, &mut r.stuck_mid),
            (self.blink_range, &mut r.blink_offset),
            (self.blink_probability, &mut r.blink_probability),
        ] {
            if let Some((lo, hi)) = flag {
                *field = [lo, hi];
            }
        }
        if let Some((lo, hi)) = self.iso {
            spec.iso = Some([lo, hi]);
        }
        if self.tracked {
            spec.sky.tracked = true;
        }
        if let Some((lo, hi)) = self.drift {
            spec.sky.drift = [lo, hi];
        }
        if let Some(d) = self.dither {
            spec.sky.dither = d;
        }
        if let Some(make) = &self.make {
            spec.camera.make = make.clone();
        }
        if let Some(model) = &self.model {
            spec.camera.model = model.clone();
        }
        spec.camera.serial = (!self.serial.is_empty()).then(|| self.serial.clone());
        spec.validate()?;
        Ok(spec)
    }
}
