//! Showing a new message's notification, opening its chat when it is clicked, and taking it
//! back once the chat is read — here or on any other device of the user.
//!
//! On Linux this talks to the notification server directly (notify-rust over D-Bus): the
//! notification plugin shows a notification but cannot say it was clicked, nor close it. Each
//! notification carries a default action; clicking it (the server's `ActionInvoked`) shows the
//! window and opens the chat; `withdraw` closes a chat's notifications
//! (`CloseNotification`). Elsewhere the plugin shows them (on a phone the OS opens the app).

use tauri::AppHandle;
use tutorchat_shared::ChatId;

/// Notifications kept per chat to withdraw later; older ones are forgotten (not closed).
#[cfg(target_os = "linux")]
const KEEP_PER_CHAT: usize = 8;

/// A cheap handle (clones share what is shown).
#[derive(Clone, Default)]
pub struct Notifications {
    #[cfg(target_os = "linux")]
    shown: std::sync::Arc<std::sync::Mutex<Shown>>,
}

#[cfg(target_os = "linux")]
type Shown =
    std::collections::HashMap<ChatId, Vec<std::sync::Arc<notify_rust::NotificationHandle>>>;

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

#[cfg(target_os = "linux")]
impl Notifications {
    pub fn show(&self, app: &AppHandle, chat: ChatId, title: String, body: String) {
        let (app, this) = (app.clone(), self.clone());
        tauri::async_runtime::spawn(async move {
            let shown = notify_rust::Notification::new()
                .appname("Tutorchat")
                .summary(&title)
                .body(&body)
                .action("default", "Open")
                .show_async()
                .await;
            let handle = match shown {
                Ok(handle) => std::sync::Arc::new(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "could not show a notification");
                    return;
                }
            };
            {
                let mut shown = this.shown.lock().unwrap_or_else(|p| p.into_inner());
                let list = shown.entry(chat).or_default();
                list.push(handle.clone());
                if list.len() > KEEP_PER_CHAT {
                    list.remove(0);
                }
            }
            let mut clicked = false;
            handle
                .wait_for_action_async(|response| {
                    clicked = matches!(response, notify_rust::NotificationResponse::Default);
                })
                .await;
            this.forget(chat, &handle);
            if clicked {
                crate::open_chat(&app, chat);
            }
        });
    }

    /// Closes every notification of `chat` still shown.
    pub fn withdraw(&self, chat: ChatId) {
        let handles = self
            .shown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chat)
            .unwrap_or_default();
        if handles.is_empty() {
            return;
        }
        tauri::async_runtime::spawn(async move {
            for handle in handles {
                handle.close_async().await;
            }
        });
    }

    fn forget(&self, chat: ChatId, handle: &std::sync::Arc<notify_rust::NotificationHandle>) {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = shown.get_mut(&chat) {
            list.retain(|h| !std::sync::Arc::ptr_eq(h, handle));
            if list.is_empty() {
                shown.remove(&chat);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl Notifications {
    pub fn show(&self, app: &AppHandle, _chat: ChatId, title: String, body: String) {
        use tauri_plugin_notification::NotificationExt;
        if let Err(e) = app.notification().builder().title(title).body(body).show() {
            tracing::warn!(error = %e, "could not show a notification");
        }
    }

    pub fn withdraw(&self, _chat: ChatId) {}
}
