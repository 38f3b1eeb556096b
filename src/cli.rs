//! The command line: clap structs (a flag's doc comment is its --help);
//! their validation into a [`Config`] before any photo is decoded is in
//! [`config`].

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Parser, Subcommand, ValueEnum};

use hotpix::decode::DEFAULT_MAX_MEGAPIXELS;
use hotpix::export::Offset;
use hotpix::inputs::{self, ExpandOptions};
use hotpix::visual::crops;
use hotpix::{FindOptions, Format, Selection};

#[derive(Debug, Parser)]
#[command(
    name = "hotpix",
    version,
    about = "Find the defective pixels (stuck, hot, warm, dead) of a camera sensor from ordinary photos",
    after_help = "Exit codes: 0 report produced; 1 defects found with --fail-on-defects, or \
                  `diff` found a new defect; 2 usage error or no usable result (nothing matched, \
                  fewer than 2 usable frames, mixed cameras, a damaged or incompatible state \
                  file, states or reports of two cameras for `diff`); 3 the work failed: the \
                  report, a picture, a list or a state file could not be written, memory for the \
                  statistics could not be allocated, or drawing threads could not start; 130 or 143 \
                  interrupted by SIGINT (Ctrl-C) or SIGTERM (temporary files removed, stderr says \
                  what was written). A closed stdout or stderr (`| head`) does not change the \
                  exit code: the messages are lost, not the files."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse a series of photos from one camera and report its suspect subpixels
    ///
    /// The photos are 8-bit JPEGs, colour or greyscale (as monochrome cameras
    /// write them: one channel, named L in the report). A series is of one
    /// kind, whichever most of its frames are; frames of the other kind are
    /// skipped, as are frames of another size, damaged files and folders
    /// without photos, each named on stderr and listed in the report.
    Find(FindArgs),
    /// Report on a saved state (from `find --save`) without decoding any photo
    Report(ReportArgs),
    /// Combine saved states of disjoint frame sets into one
    Merge(MergeArgs),
    /// Compare the defects of two states or JSON reports; exit 1 if a defect is new
    Diff(DiffArgs),
    /// Print a completion script for SHELL, made from these definitions
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page a command into a folder
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write hotpix.1 and one page a command (hotpix-find.1, ...) into DIR
    /// instead of printing hotpix.1
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Each example is a command, then what it does, so that no line is
/// longer than a manual page's 80 columns allow.
const FIND_EXAMPLES: &str = "Examples:
  hotpix find '*.JPG'
      the photos of this folder (quoted: hotpix expands the pattern)
  hotpix find -r ~/photos/d80/
      a folder and all its subfolders
  hotpix find -r --camera 'NIKON D80' ~/photos
      one body out of a mixed collection
  find /photos -name '*.JPG' -print0 | hotpix find -0 -
      the paths find lists, NUL-separated
  hotpix find --format json -o report.json --save d80.npz DSC_*.JPG
      a JSON report, and the statistics kept for --resume and merge
  hotpix find --map map.png --rawtherapee ~/darkframes DSC_*.JPG
      a map of the defects, and RawTherapee's bad-pixel list
  hotpix find --siril hotpix.lst --jpegpixi blocks.txt DSC_*.JPG
      lists for Siril (cosme hotpix.lst) and for jpegpixi
      (jpegpixi -f blocks.txt photo.jpg mended.jpg)";

#[derive(Debug, Args)]
#[command(after_help = FIND_EXAMPLES)]
pub struct FindArgs {
    /// Photos: files, directories (their .jpg/.jpeg files), glob patterns
    /// expanded by hotpix (quote them; the extension matches in any case), or
    /// `-` to read one path a line from stdin. Names need not be UTF-8
    #[arg(required = true, value_name = "INPUT", value_parser = clap::value_parser!(OsString))]
    pub inputs: Vec<OsString>,

    /// Read the `-` list on stdin as NUL-separated paths (`find -print0`),
    /// not one a line
    #[arg(short = '0', long)]
    pub null: bool,

