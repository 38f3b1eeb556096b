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
    /// `<u2`: little-endian uint16.
    U16,
    /// `<i2`: little-endian int16.
    I16,
    /// `<u8`: little-endian uint64 (bit sets).
    U64,
}

/// The integer dtypes, narrowest first.
const INTEGERS: [Dtype; 5] = [Dtype::U8, Dtype::U16, Dtype::I16, Dtype::U32, Dtype::I32];

impl Dtype {
    const ALL: [Dtype; 7] = [
        Dtype::F32,
        Dtype::I32,
        Dtype::U32,
        Dtype::U8,
        Dtype::U16,
        Dtype::I16,
        Dtype::U64,
    ];

    fn descr(self) -> &'static str {
        match self {
            Dtype::F32 => "<f4",
            Dtype::I32 => "<i4",
            Dtype::U32 => "<u4",
            Dtype::U8 => "|u1",
            Dtype::U16 => "<u2",
            Dtype::I16 => "<i2",
            Dtype::U64 => "<u8",
        }
    }

    /// Bytes an element takes.
    pub fn size(self) -> usize {
        match self {
            Dtype::U8 => 1,
            Dtype::U16 | Dtype::I16 => 2,
            Dtype::F32 | Dtype::I32 | Dtype::U32 => 4,
            Dtype::U64 => 8,
        }
    }

    /// The smallest and largest value of an integer dtype.
    fn range(self) -> Option<(i64, i64)> {
        Some(match self {
            Dtype::U8 => (0, u8::MAX.into()),
            Dtype::U16 => (0, u16::MAX.into()),
            Dtype::I16 => (i16::MIN.into(), i16::MAX.into()),
            Dtype::U32 => (0, u32::MAX.into()),
            Dtype::I32 => (i32::MIN.into(), i32::MAX.into()),
            Dtype::F32 | Dtype::U64 => return None,
        })
    }

    /// The narrowest integer dtype holding every value in `lo..=hi`.
    pub fn narrowest(lo: i64, hi: i64) -> Dtype {
        INTEGERS
            .into_iter()
            .find(|d| d.range().is_some_and(|(a, b)| a <= lo && hi <= b))
            .expect("the values fit an int32")
    }

    /// Whether it is an integer dtype.
    pub fn is_integer(self) -> bool {
        self.range().is_some()
    }
}

/// Writes `count` integers as elements of `dtype` (which must hold them),
/// `fill` giving them a run at a time: the index of the run's first and
/// the room for it (the field is then chosen once a run, not once a value).
pub fn write_int_runs(
    out: &mut dyn Write,
    dtype: Dtype,
    count: usize,
    mut fill: impl FnMut(usize, &mut [i64]),
) -> std::io::Result<()> {
    let size = dtype.size();
    let mut values = vec![0i64; RUN];
    let mut bytes = vec![0u8; RUN * size];
    let mut start = 0;
    while start < count {
        let run = &mut values[..RUN.min(count - start)];
        fill(start, run);
        let bytes = &mut bytes[..run.len() * size];
        match dtype {
            Dtype::U8 => put(bytes, run, |v| [v as u8]),
            Dtype::U16 => put(bytes, run, |v| (v as u16).to_le_bytes()),
            Dtype::I16 => put(bytes, run, |v| (v as i16).to_le_bytes()),
            Dtype::U32 => put(bytes, run, |v| (v as u32).to_le_bytes()),
            Dtype::I32 => put(bytes, run, |v| (v as i32).to_le_bytes()),
            Dtype::F32 | Dtype::U64 => unreachable!("integers up to 32 bits only"),
        }
        out.write_all(bytes)?;
        start += run.len();
    }
    Ok(())
}

/// Values a run of [`write_int_runs`] and [`for_each_int_run`].
const RUN: usize = 1 << 14;

fn put<const N: usize>(bytes: &mut [u8], values: &[i64], le: impl Fn(i64) -> [u8; N]) {
    for (b, &v) in bytes.chunks_exact_mut(N).zip(values) {
        b.copy_from_slice(&le(v));
    }
}

