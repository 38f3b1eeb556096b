//! Runs a validated command: calls the library, shows progress and messages on
//! stderr (through [`crate::ui`], which never fails on a closed stderr),
//! writes the report, and chooses the exit code.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;

use crate::cli::{
    Cli, Command, CompletionsArgs, Config, Destination, DiffConfig, DiffFormatArg, Extras, ManArgs,
    MergeArgs, ReportConfig, Verbosity,
};
use crate::ui::{self, Progress};
use hotpix::detect::Context;
use hotpix::error::mebibytes;
use hotpix::export::{self, dcraw, rawtherapee};
use hotpix::plural::plural;
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
    match cli.command {
        Command::Find(args) => find(args.into_config()?),
        Command::Report(args) => report_state(args.into_config()?),
        Command::Merge(args) => merge(args.validate()?),
        Command::Diff(args) => diff(args.into_config()?),
        Command::Completions(args) => completions(args),
        Command::Man(args) => man(args),
    }
}

/// The files a command wrote, for its closing line.
#[derive(Default)]
struct Written {
    lines: Vec<String>,
}

impl Written {
    fn file(&mut self, path: &Path) {
        // A device (`-o /dev/null`) is not a file anyone looks for.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            self.lines.push(format!("'{}'", path.display()));
        }
    }

    fn note(&mut self, text: String) {
        self.lines.push(text);
    }

    /// "hotpix: wrote 'a', 'b'", or nothing when nothing was written.
    fn say(&self, progress: &Progress) {
        if !self.lines.is_empty() {
            progress.say(&format!("hotpix: wrote {}", self.lines.join(", ")));
        }
    }
}

fn find(config: Config) -> anyhow::Result<Exit> {
    let base = match &config.resume {
        Some(path) => Some(resumable(path)?.into_base()),
        None => None,
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
    // A reader that left stdout early (`| head`) is no reason to skip the
    // pictures, lists and state the user also asked for.
    emit(&config.destination, &mut written, |w| {
        report::write(&outcome.report, config.format, w)
    })?;
    write_extras(
        &config.extras,
        config.options.jobs,
        config.verbosity,
        &progress,
        &Analysis {
            stats: &outcome.stats,
            ctx: &hotpix::engine::context(&outcome.frames),
            report: &outcome.report,
        },
        &mut written,
    )?;
    let report = outcome.report.clone();
    if let Some(path) = &config.save {
        progress.phase("saving the state");
        State::from_outcome(outcome).save(path)?;
        written.file(path);
    }
    progress.finish();
    if config.verbosity != Verbosity::Quiet {
        let s = &report.summary;
        for w in &s.warnings {
            ui::say(&format!("hotpix: warning: {w}"));
        }
        ui::say(&format!(
            "hotpix: {}; {} used, {} skipped, {}x{}, {}, {:.2} s",
            plural(report.defects.len() as u64, "defect"),
            plural(s.frames_used, "frame"),
            s.frames_skipped,
            s.width,
            s.height,
            plural(s.workers as u64, "worker"),
            s.elapsed_s
        ));
        written.say(&progress);
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

/// What the pictures and lists are drawn from.
struct Analysis<'a> {
    stats: &'a Stats,
    ctx: &'a Context,
    report: &'a Report,
}

/// The pictures and bad-pixel lists, after the report; for `find` and `report`.
fn write_extras(
    extras: &Extras,
    jobs: usize,
    verbosity: Verbosity,
    progress: &Progress,
    analysis: &Analysis,
    written: &mut Written,
) -> anyhow::Result<()> {
    let Analysis { stats, ctx, report } = *analysis;
    let Extras {
        map: map_path,
        crops: crops_path,
        max_crops,
        dcraw: dcraw_path,
        rawtherapee: rawtherapee_dir,
        raw_offset,
        camera_name: _,
    } = extras;
    // Checked first: nothing is drawn for a list that cannot be named.
    let rawtherapee_path = match rawtherapee_dir {
        Some(dir) => Some(dir.join(rawtherapee::file_name(&report.summary)?)),
        None => None,
    };
    if map_path.is_some() || crops_path.is_some() {
        // Drawing computes scores again, on the run's compute threads.
        // A failure of the machine, not of the command line: exit 3.
        let pool = hotpix::engine::compute_pool(jobs)?;
        if let Some(path) = map_path {
            progress.phase("drawing the map");
            let image = pool.install(|| map::render(stats, ctx, report));
            write_file(path, |w| visual::write_png(&image, w))?;
            written.file(path);
        }
        if let Some(path) = crops_path {
            progress.phase("drawing the close-ups");
            let image = pool.install(|| crops::render(stats, ctx, report, *max_crops));
            write_file(path, |w| visual::write_png(&image, w))?;
            written.file(path);
        }
    }
    if dcraw_path.is_none() && rawtherapee_path.is_none() {
        return Ok(());
    }
    let positions = export::positions(report, *raw_offset);
    if verbosity != Verbosity::Quiet {
        for (number, x, y) in &positions.dropped {
            progress.say(&format!(
                "hotpix: warning: defect {number} is at ({x},{y}) after the raw offset \
                 {},{}: left out of the bad-pixel lists",
                raw_offset.dx, raw_offset.dy
            ));
        }
    }
    if let Some(path) = dcraw_path {
        write_file(path, |w| dcraw::write(report, *raw_offset, &positions, w))?;
        written.file(path);
    }
    if let Some(path) = rawtherapee_path {
        write_rawtherapee(&path, report, *raw_offset, &positions, written)?;
    }
    Ok(())
}

/// The RawTherapee list: a new file, or merged into the one already there
/// (a list kept by hand keeps every line; only missing positions are added).
fn write_rawtherapee(
    path: &Path,
    report: &Report,
    offset: export::Offset,
    positions: &export::Positions,
    written: &mut Written,
) -> anyhow::Result<()> {
    let existing = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("cannot read the existing list '{}': {e}", path.display()),
            )
            .into())
        }
    };
    let Some(existing) = existing else {
        write_file(path, |w| rawtherapee::write(report, offset, positions, w))?;
        written.file(path);
        return Ok(());
    };
    let merged = rawtherapee::merge_into(&existing, report, offset, positions)?;
    if merged.added == 0 {
        written.note(format!(
            "nothing to '{}' (it lists every defect already)",
            path.display()
        ));
        return Ok(());
    }
    write_file(path, |w| w.write_all(&merged.bytes))?;
    written.note(format!(
        "'{}' ({} added to the existing list{})",
        path.display(),
        plural(merged.added as u64, "position"),
        match merged.already {
            0 => String::new(),
            n => format!(", which had {n} already"),
        }
    ));
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

