//! The server as a whole: data survives a restart, health and OpenAPI, TLS, and the real binary
//! (the README walkthrough, SIGTERM, the `import` subcommand).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tutorchat_shared::api::{ContactsByCourse, CreateChatResponse, Health, MessagePage};

use crate::testing::{
    self, mint, new_user, Reply, ServerProcess, TestServer, ADA, JWT_SECRET, SAM, SAM_ADA_CHAT,
    SAM_ADA_MESSAGES,
};

#[tokio::test]
async fn data_survives_a_restart() {
    let mut ts = TestServer::start().await;
    let sam = ts.login(SAM).await;
    let sent = ts
        .send(
            &sam.access_token,
            SAM_ADA_CHAT,
            "before-restart",
            "Persist me",
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.body);
    let ada = ts.token(ADA).await;
    ts.mark_read(&ada, SAM_ADA_CHAT, SAM_ADA_MESSAGES + 1)
        .await
        .assert_ok();
    let base_before = ts.base.clone();

    ts.restart().await;
    assert_ne!(ts.base, base_before, "a new listener on a new port");

    // Access tokens stay valid (same secret), the message and both pointers are there.
    let page: MessagePage = ts
        .page(&sam.access_token, SAM_ADA_CHAT, "limit=2")
        .await
        .json();
    assert_eq!(page.last_seq, SAM_ADA_MESSAGES + 1);
    let last = &page.messages.last().expect("messages").message;
    assert_eq!(
        (last.client_id.as_str(), last.content.as_str()),
        ("before-restart", "Persist me")
    );
    assert!(
        page.messages.last().is_some_and(|v| v.read),
        "Ada's read pointer survived"
    );
    let pointer = |user: &str| {
        page.read_pointers
            .iter()
            .find(|p| p.user_id.as_str() == user)
            .map(|p| p.up_to_seq)
    };
    assert_eq!(pointer("t-ada"), Some(SAM_ADA_MESSAGES + 1));
    assert_eq!(pointer("s-sam"), Some(SAM_ADA_MESSAGES + 1));

    // The demo school is not seeded twice; logins and refresh tokens still work.
    let again = ts
        .send(
            &sam.access_token,
            SAM_ADA_CHAT,
            "before-restart",
            "Persist me",
        )
        .await;
    assert_eq!(again.body["duplicate"], true, "the dedup key survived");
    ts.login(SAM).await;
    ts.refresh(&sam.refresh_token).await.assert_ok();
    assert_eq!(ts.audit("login_ok").await.len(), 3);
}

