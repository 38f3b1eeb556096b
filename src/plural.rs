//! Counts in words: "1 frame", "2 frames". Messages say what they count
//! without "(s)".

/// `n` and `word`, with an `s` unless `n` is 1.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::plural(1, "worker"), "1 worker");
        assert_eq!(super::plural(0, "frame"), "0 frames");
        assert_eq!(super::plural(12, "frame"), "12 frames");
    }
}
