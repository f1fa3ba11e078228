//! Replays the checked-in inputs through the fuzz targets' checks on stable Rust, without
//! libFuzzer: the seed corpus (`seeds/<target>/`) and every input that once found a bug
//! (`regressions/<target>/`). A crash the fuzzer finds goes into `regressions/` with its fix.

use std::path::Path;

/// Every seed must decode (a seed that no longer does has gone stale with the contract);
/// a regression input need only pass.
fn replay(target: &str, check: fn(&[u8]) -> bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            let data = std::fs::read(&path).expect("readable input");
            println!("{target}: {}", path.display());
            let decoded = check(&data);
            assert!(
                decoded || dir == "regressions",
                "seed {} no longer decodes",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count > 0, "no inputs for {target}");
}

#[test]
fn server_frame_inputs_pass() {
    replay("server_frame", tutorchat_fuzz::frames::check_server_frame);
}

#[test]
fn client_frame_inputs_pass() {
    replay("client_frame", tutorchat_fuzz::frames::check_client_frame);
}

#[test]
fn validation_inputs_pass() {
    replay("validation", tutorchat_fuzz::validation::check_rules);
}

#[test]
fn rest_body_inputs_pass() {
    replay("rest_bodies", tutorchat_fuzz::bodies::check_body);
}