#[tokio::test]
async fn generated_jwt_secret_is_kept_private_and_reused_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = testing::config(dir.path(), &[]);
    config.jwt_secret = None;
    let server = tutorchat_server::Server::start(config.clone())
        .await
        .expect("starts");
    let secret_file = dir.path().join("jwt-secret");
    let secret = std::fs::read_to_string(&secret_file).expect("secret kept in the data directory");
    assert!(secret.trim().len() >= 32, "a long random secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }

    // The platform can mint with it (single sign-on), and it outlives a restart.
    let http = reqwest::Client::new();
    let me = |base: String, token: String| {
        let request = http.get(format!("{base}/api/me")).bearer_auth(token).send();
        async move { Reply::from_response(request.await.expect("request")).await }
    };
    let sso = mint(secret.trim(), "s-sam", "student", 600);
    me(server.base_url(), sso.clone()).await.assert_ok();
    me(server.base_url(), mint(JWT_SECRET, "s-sam", "student", 600))
        .await
        .assert_error(401, "invalid_token");
    server.shutdown().await.expect("shutdown");

    let server = tutorchat_server::Server::start(config)
        .await
        .expect("restarts");
    me(server.base_url(), sso).await.assert_ok();
    assert_eq!(
        std::fs::read_to_string(&secret_file).expect("secret"),
        secret,
        "not regenerated"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn health_answers_ok() {
    let ts = TestServer::start().await;
    let reply = ts.anonymous(Method::GET, "/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let health: Health = reply.json();
    assert_eq!(health.status, "ok");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn openapi_document_lists_every_path() {
    let ts = TestServer::start().await;
    let reply = ts.anonymous(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let paths = reply.body["paths"].as_object().expect("paths");
    for path in [
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/me",
        "/api/chats",
        "/api/chats/{id}",
        "/api/chats/{id}/messages",
        "/api/chats/{id}/read",
        "/api/users/available-tutors",
        "/api/tutors/students",
        "/api/users/{id}/block",
        "/api/admin/users",
        "/api/admin/courses",
        "/api/admin/enrollments",
        "/api/admin/enrollments/{course_id}/{student_id}",
        "/api/admin/import",
        "/api/admin/audit",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
    }
    let chats = &paths["/api/chats"];
    assert!(chats.get("get").is_some() && chats.get("post").is_some());
    let block = &paths["/api/users/{id}/block"];
    assert!(block.get("post").is_some() && block.get("delete").is_some());
    assert!(reply.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn tls_serves_https_with_the_given_certificate() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
    let pems = tempfile::tempdir().expect("temp dir");
    let (cert, key) = (pems.path().join("cert.pem"), pems.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).expect("write cert");
    std::fs::write(&key, certified.key_pair.serialize_pem()).expect("write key");
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());

    let mut ts = TestServer::start_with(&["--tls-cert", &cert_arg, "--tls-key", &key_arg]).await;
    assert!(ts.base.starts_with("https://"), "{}", ts.base);
    let server_url = ts.server.as_ref().map(|s| s.base_url());
    assert_eq!(server_url.as_deref(), Some(ts.base.as_str()));

    // A client that does not trust the certificate cannot connect.
    assert!(
        ts.http.get(ts.url("/healthz")).send().await.is_err(),
        "untrusted certificate"
    );

    let root = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).expect("PEM");
    ts.http = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .expect("client");
    let reply = ts.anonymous(Method::GET, "/healthz", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["status"], "ok");
    let sam = ts.token(SAM).await;
    ts.page(&sam, SAM_ADA_CHAT, "limit=1").await.assert_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_binary_serves_the_readme_walkthrough_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().display().to_string();
    let mut server = ServerProcess::spawn(&[
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &dir,
        "--jwt-secret",
        "x",
        "--log",
        "warn",
    ]);
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    // The demo prints its logins and a generated service token for the admin API.
    let service_token = server.output_line("Service token for /api/admin/*: ");
    let audit = server
        .request(Method::GET, "/api/admin/audit", Some(&service_token), None)
        .await;
    audit.assert_ok();

    // A demo student signs in and sees the tutors of the courses they bought.
    let sam = server.login(SAM).await.access_token;
    let reply = server
        .request(Method::GET, "/api/users/available-tutors", Some(&sam), None)
        .await;
    reply.assert_ok();
    let tutors: ContactsByCourse = reply.json();
    let courses: Vec<&str> = tutors
        .courses
        .iter()
        .map(|c| c.course.id.as_str())
        .collect();
    assert_eq!(courses, ["algo-201", "rust-101"]);

    // Opens the chat with Ada and pages back through it.
    let body = json!({"course_id": "rust-101", "tutor_id": "t-ada"});
    let opened = server
        .request(Method::POST, "/api/chats", Some(&sam), Some(body))
        .await;
    opened.assert_ok();
    let chat = opened.json::<CreateChatResponse>().chat.id.0;
    let path = format!("/api/chats/{chat}/messages?limit=20");
    let newest: MessagePage = server
        .request(Method::GET, &path, Some(&sam), None)
        .await
        .json();
    assert_eq!(newest.messages.len(), 20);
    assert!(newest.has_more_before);
    let oldest = newest.messages[0].message.seq;
    let path = format!("/api/chats/{chat}/messages?limit=20&before_seq={oldest}");
    let older: MessagePage = server
        .request(Method::GET, &path, Some(&sam), None)
        .await
        .json();
    assert_eq!(
        older.messages.last().map(|v| v.message.seq),
        Some(oldest - 1)
    );

    // And is refused the course they have not bought, with the course to offer.
    let body = json!({"course_id": "ml-401", "tutor_id": "t-grace"});
    let refused = server
        .request(Method::POST, "/api/chats", Some(&sam), Some(body))
        .await;
    refused.assert_error(403, "not_enrolled");
    assert_eq!(refused.body["course_id"], "ml-401");
    // The secret on the command line is the SSO secret.
    let sso = mint("x", "s-sam", "student", 600);
    server
        .request(Method::GET, "/api/me", Some(&sso), None)
        .await
        .assert_ok();
    let foreign = mint(JWT_SECRET, "s-sam", "student", 600);
    let reply = server
        .request(Method::GET, "/api/me", Some(&foreign), None)
        .await;
    reply.assert_error(401, "invalid_token");

    server.terminate();
    let status = tokio::task::block_in_place(|| server.wait_exit(Duration::from_secs(5)));
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[tokio::test]
async fn import_subcommand_provisions_a_data_directory_for_the_server() {
    let data = tempfile::tempdir().expect("temp dir");
    let dir = data.path().join("db").display().to_string();
    let batch = json!({
        "users": [
            new_user("t-kim", "kim@school.test", "tutor"),
            new_user("s-lee", "lee@school.test", "student"),
        ],
        "courses": [{"id": "go-101", "title": "Go Basics", "tutor_ids": ["t-kim"]}],
        "enrollments": [{"course_id": "go-101", "student_id": "s-lee"}],
    });
    let file = data.path().join("batch.json");
    std::fs::write(&file, batch.to_string()).expect("write batch");

    let output = std::process::Command::new(ServerProcess::binary())
        .args([
            "import",
            &file.display().to_string(),
            "--data-dir",
            &dir,
            "--log",
            "warn",
        ])
        .output()
        .expect("import runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("imported 2 users, 1 courses, 1 enrollments"),
        "{stdout}"
    );

    // A bad batch is refused with a failing exit status.
    let bad = data.path().join("bad.json");
    let bad_batch = json!({"enrollments": [{"course_id": "nope", "student_id": "s-lee"}]});
    std::fs::write(&bad, bad_batch.to_string()).expect("write bad batch");
    let refused = std::process::Command::new(ServerProcess::binary())
        .args([
            "--data-dir",
            &dir,
            "--log",
            "error",
            "import",
            &bad.display().to_string(),
        ])
        .output()
        .expect("import runs");
    assert!(
        !refused.status.success(),
        "a refused batch must fail the command"
    );

    let server = ServerProcess::spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &dir,
        "--jwt-secret",
        "x",
        "--log",
        "warn",
    ]);
    let lee = server.login("lee@school.test").await;
    assert_eq!(lee.user.id.as_str(), "s-lee");
    let reply = server
        .request(
            Method::GET,
            "/api/users/available-tutors",
            Some(&lee.access_token),
            None,
        )
        .await;
    let tutors: Value = reply.body;
    assert_eq!(tutors["courses"][0]["course"]["id"], "go-101");
    assert_eq!(tutors["courses"][0]["contacts"][0]["id"], "t-kim");
    // Without --demo nothing else is there.
    let body = json!({"email": SAM, "password": crate::testing::PASSWORD});
    let reply = server
        .request(Method::POST, "/api/auth/login", None, Some(body))
        .await;
    reply.assert_error(401, "invalid_credentials");
}
