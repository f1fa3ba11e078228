//! The user's own view of a conversation, from its header: mute (no notification, a muted
//! marker, still unread), archive (and back by itself when a message arrives), block and
//! unblock with confirmation (the composer gives way to a notice); a purchase that ended
//! turns the chat read-only with a way to buy again; a deep link to a course not bought
//! offers it.

use std::time::Duration;

use serde_json::json;

use crate::app::App;
use crate::harness::{Display, ServerProc};

/// Sam writes in chat 1 through the REST API, as another device of his would.
async fn sam_writes(server: &ServerProc, client_id: &str, text: &str) {
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/api/auth/login", server.url()))
        .json(&json!({"email": "sam@tutorchat.test", "password": "tutorchat-demo"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("tokens");
    let token = login["access_token"].as_str().expect("token");
    let sent = http
        .post(format!("{}/api/chats/1/messages", server.url()))
        .bearer_auth(token)
        .json(&json!({"client_id": client_id, "content": text}))
        .send()
        .await
        .expect("send");
    assert!(sent.status().is_success(), "{}", sent.status());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tutor_mutes_archives_blocks_and_unblocks_from_the_chat_header() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());
    let ada = App::launch(&display).await;
    ada.login(&server.url(), "ada@tutorchat.test").await;
    ada.click("#nav-chats").await;
    ada.click("li.chat-item[data-chat-id='1']").await;
    ada.wait_for("#chat-area", "the chat opens").await;

    // Mute.
    ada.click("#chat-menu-button").await;
    ada.wait_for("#chat-menu", "the conversation's menu").await;
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.screenshot(&dir.join("chat-menu.png")).await;
    }
    ada.click("#mute-chat").await;
    ada.wait_for("#muted-indicator", "the header shows it muted")
        .await;
    ada.wait_for("li.chat-item.muted[data-chat-id='1']", "so does the list")
        .await;

    // Archive: the chat moves to the Archived section; Sam's next message brings it back,
    // and the muted chat does not notify.
    ada.click("#chat-menu-button").await;
    ada.click("#archive-chat").await;
    ada.wait_for(
        "#archived-chats li.chat-item[data-chat-id='1']",
        "the chat in the Archived section",
    )
    .await;
    assert!(ada.text("#archived-toggle").await.contains("Archived (1)"));
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.screenshot(&dir.join("archived.png")).await;
    }
    sam_writes(&server, "e2e-while-archived", "Back with a question").await;
    ada.wait_for(
        ".message:not(.own) .message-text",
        "Sam's message in the open chat",
    )
    .await;
    ada.wait_gone("#archived-toggle", "the chat left the archive by itself")
        .await;
    assert!(ada.exists("li.chat-item[data-chat-id='1']").await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !ada.bus.notifications().contains("Back with a question"),
        "a muted chat does not notify:\n{}",
        ada.bus.notifications()
    );

    // Block, confirmed: the composer gives way to a notice.
    ada.click("#chat-menu-button").await;
    ada.click("#block-user").await;
    ada.wait_for("#confirm-dialog", "a confirmation").await;
    assert!(ada
        .text("#confirm-title")
        .await
        .contains("Block Sam Student?"));
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.screenshot(&dir.join("block-confirm.png")).await;
    }
    ada.click("#confirm-yes").await;
    ada.wait_for("#blocked-badge", "the header says blocked")
        .await;
    ada.wait_for("#blocked-notice", "the notice instead of the composer")
        .await;
    assert!(!ada.exists("textarea#message-input").await);
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.screenshot(&dir.join("blocked.png")).await;
    }

    // Cancelling the unblock changes nothing; confirming it restores the composer.
    ada.click("#chat-menu-button").await;
    ada.click("#block-user").await;
    ada.click("#confirm-cancel").await;
    ada.wait_gone("#confirm-dialog", "the dialog closes").await;
    assert!(ada.exists("#blocked-badge").await, "still blocked");
    ada.click("#chat-menu-button").await;
    ada.click("#block-user").await;
    ada.click("#confirm-yes").await;
    ada.wait_gone("#blocked-badge", "unblocked").await;
    ada.wait_for("textarea#message-input", "the composer is back")
        .await;
    ada.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_student_whose_purchase_ended_reads_but_cannot_write_and_a_link_to_an_unbought_course_offers_it(
) {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());
    let sam = App::launch(&display).await;
    sam.login(&server.url(), "sam@tutorchat.test").await;
    sam.click("#nav-chats").await;
    sam.click("li.chat-item[data-chat-id='1']").await;
    sam.wait_for("textarea#message-input", "Sam can write")
        .await;

    // The platform revokes Sam's purchase of rust-101.
    let revoked = reqwest::Client::new()
        .delete(format!(
            "{}/api/admin/enrollments/rust-101/s-sam",
            server.url()
        ))
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .expect("revoke");
    assert!(revoked.status().is_success(), "{}", revoked.status());
    sam.wait_for(
        "#read-only-banner[data-reason='enrollment_ended']",
        "the chat turns read-only",
    )
    .await;
    assert!(sam
        .text("#read-only-banner")
        .await
        .contains("Your purchase of Rust from Zero has ended"));
    assert!(sam.exists("#read-only-banner #buy-course").await);
    assert!(!sam.exists("textarea#message-input").await);
    assert!(
        sam.exists(".message[data-seq='122']").await,
        "the history stays readable"
    );
    if let Some(dir) = crate::app::screenshot_dir() {
        sam.screenshot(&dir.join("read-only.png")).await;
    }

    // A link to chat with the tutor of a course Sam never bought.
    sam.open_link(&display, "tutorchat://chat?course=ml-401&with=t-grace")
        .await;
    sam.wait_for("#upgrade-prompt[data-course-id='ml-401']", "the offer")
        .await;
    assert!(sam
        .text("#upgrade-prompt")
        .await
        .contains("Buy Machine Learning Basics to chat with its tutors"));
    assert!(sam.exists("#upgrade-prompt #buy-course").await);
    if let Some(dir) = crate::app::screenshot_dir() {
        sam.screenshot(&dir.join("upgrade.png")).await;
    }
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn clicking_a_notification_opens_its_chat_and_reading_it_on_another_device_withdraws_it() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());
    // Ada on two devices: her desktop and her laptop.
    let desk = App::launch(&display).await;
    let laptop = App::launch(&display).await;
    desk.login(&server.url(), "ada@tutorchat.test").await;
    laptop.login(&server.url(), "ada@tutorchat.test").await;
    for app in [&desk, &laptop] {
        app.click("#nav-chats").await;
        app.wait_for("li.chat-item[data-chat-id='1']", "Ada's chats")
            .await;
    }

    // Sam writes; neither device has the chat open, so both notify.
    sam_writes(&server, "e2e-notify-1", "A question about lifetimes").await;
    desk.wait_notification("A question about lifetimes").await;
    laptop.wait_notification("A question about lifetimes").await;

    // On the desktop, clicking the notification opens that chat.
    desk.bus.click_notification();
    desk.wait_for(
        "#chat-area[data-chat-id='1']",
        "the clicked notification opens its chat",
    )
    .await;

    // Sam writes again while the laptop's window is in front; the laptop reads it there, and
    // the desktop's notification for it is withdrawn.
    desk.click("#nav-chats").await;
    desk.wait_gone("#chat-area", "the desktop back on its list")
        .await;
    laptop.click("#nav-chats").await;
    laptop.focus(&display).await;
    sam_writes(&server, "e2e-notify-2", "And one about traits").await;
    desk.wait_notification("And one about traits").await;
    let closes_before = desk
        .bus
        .notifications()
        .matches("member=CloseNotification")
        .count();
    laptop.click("li.chat-item[data-chat-id='1']").await;
    let deadline = std::time::Instant::now() + crate::app::WAIT;
    while desk
        .bus
        .notifications()
        .matches("member=CloseNotification")
        .count()
        <= closes_before
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the desktop never withdrew the notification:\n{}",
            desk.bus.notifications()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    desk.close().await;
    laptop.close().await;
}
