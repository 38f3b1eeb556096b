//! `--rawtherapee DIR`: the bad-pixel file RawTherapee reads from its
//! dark-frame folder. RawTherapee loads every `*.badpixels` file there and
//! files it under its name less the extension; when it opens a raw photo it
//! looks up `<make> <model> <serial>`, then `<make> <model>`, with the make and
//! model as its raw decoder names the camera (rtengine/dfmanager.cc
//! `scanBadPixelsFile`, `getBadPixels`; rawimagesource.cc). Each line is read
//! with `sscanf("%d %d")` as `x y`; lines that do not start with two integers
//! (such as `#` comments) are skipped, but a first line holding one integer
//! alone is taken as an offset added to every position, so this file never
//! starts with one.
//!
//! A list kept by hand may already be there: hotpix merges into it
//! ([`merge_into`]) rather than replace it, keeping its every line.

use std::io::Write;

use super::{provenance, ExportError, Offset, Positions};
use crate::report::{Report, Summary};

/// Company names as dcraw's `identify()` shortens them (dcraw 9.28, the
/// `corp` table): a make containing one of them, in any case, becomes it.
/// RawTherapee's and LibRaw's decoders inherit this.
const CORPORATIONS: [&str; 21] = [
    "AgfaPhoto",
    "Canon",
    "Casio",
    "Epson",
    "Fujifilm",
    "Mamiya",
    "Minolta",
    "Motorola",
    "Kodak",
    "Konica",
    "Leica",
    "Nikon",
    "Nokia",
    "Olympus",
    "Pentax",
    "Phase One",
    "Ricoh",
    "Samsung",
    "Sigma",
    "Sinar",
    "Sony",
];

/// The camera's make and model as RawTherapee names it, from the EXIF Make
/// and Model, following dcraw's `identify()`: the make shortened to its
/// company name ("NIKON CORPORATION" -> "Nikon"), trailing spaces removed,
/// and the make removed from the front of the model ("NIKON D80" -> "D80").
pub fn camera_name(make: &str, model: &str) -> (String, String) {
    let lower = make.to_lowercase();
    // dcraw takes the last match in table order.
    let mut make = CORPORATIONS
        .iter()
        .rev()
        .find(|c| lower.contains(&c.to_lowercase()))
        .map_or_else(|| make.to_string(), |c| c.to_string());
    let mut model = model.trim_end().to_string();
    if model.to_lowercase().starts_with("pentax") {
        make = "Pentax".to_string();
    }
    for cut in [" DIGITAL CAMERA", " Digital Camera", "FILE VERSION"] {
        if matches!(make.as_str(), "Kodak" | "Leica") {
            if let Some(at) = model.find(cut) {
                model.truncate(at);
            }
        }
    }
    let make = make.trim_end().to_string();
    let model = model.trim_end();
    let n = make.len();
    let model = match model.get(..n) {
        Some(head) if head.eq_ignore_ascii_case(&make) && model[n..].starts_with(' ') => {
            &model[n + 1..]
        }
        _ => model,
    };
    (make, model.to_string())
}

/// The file's name: `<Make> <Model>.badpixels`. Characters a file name cannot
/// hold (`/`, `\`, NUL) become `_`.
pub fn file_name(summary: &Summary) -> Result<String, ExportError> {
    let known = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (Some(make), Some(model)) = (known(&summary.make), known(&summary.model)) else {
        return Err(ExportError::UnknownCamera);
    };
    let (make, model) = camera_name(&make, &model);
    let name: String = format!("{make} {model}.badpixels")
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    Ok(name)
}

/// Writes the list: comment lines, then `x y` for every kept position, in report order.
pub fn write(
    report: &Report,
    offset: Offset,
    positions: &Positions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for line in provenance(report, offset) {
        writeln!(out, "# {line}")?;
    }
    writeln!(out, "# for RawTherapee's dark-frame folder; fields: x y")?;
    for p in &positions.kept {
        writeln!(out, "{} {}", p.x, p.y)?;
    }
    Ok(())
}

/// An existing list with the report's positions merged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The whole new file.
    pub bytes: Vec<u8>,
    /// Positions added.
    pub added: usize,
    /// Positions of the report the list already had.
    pub already: usize,
}

