//! The bridge to the Tauri shell: one typed async function per command of
//! [`tutorchat_shared::app::commands`] — its name, argument and answer all taken from the
//! command's type, the one the shell's handler is declared with — and the subscription to the
//! one event stream ([`tutorchat_shared::app::EVENT`]).
//!
//! This is the only module that touches `window.__TAURI__`. Arguments go out as `{args: …}`
//! (serde-wasm-bindgen's JSON-compatible serializer, so `None` is `null` and maps are plain
//! objects); commands whose `Args` is `()` get `{}`. Answers and event payloads come back as
//! plain JSON values and are decoded into the shared types; a refusal is the shell's
//! [`ApiError`] body. Nothing here takes or returns an untyped value.
//!
//! The bindings compile on every target (so the crate's unit tests build natively) but only
//! work inside the webview; nothing in the unit tests calls them.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tutorchat_shared::app::commands::{
    Answer, Args, AvailableTutors, Block, Chats, Command, Connection, CreateChat, Discard, Draft,
    ImageData, InspectFile, Limits, Login, Logout, MarkRead, Messages, NotificationPermission,
    OpenAttachment, OpenUrl, PickFile, Preferences, RequestNotificationPermission, Retry, Search,
    Send, SendAttachment, Session, SetChatSettings, SetDraft, SetNotifications, StageFile,
    Students, Thumbnail, Typing, ViewChat,
};
use tutorchat_shared::app::{AppEvent, EVENT};
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
// Commands: each answers its command's `Answer` type, by construction.

/// The session restored at start, if any.
pub async fn session() -> Result<Answer<Session>, ApiError> {
    call_bare::<Session>().await
}

pub async fn login(args: &Args<Login>) -> Result<Answer<Login>, ApiError> {
    call::<Login>(args).await
}

pub async fn logout() -> Result<Answer<Logout>, ApiError> {
    call_bare::<Logout>().await
}

pub async fn chats() -> Result<Answer<Chats>, ApiError> {
    call_bare::<Chats>().await
}

pub async fn messages(args: &Args<Messages>) -> Result<Answer<Messages>, ApiError> {
    call::<Messages>(args).await
}

/// Writes the message to the outbox and answers with its pending echo.
pub async fn pick_file() -> Result<Answer<PickFile>, ApiError> {
    call_bare::<PickFile>().await
}

pub async fn inspect_file(args: &Args<InspectFile>) -> Result<Answer<InspectFile>, ApiError> {
    call::<InspectFile>(args).await
}

pub async fn stage_file(args: &Args<StageFile>) -> Result<Answer<StageFile>, ApiError> {
    call::<StageFile>(args).await
}

pub async fn send_attachment(
    args: &Args<SendAttachment>,
) -> Result<Answer<SendAttachment>, ApiError> {
    call::<SendAttachment>(args).await
}

pub async fn thumbnail(args: &Args<Thumbnail>) -> Result<Answer<Thumbnail>, ApiError> {
    call::<Thumbnail>(args).await
}

pub async fn image_data(args: &Args<ImageData>) -> Result<Answer<ImageData>, ApiError> {
    call::<ImageData>(args).await
}

pub async fn open_attachment(
    args: &Args<OpenAttachment>,
) -> Result<Answer<OpenAttachment>, ApiError> {
    call::<OpenAttachment>(args).await
}

pub async fn send(args: &Args<Send>) -> Result<Answer<Send>, ApiError> {
    call::<Send>(args).await
}

pub async fn retry(args: &Args<Retry>) -> Result<Answer<Retry>, ApiError> {
    call::<Retry>(args).await
}

pub async fn discard(args: &Args<Discard>) -> Result<Answer<Discard>, ApiError> {
    call::<Discard>(args).await
}

pub async fn mark_read(args: &Args<MarkRead>) -> Result<Answer<MarkRead>, ApiError> {
    call::<MarkRead>(args).await
}

/// The chat now on screen, or none.
pub async fn view_chat(args: &Args<ViewChat>) -> Result<Answer<ViewChat>, ApiError> {
    call::<ViewChat>(args).await
}

pub async fn typing(args: &Args<Typing>) -> Result<Answer<Typing>, ApiError> {
    call::<Typing>(args).await
}

pub async fn draft(args: &Args<Draft>) -> Result<Answer<Draft>, ApiError> {
    call::<Draft>(args).await
}

