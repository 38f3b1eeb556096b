//! How much memory a run may take, and how many frame buffers that buys.
//!
//! A run holds one set of accumulators (16 bytes a subpixel), a bounded
//! number of frame buffers (a frame's pixels and its file's bytes), and at
//! the end the statistics (the accumulators themselves for a series of at
//! most 511 frames). None of it depends on `-j`. The frame buffers are what
//! the budget trades for speed: a batch of decoded frames is folded into the
//! accumulators at once, and the more frames a batch holds the fewer times
//! the accumulators are streamed through memory.

use super::accumulate::Buffers;
use crate::error::Error;
use crate::evidence::Layout;
use crate::stats::{Accumulator, Stats, MAX_BATCH};

/// Memory for frame buffers when no budget is given and the machine has it:
/// six full-size 10-megapixel frames, which keeps a Nikon D80 run under
/// 700 MiB. Larger batches gain little (see README, Performance).
pub const DEFAULT_FRAME_MEMORY: u64 = 224 << 20;

/// Frame buffers beyond the batch, so that workers decode while a batch is
/// folded.
const AHEAD: usize = 2;

/// The plan of a run's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryPlan {
    /// The budget in bytes (given, or chosen for this machine).
    pub budget: u64,
    /// Whether the budget was given (`--memory`).
    pub given: bool,
    pub buffers: Buffers,
    /// Bytes of the accumulators.
    pub accumulators: u64,
    /// Bytes of one frame buffer.
    pub frame: u64,
}

/// Plans the memory of a run over `frames` frames of `layout` whose files are
/// at most `file_bytes` long, on `workers` workers, within `budget` bytes
/// (or a default that fits the machine). `held` is memory the run already
/// holds (a resumed state's statistics).
pub fn plan(
    layout: Layout,
    frames: usize,
    file_bytes: u64,
    workers: usize,
    budget: Option<u64>,
    held: u64,
) -> Result<MemoryPlan, Error> {
    let len = layout.len() as u64;
    let accumulators = len * Accumulator::bytes_per_subpixel(frames as u64);
    let end = len * Stats::bytes_per_subpixel(frames as u64);
    let frame = len + file_bytes;
    let given = budget.is_some();
    let budget = budget.unwrap_or_else(|| {
        // The frame buffers are gone by the time the statistics are made.
        let wanted = held + (accumulators + DEFAULT_FRAME_MEMORY).max(end);
        match available() {
            // Leave a quarter of what is free to everything else.
            Some(free) => wanted.min(free / 4 * 3),
            None => wanted,
        }
    });
    let room = budget.saturating_sub(held + accumulators);
    let mut slots = (room / frame.max(1)) as usize;
    if given && (slots == 0 || held + end > budget) {
        return Err(Error::BudgetTooSmall {
            budget,
            needed: held + (accumulators + frame).max(end),
            width: layout.width as u32,
            height: layout.height as u32,
        });
    }
    // Without a budget given, a machine short of memory still gets a run
    // (one buffer); if even that cannot be allocated, the run says so.
    slots = slots.clamp(1, MAX_BATCH + AHEAD).min(frames.max(1));
    let ahead = AHEAD.min(workers).min(slots / 2);
    let batch = (slots - ahead).clamp(1, MAX_BATCH);
    Ok(MemoryPlan {
        budget,
        given,
        buffers: Buffers { slots, batch },
        accumulators,
        frame,
    })
}

/// Memory the system can give this process now: Linux's MemAvailable, or
/// less when a cgroup (a container, a Slurm job) limits the process.
pub fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo.lines().find_map(|l| {
        let kib = l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?;
        kib.trim().parse::<u64>().ok().map(|k| k * 1024)
    })?;
    Some(match cgroup_room() {
        Some(room) => available.min(room),
        None => available,
    })
}

/// What a cgroup v2 memory limit leaves: memory.max − memory.current.
fn cgroup_room() -> Option<u64> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let max = std::fs::read_to_string(dir.join("memory.max")).ok()?;
    let max: u64 = max.trim().parse().ok()?; // "max" (no limit) does not parse
    let current: u64 = std::fs::read_to_string(dir.join("memory.current"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(max.saturating_sub(current))
}

/// Parses a memory size as people write it: `600M`, `2G`, `1.5GiB`,
/// `4096` (bytes); K, M, G, T are powers of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size such as 600M or 2G"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(format!(
                "'{text}': unknown unit '{unit}' (use K, M, G or T)"
            ))
        }
    };
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || !(1.0..=1e18).contains(&bytes) {
        return Err(format!("'{text}' is not a usable size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D80: Layout = Layout {
        width: 3872,
        height: 2592,
        channels: 3,
    };

    #[test]
    fn sizes_parse_as_people_write_them() {
        assert_eq!(parse_size("600M"), Ok(600 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn buffers_do_not_grow_with_workers() {
        let budget = Some(600 << 20);
        let one = plan(D80, 100, 5 << 20, 1, budget, 0).unwrap();
        for workers in [2, 8, 64, 1000] {
            let many = plan(D80, 100, 5 << 20, workers, budget, 0).unwrap();
            assert_eq!(many.buffers.slots, one.buffers.slots);
            assert!(many.accumulators + many.buffers.slots as u64 * many.frame <= 600 << 20);
        }
    }

    #[test]
    fn the_default_budget_keeps_a_d80_run_under_700_mib() {
        // The machine's free memory can only lower the default.
        let p = plan(D80, 100, 5 << 20, 2, None, 0).unwrap();
        let stats = D80.len() as u64 * Stats::bytes_per_subpixel(100);
        assert!(p.budget <= 700 << 20, "{p:?}");
        assert!(p.accumulators + p.buffers.slots as u64 * p.frame <= p.budget);
        assert!(stats <= p.budget);
    }

    #[test]
    fn a_budget_too_small_for_the_statistics_is_refused() {
        let err = plan(D80, 100, 5 << 20, 2, Some(300 << 20), 0).unwrap_err();
        assert!(matches!(err, Error::BudgetTooSmall { .. }), "{err}");
        assert!(err.to_string().contains("--memory"), "{err}");
    }

    #[test]
    fn few_frames_get_few_buffers() {
        let p = plan(D80, 3, 5 << 20, 8, Some(2 << 30), 0).unwrap();
        assert_eq!(p.buffers.slots, 3);
        assert!(p.buffers.batch >= 1 && p.buffers.batch <= 3);
    }
}
