//! WAL checkpoints off the writer's path.
//!
//! SQLite's automatic checkpoint runs inside the commit that pushes the WAL past its threshold:
//! that commit then copies pages into the database and fsyncs it twice before the writer can
//! answer anyone, and every send queued behind it waits — the spikes at the tail of ack
//! latency. The writer's automatic checkpoint is turned off and this thread checkpoints
//! instead, in PASSIVE mode (it never blocks the writer or a reader), a few times a second.
//! Under steady load it never quite catches up, so the writer finishes the job between two
//! commits now and then (see `writer`): both go through [`passive`].

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
                        if let Err(e) = passive(&conn) {
                            tracing::warn!(error = %e, "WAL checkpoint failed");
                        }
                    }
                    _ => return,
                }
            })?;
        Ok(Checkpointer { _stop: stop })
    }
}

/// A PASSIVE checkpoint: copies what WAL frames it can into the database without waiting for
/// readers or writers. True when every frame is copied (so the next write starts the log
/// over); false when another connection's checkpoint was running or a reader still needs old
/// frames.
pub(super) fn passive(conn: &Connection) -> rusqlite::Result<bool> {
    // (busy, frames in the log, frames checkpointed)
    let (busy, log, copied) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    Ok(busy == 0 && copied == log)
}