pub async fn set_draft(args: &Args<SetDraft>) -> Result<Answer<SetDraft>, ApiError> {
    call::<SetDraft>(args).await
}

/// A student's tutors, by course.
pub async fn available_tutors() -> Result<Answer<AvailableTutors>, ApiError> {
    call_bare::<AvailableTutors>().await
}

/// A tutor's students, by course.
pub async fn students(args: &Args<Students>) -> Result<Answer<Students>, ApiError> {
    call::<Students>(args).await
}

/// Opens (or finds) the chat with a tutor or student in a course.
pub async fn create_chat(args: &Args<CreateChat>) -> Result<Answer<CreateChat>, ApiError> {
    call::<CreateChat>(args).await
}

pub async fn block(args: &Args<Block>) -> Result<Answer<Block>, ApiError> {
    call::<Block>(args).await
}

pub async fn connection() -> Result<Answer<Connection>, ApiError> {
    call_bare::<Connection>().await
}

pub async fn limits() -> Result<Answer<Limits>, ApiError> {
    call_bare::<Limits>().await
}

pub async fn set_chat_settings(
    args: &Args<SetChatSettings>,
) -> Result<Answer<SetChatSettings>, ApiError> {
    call::<SetChatSettings>(args).await
}

pub async fn open_url(args: &Args<OpenUrl>) -> Result<Answer<OpenUrl>, ApiError> {
    call::<OpenUrl>(args).await
}

pub async fn search(args: &Args<Search>) -> Result<Answer<Search>, ApiError> {
    call::<Search>(args).await
}

pub async fn preferences() -> Result<Answer<Preferences>, ApiError> {
    call_bare::<Preferences>().await
}

pub async fn set_notifications(
    args: &Args<SetNotifications>,
) -> Result<Answer<SetNotifications>, ApiError> {
    call::<SetNotifications>(args).await
}

pub async fn notification_permission() -> Result<Answer<NotificationPermission>, ApiError> {
    call_bare::<NotificationPermission>().await
}

pub async fn request_notification_permission(
) -> Result<Answer<RequestNotificationPermission>, ApiError> {
    call_bare::<RequestNotificationPermission>().await
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
    on_event: impl FnMut(AppEvent) + 'static,
) -> Result<Subscription, ApiError> {
    listen(EVENT, "an app event", on_event).await
}

/// Files dropped on the window: Tauri takes the drop and says which paths (`tauri://drag-drop`).
pub async fn listen_file_drops(
    mut on_drop: impl FnMut(Vec<String>) + 'static,
) -> Result<Subscription, ApiError> {
    #[derive(Deserialize)]
    struct Dropped {
        #[serde(default)]
        paths: Vec<String>,
    }
    listen("tauri://drag-drop", "a drop", move |dropped: Dropped| {
        if !dropped.paths.is_empty() {
            on_drop(dropped.paths);
        }
    })
    .await
}

/// Calls `on_payload` with the payload of every `event` until the subscription is dropped; a
/// payload that does not decode as `T` is reported to the console (as `what`) and skipped.
async fn listen<T: DeserializeOwned + 'static>(
    event: &str,
    what: &'static str,
    mut on_payload: impl FnMut(T) + 'static,
) -> Result<Subscription, ApiError> {
    /// Tauri's event envelope (`{event, id, payload}`); only the payload is ours.
    #[derive(Deserialize)]
    struct Envelope<T> {
        payload: T,
    }

    ensure_shell().map_err(|e| *e)?;
    let handler =
        Closure::<dyn FnMut(JsValue)>::new(move |raw: JsValue| match decode::<Envelope<T>>(&raw) {
            Ok(envelope) => on_payload(envelope.payload),
            Err(e) => web_sys::console::warn_1(&JsValue::from_str(&format!(
                "tutorchat: ignored {what} that does not decode: {e}"
            ))),
        });
    let unlisten = tauri_listen(event, handler.as_ref().unchecked_ref())
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
async fn call<C: Command>(args: &C::Args) -> Result<C::Answer, ApiError> {
    #[derive(Serialize)]
    struct Wrapped<'a, A> {
        args: &'a A,
    }
    invoke(C::NAME, &Wrapped { args }).await
}

/// A command that takes `()`: it gets `{}`.
async fn call_bare<C: Command<Args = ()>>() -> Result<C::Answer, ApiError> {
    #[derive(Serialize)]
    struct Nothing {}
    invoke(C::NAME, &Nothing {}).await
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