    /// Search directories through all their subfolders (symbolic links to
    /// folders are not followed)
    #[arg(short, long)]
    pub recursive: bool,

    /// Leave out photos matching GLOB (repeatable): a pattern without `/`
    /// matches a file or folder name below the folders given, one with `/`
    /// the path below such a folder or the whole path; a file named on the
    /// command line is always used
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Analyse only the frames of this camera body, as the mixed-cameras
    /// error lists it ("NIKON D80 #3001234") or by its model ("NIKON D80",
    /// "D80"); frames of other bodies or without camera EXIF are skipped
    #[arg(long, value_name = "BODY")]
    pub camera: Option<String>,

    /// Worker threads decoding and accumulating [default: available cores]. Memory does
    /// not grow with it (see --memory); detection uses at most one thread a core
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,

    /// No warnings, no progress bar, no closing line on stderr; errors are still printed
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also name each frame whose EXIF could not be read (its pixels are still used)
    #[arg(short, long)]
    pub verbose: bool,

    /// Analyse frames from different camera bodies together instead of stopping
    #[arg(long)]
    pub mixed_cameras: bool,

    /// Skip frames whose header claims more than this many megapixels, before
    /// allocating anything for them
    #[arg(long, value_name = "MP", default_value_t = DEFAULT_MAX_MEGAPIXELS,
          value_parser = clap::value_parser!(u32).range(1..=4295))]
    pub max_megapixels: u32,

    /// Memory the run may take (e.g. 600M, 2G): the statistics plus as many
    /// frame buffers as fit; more buffers fold frames in larger batches,
    /// which is faster. The same whatever -j is [default: the statistics and
    /// 224 MiB of frame buffers, or less if the machine has less free]
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<u64>,

    #[command(flatten)]
    pub report: ReportFlags,

    #[command(flatten)]
    pub extras: ExtrasArgs,

    /// Also save the merged statistics and the list of frames counted to
    /// STATE (an .npz file; replaced atomically), for `report`, `merge` and
    /// `find --resume`
    #[arg(long, value_name = "STATE")]
    pub save: Option<PathBuf>,

    /// Add to the statistics saved in STATE: only frames whose content is not
    /// already counted there are decoded; the report covers all frames. The
    /// result is written only with --save (which may name STATE itself)
    #[arg(long, value_name = "STATE")]
    pub resume: Option<PathBuf>,
}

/// What the report shows and where it goes: the same flags for `find` and
/// `report`.
#[derive(Debug, Args)]
pub struct ReportFlags {
    /// Subpixels in each ranked list (lowest and highest variance). The
    /// lowest-variance list (stuck candidates) leaves out subpixels the scene
    /// was not seen to move around (a constant border, a sky clipped to black
    /// or white, a night sky: their neighbours are as still), so it can be
    /// shorter
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Report format: a table for people, JSON or CSV for scripts
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,

    /// Write the report to FILE (replaced atomically) instead of stdout; `-` is stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Defect score above which a subpixel is flagged [default: adapted to the
    /// series from the spread of all scores; the report says which was used]
    #[arg(long, value_name = "SCORE", value_parser = positive_f64)]
    pub threshold: Option<f64>,

    /// Exit with code 1 when any defect is found (the report is still written)
    #[arg(long)]
    pub fail_on_defects: bool,
}

/// The pictures and bad-pixel lists, besides the report: the same flags for
/// `find` and `report`.
#[derive(Debug, Args)]
pub struct ExtrasArgs {
    /// Draw the whole sensor coloured by defect score, each defect circled
    /// and numbered as in the report, as a PNG (replaced atomically)
    #[arg(long, value_name = "FILE.png")]
    pub map: Option<PathBuf>,

    /// Draw a contact sheet of close-ups, one tile per defect in report
    /// order (mean image and score around it), as a PNG (replaced atomically)
    #[arg(long, value_name = "FILE.png")]
    pub crops: Option<PathBuf>,

