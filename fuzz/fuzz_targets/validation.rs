//! Every rule of `tutorchat_shared::validation`; see `tutorchat_fuzz::validation`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tutorchat_fuzz::validation::check_rules(data);
});
