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
