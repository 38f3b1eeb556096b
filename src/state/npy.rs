//! NumPy `.npy` arrays, written and read by hand: the format is a magic
//! string, a version, a little-endian header length and a Python-literal
//! dict giving dtype, order and shape, then the raw data in C order.
//! Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//! (version 1.0 is written; 1.0, 2.0 and 3.0 headers are read).

use std::io::{Read, Write};

const MAGIC: &[u8] = b"\x93NUMPY";

/// The element types a state uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// `<f4`: little-endian float32.
    F32,
    /// `<i4`: little-endian int32.
    I32,
    /// `<u4`: little-endian uint32.
    U32,
    /// `|u1`: uint8.
    U8,
}

impl Dtype {
    fn descr(self) -> &'static str {
        match self {
            Dtype::F32 => "<f4",
            Dtype::I32 => "<i4",
            Dtype::U32 => "<u4",
            Dtype::U8 => "|u1",
        }
    }
}

/// The header of an array with `shape` and `dtype`, padded with spaces and a
/// newline so that the data starts at a multiple of 64 bytes, as NumPy does.
pub fn header(dtype: Dtype, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        dtype.descr()
    );
    let unpadded = MAGIC.len() + 2 + 2 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = Vec::with_capacity(unpadded + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

/// Writes `values` as little-endian N-byte elements, a chunk at a time.
pub fn write_data<T: Copy, const N: usize>(
    out: &mut dyn Write,
    values: &[T],
    to_le: impl Fn(T) -> [u8; N],
) -> std::io::Result<()> {
    write_iter(out, values.iter().map(|&v| to_le(v)))
}

/// Writes N-byte elements as they come, a chunk at a time.
pub fn write_iter<const N: usize>(
    out: &mut dyn Write,
    elements: impl Iterator<Item = [u8; N]>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1 << 16);
    for e in elements {
        buf.extend_from_slice(&e);
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

/// Reads a header and checks it describes a C-order array of `dtype`;
/// returns its shape.
pub fn read_header(r: &mut dyn Read, dtype: Dtype) -> Result<Vec<usize>, String> {
    let mut start = [0u8; 8];
    r.read_exact(&mut start)
        .map_err(|e| format!("array header cut short ({e})"))?;
    if &start[..6] != MAGIC {
        return Err("not a .npy array (bad magic)".into());
    }
    let len = match start[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b)
                .map_err(|e| format!("array header cut short ({e})"))?;
            usize::from(u16::from_le_bytes(b))
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b)
                .map_err(|e| format!("array header cut short ({e})"))?;
            u32::from_le_bytes(b) as usize
        }
        v => return Err(format!(".npy version {v}.{} is not supported", start[7])),
    };
    if len > 4096 {
        return Err(format!(".npy header of {len} bytes is implausibly long"));
    }
    let mut dict = vec![0u8; len];
    r.read_exact(&mut dict)
        .map_err(|e| format!("array header cut short ({e})"))?;
    let dict = std::str::from_utf8(&dict).map_err(|_| "array header is not text".to_string())?;
    let (descr, fortran, shape) = parse_dict(dict)?;
    if descr != dtype.descr() {
        return Err(format!(
            "array has dtype '{descr}', expected '{}'",
            dtype.descr()
        ));
    }
    if fortran {
        return Err("array is in Fortran order, expected C order".into());
    }
    Ok(shape)
}

/// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
fn parse_dict(text: &str) -> Result<(String, bool, Vec<usize>), String> {
    let bad = || format!("array header is not a valid dict: {:?}", text.trim_end());
    let inner = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(bad)?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    let mut rest = inner.trim_start();
    while !rest.is_empty() {
        let (key, after) = quoted(rest).ok_or_else(bad)?;
        let after = after
            .trim_start()
            .strip_prefix(':')
            .ok_or_else(bad)?
            .trim_start();
        rest = match key {
            "descr" => {
                let (v, after) = quoted(after).ok_or_else(bad)?;
                descr = Some(v.to_string());
                after
            }
            "fortran_order" => {
                if let Some(a) = after.strip_prefix("False") {
                    fortran = Some(false);
                    a
                } else if let Some(a) = after.strip_prefix("True") {
                    fortran = Some(true);
                    a
                } else {
                    return Err(bad());
                }
            }
            "shape" => {
                let after = after.strip_prefix('(').ok_or_else(bad)?;
                let end = after.find(')').ok_or_else(bad)?;
                let dims = after[..end]
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(|d| d.parse::<usize>().map_err(|_| bad()))
                    .collect::<Result<Vec<_>, _>>()?;
                shape = Some(dims);
                &after[end + 1..]
            }
            _ => return Err(bad()),
        };
        rest = rest.trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(bad()),
    }
}

/// A single-quoted string at the start of `s`, and what follows it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('\'')?;
    let end = s.find('\'')?;
    Some((&s[..end], &s[end + 1..]))
}

/// Reads exactly `count` N-byte little-endian elements.
pub fn read_data<T, const N: usize>(
    r: &mut dyn Read,
    count: usize,
    from_le: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>, String> {
    let mut values = Vec::new();
    values
        .try_reserve_exact(count)
        .map_err(|_| format!("cannot allocate {count} array elements"))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut left = count * N;
    // A whole number of elements a read.
    let chunk = buf.len() / N * N;
    while left > 0 {
        let n = left.min(chunk);
        r.read_exact(&mut buf[..n])
            .map_err(|e| format!("array data cut short ({e})"))?;
        values.extend(
            buf[..n]
                .chunks_exact(N)
                .map(|c| from_le(c.try_into().expect("N bytes"))),
        );
        left -= n;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_numpy_v1_and_aligned() {
        let h = header(Dtype::F32, &[240, 320, 3]);
        assert_eq!(h.len() % 64, 0);
        assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
        let text = std::str::from_utf8(&h[10..]).unwrap();
        assert!(
            text.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (240, 320, 3), }")
        );
        assert!(text.ends_with('\n'));
        assert_eq!(
            read_header(&mut &h[..], Dtype::F32).unwrap(),
            vec![240, 320, 3]
        );
        assert!(read_header(&mut &h[..], Dtype::I32).is_err());
        let one = header(Dtype::I32, &[5]);
        assert_eq!(read_header(&mut &one[..], Dtype::I32).unwrap(), vec![5]);
    }

    #[test]
    fn reads_numpy_key_orders_and_refuses_fortran_order() {
        let dict = "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4'}";
        assert_eq!(parse_dict(dict).unwrap(), ("<i4".into(), false, vec![2, 3]));
        let dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (4,), }";
        assert!(parse_dict(dict).unwrap().1);
        assert!(parse_dict("{'descr': '<f4'}").is_err());
        assert!(parse_dict("descr").is_err());
    }
}
