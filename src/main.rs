//! The `hotpix` command: parse, run, print one error, exit with a documented code.

mod app;
mod cli;
mod interrupt;
mod man;
mod ui;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            ui::say(&cli::not_utf8(std::env::args_os()));
            return std::process::ExitCode::from(app::Exit::Usage as u8);
        }
        // clap prints help, version and usage errors itself, ignoring a
        // closed stream.
        Err(e) => e.exit(),
    };
    let exit = match app::run(cli) {
        Ok(exit) => exit,
        Err(err) => {
            ui::say(&format!("hotpix: error: {err:#}"));
            app::exit_for(&err)
        }
    };
    std::process::ExitCode::from(exit as u8)
}
