//! What hotpix shows on stderr: every message goes through [`say`], and the
//! progress through [`Progress`]. A stderr whose reader has gone
//! (`2>&1 | head -1`) loses the messages, never the work: write errors are
//! ignored here, where `eprintln!` would panic.
//!
//! Nothing here uses colour; clap's help and usage errors do, and clap
//! leaves it out when `NO_COLOR` is set or stderr is not a terminal.

use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Writes one line to stderr, or nothing if stderr cannot take it.
pub fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

/// A frame rate as people read it: "18 frames/s", "4.7 frames/s", or for a
/// slow run "2.4 s/frame"; nothing before the first frame.
pub fn rate_text(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        String::new()
    } else if per_sec >= 10.0 {
        format!("{per_sec:.0} frames/s")
    } else if per_sec >= 1.0 {
        format!("{per_sec:.1} frames/s")
    } else {
        format!("{:.1} s/frame", 1.0 / per_sec)
    }
}

/// The progress of a run on a terminal: a bar while frames are decoded, then
/// a spinner naming each later phase ("detecting defects", "drawing the
/// map"), so that no second passes with nothing shown. Does nothing at all
/// when stderr is not a terminal (or with `-q`).
pub struct Progress {
    bar: Option<ProgressBar>,
}

/// The bar on screen, if any, for an interruption to clear
/// ([`abandon_progress`]) before it says what was written.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Clears the bar or spinner for good, from any thread.
pub fn abandon_progress() {
    let shown = SHOWN.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(bar) = shown {
        bar.finish_and_clear();
    }
}

impl Progress {
    /// Shown only when `show` (stderr is a terminal and not `-q`).
    pub fn new(show: bool) -> Self {
        let bar = show.then(|| ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()));
        if let Some(bar) = &bar {
            *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
        }
        Progress { bar }
    }

    /// A bar over `frames` frames.
    pub fn frames(&self, frames: usize) {
        if let Some(bar) = &self.bar {
            let style =
                ProgressStyle::with_template("{bar:30} {pos}/{len} frames  {rate}  ETA {eta}")
                    .expect("the template is valid")
                    .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = w.write_str(&rate_text(s.per_sec()));
                    });
            bar.set_style(style);
            bar.set_length(frames as u64);
            bar.reset_eta();
        }
    }

    /// One frame dealt with.
    pub fn frame_done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// A spinner saying what is being done now.
    pub fn phase(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}...").expect("the template is valid"),
            );
            bar.set_message(what.to_string());
            // Shown at once, however briefly the phase lasts.
            bar.force_draw();
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Says `line` without tearing the bar.
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| say(line)),
            None => say(line),
        }
    }

    /// Runs `f` with the bar or spinner cleared from its line (and drawn
    /// again after): for output that shares the terminal, such as the
    /// report on stdout.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Clears the bar or spinner, before the closing lines.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression guard (issue 12): the rate showed as "4.7068/s".
    #[test]
    fn rates_read_naturally() {
        assert_eq!(rate_text(4.7068), "4.7 frames/s");
        assert_eq!(rate_text(18.23), "18 frames/s");
        assert_eq!(rate_text(0.42), "2.4 s/frame");
        assert_eq!(rate_text(0.0), "");
        assert_eq!(rate_text(f64::NAN), "");
    }
}
