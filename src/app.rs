//! Runs a validated command: calls the library, shows progress and messages on
//! stderr (through [`crate::ui`], which never fails on a closed stderr),
//! writes the report, and chooses the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::CommandFactory;

use crate::cli::{
    Cli, Command, CompletionsArgs, Config, Destination, DiffConfig, DiffFormatArg, Extras, ManArgs,
    MergeArgs, ReportConfig, Verbosity,
};
use crate::ui::{self, Progress};
use hotpix::detect::Context;
use hotpix::error::mebibytes;
use hotpix::export::{self, dcraw, jpegpixi, rawtherapee, siril};
use hotpix::output::Output;
use hotpix::plural::plural;
use hotpix::state::{State, StateError};
use hotpix::visual::{self, crops, map};
use hotpix::{output, report, Event, Report, Stats};

mod outputs;
use outputs::*;

/// The documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// A report was produced.
    Success = 0,
    /// A report was produced, it lists defects, and `--fail-on-defects` was
    /// given; or `diff` found a new defect.
    DefectsFound = 1,
    /// A usage error, or no usable result (nothing matched, fewer than 2
    /// usable frames, frames from several cameras, states of two cameras).
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
    crate::interrupt::install();
    match cli.command {
        Command::Find(args) => find(args.into_config()?),
        Command::Report(args) => report_state(args.into_config()?),
        Command::Merge(args) => merge(args.validate()?),
        Command::Diff(args) => diff(args.into_config()?),
        Command::Completions(args) => completions(args),
        Command::Man(args) => man(args),
    }
}

fn find(config: Config) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let mut reserved = Reserved::new(&config.destination, &config.extras, config.save.as_deref())?;
    let base = match &config.resume {
        Some(path) => Some(resumable(path)?.into_base()),
        None => None,
    };
    let resumed = base.as_ref().map(|b| b.frames.len());
    // `--save` naming the state resumed from (by any path to the same file).
    let saves_over_resumed = match (&config.resume, &config.save) {
        (Some(resume), Some(save)) => same_file::is_same_file(resume, save).unwrap_or(false),
        _ => false,
    };
    let progress = Progress::new(config.progress);
    let events = Events {
        verbosity: config.verbosity,
        progress: &progress,
    };
    let outcome = hotpix::engine::find_selected(
        &config.inputs,
        &config.options,
        &config.selection,
        base,
        &|e| events.event(e),
    )?;
    let mut written = Written::default();
    // The spinner's line is cleared first: on a terminal the report would
    // start on it. A reader that left stdout early (`| head`) is no reason
    // to skip the pictures, lists and state the user also asked for.
    progress.suspend(|| {
        emit(reserved.report.take(), &mut written, |w| {
            report::write(&outcome.report, config.format, w)
        })
    })?;
    write_extras(
        &config.extras,
        &mut reserved,
        config.options.jobs,
        config.verbosity,
        &progress,
        &Analysis {
            stats: &outcome.stats,
            ctx: &hotpix::engine::judged_context(
                &outcome.frames,
                &outcome.stats,
                &outcome.report.summary,
            ),
            report: &outcome.report,
        },
        &mut written,
    )?;
    let report = outcome.report.clone();
    let new_frames = resumed.map(|n| outcome.frames.len() - n);
    // Nothing added to the state it came from: the file stays as it was
    // (not even rewritten to the same bytes).
    let unchanged = saves_over_resumed && new_frames == Some(0);
    match reserved.save.take() {
        // Dropped unwritten, the reservation leaves no temporary file.
        Some(output) if !unchanged => {
            let jobs = config.options.jobs;
            save(output, outcome, jobs, &progress, &mut written)?
        }
        _ => {}
    }
    progress.finish();
    if config.verbosity != Verbosity::Quiet {
        let s = &report.summary;
        for w in &s.warnings {
            ui::say(&format!("hotpix: warning: {w}"));
        }
        // The whole run: reading, detection, drawing and every file written
        // (the report's own elapsed_s stops before it is written).
        ui::say(&format!(
            "hotpix: {}; {} used{}, {} skipped, {}x{}, {}, {:.2} s",
            plural(report.defects.len() as u64, "defect"),
            plural(s.frames_used, "frame"),
            new_frames.map_or(String::new(), |n| format!(" ({n} new)")),
            s.frames_skipped,
            s.width,
            s.height,
            plural(s.workers as u64, "worker"),
            started.elapsed().as_secs_f64()
        ));
        written.say(&progress);
        if let (true, Some(path)) = (unchanged, &config.save) {
            ui::say(&format!(
                "hotpix: 0 new frames; '{}' unchanged",
                path.display()
            ));
        }
    }
    if config.fail_on_defects && !report.defects.is_empty() {
        return Ok(Exit::DefectsFound);
    }
    Ok(Exit::Success)
}

