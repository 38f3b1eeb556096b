//! `--dcraw`: the dead-pixel list of dcraw's `-P` option (also read by
//! LibRaw). dcraw's `bad_pixels()` reads one pixel a line as `column row
//! time`, cuts each line at `#`, skips lines without three integers, and
//! mends a pixel only in photos taken after `time` (Unix seconds): 0 means
//! always (dcraw(1), FILES; dcraw.c `bad_pixels`).

use std::io::Write;

use super::{provenance, Offset, Positions};
use crate::report::Report;

/// Writes the list: comment lines, then `column row 0` for every kept
/// position, in report order, each followed by a comment naming the defect.
pub fn write(
    report: &Report,
    offset: Offset,
    positions: &Positions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for line in provenance(report, offset) {
        writeln!(out, "# {line}")?;
    }
    writeln!(
        out,
        "# for dcraw -P FILE; fields: column row time (0 = bad since always)"
    )?;
    for p in &positions.kept {
        let d = &report.defects[p.number - 1];
        writeln!(
            out,
            "{} {} 0\t# {} {} {:.2}",
            p.x,
            p.y,
            p.number,
            d.kind.name(),
            d.score
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{positions, tests::report_with};

    #[test]
    fn lines_are_column_row_zero() {
        let report = report_with(&[(87, 40), (1, 5)], None, None);
        let offset = Offset { dx: -1, dy: 2 };
        let mut out = Vec::new();
        write(&report, offset, &positions(&report, offset), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let data: Vec<&str> = text
            .lines()
            .map(|l| l.split('#').next().unwrap().trim())
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(data, ["86 42 0", "0 7 0"]);
    }
}
