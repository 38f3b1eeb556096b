//! The report as CSV: a fixed header, then one row a defect (list `defect`)
//! and one row a ranked subpixel (`lowest_variance`, `highest_variance`).
//! Columns that do not apply to a row are empty. The summary is not in the
//! CSV (use JSON for that), so the CSV is the same for any number of workers.

use super::Report;
use crate::rank::RankedSubpixel;

/// The header, fixed: scripts may index columns by position (columns are
/// only ever added at the end). For a defect, `channel` is the peak's
/// channel, `channels` every flagged channel, `seen` of `could_show` the
/// frames it stood out in of those that could show it, `views` the views of
/// the scene its frames show there and `found_by` what carried it.
pub const HEADER: &str =
    "list,rank,x,y,channel,mean,variance,stddev,kind,channels,score,reference,offset,dark_rate,photosites,seen,could_show,views,found_by";

pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for (rank, d) in report.defects.iter().enumerate() {
        let channels: String = d.channels.iter().map(|c| c.name()).collect();
        writeln!(
            out,
            "defect,{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            rank + 1,
            d.x,
            d.y,
            d.channel.name(),
            d.mean,
            d.variance,
            d.variance.sqrt(),
            d.kind.name(),
            channels,
            d.score,
            d.reference,
            d.offset,
            d.dark_rate.map_or(String::new(), |r| r.to_string()),
            photosites(d),
            d.seen,
            d.could_show,
            d.views,
            d.found_by.name()
        )?;
    }
    write_list(out, "lowest_variance", &report.lowest_variance)?;
    write_list(out, "highest_variance", &report.highest_variance)
}

/// Photosites as `x:y:channel`, separated by spaces (no comma, no quoting).
fn photosites(d: &crate::detect::Defect) -> String {
    d.photosites
        .iter()
        .map(|p| format!("{}:{}:{}", p.x, p.y, p.channel.name()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_list(
    out: &mut dyn std::io::Write,
    list: &str,
    rows: &[RankedSubpixel],
) -> std::io::Result<()> {
    for (rank, s) in rows.iter().enumerate() {
        writeln!(
            out,
            "{list},{},{},{},{},{},{},{},,,,,,,,,,,",
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
