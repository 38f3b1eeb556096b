//! Writes output files so that an existing file is never half-overwritten: the
//! bytes go to a temporary file in the same directory, which is renamed over
//! the target only once it is complete and flushed.
//!
//! A target that exists and is not a regular file (`/dev/null`, a FIFO, a
//! terminal) is written directly instead: renaming over it would replace the
//! device node itself, which as root succeeds.
//!
//! Outputs are reserved ([`Output::reserve`]) before the work, so that an
//! unwritable folder fails at once; every temporary file is in a ledger, so
//! that an interrupted process removes them ([`abandon`]) and can say which
//! outputs it wrote.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What this process is writing and has written: the temporary files to
/// remove if it is interrupted, and the files it can say it wrote.
struct Ledger {
    temporaries: Vec<PathBuf>,
    finished: Vec<PathBuf>,
}

static LEDGER: Mutex<Ledger> = Mutex::new(Ledger {
    temporaries: Vec::new(),
    finished: Vec::new(),
});

fn ledger() -> MutexGuard<'static, Ledger> {
    LEDGER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An output file reserved before the work that fills it: its temporary
/// file is created in the target's folder at once, so that a folder that
/// cannot take it (read-only, full, gone) fails before any photo is
/// decoded, and [`Output::write`] fills that same file and renames it into
/// place. Dropped unwritten, it leaves nothing behind.
#[derive(Debug)]
pub struct Output {
    target: PathBuf,
    /// `None` for a target written directly (a device, a FIFO).
    tmp: Option<tempfile::NamedTempFile>,
}

impl Output {
    /// Reserves `target`. A target that exists and is not a regular file
    /// (`/dev/null`, a FIFO, a terminal) is opened only when written:
    /// renaming over it would replace the device node itself, which as root
    /// succeeds.
    pub fn reserve(target: &Path) -> std::io::Result<Output> {
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            return Ok(Output {
                target: target.to_path_buf(),
                tmp: None,
            });
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Self::reserve_in(dir).map(|o| o.retarget(target.to_path_buf()))
    }

    /// Reserves a file in `dir` whose name is known only later: give it
    /// with [`Output::retarget`] before writing.
    pub fn reserve_in(dir: &Path) -> std::io::Result<Output> {
        let tmp = tempfile::Builder::new()
            .prefix(".hotpix-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        ledger().temporaries.push(tmp.path().to_path_buf());
        Ok(Output {
            target: dir.to_path_buf(),
            tmp: Some(tmp),
        })
    }

    /// The same reservation for `target`, a file in the folder reserved in
    /// (a rename does not cross folders).
    pub fn retarget(mut self, target: PathBuf) -> Output {
        Output {
            target,
            tmp: self.tmp.take(),
        }
    }

    /// The file this reservation is for.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes what `fill` produces to the target atomically: into the
    /// temporary file, flushed to disk, then renamed over the target. On
    /// any error the target is untouched and the temporary file removed.
    pub fn write(
        mut self,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(tmp) = self.tmp.take() else {
            let mut w = std::io::BufWriter::new(
                std::fs::OpenOptions::new().write(true).open(&self.target)?,
            );
            fill(&mut w)?;
            w.flush()?;
            ledger().finished.push(self.target.clone());
            return Ok(());
        };
        let tmp_path = tmp.path().to_path_buf();
        let result = fill_and_persist(tmp, &self.target, fill);
        ledger().temporaries.retain(|p| *p != tmp_path);
        result
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let path = tmp.path().to_path_buf();
            drop(tmp);
            ledger().temporaries.retain(|p| *p != path);
        }
    }
}

/// Fills `tmp` and renames it to `target`; the rename happens under the
/// ledger's lock, so that an interruption sees it either done or not.
fn fill_and_persist(
    mut tmp: tempfile::NamedTempFile,
    target: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    keep_permissions(tmp.as_file(), target)?;
    let mut ledger = ledger();
    let tmp_path = tmp.path().to_path_buf();
    tmp.persist(target).map_err(|e| e.error)?;
    ledger.temporaries.retain(|p| *p != tmp_path);
    ledger.finished.push(target.to_path_buf());
    Ok(())
}

/// Writes what `fill` produces to `path` atomically (see [`Output`]). On
/// any error the target is untouched and the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    Output::reserve(path)?.write(fill)
}

/// For a process about to exit on an interruption (SIGINT, SIGTERM):
/// removes every temporary file of an output not yet written, keeps any
/// other from being renamed into place from now on (the ledger stays
/// locked until the process exits), and returns the files it wrote.
pub fn abandon() -> Vec<PathBuf> {
    let ledger = ledger();
    for tmp in &ledger.temporaries {
        let _ = std::fs::remove_file(tmp);
    }
    let finished = ledger.finished.clone();
    // Held, not released: a write renaming its file now would contradict
    // what the interrupted process says it wrote.
    std::mem::forget(ledger);
    finished
}

/// The temporary file is created private (0600); the output should instead
/// keep the permissions of the file it replaces, or get the usual 0644 of a
/// new file (umask 022; std cannot read the umask).
fn keep_permissions(tmp: &std::fs::File, target: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(target).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (tmp, target);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn outputs_keep_the_replaced_files_permissions_or_get_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.json");
        write_atomic(&new, |w| w.write_all(b"x")).unwrap();
        assert_eq!(
            std::fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let old = dir.path().join("old.json");
        std::fs::write(&old, "x").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&old, |w| w.write_all(b"y")).unwrap();
        assert_eq!(
            std::fs::metadata(&old).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    /// Regression guard: `-o /dev/null` must not replace the device node.
    #[cfg(unix)]
    #[test]
    fn a_device_is_written_to_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let null = Path::new("/dev/null");
        write_atomic(null, |w| w.write_all(b"discarded")).unwrap();
        assert!(std::fs::metadata(null)
            .unwrap()
            .file_type()
            .is_char_device());
    }

    #[test]
    fn failure_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        std::fs::write(&target, "old").unwrap();
        let err = write_atomic(&target, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        write_atomic(&target, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
