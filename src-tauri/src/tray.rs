//! The tray icon: open the window, jump to a chat with unread messages, quit. Closing the
//! window only hides it, so notifications keep coming; Quit ends the app.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager};
use tutorchat_client::Client;
use tutorchat_shared::app::{AppEvent, EVENT};
use tutorchat_shared::ChatId;

pub const ID: &str = "main";
const OPEN: &str = "open";
const QUIT: &str = "quit";
const CHAT_PREFIX: &str = "chat:";

pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let menu = base_menu(app, &[])?;
    let mut builder = TrayIconBuilder::with_id(ID)
        .tooltip("Tutorchat")
        .menu(&menu)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// Rebuilds the menu with the chats that have unread messages.
pub async fn refresh(app: &AppHandle, client: &Client) {
    let unread: Vec<(ChatId, String)> = client
        .chats()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.unread > 0)
        .take(10)
        .map(|c| {
            (
                c.id,
                format!("{} ({}) — {}", c.peer.name, c.unread, c.course.title),
            )
        })
        .collect();
    if let (Some(tray), Ok(menu)) = (app.tray_by_id(ID), base_menu(app, &unread)) {
        let _ = tray.set_menu(Some(menu));
    }
}

fn base_menu(app: &AppHandle, unread: &[(ChatId, String)]) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    menu.append(&MenuItem::with_id(
        app,
        OPEN,
        "Open Tutorchat",
        true,
        None::<&str>,
    )?)?;
    if !unread.is_empty() {
        menu.append(&PredefinedMenuItem::separator(app)?)?;
        for (chat, label) in unread {
            menu.append(&MenuItem::with_id(
                app,
                format!("{CHAT_PREFIX}{chat}"),
                label,
                true,
                None::<&str>,
            )?)?;
        }
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?)?;
    Ok(menu)
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        QUIT => app.exit(0),
        OPEN => show_main(app),
        other => {
            if let Some(chat) = other.strip_prefix(CHAT_PREFIX).and_then(|c| c.parse().ok()) {
                show_main(app);
                let _ = app.emit(
                    EVENT,
                    &AppEvent::OpenChat {
                        chat_id: ChatId(chat),
                    },
                );
            }
        }
    }
}

pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}
