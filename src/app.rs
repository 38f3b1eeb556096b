//! Runs a validated command: calls the library, shows progress and messages on
//! stderr, writes the report, and chooses the exit code.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::Path;

use crate::cli::{Cli, Command, Config, Destination, Extras, Verbosity};
use hotpix::export::{self, dcraw, rawtherapee};
use hotpix::visual::{self, crops, map};
use hotpix::{output, report, Event, Outcome};

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A report was produced.
    Success = 0,
    /// A report was produced, it lists defects, and `--fail-on-defects` was given.
    DefectsFound = 1,
    /// A usage error, or no usable result (nothing matched, fewer than 2
    /// usable frames, frames from several cameras).
    Usage = 2,
    /// The work failed: the report could not be written, memory ran out.
    Failure = 3,
}

/// The exit code for an error that ended the run.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    match err.downcast_ref::<hotpix::Error>() {
        Some(e) if !e.is_usage() => Exit::Failure,
        Some(_) => Exit::Usage,
        None if err.downcast_ref::<std::io::Error>().is_some() => Exit::Failure,
        None => Exit::Usage,
    }
}

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Find(args) => find(args.into_config()?),
    }
}

fn find(config: Config) -> anyhow::Result<Exit> {
    let ui = Ui::new(&config);
    let outcome = hotpix::find(&config.paths, &config.options, &|e| ui.event(e))?;
    ui.finish();
    let report = &outcome.report;
    let written = match &config.destination {
        Destination::Stdout => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            report::write(report, config.format, &mut out).and_then(|()| out.flush())
        }
        Destination::File(path) => {
            output::write_atomic(path, |w| report::write(report, config.format, w)).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot write '{}': {e}", path.display()))
            })
        }
    };
    match written {
        // A reader that stops early (`| head`) is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Exit::Success),
        other => other?,
    }
    write_extras(&config, &outcome)?;
    if config.verbosity != Verbosity::Quiet {
        let s = &report.summary;
        for w in &s.warnings {
            eprintln!("hotpix: warning: {w}");
        }
        eprintln!(
            "hotpix: {} defects; {} frames used, {} skipped, {}x{}, {} workers, {:.2} s",
            report.defects.len(),
            s.frames_used,
            s.frames_skipped,
            s.width,
            s.height,
            s.workers,
            s.elapsed_s
        );
    }
    if config.fail_on_defects && !report.defects.is_empty() {
        return Ok(Exit::DefectsFound);
    }
    Ok(Exit::Success)
}

/// Writes an output file atomically, naming it in any error.
fn write_file(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    output::write_atomic(path, fill).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot write '{}': {e}", path.display()))
    })
}

/// The pictures and bad-pixel lists, after the report.
fn write_extras(config: &Config, outcome: &Outcome) -> anyhow::Result<()> {
    let Extras {
        map: map_path,
        crops: crops_path,
        max_crops,
        dcraw: dcraw_path,
        rawtherapee: rawtherapee_dir,
        raw_offset,
    } = &config.extras;
    let (stats, report) = (&outcome.stats, &outcome.report);
    if map_path.is_some() || crops_path.is_some() {
        // Drawing computes scores again: on -j threads, like the run.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.options.jobs.max(1))
            .build()?;
        if let Some(path) = map_path {
            let image = pool.install(|| map::render(stats, report));
            write_file(path, |w| visual::write_png(&image, w))?;
        }
        if let Some(path) = crops_path {
            let image = pool.install(|| crops::render(stats, report, *max_crops));
            write_file(path, |w| visual::write_png(&image, w))?;
        }
    }
    if dcraw_path.is_none() && rawtherapee_dir.is_none() {
        return Ok(());
    }
    let positions = export::positions(report, *raw_offset);
    if config.verbosity != Verbosity::Quiet {
        for (number, x, y) in &positions.dropped {
            eprintln!(
                "hotpix: warning: defect {number} is at ({x},{y}) after the raw offset \
                 {},{}: left out of the bad-pixel lists",
                raw_offset.dx, raw_offset.dy
            );
        }
    }
    if let Some(path) = dcraw_path {
        write_file(path, |w| dcraw::write(report, *raw_offset, &positions, w))?;
    }
    if let Some(dir) = rawtherapee_dir {
        let path = dir.join(rawtherapee::file_name(&report.summary)?);
        write_file(&path, |w| {
            rawtherapee::write(report, *raw_offset, &positions, w)
        })?;
    }
    Ok(())
}

/// Progress bar and messages on stderr.
struct Ui {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
}

impl Ui {
    fn new(config: &Config) -> Self {
        let bar = config.progress.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} frames  {per_sec:.0}  ETA {eta}",
                )
                .expect("template is valid"),
            );
            bar
        });
        Ui {
            verbosity: config.verbosity,
            bar,
        }
    }

    fn event(&self, event: Event) {
        match event {
            Event::DecodeStarted { frames } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(frames as u64);
                    bar.reset_eta();
                }
            }
            Event::FrameDone => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::Skipped(s) => {
                if self.verbosity != Verbosity::Quiet {
                    self.say(&format!(
                        "hotpix: skipped {}: {}",
                        s.path.display(),
                        s.reason
                    ));
                }
            }
            Event::ExifProblem { path, problem } => {
                if self.verbosity == Verbosity::Verbose {
                    self.say(&format!(
                        "hotpix: {}: EXIF not read ({problem}); its pixels are used",
                        path.display()
                    ));
                }
            }
        }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