/// `x y` at the start of a line, as C's `sscanf("%d %d")` reads it: the
/// first integer, and the second if there is one.
fn leading_integers(line: &[u8]) -> Option<(i64, Option<i64>)> {
    fn integer(s: &[u8]) -> Option<(i64, &[u8])> {
        let s = &s[s.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
        let sign = usize::from(matches!(s.first(), Some(b'+' | b'-')));
        let digits = s[sign..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let text = std::str::from_utf8(&s[..sign + digits]).ok()?;
        Some((text.parse().ok()?, &s[sign + digits..]))
    }
    let (x, rest) = integer(line)?;
    Some((x, integer(rest).map(|(y, _)| y)))
}

/// Merges the report's positions into `existing`, the bytes of a list
/// already in the folder (kept by hand, say): every line of it is kept as it
/// is, and the positions it does not list yet are added after it under a
/// comment line. An existing first line holding one integer is
/// RawTherapee's offset, added to every position after it; the added lines
/// are written so that they land where the report says.
pub fn merge_into(
    existing: &[u8],
    report: &Report,
    offset: Offset,
    positions: &Positions,
) -> std::io::Result<Merged> {
    if existing.iter().all(u8::is_ascii_whitespace) {
        let mut bytes = Vec::new();
        write(report, offset, positions, &mut bytes)?;
        return Ok(Merged {
            bytes,
            added: positions.kept.len(),
            already: 0,
        });
    }
    let mut lines = existing.split(|&b| b == b'\n');
    let mut shift = 0;
    let mut listed = std::collections::HashSet::new();
    if let Some(first) = lines.next() {
        match leading_integers(first) {
            Some((x, Some(y))) => {
                listed.insert((x, y));
            }
            Some((n, None)) => shift = n,
            None => {}
        }
    }
    for line in lines {
        if let Some((x, Some(y))) = leading_integers(line) {
            listed.insert((x + shift, y + shift));
        }
    }
    let mut new = Vec::new();
    let mut already = 0;
    for p in &positions.kept {
        let at = (p.x as i64, p.y as i64);
        if listed.insert(at) {
            new.push(at);
        } else {
            already += 1;
        }
    }
    let mut bytes = existing.to_vec();
    if !new.is_empty() {
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        let s = &report.summary;
        writeln!(
            bytes,
            "# {}: {} positions added of {} defects of {} from {} frames of {}x{}; \
             raw offset ({},{})",
            report.tool,
            new.len(),
            report.defects.len(),
            s.camera.as_deref().unwrap_or("an unknown camera"),
            s.frames_used,
            s.width,
            s.height,
            offset.dx,
            offset.dy
        )?;
        for (x, y) in &new {
            writeln!(bytes, "{} {}", x - shift, y - shift)?;
        }
    }
    Ok(Merged {
        bytes,
        added: new.len(),
        already,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{positions, tests::report_with};

    #[test]
    fn names_follow_dcraw() {
        let name = |a: &str, b: &str| camera_name(a, b);
        assert_eq!(
            name("NIKON CORPORATION", "NIKON D80"),
            ("Nikon".into(), "D80".into())
        );
        assert_eq!(
            name("Canon", "Canon EOS 7D"),
            ("Canon".into(), "EOS 7D".into())
        );
        assert_eq!(
            name("OLYMPUS IMAGING CORP.  ", "E-M5  "),
            ("Olympus".into(), "E-M5".into())
        );
        assert_eq!(name("SONY", "ILCE-7M3"), ("Sony".into(), "ILCE-7M3".into()));
        assert_eq!(name("FUJIFILM", "X-T2"), ("Fujifilm".into(), "X-T2".into()));
        assert_eq!(
            name("Apple", "iPhone 12"),
            ("Apple".into(), "iPhone 12".into())
        );
        assert_eq!(
            name("EASTMAN KODAK COMPANY", "KODAK DCS Pro 14N DIGITAL CAMERA"),
            ("Kodak".into(), "DCS Pro 14N".into())
        );
    }

    #[test]
    fn unknown_camera_is_refused() {
        let report = report_with(&[(1, 2)], None, Some("D80"));
        assert!(matches!(
            file_name(&report.summary),
            Err(ExportError::UnknownCamera)
        ));
        let report = report_with(&[(1, 2)], Some("  "), Some("D80"));
        assert!(file_name(&report.summary).is_err());
        let report = report_with(&[(1, 2)], Some("NIKON CORPORATION"), Some("NIKON D80"));
        assert_eq!(file_name(&report.summary).unwrap(), "Nikon D80.badpixels");
        let report = report_with(&[(1, 2)], Some("Odd/Make"), Some("M"));
        assert_eq!(file_name(&report.summary).unwrap(), "Odd_Make M.badpixels");
    }

    /// Regression guard (issue 12): an existing hand-kept list was replaced.
    #[test]
    fn an_existing_list_keeps_every_line_and_gains_only_new_positions() {
        let report = report_with(
            &[(87, 40), (5, 6), (9, 9)],
            Some("NIKON CORPORATION"),
            Some("NIKON D80"),
        );
        let offset = Offset::default();
        let p = positions(&report, offset);
        let hand = b"# my own list\n5 6\n100 200 # seen in a dark frame\n\n";
        let merged = merge_into(hand, &report, offset, &p).unwrap();
        let text = String::from_utf8(merged.bytes.clone()).unwrap();
        assert!(
            text.starts_with(std::str::from_utf8(hand).unwrap()),
            "{text}"
        );
        let data: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            data,
            ["5 6", "100 200 # seen in a dark frame", "", "87 40", "9 9"]
        );
        assert_eq!((merged.added, merged.already), (2, 1));
        // Merging again changes nothing.
        let again = merge_into(&merged.bytes, &report, offset, &p).unwrap();
        assert_eq!((again.added, again.already), (0, 3));
        assert_eq!(again.bytes, merged.bytes);
        // RawTherapee's first-line offset applies to what is added too.
        let shifted = merge_into(b"2\n3 4", &report, offset, &p).unwrap();
        let text = String::from_utf8(shifted.bytes).unwrap();
        let data: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(data, ["2", "3 4", "85 38", "7 7"]);
        // An empty file is written as a new list.
        let fresh = merge_into(b"", &report, offset, &p).unwrap();
        assert_eq!(fresh.added, 3);
        assert!(fresh.bytes.starts_with(b"# "));
    }

    #[test]
    fn lines_are_x_y_after_comments() {
        let report = report_with(
            &[(87, 40), (5, 6)],
            Some("NIKON CORPORATION"),
            Some("NIKON D80"),
        );
        let offset = Offset { dx: 2, dy: 1 };
        let mut out = Vec::new();
        write(&report, offset, &positions(&report, offset), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with('#'));
        let data: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(data, ["89 41", "7 7"]);
    }
}
