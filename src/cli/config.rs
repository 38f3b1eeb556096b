//! The validation of the command line into the configurations the commands
//! run on ([`Config`], [`ReportConfig`], [`DiffConfig`]): inputs expanded,
//! outputs checked never to replace an input or each other, before any
//! photo is decoded.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::*;

/// Where the report goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

/// How much is said on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// A validated `find` invocation.
#[derive(Debug)]
pub struct Config {
    pub inputs: hotpix::inputs::Inputs,
    pub options: FindOptions,
    pub selection: Selection,
    pub format: Format,
    pub destination: Destination,
    pub verbosity: Verbosity,
    pub progress: bool,
    pub fail_on_defects: bool,
    pub extras: Extras,
    /// Where to save the statistics (`--save`).
    pub save: Option<PathBuf>,
    /// The state to add to (`--resume`).
    pub resume: Option<PathBuf>,
}

/// The pictures and bad-pixel lists asked for, besides the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    pub map: Option<PathBuf>,
    pub crops: Option<PathBuf>,
    pub max_crops: usize,
    pub dcraw: Option<PathBuf>,
    pub siril: Option<PathBuf>,
    pub jpegpixi: Option<PathBuf>,
    /// The folder the RawTherapee list goes into.
    pub rawtherapee: Option<PathBuf>,
    pub raw_offset: Offset,
    /// Whether `--raw-offset` was given (without it, the lists for raw files
    /// come with a note that JPEG positions usually need one).
    pub raw_offset_given: bool,
    /// (make, model) for frames whose EXIF names no camera.
    pub camera_name: Option<(String, String)>,
}

/// What identifies a file: its canonical path, or for a file not there yet,
/// its directory's canonical path and its name.
fn identity(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    match (dir.canonicalize(), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => path.to_path_buf(),
    }
}

/// Refuses two outputs on one file (the second would replace the first) and
/// an output on an input (a report would replace a photo or a state file).
/// Devices such as /dev/null are written directly and may be named twice.
fn check_distinct(outputs: &[(&str, &Path)], inputs: &[&Path]) -> anyhow::Result<()> {
    let is_device = |p: &Path| std::fs::metadata(p).is_ok_and(|m| !m.is_file());
    let inputs: std::collections::HashSet<PathBuf> = inputs.iter().map(|p| identity(p)).collect();
    let mut seen: Vec<(&str, PathBuf)> = Vec::new();
    for &(what, path) in outputs {
        if is_device(path) {
            continue;
        }
        let id = identity(path);
        if let Some((other, _)) = seen.iter().find(|(_, p)| *p == id) {
            bail!("{other} and {what} name the same file '{}'", path.display());
        }
        if inputs.contains(&id) {
            bail!(
                "{what} '{}' is one of the inputs; it would be replaced",
                path.display()
            );
        }
        seen.push((what, id));
    }
    Ok(())
}

/// A validated `report` invocation.
#[derive(Debug)]
pub struct ReportConfig {
    pub state: PathBuf,
    pub top: usize,
    pub threshold: Option<f64>,
    pub format: Format,
    pub destination: Destination,
    pub fail_on_defects: bool,
    pub quiet: bool,
    /// Phases on stderr (only when it is a terminal).
    pub progress: bool,
    pub jobs: usize,
    pub extras: Extras,
}

impl Extras {
    /// The files it writes, each with the flag that names it.
    fn files(&self) -> Vec<(&'static str, &Path)> {
        [
            ("--map", &self.map),
            ("--crops", &self.crops),
            ("--dcraw", &self.dcraw),
            ("--siril", &self.siril),
            ("--jpegpixi", &self.jpegpixi),
        ]
        .into_iter()
        .filter_map(|(what, p)| p.as_deref().map(|p| (what, p)))
        .collect()
    }
}

impl Destination {
    fn file(&self) -> Option<(&'static str, &Path)> {
        match self {
            Destination::File(p) => Some(("--output", p.as_path())),
            Destination::Stdout => None,
        }
    }
}

impl ReportArgs {
    pub fn into_config(self) -> anyhow::Result<ReportConfig> {
        let extras = self.extras.into_extras()?;
        let destination = destination_of(self.report.output)?;
        let state = existing_file(self.state)?;
        let outputs: Vec<_> = destination
            .file()
            .into_iter()
            .chain(extras.files())
            .collect();
        check_distinct(&outputs, &[state.as_path()])?;
        Ok(ReportConfig {
            jobs: jobs_or_cores(self.jobs),
            extras,
            destination,
            state,
            top: self.report.top,
            threshold: self.report.threshold,
            format: self.report.format.into(),
            fail_on_defects: self.report.fail_on_defects,
            progress: !self.quiet && std::io::stderr().is_terminal(),
            quiet: self.quiet,
        })
    }
}

