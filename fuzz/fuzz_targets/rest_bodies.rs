//! REST request bodies and queries as the server reads and validates them; see
//! `tutorchat_fuzz::bodies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tutorchat_fuzz::bodies::check_body(data);
});
