//! The client core's events, forwarded to the webview as one typed stream — plus what the
//! shell itself does with them: native notifications (withdrawn once their chat is read),
//! the unread badge in the window title, and on desktop the tray (its icon marked while
//! anything is unread) and the platform badge.

use tauri::{AppHandle, Emitter, Manager};
use tutorchat_client::Client;
use tutorchat_shared::app::commands::PermissionAnswer;
use tutorchat_shared::app::{AppEvent, EVENT};

use crate::notify;
use crate::state::Shell;

/// Starts (or restarts) forwarding `client`'s events.
pub fn start_forwarding(app: &AppHandle, shell: &Shell, client: Client) {
    let app = app.clone();
    // Subscribe now, not in the task: nothing emitted from here on may be missed.
    let mut events = client.events();
    let task = tauri::async_runtime::spawn(async move {
        refresh_badge(&app, &client).await;
        loop {
            match events.recv().await {
                Ok(event) => handle(&app, &client, event).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow to keep up: tell the UI to re-read, and recount.
                    let _ = app.emit(EVENT, &AppEvent::ChatsChanged);
                    refresh_badge(&app, &client).await;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    shell.set_forwarder(task);
}

async fn handle(app: &AppHandle, client: &Client, event: AppEvent) {
    if let Err(e) = app.emit(EVENT, &event) {
        tracing::warn!(error = %e, "could not forward an event to the webview");
    }
    match event {
        AppEvent::Incoming {
            message,
            sender_name,
            course_title,
        } => {
            let shell = app.state::<Shell>();
            let visible = shell.visible_chat();
            if shell.config.notifications()
                && notify::should_notify(message.chat_id, main_window_focused(app), visible)
            {
                let (title, body) =
                    notify::notification(&sender_name, &course_title, &message.preview());
                shell.notifications.show(app, message.chat_id, title, body);
            }
        }
        AppEvent::UnreadChanged {
            chat_id,
            unread,
            total,
        } => {
            // Read here or on another device: its notifications are no longer news.
            if unread == 0 {
                app.state::<Shell>().notifications.withdraw(chat_id);
            }
            set_badge(app, total);
        }
        AppEvent::ChatsChanged | AppEvent::SessionEnded { .. } => refresh_badge(app, client).await,
        _ => {}
    }
}

fn main_window_focused(app: &AppHandle) -> bool {
    app.get_webview_window("main")
        .is_some_and(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false))
}

async fn refresh_badge(app: &AppHandle, client: &Client) {
    let total = client.unread_total().await.unwrap_or(0);
    set_badge(app, total);
    #[cfg(desktop)]
    crate::tray::refresh(app, client).await;
    #[cfg(mobile)]
    let _ = client;
}

/// The unread total in the window title, on the tray, and on the platform badge.
fn set_badge(app: &AppHandle, total: u64) {
    let title = notify::title(total);
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&title);
        #[cfg(desktop)]
        {
            let count = (total > 0).then(|| i64::try_from(total).unwrap_or(i64::MAX));
            let _ = window.set_badge_count(count);
        }
    }
    #[cfg(desktop)]
    crate::tray::show_unread(app, &title, total > 0);
}

/// Whether the platform lets the app notify, and with `ask` the system's question put to the
/// user. A desktop needs no permission. Android 13+ and iOS want the user's consent (until it
/// is given, `show` delivers nothing): the UI explains why first, then asks through this.
#[cfg(desktop)]
pub async fn notification_permission(_app: &AppHandle, _ask: bool) -> PermissionAnswer {
    PermissionAnswer::Granted
}

#[cfg(mobile)]
pub async fn notification_permission(app: &AppHandle, ask: bool) -> PermissionAnswer {
    use tauri::plugin::PermissionState;
    use tauri_plugin_notification::NotificationExt;
    let app = app.clone();
    // Off the async threads: the system's question waits for the user.
    let answer = tauri::async_runtime::spawn_blocking(move || {
        let notification = app.notification();
        let state = if ask {
            notification.request_permission()
        } else {
            notification.permission_state()
        };
        match state {
            Ok(PermissionState::Granted) => PermissionAnswer::Granted,
            Ok(PermissionState::Denied) => PermissionAnswer::Denied,
            Ok(_) => PermissionAnswer::Prompt,
            Err(e) => {
                tracing::warn!(error = %e, "no notification permission state");
                PermissionAnswer::Denied
            }
        }
    })
    .await;
    answer.unwrap_or(PermissionAnswer::Denied)
}
