//! Tutorchat's app shell (Tauri 2): the window, the tray, notifications and badges, deep links,
//! and thin commands over the client core (`tutorchat-client`), which holds every rule. The
//! Yew UI in `ui/` is what the window shows.
//!
//! - [`commands`]: what the webview invokes (argument types from `tutorchat_shared`).
//! - [`events`]: the core's event stream → the webview, notifications, badge, tray.
//! - [`notifications`]: showing, opening (on click) and withdrawing notifications.
//! - [`notify`], [`deep_link`]: pure rules (when to notify; parsing `tutorchat://` links).
//! - [`tray`] (desktop only), [`state`], [`config`], [`error`]: shell plumbing.
//!
//! One source for desktop and mobile: what only a desktop has — the tray and its menu, the
//! platform badge, one instance per user, hiding on close, registering the `tutorchat://`
//! scheme at run time — is behind `#[cfg(desktop)]` (set by `tauri-build` from the target), so
//! `cargo check --target aarch64-linux-android` sees the mobile shell. On a phone the OS owns
//! the app's lifetime and single instance, the scheme comes from the app's manifest, and
//! notifications go through the plugin once the user allowed them (the UI says why, then asks:
//! `request_notification_permission`).

mod commands;
mod config;
mod deep_link;
mod error;
mod events;
mod notifications;
mod notify;
mod state;
#[cfg(desktop)]
mod tray;

use tauri::{AppHandle, Emitter, Manager};
use tutorchat_shared::app::{AppEvent, EVENT};
use tutorchat_shared::{CourseRef, ErrorCode};

use crate::config::ShellConfig;
use crate::state::Shell;

/// The app's entry point, on desktop (from `main.rs`) and on mobile.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TUTORCHAT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    let builder = tauri::Builder::default();
    // One instance per user on desktop (a phone's OS keeps one by itself).
    #[cfg(desktop)]
    let builder = if config::profile().is_none() {
        builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            // A second launch (or a deep link on Linux/Windows) brings the running app forward.
            tray::show_main(app);
        }))
    } else {
        builder
    };
    let builder = builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(commands::invoke_handler!())
        .setup(|app| {
            let data_dir = app.path().app_data_dir()?;
            app.manage(Shell::new(ShellConfig::new(data_dir)));
            #[cfg(desktop)]
            tray::create(app.handle())?;
            let handle = app.handle().clone();
            tauri::async_runtime::block_on(async {
                let shell = handle.state::<Shell>();
                match shell.open_last().await {
                    Ok(client) => events::start_forwarding(&handle, &shell, client),
                    Err(e) => tracing::warn!(error = ?e, "could not open the client"),
                }
            });
            setup_deep_links(app.handle());
            Ok(())
        });
    // Closing hides: the app stays in the tray and keeps notifying. (A phone has no close.)
    #[cfg(desktop)]
    let builder = builder.on_window_event(|window, event| match event {
        tauri::WindowEvent::CloseRequested { api, .. }
            if window.app_handle().tray_by_id(tray::ID).is_some() =>
        {
            let _ = window.hide();
            api.prevent_close();
        }
        // Files dropped on the window are files the user chose to attach.
        tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) => {
            use tauri::Manager;
            window.state::<state::Shell>().choose(paths.iter().cloned());
        }
        _ => {}
    });
    match builder.build(tauri::generate_context!()) {
        Ok(app) => app.run(|_, _| {}),
        Err(e) => {
            eprintln!("Tutorchat could not start: {e}");
            std::process::exit(1);
        }
    }
}

fn setup_deep_links(app: &AppHandle) {
    use tauri_plugin_deep_link::DeepLinkExt;
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    if let Err(e) = app.deep_link().register_all() {
        tracing::debug!(error = %e, "could not register the tutorchat:// scheme");
    }
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            let handle = handle.clone();
            let url = url.to_string();
            tauri::async_runtime::spawn(async move { open_link(&handle, &url).await });
        }
    });
}

/// Brings the window forward (on desktop) and has the UI show the chat.
pub(crate) fn open_chat(app: &AppHandle, chat_id: tutorchat_shared::ChatId) {
    #[cfg(desktop)]
    tray::show_main(app);
    let _ = app.emit(EVENT, &AppEvent::OpenChat { chat_id });
}

/// Opens (or creates) the chat a `tutorchat://chat?course=…&with=…` link names.
async fn open_link(app: &AppHandle, url: &str) {
    let Some(link) = deep_link::parse(url) else {
        tracing::warn!(%url, "ignoring an unknown link");
        return;
    };
    let shell = app.state::<Shell>();
    let Ok(client) = shell.client().await else {
        return;
    };
    // On a phone the OS has already brought the app forward to open the link.
    #[cfg(desktop)]
    tray::show_main(app);
    match client.create_chat(&link.course, &link.with).await {
        Ok(chat) => open_chat(app, chat.id),
        // A course the student has not bought: offer it, rather than failing silently.
        Err(e) if e.code() == ErrorCode::NotEnrolled => {
            let api = e.api();
            let course = CourseRef {
                id: api
                    .and_then(|a| a.course_id.clone())
                    .unwrap_or_else(|| link.course.clone()),
                title: api
                    .and_then(|a| a.course_title.clone())
                    .unwrap_or_else(|| link.course.to_string()),
            };
            let purchase_url = api.and_then(|a| a.purchase_url.clone());
            let _ = app.emit(
                EVENT,
                &AppEvent::UpgradeRequired {
                    course,
                    purchase_url,
                },
            );
        }
        Err(e) => tracing::warn!(error = %e, "the link's chat cannot be opened"),
    }
}
