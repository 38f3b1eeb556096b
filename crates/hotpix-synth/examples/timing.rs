//! Where a frame's time goes, stage by stage: `cargo run --release -p hotpix-synth --example
//! timing -- 3872 2592` (add `RAYON_NUM_THREADS=1` for figures per core). Each figure is the
//! best of five runs, so another process on the machine inflates it less.

use std::time::Instant;

use hotpix_synth::{encode_jpeg, place_defects, Preset, Renderer, SeriesSpec, Subsampling};

fn best(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("WIDTH HEIGHT"))
        .collect();
    let (w, h) = match args[..] {
        [w, h] => (w, h),
        _ => (3872, 2592),
    };
    let spec = SeriesSpec::preset(Preset::Varied, w, h, 4, 6);
    let t = Instant::now();
    let defects = place_defects(&spec);
    let r = Renderer::new(&spec);
    println!(
        "{w}x{h}, {} defect groups: world and plan {:.3} s",
        defects.len(),
        t.elapsed().as_secs_f64()
    );
    let i = 1;
    let raw = r.raw(&defects, i);
    let rgb = r.develop(&raw, i);
    let expose = best(5, || drop(r.raw(&defects, i)));
    let develop = best(5, || drop(r.develop(&raw, i)));
    let jpeg = best(5, || {
        drop(encode_jpeg(&rgb, w, h, 95, Subsampling::S422, None).expect("encodes"))
    });
    let frame = best(5, || drop(r.frame(&defects, i).expect("renders")));
    let bare = best(5, || drop(r.frame(&[], i).expect("renders")));
    println!(
        "raw {expose:.3} s, develop {develop:.3} s, JPEG {jpeg:.3} s; frame with truth \
         {frame:.3} s, without defect groups {bare:.3} s (the truth's windows: the difference)"
    );
}
