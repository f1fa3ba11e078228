//! The tray icon: open the window, jump to a chat with unread messages, quit; while anything
//! is unread the icon carries a badge (drawn on it: Linux trays show no tooltip). Closing the
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

/// The tray says whether anything is unread: a badge drawn on the icon, and the tooltip
/// (where the platform shows one).
pub fn show_unread(app: &AppHandle, tooltip: &str, unread: bool) {
    let Some(tray) = app.tray_by_id(ID) else {
        return;
    };
    let _ = tray.set_tooltip(Some(tooltip));
    if let Some(icon) = app.default_window_icon() {
        let icon = if unread {
            tauri::image::Image::new_owned(
                with_badge(icon.rgba(), icon.width(), icon.height()),
                icon.width(),
                icon.height(),
            )
        } else {
            icon.clone().to_owned()
        };
        let _ = tray.set_icon(Some(icon));
    }
}

/// The icon's RGBA pixels with a red dot (white-ringed) in the top-right corner.
pub fn with_badge(rgba: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = rgba.to_vec();
    let size = f64::from(width.min(height));
    let radius = size * 0.24;
    let ring = radius + (size * 0.06).max(1.0);
    let (cx, cy) = (f64::from(width) - ring, ring);
    for y in 0..height {
        for x in 0..width {
            let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            let color = if d <= radius {
                [0xE5, 0x39, 0x35, 0xFF]
            } else if d <= ring {
                [0xFF, 0xFF, 0xFF, 0xFF]
            } else {
                continue;
            };
            let i = ((y * width + x) * 4) as usize;
            if let Some(px) = out.get_mut(i..i + 4) {
                px.copy_from_slice(&color);
            }
        }
    }
    out
}

pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixel(rgba: &[u8], width: u32, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * width + x) * 4) as usize;
        [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
    }

    #[test]
    fn the_badge_is_a_red_dot_in_the_top_right_corner_and_nothing_else_changes() {
        let (w, h) = (64, 64);
        let icon: Vec<u8> = std::iter::repeat_n([10, 20, 30, 255], (w * h) as usize)
            .flatten()
            .collect();
        let badged = with_badge(&icon, w, h);
        assert_eq!(badged.len(), icon.len());
        // The dot's centre is red, its edge is white, the far corner is untouched.
        let ring = 64.0 * 0.24 + 64.0 * 0.06;
        let (cx, cy) = ((64.0 - ring) as u32, ring as u32);
        assert_eq!(pixel(&badged, w, cx, cy), [0xE5, 0x39, 0x35, 0xFF]);
        assert_eq!(pixel(&badged, w, 0, h - 1), [10, 20, 30, 255]);
        assert_eq!(pixel(&badged, w, 5, 5), [10, 20, 30, 255]);
        let changed = badged
            .chunks(4)
            .zip(icon.chunks(4))
            .filter(|(a, b)| a != b)
            .count();
        assert!(
            changed > 100 && changed < (w * h / 3) as usize,
            "{changed} pixels changed"
        );
    }
}
