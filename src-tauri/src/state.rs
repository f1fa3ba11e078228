//! The shell's managed state: its settings, the client core (replaced when the user signs in
//! to another server), the chat on screen, the task forwarding the core's events, and the
//! notifications shown.

use std::sync::Mutex as StdMutex;

use tauri::async_runtime::JoinHandle;
use tutorchat_client::{Client, ClientOptions};
use tutorchat_shared::ChatId;

use crate::config::{ShellConfig, DEFAULT_SERVER};
use crate::error::{CommandError, CommandResult};
use crate::notifications::Notifications;

#[derive(Debug)]
pub struct Shell {
    pub config: ShellConfig,
    /// A tokio mutex: signing in awaits the network while it holds the slot, so two sign-ins
    /// cannot interleave.
    client: tokio::sync::Mutex<Option<Client>>,
    /// A std mutex: read and written in a few instructions, never across `.await`.
    visible_chat: StdMutex<Option<ChatId>>,
    forwarder: StdMutex<Option<JoinHandle<()>>>,
    /// The notifications shown, to open or withdraw them.
    pub notifications: Notifications,
    /// Files the user chose (in the picker, by dropping them on the window, by pasting):
    /// the only paths the webview may have checked or sent, so a page that went wrong cannot
    /// send any other file of the user's.
    chosen: StdMutex<std::collections::HashSet<std::path::PathBuf>>,
}

impl Shell {
    pub fn new(config: ShellConfig) -> Self {
        Self {
            config,
            client: tokio::sync::Mutex::new(None),
            visible_chat: StdMutex::new(None),
            forwarder: StdMutex::new(None),
            notifications: Notifications::default(),
            chosen: StdMutex::default(),
        }
    }

    /// Remembers files the user chose.
    pub fn choose(&self, paths: impl IntoIterator<Item = std::path::PathBuf>) {
        self.chosen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(paths);
    }

    /// Whether the user chose this file.
    pub fn was_chosen(&self, path: &std::path::Path) -> bool {
        self.chosen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(path)
    }

    /// The client for the last server (resuming its session, if one is stored).
    pub async fn open_last(&self) -> CommandResult<Client> {
        let server = self
            .config
            .last_server()
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        Ok(self.open(&server).await?.0)
    }

    /// The client for `server`, reusing the open one if it is for the same server. Says
    /// whether it is a new one (whose events are not forwarded yet).
    pub async fn open(&self, server: &str) -> CommandResult<(Client, bool)> {
        let mut slot = self.client.lock().await;
        if let Some(client) = slot.as_ref() {
            if client_server(client) == normalize(server) {
                return Ok((client.clone(), false));
            }
            client.close().await;
        }
        let mut options = ClientOptions::new(normalize(server), &self.config.data_dir);
        options.credentials = self.config.credentials;
        options.extra_ca = self.config.extra_ca.clone();
        let client = Client::open(options).await?;
        self.config.remember_server(&normalize(server));
        *slot = Some(client.clone());
        Ok((client, true))
    }

    /// The open client, or `unauthorized`.
    pub async fn client(&self) -> CommandResult<Client> {
        self.client
            .lock()
            .await
            .clone()
            .ok_or_else(CommandError::not_signed_in)
    }

    pub fn set_visible_chat(&self, chat: Option<ChatId>) {
        *self.visible_chat.lock().unwrap_or_else(|p| p.into_inner()) = chat;
    }

    pub fn visible_chat(&self) -> Option<ChatId> {
        *self.visible_chat.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the event-forwarding task (one per client).
    pub fn set_forwarder(&self, task: JoinHandle<()>) {
        if let Some(old) = self
            .forwarder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }
}

fn normalize(server: &str) -> String {
    server.trim().trim_end_matches('/').to_owned()
}

fn client_server(client: &Client) -> String {
    client.server().to_owned()
}
