//! Sessions: an expired access token is refreshed without the user noticing; a revoked refresh
//! token ends the session cleanly (and the CLI says so at once); a session is restored after a
//! restart without spending the refresh token, and survives being killed at any moment.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use tutorchat_shared::app::{AppEvent, SessionEndReason};
use tutorchat_shared::{ErrorCode, MessageKind};

use crate::harness::{
    cli, cli_command, device, said, signed_in, stored_refresh_token, wait_event, TestServer, ADA,
    PASSWORD, SAM, SAM_ADA,
};

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

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_with_a_valid_access_token_does_not_spend_the_refresh_token() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let sam = signed_in(&server.url(), dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);
    sam.close().await;
    drop(sam);
    let issued = stored_refresh_token(dir.path());

    for _ in 0..3 {
        let again = device(&server.url(), dir.path()).await;
        assert!(again.wait_online(Duration::from_secs(10)).await);
        assert_eq!(
            again.available_tutors().await.expect("REST").courses.len(),
            2
        );
        again.close().await;
    }
    assert_eq!(
        stored_refresh_token(dir.path()),
        issued,
        "the kept access token was used; the refresh token was never spent"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_killed_again_and_again_while_starting_stays_signed_in() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let url = server.url();
    let login = cli(
        &url,
        dir.path(),
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));
    let issued = stored_refresh_token(dir.path());

    // SIGKILL at every moment of a start: reading the session, connecting, catching up.
    for round in 0..12u64 {
        let mut child = cli_command(&url, dir.path(), &["sync", "--timeout", "10"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        tokio::time::sleep(Duration::from_millis(round * 40)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }
    let synced = cli(&url, dir.path(), &["sync", "--timeout", "15"]);
    assert!(
        synced.status.success(),
        "still signed in: {}",
        said(&synced)
    );
    assert_eq!(
        stored_refresh_token(dir.path()),
        issued,
        "no start spent the refresh token, so no kill could lose its successor"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ended_session_says_sign_in_again_at_once_and_send_queues_until_then() {
    // Access tokens of 2 s: the kept one is stale, so a start must refresh.
    let server = TestServer::started(&["--access-token-ttl-secs", "2"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let url = server.url();
    let login = cli(
        &url,
        dir.path(),
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));
    let synced = cli(&url, dir.path(), &["sync", "--timeout", "10"]);
    assert!(synced.status.success(), "{}", said(&synced));
    // "Sign out everywhere" on the server.
    let logout = reqwest::Client::new()
        .post(format!("{url}/api/auth/logout"))
        .json(&json!({"refresh_token": stored_refresh_token(dir.path())}))
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status().as_u16(), 204);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let started = Instant::now();
    let sync = cli(&url, dir.path(), &["sync", "--timeout", "15"]);
    assert_eq!(sync.status.code(), Some(5), "{}", said(&sync));
    assert!(
        String::from_utf8_lossy(&sync.stderr).contains("signed out — sign in again"),
        "{}",
        said(&sync)
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "said at once, not after the timeout: {:?}",
        started.elapsed()
    );

    let send = cli(&url, dir.path(), &["send", "1", "written while signed out"]);
    assert_eq!(send.status.code(), Some(5), "{}", said(&send));
    assert!(
        String::from_utf8_lossy(&send.stdout).contains("until you sign in again"),
        "{}",
        said(&send)
    );
    let outbox = cli(&url, dir.path(), &["outbox"]);
    assert!(
        String::from_utf8_lossy(&outbox.stdout).contains("written while signed out"),
        "{}",
        said(&outbox)
    );

    let login = cli(
        &url,
        dir.path(),
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));
    let synced = cli(&url, dir.path(), &["sync", "--timeout", "15"]);
    assert!(synced.status.success(), "{}", said(&synced));
    let ada = server.token(ADA).await;
    assert_eq!(
        server.contents_after(&ada, 1, 122).await,
        ["written while signed out"],
        "delivered once after signing in again"
    );
}
