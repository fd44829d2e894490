//! Any bytes given to the package parser and verifier: an error or a report, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xa_light::verify_bytes(data, None);
});
