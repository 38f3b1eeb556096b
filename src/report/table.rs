//! The report as aligned text for people.

use std::io::Write;

use super::{Range, Report};
use crate::detect::Defect;
use crate::plural::plural;
use crate::rank::RankedSubpixel;

pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let s = &report.summary;
    writeln!(out, "{}", report.tool)?;
    let camera = match (&s.camera, s.cameras.len()) {
        (Some(c), _) => c.clone(),
        (None, 0 | 1) => "unknown (no camera EXIF)".to_string(),
        (None, _) => "several (--mixed-cameras)".to_string(),
    };
    writeln!(out, "  camera      {camera}")?;
    if s.cameras.len() > 1 {
        for c in &s.cameras {
            writeln!(
                out,
                "                {} ({})",
                c.camera,
                plural(c.frames, "frame")
            )?;
        }
    }
    writeln!(
        out,
        "  frames      {} used, {} skipped",
        s.frames_used, s.frames_skipped
    )?;
    for skip in &s.skipped {
        writeln!(
            out,
            "                skipped {}: {}",
            skip.path, skip.reason
        )?;
    }
    writeln!(out, "  frame size  {}x{}", s.width, s.height)?;
    writeln!(
        out,
        "  ISO         {}",
        range_text(&s.iso, |v| v.to_string())
    )?;
    writeln!(
        out,
        "  exposure    {}",
        range_text(&s.exposure_s, |&v| exposure_text(v))
    )?;
    writeln!(out, "  date        {}", range_text(&s.date, |v| v.clone()))?;
    writeln!(out, "  workers     {}, {:.2} s", s.workers, s.elapsed_s)?;
    let how = if s.threshold_automatic {
        "automatic"
    } else {
        "--threshold"
    };
    writeln!(out, "  threshold   {:.2} ({how})", s.threshold)?;
    if let Some(sim) = s.frame_similarity {
        writeln!(
            out,
            "  similarity  {sim:.2} (median correlation between frames; near 1 = same view)"
        )?;
    }
    for w in &s.warnings {
        writeln!(out, "  WARNING     {w}")?;
    }
    writeln!(out)?;
    write_defects(out, &report.defects)?;
    writeln!(out)?;
    write_list(
        out,
        "Lowest variance (stuck candidates)",
        &report.lowest_variance,
    )?;
    writeln!(out)?;
    write_list(out, "Highest variance", &report.highest_variance)
}

fn range_text<T: PartialEq>(range: &Option<Range<T>>, show: impl Fn(&T) -> String) -> String {
    match range {
        None => "unknown".to_string(),
        Some(r) if r.min == r.max => show(&r.min),
        Some(r) => format!("{} to {}", show(&r.min), show(&r.max)),
    }
}

/// Photographers read exposures as 1/250 s, not 0.004 s.
pub fn exposure_text(seconds: f64) -> String {
    if seconds > 0.0 && seconds < 0.5 {
        format!("1/{:.0} s", 1.0 / seconds)
    } else {
        format!("{seconds} s")
    }
}

fn write_defects(out: &mut dyn Write, defects: &[Defect]) -> std::io::Result<()> {
    writeln!(out, "Defects: {}", defects.len())?;
    if defects.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "  {:>4}  {:>6}  {:>6}  {:<8}  {:<3}  {:>8}  {:>7}  {:>7}  {:>9}  {:>7}  {:>9}  {:>5}  {:>9}  {:>5}  by",
        "#",
        "x",
        "y",
        "kind",
        "ch",
        "score",
        "mean",
        "ref",
        "variance",
        "offset",
        "rate/s",
        "sites",
        "seen",
        "views"
    )?;
    for (i, d) in defects.iter().enumerate() {
        let channels: String = d.channels.iter().map(|c| c.name()).collect();
        writeln!(
            out,
            "  {:>4}  {:>6}  {:>6}  {:<8}  {:<3}  {:>8.2}  {:>7.2}  {:>7.2}  {:>9.2}  {:>7.1}  {:>9}  {:>5}  {:>9}  {:>5.1}  {}",
            i + 1,
            d.x,
            d.y,
            d.kind.name(),
            channels,
            d.score,
            d.mean,
            d.reference,
            d.variance,
            d.offset,
            d.dark_rate.map_or("-".to_string(), |r| format!("{r:.1}")),
            d.photosites.len(),
            format!("{}/{}", d.seen, d.could_show),
            d.views,
            d.found_by.name()
        )?;
    }
    Ok(())
}

fn write_list(out: &mut dyn Write, title: &str, rows: &[RankedSubpixel]) -> std::io::Result<()> {
    writeln!(out, "{title}")?;
    writeln!(
        out,
        "  {:>4}  {:>6}  {:>6}  {:>2}  {:>8}  {:>10}  {:>8}",
        "#", "x", "y", "ch", "mean", "variance", "stddev"
    )?;
    for (i, r) in rows.iter().enumerate() {
        writeln!(
            out,
            "  {:>4}  {:>6}  {:>6}  {:>2}  {:>8.2}  {:>10.4}  {:>8.4}",
            i + 1,
            r.x,
            r.y,
            r.channel.name(),
            r.mean,
            r.variance,
            r.stddev
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn exposures_read_as_photographers_write_them() {
        assert_eq!(super::exposure_text(0.004), "1/250 s");
        assert_eq!(super::exposure_text(2.0), "2 s");
    }
}
