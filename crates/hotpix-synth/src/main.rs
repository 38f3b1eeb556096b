//! Command line over the `hotpix_synth` library: writes synthetic camera series and bad inputs for tests.

mod cli;

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser as _;
use hotpix_synth as synth;

use cli::{Cli, Command};

fn run(cli: Cli) -> anyhow::Result<()> {
    let start = Instant::now();
    match cli.command {
        Command::Series(args) => {
            let spec = args.spec()?;
            let truth = synth::write_series(&spec, &args.out)?;
            let detectable = truth.defects.iter().filter(|g| g.detectable).count();
            eprintln!(
                "hotpix-synth: wrote {} frames of {}x{} ({} preset, {} scene, seed {}) with {} \
                 defect groups ({} detectable) to {} in {:.2} s",
                truth.frames,
                truth.width,
                truth.height,
                args.preset,
                truth.scene,
                truth.seed,
                truth.defects.len(),
                detectable,
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

    #[test]
    fn flags_override_the_preset() {
        use clap::Parser as _;
        let cli = super::Cli::try_parse_from([
            "hotpix-synth",
            "series",
            "--out",
            "x",
            "--preset",
            "q85-420",
            "--quality",
            "90",
            "--iso",
            "800-1600",
            "--singles",
            "hot=3",
            "--warm-range",
            "0.02..0.05",
        ])
        .unwrap();
        let super::Command::Series(args) = cli.command else {
            panic!("not a series command")
        };
        let spec = args.spec().unwrap();
        assert_eq!(spec.quality, 90);
        assert_eq!(spec.subsampling, hotpix_synth::Subsampling::S420);
        assert_eq!(spec.iso, Some([800, 1600]));
        assert_eq!(spec.defects.singles.total(), 3);
        assert_eq!(spec.defects.ranges.warm_offset, [0.02, 0.05]);
    }

    #[test]
    fn a_preset_has_its_own_frame_count_and_sky_flags_apply() {
        use clap::Parser as _;
        let parse = |extra: &[&str]| {
            let mut args = vec!["hotpix-synth", "series", "--out", "x"];
            args.extend_from_slice(extra);
            let super::Command::Series(a) = super::Cli::try_parse_from(args).unwrap().command
            else {
                panic!("not a series command")
            };
            a.spec().unwrap()
        };
        assert_eq!(parse(&[]).frames, 12);
        let sky = parse(&["--preset", "night-sky"]);
        assert_eq!((sky.frames, sky.scene), (20, hotpix_synth::SceneMode::Sky));
        assert!(!sky.sky.tracked);
        let tracked = parse(&[
            "--preset",
            "night-sky",
            "--tracked",
            "--drift",
            "3-4",
            "--frames",
            "5",
            "--dither",
            "6",
        ]);
        assert_eq!((tracked.frames, tracked.sky.tracked), (5, true));
        assert_eq!(tracked.sky.drift, [3.0, 4.0]);
        assert_eq!((sky.sky.dither, tracked.sky.dither), (0.0, 6.0));
        let bare = parse(&[
            "--preset",
            "night-sky",
            "--singles",
            "none",
            "--pairs",
            "none",
            "--clusters",
            "none",
            "--edge",
            "none",
        ]);
        assert_eq!(bare.defects.groups(), 0);
    }
}
