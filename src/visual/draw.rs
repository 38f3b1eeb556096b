//! Drawing on an RGB image: filled and outlined rectangles, rings, and text in
//! the compiled-in 8x8 bitmap font of the `font8x8` crate (nothing is needed
//! at run time). Everything clips at the image border.

use image::RgbImage;

/// Height of one line of text at scale 1, with spacing.
pub const LINE: u32 = 10;

/// Sets one pixel if it is inside the image.
pub fn put(img: &mut RgbImage, x: i64, y: i64, colour: [u8; 3]) {
    if x >= 0 && y >= 0 && x < i64::from(img.width()) && y < i64::from(img.height()) {
        img.put_pixel(x as u32, y as u32, image::Rgb(colour));
    }
}

/// Fills the rectangle [x0, x1) × [y0, y1).
pub fn fill(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, colour: [u8; 3]) {
    for y in y0.max(0)..y1.min(i64::from(img.height())) {
        for x in x0.max(0)..x1.min(i64::from(img.width())) {
            img.put_pixel(x as u32, y as u32, image::Rgb(colour));
        }
    }
}

/// The outline of [x0, x1) × [y0, y1), `thickness` pixels wide, inside it.
pub fn frame(
    img: &mut RgbImage,
    (x0, y0, x1, y1): (i64, i64, i64, i64),
    thickness: i64,
    colour: [u8; 3],
) {
    fill(img, x0, y0, x1, y0 + thickness, colour);
    fill(img, x0, y1 - thickness, x1, y1, colour);
    fill(img, x0, y0, x0 + thickness, y1, colour);
    fill(img, x1 - thickness, y0, x1, y1, colour);
}

/// A ring around (cx, cy): every pixel whose centre lies within `half_width`
/// of the circle of `radius`. The four points (cx ± radius, cy) and
/// (cx, cy ± radius) are always on it.
pub fn ring(img: &mut RgbImage, cx: i64, cy: i64, radius: f64, half_width: f64, colour: [u8; 3]) {
    let reach = (radius + half_width).ceil() as i64;
    for dy in -reach..=reach {
        for dx in -reach..=reach {
            let d = ((dx * dx + dy * dy) as f64).sqrt();
            if (d - radius).abs() <= half_width {
                put(img, cx + dx, cy + dy, colour);
            }
        }
    }
}

/// Width in pixels of `text` at `scale`.
pub fn text_width(text: &str, scale: u32) -> i64 {
    text.chars().count() as i64 * 8 * i64::from(scale)
}

/// Draws `text` with its top-left corner at (x, y), each font pixel a
/// `scale` × `scale` square. Characters outside ASCII are drawn as `?`.
pub fn text(img: &mut RgbImage, x: i64, y: i64, text: &str, scale: u32, colour: [u8; 3]) {
    let s = i64::from(scale);
    for (k, ch) in text.chars().enumerate() {
        let glyph = font8x8::legacy::BASIC_LEGACY[if ch.is_ascii() {
            ch as usize
        } else {
            '?' as usize
        }];
        let left = x + k as i64 * 8 * s;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                // Bit 0 is the leftmost pixel of the row.
                if bits & (1 << col) != 0 {
                    fill(
                        img,
                        left + col * s,
                        y + row as i64 * s,
                        left + (col + 1) * s,
                        y + (row as i64 + 1) * s,
                        colour,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_passes_through_its_four_extreme_points() {
        let mut img = RgbImage::new(40, 40);
        ring(&mut img, 20, 20, 12.0, 1.0, [1, 2, 3]);
        for (x, y) in [(32, 20), (8, 20), (20, 32), (20, 8)] {
            assert_eq!(img.get_pixel(x, y).0, [1, 2, 3]);
        }
        assert_eq!(img.get_pixel(20, 20).0, [0, 0, 0]);
    }

    #[test]
    fn text_draws_inside_its_box_and_clips() {
        let mut img = RgbImage::new(20, 10);
        text(&mut img, 0, 0, "#1", 1, [9, 9, 9]);
        let lit = img.pixels().filter(|p| p.0 == [9, 9, 9]).count();
        assert!(lit > 10);
        assert!(img
            .enumerate_pixels()
            .all(|(x, y, p)| p.0 != [9, 9, 9] || (x < 16 && y < 8)));
        text(&mut img, 15, 5, "clipped", 2, [9, 9, 9]);
    }
}