    /// Tiles on the --crops sheet, at most (the strongest defects)
    #[arg(long, value_name = "N", default_value_t = crops::DEFAULT_MAX as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_crops: u32,

    /// Write the defects as a dcraw/LibRaw dead-pixel list (`dcraw -P FILE`):
    /// `column row 0` a line
    #[arg(long, value_name = "FILE")]
    pub dcraw: Option<PathBuf>,

    /// Write the defects as `<Make> <Model>.badpixels` (`x y` a line) into DIR,
    /// RawTherapee's dark-frame folder; an existing list there is kept, every
    /// line of it, and gains the positions it lacks. Needs the camera's make
    /// and model (EXIF, or --make and --model), checked before decoding
    #[arg(long, value_name = "DIR")]
    pub rawtherapee: Option<PathBuf>,

    /// Write the defects as Siril's cosmetic-correction list (`cosme FILE`
    /// in Siril): `P x y H` a photosite, `C` for a dark one, rows from the top
    #[arg(long, value_name = "FILE")]
    pub siril: Option<PathBuf>,

    /// Write blocks of pixels covering each defect for jpegpixi, which mends
    /// JPEGs (`jpegpixi -f FILE photo.jpg mended.jpg`): `x,y,width,height` a
    /// line, in JPEG pixels
    #[arg(long, value_name = "FILE")]
    pub jpegpixi: Option<PathBuf>,

    /// Add DX,DY (signed integers) to every position in the --dcraw,
    /// --rawtherapee and --siril lists, for the border a raw frame has and the
    /// JPEG lacks; positions that become negative are dropped with a warning
    /// [default: 0,0]
    #[arg(long, value_name = "DX,DY", allow_hyphen_values = true, value_parser = parse_offset)]
    pub raw_offset: Option<Offset>,

    /// The camera's make (EXIF Make, e.g. "NIKON CORPORATION") for frames
    /// whose EXIF names no camera; with --model. The RawTherapee list is
    /// named after make and model
    #[arg(long, value_name = "MAKE", requires = "model", value_parser = non_empty)]
    pub make: Option<String>,

    /// The camera's model (EXIF Model, e.g. "NIKON D80") for frames whose
    /// EXIF names no camera; with --make
    #[arg(long, value_name = "MODEL", requires = "make", value_parser = non_empty)]
    pub model: Option<String>,
}

fn non_empty(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Err("an empty name names nothing".to_string()),
        t => Ok(t.to_string()),
    }
}

impl ExtrasArgs {
    /// Checks where each output goes before any work is done.
    fn into_extras(self) -> anyhow::Result<Extras> {
        for (what, path) in [
            ("--map", &self.map),
            ("--crops", &self.crops),
            ("--dcraw", &self.dcraw),
            ("--siril", &self.siril),
            ("--jpegpixi", &self.jpegpixi),
        ] {
            if let Some(p) = path {
                check_output_file(what, p)?;
            }
        }
        if let Some(dir) = &self.rawtherapee {
            if !dir.is_dir() {
                bail!("--rawtherapee '{}' is not a directory", dir.display());
            }
        }
        let raw_lists = self.dcraw.is_some() || self.rawtherapee.is_some() || self.siril.is_some();
        if self.raw_offset.is_some() && !raw_lists {
            bail!(
                "--raw-offset applies to the --dcraw, --rawtherapee and --siril lists; give one \
                 of them (jpegpixi's blocks are JPEG pixels)"
            );
        }
        Ok(Extras {
            map: self.map,
            crops: self.crops,
            max_crops: self.max_crops as usize,
            dcraw: self.dcraw,
            siril: self.siril,
            jpegpixi: self.jpegpixi,
            rawtherapee: self.rawtherapee,
            raw_offset_given: self.raw_offset.is_some(),
            raw_offset: self.raw_offset.unwrap_or_default(),
            camera_name: self.make.zip(self.model),
        })
    }
}

