//! A fresh PostgreSQL database per test, dropped when the guard is: the server's own
//! PostgreSQL at `TUTORCHAT_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`,
//! trust auth — as on CI). No stand-in: a test that needs it fails if it is not there.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The server (no database) the tests use.
pub fn server_url() -> String {
    std::env::var("TUTORCHAT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database that exists for as long as this guard.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "tutorchat_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        admin(&format!("CREATE DATABASE {name}")).await;
        TestDatabase { name }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", server_url(), self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside async: a thread of its own with a small runtime. FORCE ends the
        // connections a store under test may still hold.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(admin(&sql));
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Runs one statement on the server's `postgres` database.
async fn admin(sql: &str) {
    let url = format!("{}/postgres", server_url());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} (TUTORCHAT_TEST_POSTGRES): {e}"));
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await.expect(sql);
    drop(client);
    let _ = task.await;
}
