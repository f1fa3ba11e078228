//! The bridge to the Tauri shell: one typed async function per command of
//! [`tutorchat_shared::app::commands`], and the subscription to the one event stream
//! ([`tutorchat_shared::app::EVENT`]).
//!
//! This is the only module that touches `window.__TAURI__`. Arguments go out as `{args: …}`
//! (serde-wasm-bindgen's JSON-compatible serializer, so `None` is `null` and maps are plain
//! objects); commands documented with `()` get `{}`. Answers and event payloads come back as
//! plain JSON values and are decoded into the shared types; a refusal is the shell's
//! [`ApiError`] body. Nothing here takes or returns an untyped value.
//!
//! The bindings compile on every target (so the crate's unit tests build natively) but only
//! work inside the webview; nothing in the unit tests calls them.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tutorchat_shared::api::{BlockStatus, ContactsByCourse, UserProfile};
use tutorchat_shared::app::commands::{
    self, BlockArgs, ChatArgs, CreateChatArgs, DraftArgs, LoginArgs, MessagesArgs, OutboxArgs,
    ReadArgs, SendArgs, StudentsArgs, TypingArgs, ViewArgs,
};
use tutorchat_shared::app::{AppEvent, ChatItem, ChatPage, ConnectionState, LocalMessage, EVENT};
use tutorchat_shared::{ApiError, ErrorCode};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(event: &str, handler: &js_sys::Function) -> Result<JsValue, JsValue>;
}

// ---------------------------------------------------------------------------------------------
// Commands

/// The session restored at start, if any.
pub async fn session() -> Result<Option<UserProfile>, ApiError> {
    call_bare(commands::SESSION).await
}

pub async fn login(args: &LoginArgs) -> Result<UserProfile, ApiError> {
    call(commands::LOGIN, args).await
}

pub async fn logout() -> Result<(), ApiError> {
    call_bare(commands::LOGOUT).await
}

pub async fn chats() -> Result<Vec<ChatItem>, ApiError> {
    call_bare(commands::CHATS).await
}

pub async fn messages(args: &MessagesArgs) -> Result<ChatPage, ApiError> {
    call(commands::MESSAGES, args).await
}

/// Writes the message to the outbox and answers with its pending echo.
pub async fn send(args: &SendArgs) -> Result<LocalMessage, ApiError> {
    call(commands::SEND, args).await
}

pub async fn retry(args: &OutboxArgs) -> Result<bool, ApiError> {
    call(commands::RETRY, args).await
}

pub async fn discard(args: &OutboxArgs) -> Result<bool, ApiError> {
    call(commands::DISCARD, args).await
}

pub async fn mark_read(args: &ReadArgs) -> Result<(), ApiError> {
    call(commands::MARK_READ, args).await
}

/// The chat now on screen, or none.
pub async fn view_chat(args: &ViewArgs) -> Result<(), ApiError> {
    call(commands::VIEW_CHAT, args).await
}

pub async fn typing(args: &TypingArgs) -> Result<(), ApiError> {
    call(commands::TYPING, args).await
}

pub async fn draft(args: &ChatArgs) -> Result<Option<String>, ApiError> {
    call(commands::DRAFT, args).await
}

pub async fn set_draft(args: &DraftArgs) -> Result<(), ApiError> {
    call(commands::SET_DRAFT, args).await
}

/// A student's tutors, by course.
pub async fn available_tutors() -> Result<ContactsByCourse, ApiError> {
    call_bare(commands::AVAILABLE_TUTORS).await
}

/// A tutor's students, by course.
pub async fn students(args: &StudentsArgs) -> Result<ContactsByCourse, ApiError> {
    call(commands::STUDENTS, args).await
}

/// Opens (or finds) the chat with a tutor or student in a course.
pub async fn create_chat(args: &CreateChatArgs) -> Result<ChatItem, ApiError> {
    call(commands::CREATE_CHAT, args).await
}

pub async fn block(args: &BlockArgs) -> Result<BlockStatus, ApiError> {
    call(commands::BLOCK, args).await
}

pub async fn connection() -> Result<ConnectionState, ApiError> {
    call_bare(commands::CONNECTION).await
}

// ---------------------------------------------------------------------------------------------
// Events

