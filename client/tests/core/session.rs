//! Sessions: an expired access token is refreshed without the user noticing; a revoked refresh
//! token ends the session cleanly; a session is restored after a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tutorchat_shared::app::{AppEvent, SessionEndReason};
use tutorchat_shared::{ErrorCode, MessageKind};

use crate::harness::{device, signed_in, wait_event, TestServer, SAM, SAM_ADA};

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_is_refreshed_without_the_user_noticing() {
    let server = TestServer::started(&["--access-token-ttl-secs", "2"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    // REST after the expiry works: the client refreshed on its own.
    let tutors = sam
        .available_tutors()
        .await
        .expect("REST across the expiry");
    assert_eq!(tutors.courses.len(), 2);
    // And the socket came back after the server closed it for the expired token.
    let mut events = sam.events();
    sam.send(SAM_ADA, MessageKind::Text, "after the expiry")
        .await
        .expect("queued");
    wait_event(&mut events, "the ack after reconnecting", |e| {
        matches!(e, AppEvent::MessageUpserted { message } if message.content == "after the expiry" && message.seq.is_some())
    })
    .await;
    sam.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_refresh_token_ends_the_session_cleanly() {
    let server = TestServer::started(&["--access-token-ttl-secs", "2"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    let mut events = sam.events();
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    // Revoke the session on the server, as a "sign out everywhere" would.
    let token_file = std::fs::read_dir(dir.path().join("accounts"))
        .expect("accounts")
        .filter_map(Result::ok)
        .map(|e| e.path().join("refresh-token"))
        .find(|p| p.exists())
        .expect("the file store holds the token");
    let refresh = std::fs::read_to_string(token_file).expect("token");
    let logout = reqwest::Client::new()
        .post(format!("{}/api/auth/logout", server.url()))
        .json(&json!({"refresh_token": refresh.trim()}))
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status().as_u16(), 204);

    wait_event(&mut events, "the session to end", |e| {
        matches!(
            e,
            AppEvent::SessionEnded {
                reason: SessionEndReason::Expired
            }
        )
    })
    .await;
    let err = sam
        .available_tutors()
        .await
        .expect_err("no session any more");
    assert_eq!(err.code(), ErrorCode::InvalidRefreshToken);
    sam.close().await;
    drop(sam);
    let reopened = device(&server.url(), dir.path()).await;
    let err = reopened
        .available_tutors()
        .await
        .expect_err("the token is gone");
    assert!(
        matches!(
            err.code(),
            ErrorCode::InvalidRefreshToken | ErrorCode::Unauthorized
        ),
        "{err}"
    );
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_restored_after_a_restart_and_logout_forgets_it() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    sam.close().await;
    drop(sam);
    let again = device(&server.url(), dir.path()).await;
    assert_eq!(again.me().await.map(|u| u.email), Some(SAM.to_owned()));
    assert!(again.wait_online(Duration::from_secs(10)).await);
    let page = server
        .rest(Method::GET, "/api/me", "not-a-token", None)
        .await;
    assert_eq!(page["code"], "invalid_token");
    again.logout(false).await.expect("logout");
    assert!(again.me().await.is_none());
    let fresh = device(&server.url(), dir.path()).await;
    assert!(fresh.me().await.is_none(), "signed out for good");
}
