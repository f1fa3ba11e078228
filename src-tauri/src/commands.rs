//! The commands the webview invokes: each translates its argument (from
//! `tutorchat_shared::app::commands`) into one client-core call. No rules live here.
//!
//! Every handler is declared with [`shell_command!`], which takes the command's type from
//! `shared` and derives the rest from it: the function is checked (at compile time) to be
//! named after `Command::NAME` — the name the webview invokes — and its argument and answer
//! are that command's `Args` and `Answer`. The UI calls through the same types
//! (`ui/src/tauri.rs`), so the two cannot disagree.

use tauri::{AppHandle, State};
use tutorchat_shared::api::ChatSettingsChange;
use tutorchat_shared::app::commands::{
    Answer, Args, AvailableTutors, Block, Chats, Command, Connection, CreateChat, Discard, Draft,
    FileInfo, ImageData, InspectFile, Limits, Login, Logout, MarkRead, Messages,
    NotificationPermission, OpenAttachment, OpenUrl, PickFile, Preferences,
    RequestNotificationPermission, Retry, Search, Send, SendAttachment, Session, SetChatSettings,
    SetDraft, SetNotifications, StageFile, Students, Thumbnail, Typing, ViewChat,
};
use tutorchat_shared::app::ConnectionState;
use tutorchat_shared::validation::validate_web_url;
use tutorchat_shared::{ApiError, ErrorCode};

use crate::error::{CommandError, CommandResult};
use crate::events;
use crate::state::Shell;

/// Whether two names are the same, in a `const` (where `==` on `str` is not available).
const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Declares the handler of one shared command: `name: Command, args, (params) { body }`, with
/// `args` (of type `Args<Command>`) added last; without `args,` the command must take `()`.
macro_rules! shell_command {
    ($(#[$doc:meta])* $name:ident: $command:ty, $args:ident, ($($param:ident: $ty:ty),*) $body:block) => {
        const _: () = assert!(
            same_name(stringify!($name), <$command as Command>::NAME),
            concat!("the handler `", stringify!($name), "` is not named after its command"),
        );
        // The webview sends the argument as `{args: …}`.
        const _: () = assert!(same_name(stringify!($args), "args"), "the argument is `args`");
        $(#[$doc])*
        #[tauri::command]
        pub async fn $name($($param: $ty,)* $args: Args<$command>) -> CommandResult<Answer<$command>>
            $body
    };
    ($(#[$doc:meta])* $name:ident: $command:ty, ($($param:ident: $ty:ty),*) $body:block) => {
        const _: () = assert!(
            same_name(stringify!($name), <$command as Command>::NAME),
            concat!("the handler `", stringify!($name), "` is not named after its command"),
        );
        // A command declared without `args` must take `()`.
        const _: Option<Args<$command>> = None::<()>;
        $(#[$doc])*
        #[tauri::command]
        pub async fn $name($($param: $ty),*) -> CommandResult<Answer<$command>>
            $body
    };
}

shell_command!(session: Session, (shell: State<'_, Shell>) {
    match shell.client().await {
        Ok(client) => Ok(client.me().await),
        Err(_) => Ok(None),
    }
});

shell_command!(login: Login, args, (app: AppHandle, shell: State<'_, Shell>) {
    let (client, new) = shell.open(&args.server).await?;
    if new {
        // Before signing in, so the first connection events reach the webview.
        events::start_forwarding(&app, &shell, client.clone());
    }
    Ok(client.login(&args.email, &args.password).await?)
});

shell_command!(logout: Logout, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.logout(true).await?)
});

shell_command!(chats: Chats, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.chats().await?)
});

shell_command!(messages: Messages, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .messages(args.chat_id, args.before_seq, args.limit)
        .await?)
});

shell_command!(send: Send, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .send(args.chat_id, args.kind, &args.content)
        .await?)
});

shell_command!(retry: Retry, args, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.retry(&args.client_id).await?)
});

shell_command!(discard: Discard, args, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.discard(&args.client_id).await?)
});

shell_command!(mark_read: MarkRead, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .mark_read(args.chat_id, args.up_to_seq)
        .await?)
});

shell_command!(limits: Limits, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.limits().await?)
});

shell_command!(set_chat_settings: SetChatSettings, args, (shell: State<'_, Shell>) {
    let change = ChatSettingsChange {
        muted: args.muted,
        archived: args.archived,
    };
    Ok(shell.client().await?.set_chat_settings(args.chat_id, change).await?)
});

