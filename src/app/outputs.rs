//! The files a command writes besides its report: reserved before the
//! work starts (so a bad path fails at once and nothing existing is
//! replaced), then filled atomically, each error naming its file.

use super::*;

/// The files a command wrote, for its closing line.
#[derive(Default)]
pub(super) struct Written {
    lines: Vec<String>,
}

impl Written {
    pub(super) fn file(&mut self, path: &Path) {
        // A device (`-o /dev/null`) is not a file anyone looks for.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            self.lines.push(format!("'{}'", path.display()));
        }
    }

    pub(super) fn note(&mut self, text: String) {
        self.lines.push(text);
    }

    /// "hotpix: wrote 'a', 'b'", or nothing when nothing was written.
    pub(super) fn say(&self, progress: &Progress) {
        if !self.lines.is_empty() {
            progress.say(&format!("hotpix: wrote {}", self.lines.join(", ")));
        }
    }
}

/// The files a command will write, reserved before any work (see
/// [`Output`]), in the order they are written: a folder that cannot take
/// one fails at once, naming the file, with exit 3, not after all the
/// decoding.
#[derive(Default)]
pub(super) struct Reserved {
    pub(super) report: Option<Output>,
    map: Option<Output>,
    crops: Option<Output>,
    dcraw: Option<Output>,
    siril: Option<Output>,
    jpegpixi: Option<Output>,
    /// In the RawTherapee folder; the list's name comes from the frames.
    rawtherapee: Option<Output>,
    pub(super) save: Option<Output>,
}

impl Reserved {
    pub(super) fn new(
        destination: &Destination,
        extras: &Extras,
        save: Option<&Path>,
    ) -> std::io::Result<Reserved> {
        let file = |what: &str, path: &Option<PathBuf>| {
            path.as_deref().map(|p| reserve(what, p)).transpose()
        };
        Ok(Reserved {
            report: match destination {
                Destination::File(p) => Some(reserve("--output", p)?),
                Destination::Stdout => {
                    crate::interrupt::expect_stdout();
                    None
                }
            },
            map: file("--map", &extras.map)?,
            crops: file("--crops", &extras.crops)?,
            jpegpixi: file("--jpegpixi", &extras.jpegpixi)?,
            dcraw: file("--dcraw", &extras.dcraw)?,
            rawtherapee: extras
                .rawtherapee
                .as_deref()
                .map(|dir| {
                    crate::interrupt::expect_in("--rawtherapee", dir);
                    Output::reserve_in(dir).map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!(
                                "cannot write into the --rawtherapee folder '{}': {}",
                                dir.display(),
                                cause(&e)
                            ),
                        )
                    })
                })
                .transpose()?,
            siril: file("--siril", &extras.siril)?,
            save: save.map(|p| reserve("--save", p)).transpose()?,
        })
    }
}

/// Reserves the output `path` of the flag `what`, naming both in an error.
pub(super) fn reserve(what: &str, path: &Path) -> std::io::Result<Output> {
    crate::interrupt::expect_file(what, path);
    Output::reserve(path).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot write {what} '{}': {}", path.display(), cause(&e)),
        )
    })
}

/// The system's words for an error, without the temporary file's name that
/// `tempfile` appends (` at path "..."`, tempfile's error.rs; its source is
/// not kept): the user named another file, which the message names.
pub(super) fn cause(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((words, _)) => words.to_string(),
        None => text,
    }
}

/// Writes a reserved output, naming it in any error.
pub(super) fn write_to(
    output: Output,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let path = output.target().to_path_buf();
    output.write(fill).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot write '{}': {e}", path.display()))
    })
}

/// Writes an output file atomically, naming it in any error.
pub(super) fn write_file(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    output::write_atomic(path, fill).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot write '{}': {e}", path.display()))
    })
}

/// What the pictures and lists are drawn from.
pub(super) struct Analysis<'a> {
    pub(super) stats: &'a Stats,
    pub(super) ctx: &'a Context,
    pub(super) report: &'a Report,
}

