//! The ceiling for `hotpix find`: the same strict decoder path
//! (`FrameDecoder`, one per worker, buffers reused) and the same dynamic
//! sharing among exactly `-j` workers, with no statistics at all. However fast
//! the statistics get, `find` cannot beat this, so `benches/e2e.sh` reports
//! `find` as a fraction of it.
//!
//! `cargo bench --bench decode_only -- -j 2 bench-data/full100`
//! (files, directories or glob patterns, listed as `hotpix find` lists them).
//! With no inputs it says so and exits 0, so that a plain `cargo bench` works.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use hotpix::decode::{probe, FrameDecoder, DEFAULT_MAX_MEGAPIXELS};

struct Args {
    jobs: usize,
    inputs: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut inputs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo passes `--bench` to every bench target; criterion eats it,
            // a harness = false target has to ignore it itself.
            "--bench" => {}
            "-j" | "--jobs" => {
                let n = args.next().ok_or("-j needs a number")?;
                jobs = match n.parse() {
                    Ok(j) if j >= 1 => j,
                    _ => return Err(format!("-j wants a number >= 1, got '{n}'")),
                };
            }
            _ => inputs.push(arg),
        }
    }
    Ok(Args { jobs, inputs })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("decode_only: {e}");
            return ExitCode::from(2);
        }
    };
    if args.inputs.is_empty() {
        eprintln!(
            "decode_only: no inputs, nothing to measure \
             (usage: cargo bench --bench decode_only -- -j N FILE|DIR...)"
        );
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode_only: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let started = Instant::now();
    let paths: Vec<PathBuf> = hotpix::inputs::expand(&args.inputs, &mut std::io::stdin().lock())
        .map_err(|e| e.to_string())?;
    // `find` probes every header before decoding; here only the first one is
    // read, for the size. That makes this a (slightly) generous ceiling.
    let first = paths.first().ok_or("no inputs")?;
    let header =
        probe(first, DEFAULT_MAX_MEGAPIXELS).map_err(|e| format!("{}: {e}", first.display()))?;
    let (width, height) = (header.width, header.height);

    let next = AtomicUsize::new(0);
    let decoded = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let decode_started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.jobs.min(paths.len()) {
            s.spawn(|| {
                let mut decoder = FrameDecoder::new(width, height, 3).expect("a frame buffer");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(i) else { break };
                    match decoder.decode(path) {
                        Ok(pixels) => {
                            // Keeps the optimiser from discarding the decode.
                            std::hint::black_box(pixels);
                            decoded.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            eprintln!("decode_only: {}: {e}", path.display());
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let decode_s = decode_started.elapsed().as_secs_f64();
    let total_s = started.elapsed().as_secs_f64();
    let frames = decoded.into_inner();
    println!(
        "decode_only: {frames} frames ({} failed) of {width}x{height}, {} workers, \
         {total_s:.3} s ({decode_s:.3} s decoding), {:.2} frames/s",
        failed.into_inner(),
        args.jobs,
        frames as f64 / total_s,
    );
    Ok(())
}
