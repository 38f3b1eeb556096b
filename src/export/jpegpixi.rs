//! `--jpegpixi`: the pixel blocks of jpegpixi (Martin Dickopp), which mends
//! a JPEG by interpolating in the DCT domain: only the 8x8 blocks that hold
//! a defect are decoded and encoded again, with the photo's own tables. A
//! JPEG-only photographer mends every photo of a body with
//! `jpegpixi -f FILE photo.jpg mended.jpg`, no black frame needed.
//!
//! `jpegpixi -f FILE` (jpegpixi.c: `read_line`, `parse_struct_point_dimdir_s`)
//! reads one block a line, `X,Y[,S]` or `X,Y,SX,SY`: the upper-left pixel
//! and the size (the separators may also be `/` or `;`, a number may be a
//! percentage of the image); `#` starts a comment that runs to the end of
//! the line, and empty lines are ignored. A block that overlaps one read
//! before is ignored with a warning (`point_s_cmp` finds overlapping blocks
//! equal), so blocks that would overlap are written as one.
//!
//! The blocks are JPEG pixels, not photosites: the raw offset does not
//! apply. Each covers the defect's flagged pixels as far as the report
//! tells them: the report gives the photosites and the number of flagged
//! pixels (`pixels`), not where each of them is, so a block is the
//! photosites' bounding box grown by one pixel on every side until it has
//! at least `pixels` pixels (demosaicing spreads a photosite over the
//! pixels around it), within the frame.

use std::io::Write;

use crate::report::Report;

/// A block of pixels for jpegpixi to interpolate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Upper-left pixel.
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    /// The numbers of the defects it covers (1 = strongest), ascending.
    pub defects: Vec<usize>,
}

impl Block {
    fn overlaps(&self, other: &Block) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }

    fn union(mut self, other: Block) -> Block {
        let right = (self.x + self.width).max(other.x + other.width);
        let bottom = (self.y + self.height).max(other.y + other.height);
        self.x = self.x.min(other.x);
        self.y = self.y.min(other.y);
        self.width = right - self.x;
        self.height = bottom - self.y;
        self.defects.extend(other.defects);
        self.defects.sort_unstable();
        self
    }
}

/// One block a defect, blocks that would overlap merged, in the order of
/// their strongest defect.
pub fn blocks(report: &Report) -> Vec<Block> {
    let (frame_w, frame_h) = (report.summary.width, report.summary.height);
    let mut merged: Vec<Block> = Vec::new();
    for (k, d) in report.defects.iter().enumerate() {
        let xs = d.photosites.iter().map(|p| p.x).chain([d.x]);
        let ys = d.photosites.iter().map(|p| p.y).chain([d.y]);
        let (x0, x1) = (xs.clone().min().unwrap_or(d.x), xs.max().unwrap_or(d.x));
        let (y0, y1) = (ys.clone().min().unwrap_or(d.y), ys.max().unwrap_or(d.y));
        let area = |r: u32| u64::from(x1 - x0 + 1 + 2 * r) * u64::from(y1 - y0 + 1 + 2 * r);
        let mut grow = 1;
        while area(grow) < u64::from(d.pixels) {
            grow += 1;
        }
        let (left, top) = (x0.saturating_sub(grow), y0.saturating_sub(grow));
        let right = (x1 + grow).min(frame_w.saturating_sub(1));
        let bottom = (y1 + grow).min(frame_h.saturating_sub(1));
        let mut block = Block {
            x: left,
            y: top,
            width: right + 1 - left,
            height: bottom + 1 - top,
            defects: vec![k + 1],
        };
        while let Some(i) = merged.iter().position(|b| b.overlaps(&block)) {
            block = merged.swap_remove(i).union(block);
        }
        merged.push(block);
    }
    merged.sort_by_key(|b| b.defects[0]);
    merged
}

/// Writes the block file: comment lines, then `x,y,width,height` a block,
/// each followed by a comment naming its defects.
pub fn write(report: &Report, blocks: &[Block], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "# {}, in {} blocks",
        super::origin(report),
        blocks.len()
    )?;
    writeln!(
        out,
        "# for jpegpixi -f FILE photo.jpg mended.jpg; fields: x,y,width,height (JPEG pixels)"
    )?;
    for b in blocks {
        let numbers: Vec<String> = b.defects.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "{},{},{},{}\t# defect {}",
            b.x,
            b.y,
            b.width,
            b.height,
            numbers.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests::report_with;

    #[test]
    fn a_block_covers_the_photosites_and_the_flagged_pixels() {
        let mut report = report_with(&[(87, 40), (0, 5), (319, 239)], None, None);
        // A pair that demosaicing spread over 12 pixels: 2x1 grown by 1 is
        // 4x3, which holds them.
        report.defects[0].photosites.push(crate::detect::Photosite {
            x: 88,
            y: 40,
            channel: crate::rank::Channel::R,
        });
        report.defects[0].pixels = 12;
        // 20 flagged pixels around one photosite: 3x3 is too few, 5x5 holds them.
        report.defects[1].pixels = 20;
        let b = blocks(&report);
        let rect = |b: &Block| (b.x, b.y, b.width, b.height);
        assert_eq!(rect(&b[0]), (86, 39, 4, 3));
        // At the frame's left edge the block is cut, not negative.
        assert_eq!(rect(&b[1]), (0, 3, 3, 5));
        // At the bottom-right corner too.
        assert_eq!(rect(&b[2]), (318, 238, 2, 2));
    }

    #[test]
    fn overlapping_blocks_become_one() {
        let report = report_with(&[(10, 10), (12, 11), (50, 50), (13, 10)], None, None);
        let b = blocks(&report);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].x, b[0].y, b[0].width, b[0].height), (9, 9, 6, 4));
        assert_eq!(b[0].defects, [1, 2, 4]);
        assert_eq!(b[1].defects, [3]);
        // Blocks that only touch stay apart, as jpegpixi keeps them.
        let report = report_with(&[(10, 10), (13, 10)], None, None);
        assert_eq!(blocks(&report).len(), 2);
    }
}