shell_command!(open_url: OpenUrl, args, (app: AppHandle) {
    // Only web pages, never a file or a scheme that runs something.
    validate_web_url("url", &args.url, tutorchat_shared::Limits::default().max_url_chars)
        .map_err(|e| CommandError(ApiError::new(ErrorCode::Validation, e.to_string())))?;
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_url(&args.url, None::<&str>)
        .map_err(|e| {
            tracing::warn!(error = %e, "could not open a web page");
            CommandError(ApiError::new(ErrorCode::Unavailable, "The page could not be opened."))
        })
});

shell_command!(search: Search, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .search_in(args.chat_id, &args.query, args.limit.min(200))
        .await?)
});

shell_command!(preferences: Preferences, (shell: State<'_, Shell>) {
    Ok(preferences_of(&shell))
});

shell_command!(set_notifications: SetNotifications, args, (shell: State<'_, Shell>) {
    shell.config.set_notifications(args.enabled).map_err(|e| {
        tracing::warn!(error = %e, "could not save the notification setting");
        CommandError(ApiError::new(ErrorCode::Internal, "The setting could not be saved."))
    })?;
    Ok(preferences_of(&shell))
});

shell_command!(notification_permission: NotificationPermission, (app: AppHandle) {
    Ok(events::notification_permission(&app, false).await)
});

shell_command!(request_notification_permission: RequestNotificationPermission, (app: AppHandle) {
    Ok(events::notification_permission(&app, true).await)
});

fn preferences_of(shell: &Shell) -> tutorchat_shared::app::commands::AppPreferences {
    tutorchat_shared::app::commands::AppPreferences {
        server: shell
            .config
            .last_server()
            .unwrap_or_else(|| crate::config::DEFAULT_SERVER.to_owned()),
        notifications: shell.config.notifications(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }
}

shell_command!(view_chat: ViewChat, args, (shell: State<'_, Shell>) {
    let client = shell.client().await?;
    if let Some(previous) = shell.visible_chat() {
        if Some(previous) != args.chat_id {
            client.view_chat(previous, false).await?;
        }
    }
    shell.set_visible_chat(args.chat_id);
    if let Some(chat) = args.chat_id {
        client.view_chat(chat, true).await?;
    }
    Ok(())
});

shell_command!(typing: Typing, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .typing(args.chat_id, args.typing)
        .await?)
});

shell_command!(draft: Draft, args, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.draft(args.chat_id).await?)
});

shell_command!(set_draft: SetDraft, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .set_draft(args.chat_id, &args.text)
        .await?)
});

shell_command!(available_tutors: AvailableTutors, (shell: State<'_, Shell>) {
    Ok(shell.client().await?.available_tutors().await?)
});

shell_command!(students: Students, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .students(args.course_id.as_ref())
        .await?)
});

shell_command!(create_chat: CreateChat, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .create_chat(&args.course_id, &args.with)
        .await?)
});

shell_command!(block: Block, args, (shell: State<'_, Shell>) {
    Ok(shell
        .client()
        .await?
        .block(&args.user_id, args.blocked)
        .await?)
});

shell_command!(connection: Connection, (shell: State<'_, Shell>) {
    match shell.client().await {
        Ok(client) => Ok(client.connection_state().await),
        Err(_) => Ok(ConnectionState::Offline),
    }
});

shell_command!(pick_file: PickFile, (app: AppHandle, shell: State<'_, Shell>) {
    use tauri_plugin_dialog::DialogExt;
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Attach a file")
        .pick_file(move |picked| {
            let _ = tx.send(picked);
        });
    let picked = rx.await.ok().flatten();
    let Some(path) = picked.and_then(|p| p.into_path().ok()) else {
        return Ok(None);
    };
    shell.choose([path.clone()]);
    Ok(Some(file_info(&shell, &path).await?))
});

shell_command!(inspect_file: InspectFile, args, (shell: State<'_, Shell>) {
    file_info(&shell, chosen(&shell, &args.path).ok_or_else(not_chosen)?).await
});

shell_command!(stage_file: StageFile, args, (shell: State<'_, Shell>) {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(args.data.as_bytes())
        .map_err(|_| CommandError(ApiError::new(ErrorCode::Validation, "The file could not be read.")))?;
    let name = tutorchat_client::safe_file_name(&args.name);
    // In the app's own data directory (not a shared temporary one), each in a directory of
    // its own, so the name it is sent under stays the user's; removed once sent.
    let client = shell.client().await?;
    let dir = client
        .data_dir()
        .join("staged")
        .join(format!("{:016x}", rand_id()));
    let path = dir.join(&name);
    let write = {
        let path = path.clone();
        move || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            std::io::Write::write_all(&mut file, &bytes)
        }
    };
    tokio::task::spawn_blocking(write)
        .await
        .map_err(|_| CommandError(ApiError::new(ErrorCode::Internal, "The file could not be kept.")))?
        .map_err(|e| {
            tracing::warn!(error = %e, "could not stage a file");
            CommandError(ApiError::new(ErrorCode::Internal, "The file could not be kept."))
        })?;
    shell.choose([path.clone()]);
    file_info(&shell, &path).await
});