fn parse_offset(s: &str) -> Result<Offset, String> {
    let bad = || format!("'{s}' is not DX,DY (two integers, e.g. 0,0 or -2,4)");
    let (dx, dy) = s.split_once(',').ok_or_else(bad)?;
    Ok(Offset {
        dx: dx.trim().parse().map_err(|_| bad())?,
        dy: dy.trim().parse().map_err(|_| bad())?,
    })
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A state file written by `hotpix find --save` or `hotpix merge`
    #[arg(value_name = "STATE")]
    pub state: PathBuf,

    /// No warnings, progress or closing line on stderr; errors are still printed
    #[arg(short, long)]
    pub quiet: bool,

    /// Worker threads for drawing --map and --crops, at most one a core [default: available cores]
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,

    #[command(flatten)]
    pub report: ReportFlags,

    #[command(flatten)]
    pub extras: ExtrasArgs,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// State files to combine (at least two); they must share frame size,
    /// decoder and camera body. A state whose frames all lie in another is left
    /// out; any other frame counted in two states is refused
    #[arg(required = true, num_args = 2.., value_name = "STATE")]
    pub states: Vec<PathBuf>,

    /// The merged state file to write (replaced atomically; may be one of the inputs)
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Combine states from different camera bodies instead of stopping
    #[arg(long)]
    pub mixed_cameras: bool,

    /// No closing line on stderr; errors are still printed
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Write the comparison to FILE (replaced atomically) instead of stdout;
    /// `-` is stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print nothing: the exit code alone says whether a defect is new
    /// (a file named by -o is still written)
    #[arg(short, long)]
    pub quiet: bool,

    /// The earlier state file, or JSON report of `find --format json`
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The later state file, or JSON report
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Defect score threshold for detecting on state files [default: adapted
    /// to each state]; a JSON report's defects are taken as reported
    #[arg(long, value_name = "SCORE", value_parser = positive_f64)]
    pub threshold: Option<f64>,

    /// Output format: a table for people or JSON for scripts
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Table)]
    pub format: DiffFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    Table,
    Json,
}

fn parse_memory(s: &str) -> Result<u64, String> {
    hotpix::engine::memory::parse_size(s)
}

/// The error for arguments clap refused as not UTF-8: they are named
/// (lossily), and it says which ones may be any bytes.
pub fn not_utf8(args: impl Iterator<Item = OsString>) -> String {
    let named: Vec<String> = args
        .skip(1)
        .filter(|a| a.to_str().is_none())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    format!(
        "hotpix: error: {} not valid UTF-8: {}; only file and folder names (inputs and the \
         paths given to -o, --save, --map and the like) may be any bytes",
        if named.len() == 1 {
            "this argument is"
        } else {
            "these arguments are"
        },
        named.join(", ")
    )
}

fn positive_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a positive number")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Csv,
}

