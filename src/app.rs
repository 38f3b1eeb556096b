//! Runs a validated command: calls the library, shows progress and messages on
//! stderr, writes the report, and chooses the exit code.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write;
use std::path::Path;

use crate::cli::{
    Cli, Command, Config, Destination, DiffArgs, DiffFormatArg, Extras, MergeArgs, ReportConfig,
    Verbosity,
};
use hotpix::detect::Context;
use hotpix::error::mebibytes;
use hotpix::export::{self, dcraw, rawtherapee};
use hotpix::state::{State, StateError};
use hotpix::visual::{self, crops, map};
use hotpix::{output, report, Event, Report, Stats};

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A report was produced.
    Success = 0,
    /// A report was produced, it lists defects, and `--fail-on-defects` was
    /// given; or `diff` found a new defect.
    DefectsFound = 1,
    /// A usage error, or no usable result (nothing matched, fewer than 2
    /// usable frames, frames from several cameras).
    Usage = 2,
    /// The work failed: the report could not be written, memory ran out.
    Failure = 3,
}

/// The exit code for an error that ended the run.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    if let Some(e) = err.downcast_ref::<StateError>() {
        return if e.is_failure() {
            Exit::Failure
        } else {
            Exit::Usage
        };
    }
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
        Command::Report(args) => report_state(args.into_config()?),
        Command::Merge(args) => merge(args.validate()?),
        Command::Diff(args) => diff(args),
    }
}