/// Writes the state of a finished run to its reserved file, deflating on
/// the run's compute threads.
fn save(
    output: Output,
    outcome: hotpix::engine::Outcome,
    jobs: usize,
    progress: &Progress,
    written: &mut Written,
) -> anyhow::Result<()> {
    progress.phase("saving the state");
    let path = output.target().to_path_buf();
    let state = State::from_outcome(outcome);
    let pool = hotpix::engine::compute_pool(jobs)?;
    pool.install(|| write_to(output, |w| state.write_to(w)))?;
    written.file(&path);
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

/// Writes output to a reserved file, or to stdout when there is none. A
/// reader of stdout that stopped early (`| head`) is not a failure; any
/// other error on stdout is named as such (`> /dev/full`).
fn emit(
    file: Option<Output>,
    written: &mut Written,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let result = match file {
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            fill(&mut out)
                .and_then(|()| out.flush())
                .map(|()| crate::interrupt::stdout_done())
                .map_err(|e| std::io::Error::new(e.kind(), format!("cannot write to stdout: {e}")))
        }
        Some(output) => {
            let path = output.target().to_path_buf();
            write_to(output, fill).map(|()| written.file(&path))
        }
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn report_state(config: ReportConfig) -> anyhow::Result<Exit> {
    let mut reserved = Reserved::new(&config.destination, &config.extras, None)?;
    let mut state = State::load(&config.state)?;
    if state.stats.frames < 2 {
        return Err(hotpix::Error::TooFewFrames {
            usable: state.stats.frames as usize,
            total: state.stats.frames as usize,
        }
        .into());
    }
    if let Some((make, model)) = &config.extras.camera_name {
        for f in &mut state.frames {
            if f.meta.make.is_none() && f.meta.model.is_none() {
                f.meta.make = Some(make.clone());
                f.meta.model = Some(model.clone());
            }
        }
    }
    let report = state.report(config.top, config.threshold);
    if config.extras.rawtherapee.is_some() {
        // Before the report is written: one exit code, one outcome.
        rawtherapee::file_name(&report.summary)?;
    }
    let progress = Progress::new(config.progress);
    let mut written = Written::default();
    progress.suspend(|| {
        emit(reserved.report.take(), &mut written, |w| {
            report::write(&report, config.format, w)
        })
    })?;
    let verbosity = if config.quiet {
        Verbosity::Quiet
    } else {
        Verbosity::Normal
    };
    write_extras(
        &config.extras,
        &mut reserved,
        config.jobs,
        verbosity,
        &progress,
        &Analysis {
            stats: &state.stats,
            ctx: &hotpix::engine::judged_context(&state.frames, &state.stats, &report.summary),
            report: &report,
        },
        &mut written,
    )?;
    progress.finish();
    if !config.quiet {
        for w in &report.summary.warnings {
            ui::say(&format!("hotpix: warning: {w}"));
        }
        ui::say(&format!(
            "hotpix: {}; {} in '{}', {}x{}",
            plural(report.defects.len() as u64, "defect"),
            plural(report.summary.frames_used, "frame"),
            config.state.display(),
            report.summary.width,
            report.summary.height,
        ));
        written.say(&progress);
    }
    if config.fail_on_defects && !report.defects.is_empty() {
        return Ok(Exit::DefectsFound);
    }
    Ok(Exit::Success)
}

fn merge(args: MergeArgs) -> anyhow::Result<Exit> {
    let output = reserve("--output", &args.output)?;
    let states = args
        .states
        .iter()
        .map(|p| Ok((p.clone(), State::load(p)?)))
        .collect::<Result<Vec<_>, StateError>>()?;
    let merged = hotpix::state::merge(states, args.mixed_cameras)?;
    write_to(output, |w| merged.state.write_to(w))?;
    if !args.quiet {
        for p in &merged.contained {
            ui::say(&format!(
                "hotpix: '{}' left out: all its frames are in another state",
                p.display()
            ));
        }
        ui::say(&format!(
            "hotpix: merged {} into '{}'",
            plural(merged.state.stats.frames, "frame"),
            args.output.display()
        ));
    }
    Ok(Exit::Success)
}

fn diff(config: DiffConfig) -> anyhow::Result<Exit> {
    let quiet_stdout = config.quiet && config.destination == Destination::Stdout;
    let file = match &config.destination {
        Destination::File(p) => Some(reserve("--output", p)?),
        Destination::Stdout => None,
    };
    let old = hotpix::diff::load(&config.old, config.threshold)?;
    let new = hotpix::diff::load(&config.new, config.threshold)?;
    hotpix::diff::check_related((&config.old, &old), (&config.new, &new))?;
    let d = hotpix::diff::diff(&old.spots, &new.spots);
    let mut written = Written::default();
    if !quiet_stdout {
        emit(file, &mut written, |w| match config.format {
            DiffFormatArg::Table => hotpix::diff::write_table(&d, w),
            DiffFormatArg::Json => {
                serde_json::to_writer_pretty(&mut *w, &d)?;
                writeln!(w)
            }
        })?;
    }
    if !config.quiet {
        written.say(&Progress::new(false));
    }
    // The exit code answers "did a defect appear?" even when stdout's reader left early.
    Ok(if d.new.is_empty() {
        Exit::Success
    } else {
        Exit::DefectsFound
    })
}

fn completions(args: CompletionsArgs) -> anyhow::Result<Exit> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "hotpix", &mut script);
    emit(None, &mut Written::default(), |w| w.write_all(&script))?;
    Ok(Exit::Success)
}

