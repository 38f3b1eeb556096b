//! Ctrl-C (SIGINT) and SIGTERM. Without a handler the process dies where it
//! is, leaving temporary files and no word of what it wrote. With this one,
//! a thread waiting for the signal clears the progress line, removes every
//! temporary file and stops any more from being renamed into place
//! ([`hotpix::output::abandon`]), says which outputs were written and which
//! were not, and exits with 130 or 143: 128 plus the signal's number, what
//! a shell reports for a process the signal ended.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::ui;

/// Where an output asked for goes.
enum Target {
    File(PathBuf),
    /// A file in this folder, named later (the RawTherapee list).
    Folder(PathBuf),
    Stdout,
}

/// The outputs the command was asked for, in the order it writes them,
/// each with the flag that asked for it.
static EXPECTED: Mutex<Vec<(String, Target)>> = Mutex::new(Vec::new());

/// Whether the report went to stdout in full.
static STDOUT_DONE: AtomicBool = AtomicBool::new(false);

/// Starts the thread that waits for SIGINT and SIGTERM. If it cannot be
/// started, the signals keep their default action (the process ends).
#[cfg(unix)]
pub fn install() {
    use signal_hook::iterator::Signals;
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                interrupted(signal);
            }
        });
}

/// Elsewhere the signals keep their default action.
#[cfg(not(unix))]
pub fn install() {}

#[cfg(unix)]
use signal_hook::consts::signal::{SIGINT, SIGTERM};
#[cfg(not(unix))]
const SIGINT: i32 = 2;

fn expected() -> std::sync::MutexGuard<'static, Vec<(String, Target)>> {
    EXPECTED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `what` (a flag) will write `file`.
pub fn expect_file(what: &str, file: &Path) {
    expected().push((what.to_string(), Target::File(file.to_path_buf())));
}

/// `what` will write a file into `folder`.
pub fn expect_in(what: &str, folder: &Path) {
    expected().push((what.to_string(), Target::Folder(folder.to_path_buf())));
}

/// The report will go to stdout.
pub fn expect_stdout() {
    expected().push(("the report".to_string(), Target::Stdout));
}

/// The report went to stdout in full.
pub fn stdout_done() {
    STDOUT_DONE.store(true, Ordering::SeqCst);
}

fn interrupted(signal: i32) -> ! {
    ui::abandon_progress();
    let finished = hotpix::output::abandon();
    let mut wrote = Vec::new();
    let mut not = Vec::new();
    for (what, target) in expected().iter() {
        let done = match target {
            Target::File(path) => finished
                .iter()
                .find(|f| *f == path)
                .map(|f| format!("'{}'", f.display())),
            Target::Folder(dir) => finished
                .iter()
                .find(|f| f.parent() == Some(dir.as_path()))
                .map(|f| format!("'{}'", f.display())),
            Target::Stdout => STDOUT_DONE
                .load(Ordering::SeqCst)
                .then(|| "the report (stdout)".to_string()),
        };
        match (done, target) {
            (Some(shown), _) => wrote.push(shown),
            (None, Target::File(path)) => not.push(format!("'{}' ({what})", path.display())),
            (None, Target::Folder(dir)) => {
                not.push(format!("the list in '{}' ({what})", dir.display()))
            }
            (None, Target::Stdout) => not.push("the report (stdout)".to_string()),
        }
    }
    let name = if signal == SIGINT {
        "SIGINT"
    } else {
        "SIGTERM"
    };
    let mut message = format!("hotpix: interrupted by {name}");
    if !wrote.is_empty() {
        message.push_str(&format!("; wrote {}", wrote.join(", ")));
    }
    if !not.is_empty() {
        message.push_str(&format!(
            "; not written: {}; no temporary file is left",
            not.join(", ")
        ));
    }
    ui::say(&message);
    std::process::exit(128 + signal)
}
