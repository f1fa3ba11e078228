//! WAL checkpoints off the writer's path.
//!
//! SQLite's automatic checkpoint runs inside the commit that pushes the WAL past its threshold:
//! that commit then copies pages into the database and fsyncs it twice before the writer can
//! answer anyone, and every send queued behind it waits — the spikes at the tail of ack
//! latency. The writer's automatic checkpoint is turned off and this thread checkpoints
//! instead, in PASSIVE mode (it never blocks the writer or a reader), a few times a second.

use std::path::Path;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::time::Duration;

use rusqlite::Connection;

use super::super::Result;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_millis(250);

/// Stops the checkpoint thread when dropped (with the store).
#[derive(Debug)]
pub(super) struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    pub(super) fn spawn(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || loop {
                match stopped.recv_timeout(EVERY) {
                    Err(RecvTimeoutError::Timeout) => {
                        let result =
                            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "WAL checkpoint failed");
                        }
                    }
                    _ => return,
                }
            })?;
        Ok(Checkpointer { _stop: stop })
    }
}