/// The pictures and bad-pixel lists, after the report; for `find` and `report`.
pub(super) fn write_extras(
    extras: &Extras,
    reserved: &mut Reserved,
    jobs: usize,
    verbosity: Verbosity,
    progress: &Progress,
    analysis: &Analysis,
    written: &mut Written,
) -> anyhow::Result<()> {
    let Analysis { stats, ctx, report } = *analysis;
    // Checked first: nothing is drawn for a list that cannot be named.
    let rawtherapee = match reserved.rawtherapee.take() {
        Some(output) => {
            let name = rawtherapee::file_name(&report.summary)?;
            let path = output.target().join(name);
            Some(output.retarget(path))
        }
        None => None,
    };
    if reserved.map.is_some() || reserved.crops.is_some() {
        // Drawing computes scores again, on the run's compute threads.
        // A failure of the machine, not of the command line: exit 3.
        let pool = hotpix::engine::compute_pool(jobs)?;
        if let Some(output) = reserved.map.take() {
            progress.phase("drawing the map");
            let image = pool.install(|| map::render(stats, ctx, report));
            let path = output.target().to_path_buf();
            write_to(output, |w| visual::write_png(&image, w))?;
            written.file(&path);
        }
        if let Some(output) = reserved.crops.take() {
            progress.phase("drawing the close-ups");
            let image = pool.install(|| crops::render(stats, ctx, report, extras.max_crops));
            let path = output.target().to_path_buf();
            write_to(output, |w| visual::write_png(&image, w))?;
            written.file(&path);
        }
    }
    if let Some(output) = reserved.jpegpixi.take() {
        let blocks = jpegpixi::blocks(report);
        let path = output.target().to_path_buf();
        write_to(output, |w| jpegpixi::write(report, &blocks, w))?;
        written.file(&path);
    }
    if reserved.dcraw.is_none() && rawtherapee.is_none() && reserved.siril.is_none() {
        return Ok(());
    }
    let offset = extras.raw_offset;
    let positions = export::positions(report, offset);
    if verbosity != Verbosity::Quiet {
        for (number, x, y) in &positions.dropped {
            progress.say(&format!(
                "hotpix: warning: defect {number} is at ({x},{y}) after the raw offset \
                 {},{}: left out of the bad-pixel lists",
                offset.dx, offset.dy
            ));
        }
        if !extras.raw_offset_given {
            progress.say(&raw_offset_note(extras));
        }
    }
    if let Some(output) = reserved.dcraw.take() {
        let path = output.target().to_path_buf();
        write_to(output, |w| dcraw::write(report, offset, &positions, w))?;
        written.file(&path);
    }
    if let Some(output) = rawtherapee {
        write_rawtherapee(output, report, offset, &positions, written)?;
    }
    if let Some(output) = reserved.siril.take() {
        let path = output.target().to_path_buf();
        write_to(output, |w| siril::write(report, offset, &positions, w))?;
        written.file(&path);
    }
    Ok(())
}

/// Lists for raw files made from JPEGs without `--raw-offset`: the
/// positions are the JPEG's, and a raw frame usually has a border the
/// JPEG lacks. (Lists made from raw files will need no such note.)
pub(super) fn raw_offset_note(extras: &Extras) -> String {
    let lists: Vec<&str> = [
        ("--dcraw", extras.dcraw.is_some()),
        ("--rawtherapee", extras.rawtherapee.is_some()),
        ("--siril", extras.siril.is_some()),
    ]
    .into_iter()
    .filter_map(|(flag, asked)| asked.then_some(flag))
    .collect();
    format!(
        "hotpix: note: the {} {} the JPEG's pixel positions; a raw file usually has a border \
         the JPEG lacks, so for raw files give --raw-offset DX,DY (README: \"The offset\")",
        lists.join(" and "),
        if lists.len() == 1 {
            "list gives"
        } else {
            "lists give"
        }
    )
}

/// The RawTherapee list: a new file, or merged into the one already there
/// (a list kept by hand keeps every line; only missing positions are added).
pub(super) fn write_rawtherapee(
    output: Output,
    report: &Report,
    offset: export::Offset,
    positions: &export::Positions,
    written: &mut Written,
) -> anyhow::Result<()> {
    let path = output.target().to_path_buf();
    let existing = match std::fs::read(&path) {
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
        write_to(output, |w| rawtherapee::write(report, offset, positions, w))?;
        written.file(&path);
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
    write_to(output, |w| w.write_all(&merged.bytes))?;
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
