//! `--siril`: the cosmetic-correction list of Siril's `cosme` command, the
//! format its `find_hot` writes. Siril (free-astro/siril,
//! `apply_cosme_to_image` in filters/cosmetic_correction.c and
//! `process_cosme` in core/command.c) reads it a line at a time:
//! - `#` in the first column: a comment line;
//! - `P x y [T]`: one pixel, read with `sscanf("%lf %lf %c")` from the third
//!   character on; hot when `T` is `H` or absent, cold for any other
//!   letter (`find_hot` writes `C`);
//! - `L y` and `C x`: a bad row or column (hotpix writes none);
//! - anything else, a blank line included, is a format error.
//!
//! Rows count from the top: Siril keeps images bottom-up (FITS order), flips
//! a JPEG when it loads it (`readjpg` then `mirrorx`), and turns the list's
//! row `y` into its own `ry - y - 1`, so `P x y` is the JPEG's pixel `x, y`
//! as hotpix counts it, with no flip here. Siril versions before 1.2 read
//! lines with `fgets(line, 63)`: every line here is shorter than that.

use std::io::Write;

use super::{Offset, Positions};
use crate::detect::Kind;
use crate::report::Report;

/// Siril's older readers cut lines at 62 characters; comments wrap before.
const LINE: usize = 60;

/// Writes the list: comment lines, then `P x y H` (bright) or `P x y C`
/// (dark) for every kept position, in report order.
pub fn write(
    report: &Report,
    offset: Offset,
    positions: &Positions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let notes = [
        super::origin(report),
        format!(
            "{} positions: JPEG pixels shifted by the raw offset ({},{}), rows from the top",
            positions.kept.len(),
            offset.dx,
            offset.dy
        ),
        "in Siril: cosme FILE on the loaded image (cosme_cfa on a raw CFA frame); \
         H hot or bright, C cold or dark"
            .to_string(),
    ];
    for note in &notes {
        for line in wrapped(note, LINE - 2) {
            writeln!(out, "# {line}")?;
        }
    }
    for p in &positions.kept {
        let dark = report.defects[p.number - 1].kind == Kind::Dead;
        writeln!(out, "P {} {} {}", p.x, p.y, if dark { 'C' } else { 'H' })?;
    }
    Ok(())
}

/// `text` cut into lines of at most `width` characters at spaces (a word
/// longer than that stands alone).
fn wrapped(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{positions, tests::report_with};

    #[test]
    fn lines_are_p_x_y_type_and_short() {
        let mut report = report_with(&[(87, 40), (1, 5)], None, None);
        report.defects[1].kind = Kind::Dead;
        let offset = Offset { dx: -1, dy: 2 };
        let mut out = Vec::new();
        write(&report, offset, &positions(&report, offset), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let data: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(data, ["P 86 42 H", "P 0 7 C"]);
        for line in text.lines() {
            assert!(line.len() < 62, "{line:?}");
            assert!(!line.trim().is_empty());
        }
    }

    #[test]
    fn comments_wrap_at_spaces() {
        assert_eq!(wrapped("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrapped("", 6), Vec::<String>::new());
    }
}
