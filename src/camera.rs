//! Camera metadata from a frame's EXIF: which body took it and how.
//!
//! Only what the report and the one-body check need is read. A frame whose
//! EXIF cannot be parsed still counts: its pixels are fine.

use exif::{Exif, In, Tag, Value};
use serde::Serialize;

/// Metadata of one frame; every field is optional because real files lack any of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FrameMeta {
    pub make: Option<String>,
    pub model: Option<String>,
    /// EXIF BodySerialNumber, or the serial in a Nikon maker note.
    pub serial: Option<String>,
    pub iso: Option<u32>,
    /// Exposure time in seconds.
    pub exposure_s: Option<f64>,
    /// DateTimeOriginal as `YYYY-MM-DD HH:MM:SS`.
    pub datetime: Option<String>,
}

/// The identity of a camera body, as far as EXIF tells it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Body {
    pub make: String,
    pub model: String,
    pub serial: Option<String>,
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Make is often repeated inside Model ("NIKON CORPORATION" / "NIKON D80").
        let first_word = self.make.split_whitespace().next().unwrap_or("");
        if !first_word.is_empty() && self.model.starts_with(first_word) {
            write!(f, "{}", self.model)?;
        } else {
            write!(f, "{} {}", self.make, self.model)?;
        }
        if let Some(serial) = &self.serial {
            write!(f, " #{serial}")?;
        }
        Ok(())
    }
}

impl Body {
    /// True when `query` names this body: as hotpix prints it (with or
    /// without the `#serial`), as make and model, or as its model alone
    /// (with or without the make's first word, "NIKON D80" or "D80", and
    /// its serial); case and runs of spaces do not matter.
    pub fn is_named(&self, query: &str) -> bool {
        let norm = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let query = norm(query);
        if query.is_empty() {
            return false;
        }
        let unserialled = Body {
            serial: None,
            ..self.clone()
        };
        let first_word = self.make.split_whitespace().next().unwrap_or("");
        let bare_model = self
            .model
            .strip_prefix(first_word)
            .unwrap_or(&self.model)
            .to_string();
        let serialled = |name: &str| match &self.serial {
            Some(serial) => format!("{name} #{serial}"),
            None => name.to_string(),
        };
        [
            self.to_string(),
            unserialled.to_string(),
            format!("{} {}", self.make, self.model),
            self.model.clone(),
            serialled(&bare_model),
            bare_model,
        ]
        .iter()
        .any(|name| norm(name) == query)
    }
}

impl FrameMeta {
    /// The body, when at least a make or model is known.
    pub fn body(&self) -> Option<Body> {
        if self.make.is_none() && self.model.is_none() {
            return None;
        }
        Some(Body {
            make: self.make.clone().unwrap_or_default(),
            model: self.model.clone().unwrap_or_default(),
            serial: self.serial.clone(),
        })
    }
}

/// Parses a frame's EXIF (the TIFF payload of APP1). Fields that parse are
/// kept even when others are damaged; the error, if any, says what was wrong.
pub fn read_meta(tiff: &[u8]) -> (FrameMeta, Option<String>) {
    let (exif, problem) = match parse(tiff.to_vec()) {
        Ok(parsed) => parsed,
        Err(e) => return (FrameMeta::default(), Some(e.to_string())),
    };
    let meta = FrameMeta {
        make: ascii(&exif, Tag::Make),
        model: ascii(&exif, Tag::Model),
        serial: ascii(&exif, Tag::BodySerialNumber).or_else(|| nikon_serial(&exif)),
        iso: exif
            .get_field(Tag::PhotographicSensitivity, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .filter(|&iso| iso > 0),
        exposure_s: match exif
            .get_field(Tag::ExposureTime, In::PRIMARY)
            .map(|f| &f.value)
        {
            Some(Value::Rational(r)) if !r.is_empty() && r[0].denom != 0 => Some(r[0].to_f64()),
            _ => None,
        },
        datetime: exif
            .get_field(Tag::DateTimeOriginal, In::PRIMARY)
            .and_then(|f| match &f.value {
                Value::Ascii(v) => v.first().and_then(|b| exif::DateTime::from_ascii(b).ok()),
                _ => None,
            })
            .map(|d| {
                format!(
                    "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                    d.year, d.month, d.day, d.hour, d.minute, d.second
                )
            }),
    };
    (meta, problem)
}

/// Parses leniently: a partial result is used, with its first error reported.
fn parse(data: Vec<u8>) -> Result<(Exif, Option<String>), exif::Error> {
    match exif::Reader::new().continue_on_error(true).read_raw(data) {
        Ok(exif) => Ok((exif, None)),
        Err(e) => {
            let mut first = None;
            let exif = e.distill_partial_result(|errors| {
                first = errors.first().map(|e| e.to_string());
            })?;
            Ok((exif, first))
        }
    }
}

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(v) => v.first().and_then(|b| clean(b)),
        _ => None,
    }
}