/// Writes output to its destination. A reader of stdout that stopped early
/// (`| head`) is not a failure.
fn emit(
    destination: &Destination,
    written: &mut Written,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let result = match destination {
        Destination::Stdout => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            fill(&mut out).and_then(|()| out.flush())
        }
        Destination::File(path) => write_file(path, fill).map(|()| written.file(path)),
    };
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn report_state(config: ReportConfig) -> anyhow::Result<Exit> {
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
    emit(&config.destination, &mut written, |w| {
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
        &progress,
        &Analysis {
            stats: &state.stats,
            ctx: &hotpix::engine::context(&state.frames),
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
    let states = args
        .states
        .iter()
        .map(|p| Ok((p.clone(), State::load(p)?)))
        .collect::<Result<Vec<_>, StateError>>()?;
    let merged = hotpix::state::merge(states, args.mixed_cameras)?;
    merged.state.save(&args.output)?;
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
    let old = hotpix::diff::load(&config.old, config.threshold)?;
    let new = hotpix::diff::load(&config.new, config.threshold)?;
    hotpix::diff::check_related((&config.old, &old), (&config.new, &new))?;
    let d = hotpix::diff::diff(&old.spots, &new.spots);
    let mut written = Written::default();
    if !(config.quiet && config.destination == Destination::Stdout) {
        emit(&config.destination, &mut written, |w| match config.format {
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
    emit(&Destination::Stdout, &mut Written::default(), |w| {
        w.write_all(&script)
    })?;
    Ok(Exit::Success)
}

fn man(args: ManArgs) -> anyhow::Result<Exit> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let Some(dir) = args.dir else {
        let page = crate::man::whole(&cli)?;
        emit(&Destination::Stdout, &mut Written::default(), |w| {
            w.write_all(&page)
        })?;
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
