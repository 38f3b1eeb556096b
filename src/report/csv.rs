//! The report's ranked subpixels as CSV: a fixed header and one row a subpixel,
//! with a column naming the list it belongs to. The summary is not in the CSV
//! (use JSON for that), so the CSV is the same for any number of workers.

use super::Report;
use crate::rank::RankedSubpixel;

/// The header, fixed: scripts may index columns by position.
pub const HEADER: &str = "list,rank,x,y,channel,mean,variance,stddev";

pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    write_list(out, "lowest_variance", &report.lowest_variance)?;
    write_list(out, "highest_variance", &report.highest_variance)
}

fn write_list(
    out: &mut dyn std::io::Write,
    list: &str,
    rows: &[RankedSubpixel],
) -> std::io::Result<()> {
    for (rank, s) in rows.iter().enumerate() {
        writeln!(
            out,
            "{list},{},{},{},{},{},{},{}",
            rank + 1,
            s.x,
            s.y,
            s.channel.name(),
            s.mean,
            s.variance,
            s.stddev
        )?;
    }
    Ok(())
}
