//! Command line over the `hotpix_synth` library: writes synthetic camera series and bad inputs for tests.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use hotpix_synth::{self as synth, Camera, DefectCounts, SceneMode, SeriesSpec};

/// Write synthetic camera JPEG series with known defective photosites.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a series of frames (DSC_0001.JPG, ...) and its truth.json.
    Series(SeriesArgs),
    /// Write the bad-input fixtures (empty, truncated, corrupt, ...) derived from a good frame.
    Bad(BadArgs),
}

#[derive(Debug, clap::Args)]
struct SeriesArgs {
    /// Directory to write into; created if missing.
    #[arg(long)]
    out: PathBuf,
    /// Number of frames.
    #[arg(long, default_value_t = 12)]
    frames: usize,
    /// Frame width in pixels (a D80 writes 3872).
    #[arg(long, default_value_t = 320)]
    width: u32,
    /// Frame height in pixels (a D80 writes 2592).
    #[arg(long, default_value_t = 240)]
    height: u32,
    /// Seed of everything random; the same arguments always give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// What the frames show: different views, or one view at different exposures.
    #[arg(long, value_enum, default_value_t = Scene::Varied)]
    scene: Scene,
    /// Photosites pinned at a fixed level.
    #[arg(long, default_value_t = 3)]
    stuck: usize,
    /// Photosites with a large offset (0.5..1.0 of full scale).
    #[arg(long, default_value_t = 0)]
    hot: usize,
    /// Photosites with a moderate offset (0.15..0.40 of full scale).
    #[arg(long, default_value_t = 0)]
    warm: usize,
    /// Photosites that always read 0.
    #[arg(long, default_value_t = 2)]
    dead: usize,
    /// JPEG quality, 1 to 100.
    #[arg(long, default_value_t = SeriesSpec::DEFAULT_QUALITY)]
    quality: u8,
    /// Raw noise at full scale and ISO 100 (standard deviation, fraction of full scale).
    #[arg(long, default_value_t = SeriesSpec::DEFAULT_NOISE)]
    noise: f32,
    /// EXIF BodySerialNumber; an empty string leaves the tag out.
    #[arg(long, default_value = Camera::DEFAULT_SERIAL)]
    serial: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scene {
    /// Each frame a different crop, zoom, exposure and colour cast of one world.
    Varied,
    /// The same view in every frame; only the exposure changes.
    Tripod,
}

#[derive(Debug, clap::Args)]
struct BadArgs {
    /// Directory to write into; created if missing.
    #[arg(long)]
    out: PathBuf,
    /// A good JPEG with EXIF to derive the bad inputs from.
    #[arg(long)]
    from: PathBuf,
}

impl SeriesArgs {
    fn spec(&self) -> SeriesSpec {
        let mut spec = SeriesSpec::new(self.width, self.height, self.frames, self.seed);
        spec.scene = match self.scene {
            Scene::Varied => SceneMode::Varied,
            Scene::Tripod => SceneMode::Tripod,
        };
        spec.defects = DefectCounts {
            stuck: self.stuck,
            hot: self.hot,
            warm: self.warm,
            dead: self.dead,
        };
        spec.quality = self.quality;
        spec.noise = self.noise;
        spec.camera.serial = (!self.serial.is_empty()).then(|| self.serial.clone());
        spec
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let start = Instant::now();
    match cli.command {
        Command::Series(args) => {
            let spec = args.spec();
            spec.validate()?;
            let truth = synth::write_series(&spec, &args.out)?;
            eprintln!(
                "hotpix-synth: wrote {} frames of {}x{} ({}, seed {}) with {} defects to {} in {:.2} s",
                truth.frames,
                truth.width,
                truth.height,
                truth.scene,
                truth.seed,
                truth.defects.len(),
                args.out.display(),
                start.elapsed().as_secs_f64()
            );
        }
        Command::Bad(args) => {
            let good = std::fs::read(&args.from)
                .with_context(|| format!("reading {}", args.from.display()))?;
            synth::write_bad_inputs(&args.out, &good)
                .with_context(|| format!("deriving bad inputs from {}", args.from.display()))?;
            eprintln!(
                "hotpix-synth: wrote {} bad inputs to {}",
                synth::BAD_INPUTS.len(),
                args.out.display()
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hotpix-synth: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
