//! Synthetic camera series with known defects (placeholder, filled in next).
