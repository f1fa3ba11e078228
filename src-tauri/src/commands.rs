//! The commands the webview invokes: each translates its argument struct (from
//! `tutorchat_shared::app::commands`) into one client-core call. No rules live here.

use tauri::{AppHandle, State};
use tutorchat_shared::api::{BlockStatus, ContactsByCourse, UserProfile};
use tutorchat_shared::app::commands::{
    BlockArgs, ChatArgs, CreateChatArgs, DraftArgs, LoginArgs, MessagesArgs, OutboxArgs, ReadArgs,
    SendArgs, StudentsArgs, TypingArgs, ViewArgs,
};
use tutorchat_shared::app::{ChatItem, ChatPage, ConnectionState, LocalMessage};

use crate::error::CommandResult;
use crate::events;
use crate::state::Shell;

#[tauri::command]
pub async fn session(shell: State<'_, Shell>) -> CommandResult<Option<UserProfile>> {
    match shell.client().await {
        Ok(client) => Ok(client.me().await),
        Err(_) => Ok(None),
    }
}

#[tauri::command]
pub async fn login(
    app: AppHandle,
    shell: State<'_, Shell>,
    args: LoginArgs,
) -> CommandResult<UserProfile> {
    let (client, new) = shell.open(&args.server).await?;
    if new {
        // Before signing in, so the first connection events reach the webview.
        events::start_forwarding(&app, &shell, client.clone());
    }
    Ok(client.login(&args.email, &args.password).await?)
}

#[tauri::command]
pub async fn logout(shell: State<'_, Shell>) -> CommandResult<()> {
    Ok(shell.client().await?.logout(true).await?)
}

#[tauri::command]
pub async fn chats(shell: State<'_, Shell>) -> CommandResult<Vec<ChatItem>> {
    Ok(shell.client().await?.chats().await?)
}

#[tauri::command]
pub async fn messages(shell: State<'_, Shell>, args: MessagesArgs) -> CommandResult<ChatPage> {
    Ok(shell
        .client()
        .await?
        .messages(args.chat_id, args.before_seq, args.limit)
        .await?)
}

#[tauri::command]
pub async fn send(shell: State<'_, Shell>, args: SendArgs) -> CommandResult<LocalMessage> {
    Ok(shell
        .client()
        .await?
        .send(args.chat_id, args.kind, &args.content)
        .await?)
}

#[tauri::command]
pub async fn retry(shell: State<'_, Shell>, args: OutboxArgs) -> CommandResult<bool> {
    Ok(shell.client().await?.retry(&args.client_id).await?)
}

#[tauri::command]
pub async fn discard(shell: State<'_, Shell>, args: OutboxArgs) -> CommandResult<bool> {
    Ok(shell.client().await?.discard(&args.client_id).await?)
}

#[tauri::command]
pub async fn mark_read(shell: State<'_, Shell>, args: ReadArgs) -> CommandResult<()> {
    Ok(shell
        .client()
        .await?
        .mark_read(args.chat_id, args.up_to_seq)
        .await?)
}

#[tauri::command]
pub async fn view_chat(shell: State<'_, Shell>, args: ViewArgs) -> CommandResult<()> {
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
}

#[tauri::command]
pub async fn typing(shell: State<'_, Shell>, args: TypingArgs) -> CommandResult<()> {
    Ok(shell
        .client()
        .await?
        .typing(args.chat_id, args.typing)
        .await?)
}

#[tauri::command]
pub async fn draft(shell: State<'_, Shell>, args: ChatArgs) -> CommandResult<Option<String>> {
    Ok(shell.client().await?.draft(args.chat_id).await?)
}

#[tauri::command]
pub async fn set_draft(shell: State<'_, Shell>, args: DraftArgs) -> CommandResult<()> {
    Ok(shell
        .client()
        .await?
        .set_draft(args.chat_id, &args.text)
        .await?)
}

#[tauri::command]
pub async fn available_tutors(shell: State<'_, Shell>) -> CommandResult<ContactsByCourse> {
    Ok(shell.client().await?.available_tutors().await?)
}

#[tauri::command]
pub async fn students(
    shell: State<'_, Shell>,
    args: StudentsArgs,
) -> CommandResult<ContactsByCourse> {
    Ok(shell
        .client()
        .await?
        .students(args.course_id.as_ref())
        .await?)
}

#[tauri::command]
pub async fn create_chat(shell: State<'_, Shell>, args: CreateChatArgs) -> CommandResult<ChatItem> {
    Ok(shell
        .client()
        .await?
        .create_chat(&args.course_id, &args.with)
        .await?)
}

#[tauri::command]
pub async fn block(shell: State<'_, Shell>, args: BlockArgs) -> CommandResult<BlockStatus> {
    Ok(shell
        .client()
        .await?
        .block(&args.user_id, args.blocked)
        .await?)
}

#[tauri::command]
pub async fn connection(shell: State<'_, Shell>) -> CommandResult<ConnectionState> {
    match shell.client().await {
        Ok(client) => Ok(client.connection_state().await),
        Err(_) => Ok(ConnectionState::Offline),
    }
}