/// A live subscription to [`AppEvent`]s; dropping it unsubscribes.
pub struct Subscription {
    unlisten: Option<js_sys::Function>,
    // Called by the shell for every event: it must live exactly as long as the subscription.
    _handler: Closure<dyn FnMut(JsValue)>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("active", &self.unlisten.is_some())
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(unlisten) = self.unlisten.take() {
            // Best effort: the webview may already be going away.
            let _ = unlisten.call0(&JsValue::NULL);
        }
    }
}

/// Calls `on_event` with every [`AppEvent`] the shell emits until the returned subscription
/// is dropped. A payload that does not decode is reported to the console and skipped.
pub async fn listen_app_events(
    mut on_event: impl FnMut(AppEvent) + 'static,
) -> Result<Subscription, ApiError> {
    /// Tauri's event envelope (`{event, id, payload}`); only the payload is ours.
    #[derive(Deserialize)]
    struct Envelope {
        payload: AppEvent,
    }

    ensure_shell().map_err(|e| *e)?;
    let handler =
        Closure::<dyn FnMut(JsValue)>::new(move |raw: JsValue| match decode::<Envelope>(&raw) {
            Ok(envelope) => on_event(envelope.payload),
            Err(e) => web_sys::console::warn_1(&JsValue::from_str(&format!(
                "tutorchat: ignored an app event that does not decode: {e}"
            ))),
        });
    let unlisten = tauri_listen(EVENT, handler.as_ref().unchecked_ref())
        .await
        .map_err(shell_error)?;
    Ok(Subscription {
        unlisten: unlisten.dyn_into::<js_sys::Function>().ok(),
        _handler: handler,
    })
}

// ---------------------------------------------------------------------------------------------
// Plumbing

/// A command that takes `{args: …}`.
async fn call<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Result<T, ApiError> {
    #[derive(Serialize)]
    struct Wrapped<'a, A> {
        args: &'a A,
    }
    invoke(cmd, &Wrapped { args }).await
}

/// A command documented as taking `()`: it gets `{}`.
async fn call_bare<T: DeserializeOwned>(cmd: &str) -> Result<T, ApiError> {
    #[derive(Serialize)]
    struct Nothing {}
    invoke(cmd, &Nothing {}).await
}

async fn invoke<A: Serialize, T: DeserializeOwned>(cmd: &str, args: &A) -> Result<T, ApiError> {
    ensure_shell().map_err(|e| *e)?;
    let args = args
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("could not encode {cmd}: {e}")))?;
    let answer = tauri_invoke(cmd, args).await.map_err(shell_error)?;
    decode(&answer).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("unexpected answer to {cmd}: {e}"),
        )
    })
}

/// Outside the Tauri webview (a plain browser) there is no shell to talk to.
fn ensure_shell() -> Result<(), Box<ApiError>> {
    let present = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("__TAURI__"))
        .is_ok_and(|v| !v.is_undefined() && !v.is_null());
    if present {
        Ok(())
    } else {
        Err(Box::new(ApiError::new(
            ErrorCode::Unavailable,
            "The Tutorchat app is not available here: open Tutorchat from its desktop app.",
        )))
    }
}

/// Decodes a plain JSON value (what Tauri hands over) into a shared type, through its JSON
/// text: exact for every serde shape the contract uses (tagged enums, 64-bit ids, dates).
fn decode<T: DeserializeOwned>(value: &JsValue) -> Result<T, String> {
    let text = if value.is_undefined() {
        "null".to_owned()
    } else {
        js_sys::JSON::stringify(value)
            .map_err(|_| "not JSON".to_owned())?
            .as_string()
            .unwrap_or_else(|| "null".to_owned())
    };
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// A rejection from the shell: its `ApiError` body, or whatever JavaScript threw.
fn shell_error(err: JsValue) -> ApiError {
    if let Ok(api) = decode::<ApiError>(&err) {
        return api;
    }
    let message = if let Some(text) = err.as_string() {
        text
    } else if let Some(js_error) = err.dyn_ref::<js_sys::Error>() {
        String::from(js_error.message())
    } else {
        "The app did not answer as expected.".to_owned()
    };
    ApiError::new(ErrorCode::Internal, message)
}
