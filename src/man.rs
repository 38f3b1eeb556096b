//! The manual pages, made from the clap definitions: `hotpix man` prints one
//! page that carries every command (its synopsis, description, options and
//! examples); `hotpix man --dir` writes that page and one a command.
//!
//! clap_mangen renders the options; the rest is composed here because its
//! whole-page render gives the overview only, fills the examples into one
//! paragraph, and writes `<INPUT>` for a list of inputs.

use clap::Command;
use roff::{bold, roman, Roff};

/// The page of `cli` (built) with a section for each of its commands.
pub fn whole(cli: &Command) -> std::io::Result<Vec<u8>> {
    let mut page = Roff::new();
    title(&mut page, cli.get_name(), cli);
    page.control("SH", ["NAME"]);
    page.text([roman(format!("{} - {}", cli.get_name(), about(cli)))]);
    page.control("SH", ["SYNOPSIS"]);
    page.control("nf", []);
    for sub in commands(cli) {
        usage_line(&mut page, sub);
    }
    page.control("fi", []);
    page.control("SH", ["DESCRIPTION"]);
    paragraphs(&mut page, &long_about(cli));
    page.control("PP", []);
    page.text([roman(
        "Each command is described below: hotpix COMMAND --help says the same.",
    )]);
    let mut bytes = PREAMBLE.to_vec();
    bytes.extend(render(&page));
    for sub in commands(cli) {
        let mut part = Roff::new();
        let heading = format!("{} {}", cli.get_name(), sub.get_name()).to_uppercase();
        part.control("SH", [heading.as_str()]);
        part.control("nf", []);
        usage_line(&mut part, sub);
        part.control("fi", []);
        part.control("PP", []);
        paragraphs(&mut part, &long_about(sub));
        bytes.extend(render(&part));
        bytes.extend(options(sub, "SS")?);
        bytes.extend(render(&examples(sub, "SS")));
    }
    bytes.extend(render(&closing(cli)));
    Ok(bytes)
}

/// The page of one command `sub` of `cli`, named `cli-sub`.
pub fn one(cli: &Command, sub: &Command) -> std::io::Result<Vec<u8>> {
    let name = format!("{}-{}", cli.get_name(), sub.get_name());
    let mut page = Roff::new();
    title(&mut page, &name, cli);
    page.control("SH", ["NAME"]);
    page.text([roman(format!("{name} - {}", about(sub)))]);
    page.control("SH", ["SYNOPSIS"]);
    page.control("nf", []);
    usage_line(&mut page, sub);
    page.control("fi", []);
    page.control("SH", ["DESCRIPTION"]);
    paragraphs(&mut page, &long_about(sub));
    let mut bytes = PREAMBLE.to_vec();
    bytes.extend(render(&page));
    bytes.extend(options(sub, "SH")?);
    bytes.extend(render(&examples(sub, "SH")));
    bytes.extend(render(&closing(cli)));
    Ok(bytes)
}

/// The commands a page describes (not `help`).
pub fn commands(cli: &Command) -> impl Iterator<Item = &Command> {
    cli.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn title(page: &mut Roff, name: &str, cli: &Command) {
    let version = format!("{} {}", cli.get_name(), cli.get_version().unwrap_or(""));
    page.control("TH", [name, "1", "", version.as_str()]);
}

fn about(cmd: &Command) -> String {
    cmd.get_about().map(ToString::to_string).unwrap_or_default()
}

fn long_about(cmd: &Command) -> String {
    cmd.get_long_about()
        .or_else(|| cmd.get_about())
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `hotpix find [OPTIONS] <INPUT>...`, as clap's usage line says it (which
/// marks a list of inputs with `...`), the command's name in bold.
fn usage_line(page: &mut Roff, sub: &Command) {
    let usage = sub.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
    match usage.strip_prefix(name) {
        Some(rest) => page.text([bold(name), roman(rest)]),
        None => page.text([roman(usage)]),
    };
}

/// Text whose blank lines part paragraphs.
fn paragraphs(page: &mut Roff, text: &str) {
    for line in text.lines() {
        if line.trim().is_empty() {
            page.control("PP", []);
        } else {
            page.text([roman(line)]);
        }
    }
}

/// The command's options as clap_mangen lists them, under a heading of
/// `level` (`SH` on a page of its own, `SS` within the whole page).
fn options(sub: &Command, level: &str) -> std::io::Result<Vec<u8>> {
    let mut section = Vec::new();
    clap_mangen::Man::new(sub.clone()).render_options_section(&mut section)?;
    let text = String::from_utf8_lossy(strip_preamble(&section)).into_owned();
    let heading = match level {
        "SS" => ".SS Options",
        _ => ".SH OPTIONS",
    };
    Ok(text.replacen(".SH OPTIONS", heading, 1).into_bytes())
}

/// The examples of a command's after-help (lines after `Examples:`), one a
/// line as written: filled into a paragraph they run together.
fn examples(sub: &Command, level: &str) -> Roff {
    let mut part = Roff::new();
    let Some(after) = sub.get_after_help().map(ToString::to_string) else {
        return part;
    };
    let Some((_, lines)) = after.split_once("Examples:") else {
        return part;
    };
    match level {
        "SS" => part.control("SS", ["Examples"]),
        _ => part.control("SH", ["EXAMPLES"]),
    };
    part.control("nf", []);
    part.control("RS", ["4"]);
    for line in lines.lines().skip_while(|l| l.trim().is_empty()) {
        part.text([roman(line.strip_prefix("  ").unwrap_or(line))]);
    }
    part.control("RE", []);
    part.control("fi", []);
    part
}

/// EXIT STATUS (the top command's after-help) and VERSION.
fn closing(cli: &Command) -> Roff {
    let mut part = Roff::new();
    if let Some(after) = cli.get_after_help() {
        part.control("SH", ["EXIT STATUS"]);
        paragraphs(&mut part, &after.to_string());
    }
    part.control("SH", ["VERSION"]);
    part.text([roman(format!("v{}", cli.get_version().unwrap_or_default()))]);
    part
}

fn render(page: &Roff) -> Vec<u8> {
    let mut bytes = Vec::new();
    page.to_writer(&mut bytes)
        .expect("writing to a Vec cannot fail");
    strip_preamble(&bytes).to_vec()
}

/// roff writes these two lines, which define the apostrophe, before every
/// piece it renders; a page needs them once, at its start.
const PREAMBLE: &[u8] = b".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

fn strip_preamble(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(PREAMBLE).unwrap_or(bytes)
}