impl MergeArgs {
    /// Checks the inputs exist and the output can be written before reading any.
    pub fn validate(mut self) -> anyhow::Result<Self> {
        self.states = self
            .states
            .into_iter()
            .map(existing_file)
            .collect::<anyhow::Result<_>>()?;
        match destination_of(Some(self.output.clone()))? {
            Destination::File(_) => Ok(self),
            Destination::Stdout => bail!("merge writes a state file; `-o -` is not supported"),
        }
    }
}

/// A validated `diff` invocation.
#[derive(Debug)]
pub struct DiffConfig {
    pub old: PathBuf,
    pub new: PathBuf,
    pub threshold: Option<f64>,
    pub format: DiffFormatArg,
    pub destination: Destination,
    pub quiet: bool,
}

impl DiffArgs {
    /// Checks where the comparison goes before reading either input.
    pub fn into_config(self) -> anyhow::Result<DiffConfig> {
        let destination = destination_of(self.output)?;
        check_distinct(
            &destination.file().into_iter().collect::<Vec<_>>(),
            &[self.old.as_path(), self.new.as_path()],
        )?;
        Ok(DiffConfig {
            old: self.old,
            new: self.new,
            threshold: self.threshold,
            format: self.format,
            destination,
            quiet: self.quiet,
        })
    }
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// `-j N`, or the available cores.
fn jobs_or_cores(jobs: Option<u32>) -> usize {
    match jobs {
        Some(j) => j as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

fn existing_file(p: PathBuf) -> anyhow::Result<PathBuf> {
    if !p.is_file() {
        bail!(
            "state file '{}' does not exist or is not a file",
            p.display()
        );
    }
    Ok(p)
}

/// Where `-o` sends output: stdout for none or `-`, else a file that looks
/// writable (see `check_output_file`).
fn destination_of(output: Option<PathBuf>) -> anyhow::Result<Destination> {
    Ok(match output {
        None => Destination::Stdout,
        Some(p) if p.as_os_str() == "-" => Destination::Stdout,
        Some(p) => {
            check_output_file("output", &p)?;
            Destination::File(p)
        }
    })
}

/// Checks that a file can be written at `path` as far as can be told before
/// the run: it is not a directory, and its directory exists.
pub(super) fn check_output_file(what: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("{what} '{}' is a directory", path.display());
    }
    let parent = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = parent {
        if !dir.is_dir() {
            bail!(
                "the directory of {what} '{}' does not exist",
                path.display()
            );
        }
    }
    Ok(())
}

impl FindArgs {
    /// Checks everything that can be checked before decoding: inputs expand
    /// to at least one path, the output location is writable-looking.
    pub fn into_config(self) -> anyhow::Result<Config> {
        let destination = destination_of(self.report.output)?;
        if let Some(save) = &self.save {
            if save.as_os_str() == "-" {
                bail!("--save writes a state file; `-` is not supported");
            }
            check_output_file("--save", save)?;
        }
        let resume = self.resume.map(existing_file).transpose()?;
        let extras = self.extras.into_extras()?;
        let expand = ExpandOptions {
            null_separated: self.null,
            recursive: self.recursive,
            exclude: self.exclude,
        };
        let given = inputs::expand_with(&self.inputs, &mut std::io::stdin().lock(), &expand)
            .context("cannot use the inputs")?;
        let paths = &given.paths;
        // --save may name the --resume state (that is how a state grows);
        // nothing else may name an input.
        let mut outputs: Vec<_> = destination
            .file()
            .into_iter()
            .chain(extras.files())
            .collect();
        let mut inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        inputs.extend(resume.as_deref());
        check_distinct(&outputs, &inputs)?;
        if let Some(save) = &self.save {
            outputs.push(("--save", save));
            inputs.truncate(paths.len());
            check_distinct(&outputs, &inputs)?;
        }
        let jobs = jobs_or_cores(self.jobs);
        let verbosity = match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        };
        let selection = Selection {
            camera: self.camera,
            unnamed_camera: extras.camera_name.clone(),
            need_make_and_model: extras.rawtherapee.is_some(),
        };
        Ok(Config {
            inputs: given,
            selection,
            options: FindOptions {
                jobs,
                top: self.report.top,
                max_megapixels: self.max_megapixels,
                mixed_cameras: self.mixed_cameras,
                threshold: self.report.threshold,
                memory: self.memory,
            },
            fail_on_defects: self.report.fail_on_defects,
            extras,
            save: self.save,
            resume,
            format: self.report.format.into(),
            destination,
            progress: verbosity != Verbosity::Quiet && std::io::stderr().is_terminal(),
            verbosity,
        })
    }
}
