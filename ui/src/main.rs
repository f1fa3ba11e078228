//! The wasm entry point trunk builds; everything lives in the library.

fn main() {
    tutorchat_ui::run();
}
