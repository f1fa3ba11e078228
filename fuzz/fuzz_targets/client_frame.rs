//! A client frame as the server's connection task decodes it; see `tutorchat_fuzz::frames`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tutorchat_fuzz::frames::check_client_frame(data);
});
