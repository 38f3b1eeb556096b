//! The `hotpix` command: parse, run, print one error, exit with a documented code.

mod app;
mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let exit = match app::run(cli) {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("hotpix: error: {err:#}");
            app::exit_for(&err)
        }
    };
    std::process::ExitCode::from(exit as u8)
}
