//! Combining states made apart (other machines, other days) into one.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{Problem, State, StateError};
use crate::engine::{check_one_body, CountedFrame, FrameHash};
use crate::report::SkippedInput;

/// The result of merging states.
#[derive(Debug)]
pub struct Merged {
    pub state: State,
    /// States left out because every frame of theirs is in another state.
    pub contained: Vec<PathBuf>,
}

/// Combines states: exact sums add exactly, past the exact range with the
/// Chan et al. merge (see [`crate::stats`]). They must have one frame size
/// and decoder, and (unless `mixed_cameras`) one camera body. A frame cannot
/// be taken out of merged statistics, so a frame in two states is counted once
/// only when one state's frames are all in another (that state is left out);
/// any other overlap is refused, naming the frames.
pub fn merge(states: Vec<(PathBuf, State)>, mixed_cameras: bool) -> Result<Merged, StateError> {
    let Some((first_path, first)) = states.first() else {
        return Err(StateError::new(
            Path::new("-"),
            Problem::Incompatible("no states to merge".into()),
        ));
    };
    let size = (first.stats.width(), first.stats.height());
    for (path, s) in &states[1..] {
        let incompatible = |m| Err(StateError::new(path, Problem::Incompatible(m)));
        if (s.stats.width(), s.stats.height()) != size {
            return incompatible(format!(
                "its frames are {}x{}, those of '{}' are {}x{}",
                s.stats.width(),
                s.stats.height(),
                first_path.display(),
                size.0,
                size.1
            ));
        }
        if s.decoder != first.decoder {
            return incompatible(format!(
                "decoded by {}, '{}' by {}; decoders differ slightly, so the statistics would not mix",
                s.decoder,
                first_path.display(),
                first.decoder
            ));
        }
    }
    if !mixed_cameras {
        let frames = states
            .iter()
            .flat_map(|(_, s)| s.frames.iter().map(|f| (f.path.as_path(), &f.meta)));
        let hint = "use --mixed-cameras to combine them anyway";
        if let Err(e) = check_one_body(frames, hint) {
            return Err(StateError::new(
                first_path,
                Problem::Incompatible(format!("{e}")),
            ));
        }
    }

    // Largest first, so a state contained in another is met after it.
    let hashes: Vec<HashSet<FrameHash>> = states
        .iter()
        .map(|(_, s)| s.frames.iter().map(|f| f.hash).collect())
        .collect();
    let mut order: Vec<usize> = (0..states.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(hashes[i].len()));
    let mut kept: Vec<usize> = Vec::new();
    let mut contained = Vec::new();
    for &i in &order {
        if kept.iter().any(|&k| hashes[i].is_subset(&hashes[k])) {
            contained.push(i);
            continue;
        }
        for &k in &kept {
            let shared: Vec<&CountedFrame> = states[i]
                .1
                .frames
                .iter()
                .filter(|f| hashes[k].contains(&f.hash))
                .collect();
            if !shared.is_empty() {
                let names: Vec<String> = shared
                    .iter()
                    .take(5)
                    .map(|f| f.path.display().to_string())
                    .collect();
                return Err(StateError::new(
                    &states[i].0,
                    Problem::Incompatible(format!(
                        "{} also counted in '{}' ({}{}), and a frame cannot be taken \
                         out of merged statistics; merge states of disjoint frame sets (or one \
                         whose frames all lie in another)",
                        match shared.len() {
                            1 => "1 frame is".to_string(),
                            n => format!("{n} frames are"),
                        },
                        states[k].0.display(),
                        names.join(", "),
                        if shared.len() > 5 { ", ..." } else { "" },
                    )),
                ));
            }
        }
        kept.push(i);
    }
    kept.sort_unstable();
    contained.sort_unstable();
    let contained = contained.iter().map(|&i| states[i].0.clone()).collect();

    let first_path_owned = first_path.clone();
    let mut iter = states
        .into_iter()
        .enumerate()
        .filter(|(i, _)| kept.contains(i));
    let (_, (_, mut merged)) = iter.next().expect("the largest state is kept");
    for (_, (_, s)) in iter {
        merged.stats.merge(&s.stats).map_err(|e| {
            StateError::new(&first_path_owned, Problem::Incompatible(e.to_string()))
        })?;
        merged.frames.extend(s.frames);
        merged.skipped.extend(s.skipped);
    }
    let counted: HashSet<String> = merged
        .frames
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    let mut skipped: HashMap<String, SkippedInput> = HashMap::new();
    for s in merged.skipped.drain(..) {
        if !counted.contains(&s.path) {
            skipped.entry(s.path.clone()).or_insert(s);
        }
    }
    let mut skipped: Vec<SkippedInput> = skipped.into_values().collect();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    merged.skipped = skipped;
    Ok(Merged {
        state: merged,
        contained,
    })
}
