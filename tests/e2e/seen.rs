//! What the app shows is true: a message is marked read only while its chat is on screen in a
//! focused window; the chat on screen keeps its typing indicator after an outage; the composer
//! checks the limits the server published; a chat that is not the user's says so instead of
//! showing an empty conversation.
//!
//! The demo school's chat 1 is Sam (student) and Ada (tutor); Ada's last three messages
//! (seq 120–122) are unread by Sam.

use std::time::Duration;

use crate::app::App;
use crate::harness::{Display, ServerProc};

const ADAS_LAST: &str = ".message.own[data-seq='122']";

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_open_behind_another_window_sends_no_receipt_until_its_window_has_the_focus() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());
    let ada = App::launch(&display).await;
    let sam = App::launch(&display).await;
    ada.login(&server.url(), "ada@tutorchat.test").await;
    sam.login(&server.url(), "sam@tutorchat.test").await;

    ada.click("#nav-chats").await;
    ada.click("li.chat-item[data-chat-id='1']").await;
    ada.wait_for(
        &format!("{ADAS_LAST}[data-state='sent']"),
        "Ada's last message, not read yet",
    )
    .await;

    // Ada's window in front: Sam opens the chat in his window behind it.
    ada.focus(&display).await;
    sam.click("#nav-chats").await;
    sam.click("li.chat-item[data-chat-id='1']").await;
    sam.wait_for(
        ".message:not(.own)[data-seq='122']",
        "Sam's window shows Ada's messages",
    )
    .await;
    // Long enough for a receipt to have crossed the server several times over.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        ada.exists(&format!("{ADAS_LAST}[data-state='sent']")).await,
        "nobody looked at Sam's window, yet Ada sees her message read"
    );
    assert!(
        sam.exists("li.chat-item[data-chat-id='1'] .unread-badge")
            .await,
        "Sam's own list still counts the messages unread"
    );

    // Sam's window comes to the front: now he sees them.
    sam.focus(&display).await;
    ada.wait_for(
        &format!("{ADAS_LAST}[data-state='read']"),
        "the receipt once Sam's window has the focus",
    )
    .await;
    sam.wait_gone(
        "li.chat-item[data-chat-id='1'] .unread-badge",
        "Sam's unread badge clears",
    )
    .await;
    sam.close().await;
    ada.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_shows_again_after_an_outage_the_composer_keeps_the_servers_limit_and_a_foreign_chat_says_it_is_not_yours(
) {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let mut server = ServerProc::start_with(data.path(), &["--max-message-chars", "30"]);
    let ada = App::launch(&display).await;
    let sam = App::launch(&display).await;
    ada.login(&server.url(), "ada@tutorchat.test").await;
    sam.login(&server.url(), "sam@tutorchat.test").await;
    for app in [&ada, &sam] {
        app.click("#nav-chats").await;
        app.click("li.chat-item[data-chat-id='1']").await;
        app.wait_for("#chat-area", "the chat opens").await;
    }

    server.stop();
    for app in [&ada, &sam] {
        app.wait_for(
            "#connection-banner[data-state='reconnecting']",
            "the outage is noticed",
        )
        .await;
    }
    server.restart();
    for app in [&ada, &sam] {
        app.wait_for("#connection-banner[data-state='online']", "back online")
            .await;
    }
    ada.keys("textarea#message-input", "Are you still there")
        .await;
    sam.wait_for(
        "#typing-indicator",
        "Ada typing, after the outage, in the chat Sam kept open",
    )
    .await;

    // The server allows 30 characters, not the default 4,000: the composer says so.
    sam.type_into("textarea#message-input", &"x".repeat(31))
        .await;
    sam.wait_for("#char-counter.over", "the counter over the server's limit")
        .await;
    assert_eq!(sam.text("#char-counter").await.trim(), "31 / 30");
    assert!(
        sam.find("#send-button")
            .await
            .attr("disabled")
            .await
            .expect("attribute")
            .is_some(),
        "Send is off over the limit"
    );

    // A stale link to a chat that is not Sam's.
    sam.web
        .execute("location.hash = '#/chat/999'; return null;", vec![])
        .await
        .expect("navigate");
    sam.wait_for("#access-denied", "the access-denied screen")
        .await;
    assert!(sam.text("#access-denied").await.contains("isn't available"));
    assert!(
        !sam.exists("textarea#message-input").await,
        "no composer for a chat that is not his"
    );
    if let Some(dir) = crate::app::screenshot_dir() {
        sam.screenshot(&dir.join("access-denied.png")).await;
    }
    sam.click("#back-to-chats").await;
    sam.wait_for("li.chat-item[data-chat-id='1']", "back to his chats")
        .await;
    sam.close().await;
    ada.close().await;
}