fn man(args: ManArgs) -> anyhow::Result<Exit> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let Some(dir) = args.dir else {
        let page = crate::man::whole(&cli)?;
        emit(None, &mut Written::default(), |w| w.write_all(&page))?;
        return Ok(Exit::Success);
    };
    if !dir.is_dir() {
        anyhow::bail!("man --dir '{}' is not a directory", dir.display());
    }
    let mut written = Written::default();
    let mut pages = vec![(format!("{}.1", cli.get_name()), crate::man::whole(&cli)?)];
    for sub in crate::man::commands(&cli) {
        pages.push((
            format!("{}-{}.1", cli.get_name(), sub.get_name()),
            crate::man::one(&cli, sub)?,
        ));
    }
    for (name, bytes) in pages {
        let path = dir.join(name);
        write_file(&path, |w| w.write_all(&bytes))?;
        written.file(&path);
    }
    written.say(&Progress::new(false));
    Ok(Exit::Success)
}

/// What a run says while it works: skipped frames, EXIF problems (with
/// `-v`), and the progress.
struct Events<'a> {
    verbosity: Verbosity,
    progress: &'a Progress,
}

impl Events<'_> {
    fn event(&self, event: Event) {
        match event {
            Event::DecodeStarted { frames } => self.progress.frames(frames),
            Event::FrameDone => self.progress.frame_done(),
            Event::Skipped(s) => {
                if self.verbosity != Verbosity::Quiet {
                    self.progress.say(&format!(
                        "hotpix: skipped {}: {}",
                        s.path.display(),
                        s.reason
                    ));
                }
            }
            Event::Plan { workers, memory } => {
                if self.verbosity == Verbosity::Verbose {
                    let b = memory.buffers;
                    self.progress.say(&format!(
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
            Event::ExifProblem {
                path,
                problem,
                camera,
            } => {
                if self.verbosity == Verbosity::Verbose {
                    self.progress.say(&match camera {
                        Some(camera) => format!(
                            "hotpix: {}: EXIF partly read ({problem}); the camera is {camera}; \
                             its pixels are used",
                            path.display()
                        ),
                        None => format!(
                            "hotpix: {}: EXIF not read ({problem}); its pixels are used",
                            path.display()
                        ),
                    });
                }
            }
            Event::Detecting => self.progress.phase("detecting defects"),
        }
    }
}
