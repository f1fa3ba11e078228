//! A server frame as the client engine decodes it; see `tutorchat_fuzz::frames`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tutorchat_fuzz::frames::check_server_frame(data);
});
