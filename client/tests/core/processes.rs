//! One process per data directory: a second one is refused clearly, or waits its turn, and
//! never spends the refresh token the first one holds.

use std::time::Duration;

use crate::harness::{cli, cli_command, said, signed_in, TestServer, PASSWORD, SAM};

#[tokio::test(flavor = "multi_thread")]
async fn a_second_process_on_the_same_data_directory_is_refused_clearly() {
    let server = TestServer::started(&[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let url = server.url();
    let sam = signed_in(&url, dir.path(), SAM).await;
    assert!(sam.wait_online(Duration::from_secs(10)).await);

    let second = cli(&url, dir.path(), &["--lock-wait", "1", "outbox"]);
    assert_eq!(second.status.code(), Some(4), "{}", said(&second));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another tutorchat process is using")
            && stderr.contains(&dir.path().display().to_string()),
        "{}",
        said(&second)
    );

    sam.close().await;
    let after = cli(&url, dir.path(), &["--lock-wait", "1", "outbox"]);
    assert!(after.status.success(), "free once closed: {}", said(&after));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_processes_started_together_on_one_data_directory_take_turns_and_stay_signed_in() {
    // Access tokens of 2 s: every start must refresh, so without turns they would all spend
    // the same refresh token and the server would revoke the session.
    let server = TestServer::started(&["--access-token-ttl-secs", "2"]).await;
    let dir = tempfile::tempdir().expect("dir");
    let url = server.url();
    let login = cli(
        &url,
        dir.path(),
        &["login", "--email", SAM, "--password", PASSWORD],
    );
    assert!(login.status.success(), "{}", said(&login));
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let children: Vec<_> = (0..3)
        .map(|_| {
            cli_command(
                &url,
                dir.path(),
                &["--lock-wait", "30", "sync", "--timeout", "15"],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("finished");
        assert!(output.status.success(), "{}", said(&output));
    }
    let again = cli(&url, dir.path(), &["sync", "--timeout", "15"]);
    assert!(again.status.success(), "still signed in: {}", said(&again));
}
