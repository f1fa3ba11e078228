//! Commands whose answer nobody waits for (typing, drafts, read pointers, the viewed chat):
//! run them on the side and report a failure to the console only — the next one will do.

use std::future::Future;

use tutorchat_shared::ApiError;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

pub(crate) fn run_in_background<T: 'static>(
    what: &'static str,
    call: impl Future<Output = Result<T, ApiError>> + 'static,
) {
    spawn_local(async move {
        if let Err(e) = call.await {
            web_sys::console::debug_1(&JsValue::from_str(&format!("tutorchat: {what}: {e}")));
        }
    });
}