mod config;
pub use config::*;

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every flag of every command is in the README (its doc comment is its
    /// --help; the README is where people look first).
    #[test]
    fn readme_names_every_flag() {
        let readme = include_str!("../README.md");
        let cli = Cli::command();
        let mut missing = Vec::new();
        for command in cli.get_subcommands() {
            for arg in command.get_arguments() {
                if let Some(long) = arg.get_long().filter(|l| *l != "help") {
                    if !readme.contains(&format!("--{long}")) {
                        missing.push(format!("{} --{long}", command.get_name()));
                    }
                }
            }
            assert!(
                readme.contains(&format!("hotpix {}", command.get_name())),
                "README lacks `hotpix {}`",
                command.get_name()
            );
        }
        assert!(missing.is_empty(), "README lacks {missing:?}");
    }

    /// Regression guard (issue 19, item 5): `hotpix man > hotpix.1` was the
    /// overview alone, its examples ran together, and its synopsis read
    /// `<INPUT>`. The one page carries every command and flag, the list of
    /// inputs, and the examples one a line within a page's width.
    #[test]
    fn manual_page_carries_every_command_and_flag() {
        let mut cli = Cli::command().disable_help_subcommand(true);
        cli.build();
        let page = String::from_utf8(crate::man::whole(&cli).unwrap())
            .unwrap()
            .replace("\\-", "-");
        let mut missing = Vec::new();
        for command in crate::man::commands(&cli) {
            let heading = format!("HOTPIX {}", command.get_name().to_uppercase());
            assert!(page.contains(&heading), "the page lacks {heading}");
            for arg in command.get_arguments() {
                if let Some(long) = arg.get_long() {
                    if !page.contains(&format!("--{long}")) {
                        missing.push(format!("{} --{long}", command.get_name()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "the page lacks {missing:?}");
        assert!(page.contains("[OPTIONS] <INPUT>..."), "{page}");
        let examples = page
            .split_once(".SS Examples\n.nf\n")
            .and_then(|(_, rest)| rest.split_once(".fi"))
            .map(|(block, _)| block)
            .expect("an Examples block in no-fill mode");
        assert!(
            examples.contains("hotpix find -r ~/photos/d80/\n"),
            "{examples}"
        );
        for line in examples.lines().filter(|l| !l.starts_with('.')) {
            // 80 columns less the page's indent (7) and the block's (4).
            assert!(line.chars().count() <= 69, "too wide for a page: {line:?}");
        }
    }

    /// Regression guard (issue 19, item 2): the README said greyscale JPEGs
    /// were refused, and neither --help nor the manual named them.
    #[test]
    fn greyscale_jpegs_are_documented_as_read() {
        let readme = include_str!("../README.md");
        assert!(
            !readme.contains("not supported yet"),
            "README still refuses greyscale"
        );
        assert!(readme.contains("one channel, `L`"));
        let mut cli = Cli::command();
        let find = cli.find_subcommand_mut("find").unwrap();
        let help = find.render_long_help().to_string();
        assert!(
            help.contains("greyscale") && help.contains("named L"),
            "{help}"
        );
    }

    #[test]
    fn jobs_must_be_positive() {
        assert!(Cli::try_parse_from(["hotpix", "find", "-j", "0", "a.jpg"]).is_err());
        assert!(Cli::try_parse_from(["hotpix", "find", "-j", "2", "a.jpg"]).is_ok());
        assert!(Cli::try_parse_from(["hotpix", "find", "--threshold", "-1", "a.jpg"]).is_err());
        assert!(Cli::try_parse_from(["hotpix", "find", "--threshold", "nan", "a.jpg"]).is_err());
    }

    #[test]
    fn raw_offset_takes_signed_pairs() {
        let offset = |args: &[&str]| -> Option<Offset> {
            let mut all = vec!["hotpix", "find", "--dcraw", "d.txt"];
            all.extend_from_slice(args);
            all.push("a.jpg");
            match Cli::try_parse_from(all).ok()?.command {
                Command::Find(f) => f.extras.raw_offset,
                _ => None,
            }
        };
        assert_eq!(
            offset(&["--raw-offset", "-2,-3"]),
            Some(Offset { dx: -2, dy: -3 })
        );
        assert_eq!(offset(&["--raw-offset=4,0"]), Some(Offset { dx: 4, dy: 0 }));
        assert_eq!(offset(&["--raw-offset", "4"]), None);
        assert_eq!(offset(&["--raw-offset", "a,1"]), None);
        assert_eq!(offset(&["--raw-offset", "1.5,1"]), None);
        assert!(Cli::try_parse_from(["hotpix", "find", "--max-crops", "0", "a.jpg"]).is_err());
    }

    #[test]
    fn merge_needs_two_states_and_an_output() {
        assert!(Cli::try_parse_from(["hotpix", "merge", "a.npz", "-o", "c.npz"]).is_err());
        assert!(Cli::try_parse_from(["hotpix", "merge", "a.npz", "b.npz"]).is_err());
        assert!(Cli::try_parse_from(["hotpix", "merge", "a.npz", "b.npz", "-o", "c.npz"]).is_ok());
    }
}