fn find(config: Config) -> anyhow::Result<Exit> {
    let base = match &config.resume {
        Some(path) => Some(resumable(path)?.into_base()),
        None => None,
    };
    let ui = Ui::new(&config);
    let outcome =
        hotpix::engine::find_more(&config.paths, &config.options, base, &|e| ui.event(e))?;
    ui.finish();
    // A reader that left stdout early (`| head`) is no reason to skip the
    // pictures, lists and state the user also asked for.
    emit(&config.destination, |w| {
        report::write(&outcome.report, config.format, w)
    })?;
    write_extras(
        &config.extras,
        config.options.jobs,
        config.verbosity,
        &outcome.stats,
        &hotpix::engine::context(&outcome.frames),
        &outcome.report,
    )?;
    let report = outcome.report.clone();
    if let Some(path) = &config.save {
        State::from_outcome(outcome).save(path)?;
    }
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

/// The pictures and bad-pixel lists, after the report; for `find` and `report`.
fn write_extras(
    extras: &Extras,
    jobs: usize,
    verbosity: Verbosity,
    stats: &Stats,
    ctx: &Context,
    report: &Report,
) -> anyhow::Result<()> {
    let Extras {
        map: map_path,
        crops: crops_path,
        max_crops,
        dcraw: dcraw_path,
        rawtherapee: rawtherapee_dir,
        raw_offset,
    } = extras;
    if map_path.is_some() || crops_path.is_some() {
        // Drawing computes scores again: on -j threads, like the run.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs.max(1))
            .build()
            // A failure of the machine, not of the command line: exit 3.
            .map_err(|e| std::io::Error::other(format!("cannot start drawing threads: {e}")))?;
        if let Some(path) = map_path {
            let image = pool.install(|| map::render(stats, ctx, report));
            write_file(path, |w| visual::write_png(&image, w))?;
        }
        if let Some(path) = crops_path {
            let image = pool.install(|| crops::render(stats, ctx, report, *max_crops));
            write_file(path, |w| visual::write_png(&image, w))?;
        }
    }
    if dcraw_path.is_none() && rawtherapee_dir.is_none() {
        return Ok(());
    }
    let positions = export::positions(report, *raw_offset);
    if verbosity != Verbosity::Quiet {
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

/// A state to resume from: readable, and made with this decoder.
fn resumable(path: &std::path::Path) -> anyhow::Result<State> {
    let state = State::load(path)?;
    if state.decoder != hotpix::decode::DECODER {
        anyhow::bail!(
            "cannot resume '{}': it was decoded by {}, this hotpix decodes with {}; \
             statistics of two decoders differ slightly and would not mix",
            path.display(),
            state.decoder,
            hotpix::decode::DECODER
        );
    }
    Ok(state)
}

/// Writes output to its destination. Returns false when stdout's reader
/// stopped early (`| head`), which is not a failure.
fn emit(
    destination: &Destination,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<bool> {
    let written = match destination {
        Destination::Stdout => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            fill(&mut out).and_then(|()| out.flush())
        }
        Destination::File(path) => write_file(path, fill),
    };
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        other => {
            other?;
            Ok(true)
        }
    }
}

fn report_state(config: ReportConfig) -> anyhow::Result<Exit> {
    let state = State::load(&config.state)?;
    if state.stats.frames < 2 {
        return Err(hotpix::Error::TooFewFrames {
            usable: state.stats.frames as usize,
            total: state.stats.frames as usize,
        }
        .into());
    }
    let report = state.report(config.top, config.threshold);
    emit(&config.destination, |w| {
        report::write(&report, config.format, w)
    })?;
    let verbosity = if config.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::Normal
    };
    write_extras(
        &config.extras,
        config.jobs,
        verbosity,
        &state.stats,
        &hotpix::engine::context(&state.frames),
        &report,
    )?;
    if !config.quiet {
        for w in &report.summary.warnings {
            eprintln!("hotpix: warning: {w}");
        }
        eprintln!(
            "hotpix: {} defects; {} frames in '{}', {}x{}",
            report.defects.len(),
            report.summary.frames_used,
            config.state.display(),
            report.summary.width,
            report.summary.height,
        );
    }
    if config.fail_on_defects && !report.defects.is_empty() {
        return Ok(Exit::DefectsFound);
    }
    Ok(Exit::Success)
}

fn merge(args: MergeArgs) -> anyhow::Result<Exit> {
    let states = args
        .states
        .iter()
        .map(|p| Ok((p.clone(), State::load(p)?)))
        .collect::<Result<Vec<_>, StateError>>()?;
    let merged = hotpix::state::merge(states, args.mixed_cameras)?;
    merged.state.save(&args.output)?;
    if !args.quiet {
        for p in &merged.contained {
            eprintln!(
                "hotpix: '{}' left out: all its frames are in another state",
                p.display()
            );
        }
        eprintln!(
            "hotpix: merged {} frames into '{}'",
            merged.state.stats.frames,
            args.output.display()
        );
    }
    Ok(Exit::Success)
}

fn diff(args: DiffArgs) -> anyhow::Result<Exit> {
    let old = hotpix::diff::load(&args.old, args.threshold)?;
    let new = hotpix::diff::load(&args.new, args.threshold)?;
    let d = hotpix::diff::diff(&old, &new);
    emit(&Destination::Stdout, |w| match args.format {
        DiffFormatArg::Table => hotpix::diff::write_table(&d, w),
        DiffFormatArg::Json => {
            serde_json::to_writer_pretty(&mut *w, &d)?;
            writeln!(w)
        }
    })?;
    // The exit code answers "did a defect appear?" even when stdout's reader left early.
    Ok(if d.new.is_empty() {
        Exit::Success
    } else {
        Exit::DefectsFound
    })
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
            Event::Plan { workers, memory } => {
                if self.verbosity == Verbosity::Verbose {
                    let b = memory.buffers;
                    self.say(&format!(
                        "hotpix: {workers} worker{}; {} for the accumulators and {} frame \
                         buffer{} of {} (batches of {}), within a budget of {}{}",
                        if workers == 1 { "" } else { "s" },
                        mebibytes(memory.accumulators),
                        b.slots,
                        if b.slots == 1 { "" } else { "s" },
                        mebibytes(memory.frame),
                        b.batch,
                        mebibytes(memory.budget),
                        if memory.given { " (--memory)" } else { "" }
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
