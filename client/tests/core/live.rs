//! What lives with a connection on the server — who views which chat — survives the
//! connection on the client: the chat on screen is joined again on every connection, so typing
//! keeps arriving after an outage, and a chat opened before the first connection works.

use tokio::sync::broadcast::Receiver;
use tutorchat_client::Client;
use tutorchat_shared::app::{AppEvent, ConnectionState};

use crate::harness::{device, signed_in, wait_event, TestServer, ADA, SAM, SAM_ADA, WAIT};

/// Ada types in the Sam–Ada chat until Sam's device hears it. Typing frames only go to the
/// chat's viewers, so this fails unless Sam's connection has joined the chat; Ada repeats
/// because her own typing frame is dropped while she is still reconnecting.
async fn sam_sees_ada_typing(ada: &Client, sam_events: &mut Receiver<AppEvent>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        ada.typing(SAM_ADA, true).await.expect("typing");
        let seen = tokio::time::timeout(std::time::Duration::from_millis(500), async {
            loop {
                match sam_events.recv().await {
                    Ok(AppEvent::Typing {
                        chat_id,
                        typing: true,
                        ..
                    }) if chat_id == SAM_ADA => return,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("event stream ended: {e}"),
                }
            }
        })
        .await;
        if seen.is_ok() {
            ada.typing(SAM_ADA, false).await.expect("typing stops");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Sam never saw Ada typing in the chat on his screen"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_keeps_arriving_for_the_chat_on_screen_after_an_outage() {
    let mut server = TestServer::started(&[]).await;
    let (sam_dir, ada_dir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let sam = signed_in(&server.url(), sam_dir.path(), SAM).await;
    let ada = signed_in(&server.url(), ada_dir.path(), ADA).await;
    assert!(sam.wait_online(WAIT).await && ada.wait_online(WAIT).await);
    let mut events = sam.events();
    sam.view_chat(SAM_ADA, true).await.expect("view");
    sam_sees_ada_typing(&ada, &mut events).await;

    server.stop().await;
    wait_event(&mut events, "the outage", |e| {
        matches!(
            e,
            AppEvent::Connection {
                state: ConnectionState::Reconnecting { .. }
            }
        )
    })
    .await;
    server.start().await;
    assert!(sam.wait_online(WAIT).await && ada.wait_online(WAIT).await);
    sam_sees_ada_typing(&ada, &mut events).await;
    sam.close().await;
    ada.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chat_opened_before_the_first_connection_is_joined_once_connected() {
    let mut server = TestServer::started(&[]).await;
    let (sam_dir, ada_dir) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    signed_in(&server.url(), sam_dir.path(), SAM)
        .await
        .close()
        .await;
    server.stop().await;

    // The app starts with the server away and the user opens the chat from the cache.
    let sam = device(&server.url(), sam_dir.path()).await;
    let mut events = sam.events();
    sam.view_chat(SAM_ADA, true)
        .await
        .expect("view while offline");

    server.start().await;
    let ada = signed_in(&server.url(), ada_dir.path(), ADA).await;
    assert!(sam.wait_online(WAIT).await && ada.wait_online(WAIT).await);
    sam_sees_ada_typing(&ada, &mut events).await;
    sam.close().await;
    ada.close().await;
}
