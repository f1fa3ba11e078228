//! `tutorchat-server`: parse the configuration, set up logging, run. Everything else lives in
//! the library.

use anyhow::Context;
use clap::Parser;
use tutorchat_server::auth::password::PasswordHasher;
use tutorchat_server::config::LogFormat;
use tutorchat_server::{demo, Cli, Command, Server};
use tutorchat_shared::api::ProvisioningBatch;

/// mimalloc instead of the system allocator: a message's path allocates and frees many small
/// buffers on two threads, where glibc's malloc spent ~8% of the server's CPU (consolidating
/// and unlinking chunks) and kept more memory per idle connection (see README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&cli.config.log)?)
        .with_writer(std::io::stderr);
    match cli.config.log_format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    // Every WebSocket is a file: allow as many as the system lets this process have.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        match cli.command {
            Some(Command::Import { file }) => import(cli.config, &file).await,
            Some(Command::Migrate { from, to }) => migrate(&from, &to).await,
            Some(Command::Serve) | None => serve(cli.config).await,
        }
    })
}

async fn serve(config: tutorchat_server::Config) -> anyhow::Result<()> {
    let demo = config.demo;
    let server = Server::start(config).await.context("starting the server")?;
    println!("Tutorchat server listening on {}", server.base_url());
    if demo {
        println!(
            "{}",
            demo::logins_text(server.state().config.admin_token.as_deref())
        );
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await.context("shutting down")?;
    Ok(())
}

async fn import(config: tutorchat_server::Config, file: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let batch: ProvisioningBatch =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
    let store = tutorchat_server::open_store(&config).await?;
    let passwords = PasswordHasher::start(config.password_workers, config.password_queue);
    let report =
        tutorchat_server::service::provisioning::apply_to_store(store.as_ref(), &passwords, batch)
            .await?;
    println!(
        "imported {} users, {} courses, {} enrollments",
        report.users, report.courses, report.enrollments
    );
    Ok(())
}

async fn migrate(from: &std::path::Path, to: &str) -> anyhow::Result<()> {
    let report = tutorchat_server::store::migrate::sqlite_to_postgres(from, to)
        .await
        .with_context(|| format!("migrating {}", from.display()))?;
    print!("{}", report.render());
    println!("moved into PostgreSQL, uploaded files included");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
