//! Bad-pixel lists for the programs that mend defects: raw converters
//! (dcraw, RawTherapee) before demosaicing, Siril's cosmetic correction,
//! and jpegpixi in JPEGs themselves. One file per format, each turning a
//! finished report into bytes.
//!
//! hotpix sees JPEG pixels; a raw converter counts photosites of the raw
//! frame, which usually has a border the JPEG lacks. `Offset` shifts every
//! position; the lists are exact only with the right offset (the README section on raw converters
//! says how to find it).

pub mod dcraw;
pub mod jpegpixi;
pub mod rawtherapee;
pub mod siril;

use crate::report::Report;

/// What can stop a list from being written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// RawTherapee finds its list by the camera's name, which the EXIF did not give.
    #[error(
        "cannot name the RawTherapee list: the frames do not say one camera make and model \
         (RawTherapee looks its list up as '<Make> <Model>.badpixels'); name the camera with \
         --make and --model"
    )]
    UnknownCamera,
}

/// Added to every JPEG position to give the raw converter's (column, row).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offset {
    pub dx: i64,
    pub dy: i64,
}

/// A defect's position in the converter's coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The defect's number in the report (1 = strongest).
    pub number: usize,
    pub x: u64,
    pub y: u64,
}

/// The report's defects shifted by an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Positions {
    /// Defects that land inside the raw frame (non-negative), in report order.
    pub kept: Vec<Position>,
    /// (number, x, y) of defects the offset moves to a negative coordinate.
    pub dropped: Vec<(usize, i64, i64)>,
}

/// Shifts every photosite of every defect of `report` by `offset` (a pair
/// or a cluster is mended photosite by photosite), in report order.
pub fn positions(report: &Report, offset: Offset) -> Positions {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (k, d) in report.defects.iter().enumerate() {
        for p in &d.photosites {
            let (x, y) = (i64::from(p.x) + offset.dx, i64::from(p.y) + offset.dy);
            if x < 0 || y < 0 {
                dropped.push((k + 1, x, y));
            } else {
                kept.push(Position {
                    number: k + 1,
                    x: x as u64,
                    y: y as u64,
                });
            }
        }
    }
    Positions { kept, dropped }
}

/// Where a list comes from: "hotpix 0.1.0: 3 defects of NIKON D80 from 12
/// frames of 3872x2592".
pub fn origin(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "{}: {} defects of {} from {} frames of {}x{}",
        report.tool,
        report.defects.len(),
        s.camera.as_deref().unwrap_or("an unknown camera"),
        s.frames_used,
        s.width,
        s.height
    )
}

/// The comment lines both formats start with: what the list is and where it came from.
fn provenance(report: &Report, offset: Offset) -> Vec<String> {
    vec![
        format!(
            "{} (threshold {:.3})",
            origin(report),
            report.summary.threshold
        ),
        format!(
            "positions: the JPEG pixel of every photosite of each defect, shifted by the raw offset ({},{})",
            offset.dx, offset.dy
        ),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::detect::{Defect, Kind};
    use crate::rank::Channel;
    use crate::report::{Summary, SCHEMA_VERSION};

    pub(crate) fn report_with(
        defects: &[(u32, u32)],
        make: Option<&str>,
        model: Option<&str>,
    ) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: "hotpix test".into(),
            summary: Summary {
                camera: Some("NIKON D80".into()),
                make: make.map(Into::into),
                model: model.map(Into::into),
                frames_used: 12,
                width: 320,
                height: 240,
                workers: 1,
                threshold: 0.12,
                threshold_automatic: true,
                ..Summary::default()
            },
            defects: defects
                .iter()
                .map(|&(x, y)| Defect {
                    x,
                    y,
                    kind: Kind::Hot,
                    channel: Channel::G,
                    channels: vec![Channel::G],
                    photosites: vec![crate::detect::Photosite {
                        x,
                        y,
                        channel: Channel::G,
                    }],
                    pixels: 1,
                    score: 1.0,
                    mean: 200.0,
                    reference: 50.0,
                    variance: 10.0,
                    offset: 0.0,
                    dark_rate: Some(40.0),
                    seen: 10,
                    could_show: 12,
                    views: 12.0,
                    found_by: crate::detect::FoundBy::Frames,
                })
                .collect(),
            lowest_variance: Vec::new(),
            highest_variance: Vec::new(),
        }
    }

    #[test]
    fn offset_shifts_and_drops_negatives() {
        let report = report_with(&[(10, 20), (1, 50), (30, 2)], None, None);
        let p = positions(&report, Offset { dx: -2, dy: -3 });
        assert_eq!(
            p.kept,
            vec![Position {
                number: 1,
                x: 8,
                y: 17
            }]
        );
        assert_eq!(p.dropped, vec![(2, -1, 47), (3, 28, -1)]);
        let p = positions(&report, Offset { dx: 4, dy: 0 });
        assert_eq!(p.kept.len(), 3);
        assert_eq!((p.kept[1].x, p.kept[1].y), (5, 50));
    }
}
