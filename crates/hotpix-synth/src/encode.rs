//! The camera's file format: baseline JPEG with 4:2:2 chroma as a Nikon D80 writes it (or
//! 4:2:0, as many other cameras do), and an EXIF block carrying what the detector keys on
//! (camera identity, ISO, exposure, time).

use std::io::Cursor;

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

use crate::{Camera, Subsampling, SynthError, MAX_SIDE};

/// The EXIF block of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameExif {
    /// Make, Model and BodySerialNumber.
    pub camera: Camera,
    /// PhotographicSensitivity (saturates at 65535, as EXIF 2.3 says).
    pub iso: u32,
    /// ExposureTime in seconds, as numerator and denominator.
    pub exposure: (u32, u32),
    /// DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    pub datetime: String,
    /// FNumber as numerator and denominator; `None` leaves the tag out.
    pub f_number: Option<(u32, u32)>,
}

/// Written into EXIF Software so a synthetic frame is never mistaken for a photograph.
pub const SOFTWARE: &str = "hotpix-synth";

impl FrameExif {
    /// The TIFF structure of the EXIF block (what follows "Exif\0\0" in the APP1 segment).
    pub fn to_tiff(&self, width: u32, height: u32) -> Result<Vec<u8>, SynthError> {
        let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
        let field = |tag, value| Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        };
        let resolution = Value::Rational(vec![Rational { num: 300, denom: 1 }]);
        let mut fields = vec![
            field(Tag::Make, ascii(&self.camera.make)),
            field(Tag::Model, ascii(&self.camera.model)),
            field(Tag::Orientation, Value::Short(vec![1])),
            field(Tag::XResolution, resolution.clone()),
            field(Tag::YResolution, resolution),
            // 2 = inches.
            field(Tag::ResolutionUnit, Value::Short(vec![2])),
            field(Tag::Software, ascii(SOFTWARE)),
            field(Tag::DateTime, ascii(&self.datetime)),
            field(
                Tag::ExposureTime,
                Value::Rational(vec![Rational {
                    num: self.exposure.0,
                    denom: self.exposure.1,
                }]),
            ),
            field(
                Tag::PhotographicSensitivity,
                Value::Short(vec![self.iso.min(65535) as u16]),
            ),
            // 2.30 is the first version with BodySerialNumber.
            field(Tag::ExifVersion, Value::Undefined(b"0230".to_vec(), 0)),
            field(Tag::DateTimeOriginal, ascii(&self.datetime)),
            field(Tag::DateTimeDigitized, ascii(&self.datetime)),
            field(Tag::PixelXDimension, Value::Long(vec![width])),
            field(Tag::PixelYDimension, Value::Long(vec![height])),
        ];
        if let Some((num, denom)) = self.f_number {
            fields.push(field(
                Tag::FNumber,
                Value::Rational(vec![Rational { num, denom }]),
            ));
        }
        if let Some(serial) = &self.camera.serial {
            fields.push(field(Tag::BodySerialNumber, ascii(serial)));
        }
        let mut writer = Writer::new();
        for f in &fields {
            writer.push_field(f);
        }
        let mut tiff = Cursor::new(Vec::new());
        // Big-endian ("MM"), as Nikon writes it.
        writer.write(&mut tiff, false)?;
        Ok(tiff.into_inner())
    }
}

/// Encodes 8-bit RGB (row-major, `width * height * 3` bytes) as a baseline JPEG with the given
/// chroma subsampling and, if given, an EXIF APP1 segment.
pub fn encode_jpeg(
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
    subsampling: Subsampling,
    exif: Option<&FrameExif>,
) -> Result<Vec<u8>, SynthError> {
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
        return Err(SynthError::FrameSize { width, height });
    }
    if !(1..=100).contains(&quality) {
        return Err(SynthError::Quality(quality));
    }
    let want = width as usize * height as usize * 3;
    if rgb.len() != want {
        return Err(SynthError::RgbLength {
            got: rgb.len(),
            want,
            width,
            height,
        });
    }
    let mut out = Vec::with_capacity(want / 6);
    let mut encoder = Encoder::new(&mut out, quality);
    encoder.set_sampling_factor(match subsampling {
        // Luma 2x1: chroma halved horizontally only, the D80's JPEG layout.
        Subsampling::S422 => SamplingFactor::R_4_2_2,
        // Luma 2x2: chroma halved both ways.
        Subsampling::S420 => SamplingFactor::R_4_2_0,
    });
    // Cameras average the pixels a chroma sample covers; the default (take the top-left one)
    // would drop the colour of every defect in an odd column or row.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    if let Some(exif) = exif {
        encoder.add_exif_metadata(&exif.to_tiff(width, height)?)?;
    }
    encoder.encode(rgb, width as u16, height as u16, ColorType::Rgb)?;
    Ok(out)
}

/// Formats seconds since 1970-01-01 (UTC, no leap seconds) as an EXIF date-time.
pub(crate) fn exif_datetime(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}:{m:02}:{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_match_known_calendar_dates() {
        assert_eq!(exif_datetime(0), "1970:01:01 00:00:00");
        assert_eq!(exif_datetime(1_180_774_800), "2007:06:02 09:00:00");
        // 2000 was a leap year, 2100 will not be.
        assert_eq!(exif_datetime(951_782_400), "2000:02:29 00:00:00");
        assert_eq!(exif_datetime(4_107_542_400), "2100:03:01 00:00:00");
        assert_eq!(exif_datetime(1_199_145_599), "2007:12:31 23:59:59");
    }
}