shell_command!(send_attachment: SendAttachment, args, (shell: State<'_, Shell>) {
    let path = chosen(&shell, &args.path).ok_or_else(not_chosen)?;
    let client = shell.client().await?;
    let sent = client.send_attachment(args.chat_id, path, &args.caption).await?;
    // The client core keeps its own copy: a pasted file staged here is no longer needed.
    let staged = client.data_dir().join("staged");
    if let (true, Some(dir)) = (path.starts_with(&staged), path.parent()) {
        let _ = tokio::fs::remove_dir_all(dir).await;
    }
    Ok(sent)
});

/// `path`, if the user chose that file.
fn chosen<'a>(shell: &Shell, path: &'a str) -> Option<&'a std::path::Path> {
    let path = std::path::Path::new(path);
    shell.was_chosen(path).then_some(path)
}

fn not_chosen() -> CommandError {
    CommandError(ApiError::new(
        ErrorCode::Forbidden,
        "Only a file you chose can be attached.",
    ))
}

shell_command!(thumbnail: Thumbnail, args, (shell: State<'_, Shell>) {
    let bytes = shell
        .client()
        .await?
        .thumbnail(args.attachment_id.as_ref(), &args.client_id)
        .await?;
    Ok(bytes.map(|b| data_url("image/jpeg", &b)))
});

shell_command!(image_data: ImageData, args, (shell: State<'_, Shell>) {
    let client = shell.client().await?;
    let path = client.download(&args.attachment_id).await?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!(error = %e, "could not read a downloaded image");
        CommandError(ApiError::new(ErrorCode::Internal, "The image could not be read."))
    })?;
    // What the server stored is a re-encoded PNG or JPEG; the bytes say which.
    let mime = tutorchat_shared::media::sniff(&bytes, true).unwrap_or("application/octet-stream");
    Ok(data_url(mime, &bytes))
});

shell_command!(open_attachment: OpenAttachment, args, (app: AppHandle, shell: State<'_, Shell>) {
    let path = shell.client().await?.download(&args.attachment_id).await?;
    use tauri_plugin_opener::OpenerExt;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| {
            tracing::warn!(error = %e, "could not open a file");
            CommandError(ApiError::new(ErrorCode::Unavailable, "No application could open the file."))
        })
});

async fn file_info(shell: &Shell, path: &std::path::Path) -> CommandResult<FileInfo> {
    let checked = shell.client().await?.inspect_file(path).await?;
    Ok(FileInfo {
        path: path.display().to_string(),
        name: checked.name,
        size: checked.size,
        image: checked.preview.is_some(),
        mime: checked.mime,
        preview: checked.preview.map(|p| data_url("image/jpeg", &p)),
    })
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// A name for a staging directory, unique enough among this user's files.
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// Names every handler once: `invoke_handler!()` registers them all (in `lib.rs`), and
/// `REGISTERED` lists them for the test that every shared command has a handler.
macro_rules! registered {
    ($($name:ident),* $(,)?) => {
        #[cfg(test)]
        const REGISTERED: &[&str] = &[$(stringify!($name)),*];

        macro_rules! invoke_handler {
            () => {
                tauri::generate_handler![$(crate::commands::$name),*]
            };
        }
        pub(crate) use invoke_handler;
    };
}

registered![
    session,
    login,
    logout,
    chats,
    messages,
    send,
    retry,
    discard,
    mark_read,
    view_chat,
    typing,
    draft,
    set_draft,
    available_tutors,
    students,
    create_chat,
    block,
    connection,
    limits,
    set_chat_settings,
    open_url,
    search,
    preferences,
    set_notifications,
    notification_permission,
    request_notification_permission,
    pick_file,
    inspect_file,
    stage_file,
    send_attachment,
    thumbnail,
    image_data,
    open_attachment,
];

#[cfg(test)]
mod tests {
    use tutorchat_shared::app::commands::NAMES;

    use super::*;

    #[test]
    fn every_shared_command_has_a_handler() {
        assert_eq!(REGISTERED, NAMES);
    }

    #[test]
    fn names_compare_byte_for_byte() {
        assert!(same_name("mark_read", "mark_read"));
        assert!(!same_name("mark_read", "mark_reads"));
        assert!(!same_name("login", "logon"));
    }
}
