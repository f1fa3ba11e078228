//! Search over the history cached on the device: results from every chat with the words
//! marked, one chosen opens its chat at that message (loading the older history it needs);
//! a search from a chat's header stays in that chat. Settings: the server is remembered after
//! signing out, notifications can be turned off.

use crate::app::App;
use crate::harness::{Display, ServerProc};

#[tokio::test(flavor = "multi_thread")]
async fn a_search_result_opens_its_chat_at_the_message_and_settings_remember_the_server() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());
    let sam = App::launch(&display).await;
    sam.login(&server.url(), "sam@tutorchat.test").await;
    assert!(
        !sam.exists("#notification-prompt").await,
        "a desktop needs no permission to notify, so it never asks"
    );
    // The chat list syncs the whole chat into the cache.
    sam.click("#nav-chats").await;
    sam.wait_for("li.chat-item[data-chat-id='1']", "Sam's chats")
        .await;

    sam.click("#nav-search").await;
    sam.type_into("#search-input", "borrow checker").await;
    sam.wait_for(
        "li.search-result[data-chat-id='1'][data-seq='122']",
        "Ada's message about the borrow checker",
    )
    .await;
    let marked = sam
        .web
        .execute(
            "return Array.from(document.querySelectorAll('li.search-result[data-seq=\"122\"] mark')).map(m => m.textContent);",
            vec![],
        )
        .await
        .expect("marks");
    assert_eq!(marked, serde_json::json!(["borrow", "checker"]));
    if let Some(dir) = crate::app::screenshot_dir() {
        sam.screenshot(&dir.join("search.png")).await;
    }

    // A message far above the newest page: its chat opens there.
    sam.type_into("#search-input", "Question 3 about").await;
    sam.wait_for("li.search-result[data-seq='5']", "the old question")
        .await;
    assert_eq!(sam.count("li.search-result").await, 1, "only that one");
    sam.click("li.search-result[data-seq='5'] button").await;
    sam.wait_for(
        "#chat-area[data-chat-id='1'] .message[data-seq='5']",
        "the chat opens with the message loaded",
    )
    .await;
    let in_view = sam
        .web
        .execute(
            "const m = document.querySelector('.message[data-seq=\"5\"]').getBoundingClientRect();
             const l = document.querySelector('#message-list').getBoundingClientRect();
             return m.top >= l.top && m.bottom <= l.bottom;",
            vec![],
        )
        .await
        .expect("geometry");
    assert_eq!(in_view, serde_json::json!(true), "scrolled to the message");

    // From the chat's header, a search stays within the chat.
    sam.click("#search-in-chat").await;
    sam.wait_for("#search-input", "the search screen").await;
    assert!(sam
        .text(".search-page .page-header")
        .await
        .contains("Search your conversation with Ada Lovelace"));

    // Settings: notifications off, then sign out: the server is still filled in.
    sam.click("#nav-settings").await;
    sam.wait_for("#settings-server", "the settings screen")
        .await;
    assert_eq!(sam.text("#settings-server").await, server.url());
    assert!(sam.text("#app-version").await.starts_with('0'));
    sam.click("#notifications-toggle").await;
    let deadline = std::time::Instant::now() + crate::app::WAIT;
    while sam
        .find("#notifications-toggle")
        .await
        .prop("checked")
        .await
        .expect("checked")
        .as_deref()
        != Some("false")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "notifications stay on"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if let Some(dir) = crate::app::screenshot_dir() {
        sam.screenshot(&dir.join("settings.png")).await;
    }
    sam.click("#settings-logout").await;
    sam.wait_for("input#server", "the sign-in screen").await;
    let deadline = std::time::Instant::now() + crate::app::WAIT;
    loop {
        let value = sam
            .find("input#server")
            .await
            .prop("value")
            .await
            .expect("value");
        if value.as_deref() == Some(server.url().as_str()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server was forgotten: {value:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    sam.close().await;
}
