//! A student and a tutor, each in their own app instance, chat through a real server: the
//! student starts the chat from the tutor list, messages go both ways with typing and read
//! ticks, the tutor's badge, title and desktop notifications follow, and a message written
//! while the server is down is delivered once when it returns.

use std::time::Duration;

use crate::app::{App, ENTER};
use crate::harness::{window_titles, Display, ServerProc};

#[tokio::test(flavor = "multi_thread")]
async fn a_student_and_a_tutor_chat_through_outages_with_ticks_badges_and_notifications() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let mut server = ServerProc::start(data.path());

    let tutor = App::launch(&display).await;
    let student = App::launch(&display).await;
    tutor.login(&server.url(), "alan@tutorchat.test").await;
    student.login(&server.url(), "sam@tutorchat.test").await;

    // The student picks Alan from the tutors of rust-101 and starts the chat.
    student.click("#nav-tutors").await;
    student
        .click("button.start-chat[data-course-id='rust-101'][data-tutor-id='t-alan']")
        .await;
    student.wait_for("#chat-area", "the new chat opens").await;
    student
        .type_into(
            "textarea#message-input",
            "Hello Alan, a question about traits",
        )
        .await;
    student.keys("textarea#message-input", ENTER).await;
    student
        .wait_for(
            ".message.own[data-state='sent']",
            "the student's message is acknowledged",
        )
        .await;

    // The tutor is not looking at that chat: badge, title, notification.
    tutor.click("#nav-chats").await;
    tutor
        .wait_for("li.chat-item .unread-badge", "the tutor's unread badge")
        .await;
    assert_eq!(tutor.text("li.chat-item .unread-badge").await.trim(), "1");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !window_titles(&display).iter().any(|t| t == "(1) Tutorchat") {
        assert!(
            std::time::Instant::now() < deadline,
            "window titles: {:?}",
            window_titles(&display)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tutor
        .wait_notification("Sam Student · Rust from Zero")
        .await;

    // The tutor opens the chat in her focused window: the student's tick turns to read, the
    // badge goes.
    tutor.focus(&display).await;
    tutor.click("li.chat-item").await;
    tutor
        .wait_for(
            ".message:not(.own) .message-text",
            "the tutor sees the message",
        )
        .await;
    assert_eq!(
        tutor.text(".message:not(.own) .message-text").await,
        "Hello Alan, a question about traits"
    );
    student
        .wait_for(".message.own[data-state='read']", "the read tick")
        .await;
    tutor.click("#nav-chats").await;
    tutor
        .wait_gone("li.chat-item .unread-badge", "the badge clears")
        .await;
    tutor.click("li.chat-item").await;

    // Typing shows on the other side; the reply arrives. The student's window has the focus
    // and the chat on screen, so the reply does not notify there.
    student.focus(&display).await;
    tutor.keys("textarea#message-input", "Sure, ask away").await;
    student
        .wait_for("#typing-indicator", "the typing indicator")
        .await;
    assert!(student.text("#typing-indicator").await.contains("typing"));
    tutor.keys("textarea#message-input", ENTER).await;
    student.wait_for(".message:not(.own)", "the reply").await;
    assert_eq!(
        student.text(".message:not(.own) .message-text").await,
        "Sure, ask away"
    );

    // The server goes away; the student writes anyway.
    server.stop();
    student
        .wait_for(
            "#connection-banner[data-state='reconnecting']",
            "the offline banner",
        )
        .await;
    student
        .type_into(
            "textarea#message-input",
            "Written while the server was down",
        )
        .await;
    student.keys("textarea#message-input", ENTER).await;
    student
        .wait_for(".message.own[data-state='pending']", "the pending message")
        .await;

    server.restart();
    student
        .wait_gone(
            ".message.own[data-state='pending']",
            "the pending message is delivered",
        )
        .await;
    tutor
        .wait_for(".message:not(.own)[data-seq='3']", "the tutor gets it")
        .await;
    let copies = tutor
        .web
        .execute(
            "return Array.from(document.querySelectorAll('.message-text')).filter(e => e.textContent === arguments[0]).length;",
            vec![serde_json::json!("Written while the server was down")],
        )
        .await
        .expect("count copies");
    assert_eq!(copies, serde_json::json!(1), "delivered exactly once");

    if let Some(dir) = crate::app::screenshot_dir() {
        student.screenshot(&dir.join("conversation.png")).await;
    }
    // The student's focused window had the chat on screen when Alan's reply came: no
    // notification. The tutor's window, without the focus, got one even with the chat open.
    assert!(
        !student.bus.notifications().contains("Alan Turing"),
        "no notification for the chat on screen in the focused window:\n{}",
        student.bus.notifications()
    );
    assert!(tutor
        .bus
        .notifications()
        .contains("Written while the server was down"));
    student.close().await;
    tutor.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tutor_sees_badges_and_a_phone_width_window_shows_list_and_chat_as_separate_screens() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());
    let ada = App::launch(&display).await;
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.wait_for("input#server", "the login screen").await;
        ada.type_into("input#email", "ada@tutorchat.test").await;
        ada.screenshot(&dir.join("login.png")).await;
    }
    ada.login(&server.url(), "ada@tutorchat.test").await;
    ada.click("#nav-chats").await;
    // The demo school: Sam's chat has 3 unread for Sam, none for Ada; Maya wrote twice.
    ada.wait_for("li.chat-item .unread-badge", "Ada's unread badge")
        .await;
    assert_eq!(ada.text("li.chat-item .unread-badge").await.trim(), "2");
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.screenshot(&dir.join("tutor-inbox.png")).await;
    }

    ada.web
        .set_window_size(390, 800)
        .await
        .expect("a phone-sized window");
    ada.wait_gone("#chat-area", "no chat open yet at phone width")
        .await;
    ada.click("li.chat-item").await;
    ada.wait_for("#chat-area", "the chat opens as its own screen")
        .await;
    ada.wait_for("button#back", "a back button").await;
    assert!(
        !ada.exists("li.chat-item").await,
        "the list is hidden while the chat is shown"
    );
    if let Some(dir) = crate::app::screenshot_dir() {
        ada.screenshot(&dir.join("phone.png")).await;
    }
    ada.click("button#back").await;
    ada.wait_for("li.chat-item", "back to the list").await;
    assert!(!ada.exists("#chat-area").await);

    // Wide again, the long chat with Sam open at its newest message; narrowing the window to
    // a phone's width keeps it there (narrow text wraps onto more lines under it).
    ada.web
        .set_window_size(1280, 800)
        .await
        .expect("a desktop-sized window");
    ada.click("li.chat-item[data-chat-id='1']").await;
    ada.wait_for(".message[data-seq='122']", "the newest message")
        .await;
    ada.web
        .set_window_size(390, 800)
        .await
        .expect("a phone-sized window");
    // The window settles at its new size within a rendering update or two.
    let deadline = std::time::Instant::now() + crate::app::WAIT;
    loop {
        let placed = ada
            .web
            .execute(
                "const l = document.querySelector('#message-list');
                 return [l.scrollHeight - l.scrollTop - l.clientHeight, !!document.querySelector('#jump-latest')];",
                vec![],
            )
            .await
            .expect("scroll position");
        let from_bottom = placed[0].as_f64().expect("a distance");
        if from_bottom < 80.0 || placed[1] == true {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "left {from_bottom} px above the newest message with no way back: {placed}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The composer grows with a long line (wrapped, no newline) and shrinks when it is sent
    // or cleared.
    let measure = || async {
        ada.web
            .execute(
                "return document.querySelector('textarea#message-input').offsetHeight;",
                vec![],
            )
            .await
            .expect("height")
            .as_f64()
            .expect("a number")
    };
    let one_line = measure().await;
    ada.type_into("textarea#message-input", &"word ".repeat(60))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let grown = measure().await;
    assert!(grown > one_line * 2.0, "{one_line} → {grown}");
    ada.find("textarea#message-input")
        .await
        .clear()
        .await
        .expect("clear");
    ada.keys("textarea#message-input", "x").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(measure().await < grown, "shrinks again");
    ada.close().await;
}