/// Reads exactly `count` elements of integer `dtype`, handing them to `each`
/// a run at a time with the index of the run's first: a few thousand values
/// a call, so that what is done with them is chosen once a run, not once a
/// value (a 24 MP state holds 72 million a member).
pub fn for_each_int_run(
    r: &mut dyn Read,
    dtype: Dtype,
    count: usize,
    mut each: impl FnMut(usize, &[i64]),
) -> Result<(), String> {
    let size = dtype.size();
    let mut values = vec![0i64; RUN];
    let mut buf = vec![0u8; RUN * size];
    let chunk = RUN * size;
    let (mut left, mut k) = (count * size, 0);
    while left > 0 {
        let n = left.min(chunk);
        r.read_exact(&mut buf[..n])
            .map_err(|e| format!("array data cut short ({e})"))?;
        let run = &mut values[..n / size];
        let bytes = buf[..n].chunks_exact(size);
        match dtype {
            Dtype::U8 => fill(run, bytes, |c| i64::from(c[0])),
            Dtype::U16 => fill(run, bytes, |c| u16::from_le_bytes([c[0], c[1]]).into()),
            Dtype::I16 => fill(run, bytes, |c| i16::from_le_bytes([c[0], c[1]]).into()),
            Dtype::U32 => fill(run, bytes, |c| {
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]).into()
            }),
            Dtype::I32 => fill(run, bytes, |c| {
                i32::from_le_bytes([c[0], c[1], c[2], c[3]]).into()
            }),
            Dtype::F32 | Dtype::U64 => {
                return Err("expected an integer array of up to 32 bits".into())
            }
        }
        each(k, run);
        k += run.len();
        left -= n;
    }
    Ok(())
}

fn fill<'a>(
    out: &mut [i64],
    elements: impl Iterator<Item = &'a [u8]>,
    value: impl Fn(&[u8]) -> i64,
) {
    for (o, c) in out.iter_mut().zip(elements) {
        *o = value(c);
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
    let (found, shape) = read_header_any(r)?;
    if found != dtype {
        return Err(format!(
            "array has dtype '{}', expected '{}'",
            found.descr(),
            dtype.descr()
        ));
    }
    Ok(shape)
}

/// Reads a header and checks it describes a C-order array of a dtype a
/// state uses; returns the dtype and shape.
pub fn read_header_any(r: &mut dyn Read) -> Result<(Dtype, Vec<usize>), String> {
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
    let Some(dtype) = Dtype::ALL.into_iter().find(|d| d.descr() == descr) else {
        return Err(format!(
            "array has dtype '{descr}', which a state does not use"
        ));
    };
    if fortran {
        return Err("array is in Fortran order, expected C order".into());
    }
    Ok((dtype, shape))
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
    fn integers_take_the_narrowest_dtype_and_read_back() {
        assert_eq!(Dtype::narrowest(0, 255), Dtype::U8);
        assert_eq!(Dtype::narrowest(0, 256), Dtype::U16);
        assert_eq!(Dtype::narrowest(-1, 255), Dtype::I16);
        assert_eq!(Dtype::narrowest(-32768, 32767), Dtype::I16);
        assert_eq!(Dtype::narrowest(0, 65536), Dtype::U32);
        assert_eq!(Dtype::narrowest(-40000, 40000), Dtype::I32);
        for (dtype, values) in [
            (Dtype::U8, vec![0i64, 7, 255]),
            (Dtype::U16, vec![0, 300, 65535]),
            (Dtype::I16, vec![-32768, -1, 0, 32767]),
            (Dtype::U32, vec![0, 70000, u32::MAX.into()]),
            (Dtype::I32, vec![i32::MIN.into(), -5, i32::MAX.into()]),
        ] {
            let mut bytes = header(dtype, &[values.len()]);
            write_int_runs(&mut bytes, dtype, values.len(), |k, run| {
                run.copy_from_slice(&values[k..k + run.len()])
            })
            .unwrap();
            let mut r = &bytes[..];
            let (found, shape) = read_header_any(&mut r).unwrap();
            assert_eq!((found, shape), (dtype, vec![values.len()]));
            let mut back = vec![0; values.len()];
            for_each_int_run(&mut r, dtype, values.len(), |k, run| {
                back[k..k + run.len()].copy_from_slice(run)
            })
            .unwrap();
            assert_eq!(back, values);
        }
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
