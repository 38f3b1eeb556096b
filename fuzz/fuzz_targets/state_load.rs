//! Any bytes given to the state loader give a state or an error, never a
//! panic, an abort or an unbounded allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.npz");
    if let Ok(state) = hotpix::state::State::read_from(std::io::Cursor::new(data), path) {
        // What was accepted must write and read back to the same state.
        let mut out = Vec::new();
        state.write_to(&mut out).expect("writing to memory succeeds");
        let back = hotpix::state::State::read_from(std::io::Cursor::new(&out[..]), path)
            .expect("a written state reads back");
        assert_eq!(back, state);
    }
});