/// Trailing NULs and spaces are padding in EXIF strings; empty means absent.
fn clean(bytes: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(bytes);
    let s = s.trim_end_matches(['\0', ' ']).trim_start();
    (!s.is_empty()).then(|| s.to_string())
}

/// Nikon D-SLRs keep the body serial in maker note tag 0x001D. Their maker note
/// ("type 3") is `Nikon\0`, a 4-byte version, then a TIFF structure of its own
/// whose offsets are relative to itself, so it parses like a small EXIF block.
/// (ExifTool's Nikon tag table documents the layout and tag.)
fn nikon_serial(exif: &Exif) -> Option<String> {
    const NIKON_SERIAL_TAG: u16 = 0x001D;
    let note = match &exif.get_field(Tag::MakerNote, In::PRIMARY)?.value {
        Value::Undefined(bytes, _) => bytes,
        _ => return None,
    };
    let tiff = note.strip_prefix(b"Nikon\0")?.get(4..)?;
    let (inner, _) = parse(tiff.to_vec()).ok()?;
    let field = inner
        .fields()
        .find(|f| f.tag.number() == NIKON_SERIAL_TAG && f.ifd_num == In::PRIMARY)?;
    match &field.value {
        Value::Ascii(v) => v.first().and_then(|b| clean(b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_trimmed() {
        assert_eq!(clean(b"NIKON D80\0\0  \0").as_deref(), Some("NIKON D80"));
        assert_eq!(clean(b"\0\0"), None);
        assert_eq!(clean(b"   "), None);
    }

    #[test]
    fn body_names_read_naturally() {
        let b = Body {
            make: "NIKON CORPORATION".into(),
            model: "NIKON D80".into(),
            serial: Some("3001234".into()),
        };
        assert_eq!(b.to_string(), "NIKON D80 #3001234");
        let c = Body {
            make: "Canon".into(),
            model: "EOS 40D".into(),
            serial: None,
        };
        assert_eq!(c.to_string(), "Canon EOS 40D");
    }

    #[test]
    fn a_body_is_named_as_printed_or_by_its_model() {
        let b = Body {
            make: "NIKON CORPORATION".into(),
            model: "NIKON D80".into(),
            serial: Some("3001234".into()),
        };
        for name in [
            "NIKON D80 #3001234",
            "nikon  d80",
            "NIKON CORPORATION NIKON D80",
            "d80",
            "D80 #3001234",
        ] {
            assert!(b.is_named(name), "{name}");
        }
        assert!(!b.is_named("NIKON D8"));
        assert!(!b.is_named("D800"));
        assert!(!b.is_named(" "));
    }

    #[test]
    fn garbage_exif_is_an_error_not_a_panic() {
        let (meta, problem) = read_meta(b"MM\0*\0\0\0\x08garbage");
        assert_eq!(meta, FrameMeta::default());
        assert!(problem.is_some());
    }
}
