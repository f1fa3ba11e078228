//! The single writer: one connection on its own thread, committing in groups.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync. So every write goes
//! through this thread: it takes whatever jobs are queued (up to a batch limit), runs each in its
//! own savepoint inside one transaction, commits once, and only then answers each caller. A
//! caller therefore hears "done" only for durable data, and a burst of sends costs one fsync,
//! not one each. A job that fails rolls back to its savepoint without disturbing the others.

use std::sync::{Arc, OnceLock};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::super::{Result, StoreError};

/// Most jobs folded into one commit.
const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer before senders wait too (back-pressure).
const QUEUE_DEPTH: usize = 8192;
/// Past this many queued jobs a send is refused at once instead of queued (`Busy`): about
/// 100 ms of the writer's work here, so past saturation the messages taken are acknowledged
/// quickly and the rest are told to retry, rather than everyone waiting seconds.
const SEND_QUEUE_LIMIT: usize = 1024;

/// Runs one job inside the open transaction; returns whether it succeeded and how to answer
/// its caller once the commit's outcome is known.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;
type Completion = Box<dyn FnOnce(Option<&str>) + Send>;

/// A cheap handle to the writer thread; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    observer: Arc<OnceLock<CommitObserver>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// Told the number of writes in each committed batch.
pub type CommitObserver = Arc<dyn Fn(usize) + Send + Sync>;

impl Writer {
    pub(super) fn spawn(conn: Connection) -> Result<Writer> {
        let (jobs, rx) = mpsc::channel(QUEUE_DEPTH);
        let observer = Arc::new(OnceLock::new());
        let seen = observer.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, &seen))?;
        Ok(Writer { jobs, observer })
    }

    /// Where the batch-size observer is set.
    pub(super) fn observer(&self) -> Arc<OnceLock<CommitObserver>> {
        self.observer.clone()
    }

    /// Runs `f` in a transaction shared with other queued writes and returns its result once
    /// that transaction is durably committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write_then(f, |_: &T| {}).await
    }

    /// Like [`Writer::write`], and once the commit is durable runs `after_commit` on the
    /// writer thread with the result. Hooks run in commit order, so what they publish (live
    /// deliveries) is ordered exactly as the data was stored. They must not block.
    pub(super) async fn write_then<T, F, H>(&self, f: F, after_commit: H) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        H: FnOnce(&T) + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let complete: Completion = Box::new(move |commit_error| {
                let answer = match commit_error {
                    None => {
                        if let Ok(value) = &result {
                            after_commit(value);
                        }
                        result
                    }
                    Some(e) => Err(StoreError::Commit(e.to_owned())),
                };
                // The caller may have gone away (request cancelled); the write stands.
                let _ = tx.send(answer);
            });
            (ok, complete)
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Like [`Writer::write_then`], but refused with [`StoreError::Busy`] at once when more
    /// than `SEND_QUEUE_LIMIT` jobs are already waiting (for sends, which a client retries).
    pub(super) async fn write_then_unless_busy<T, F, H>(&self, f: F, after_commit: H) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        H: FnOnce(&T) + Send + 'static,
    {
        let queued = self.jobs.max_capacity() - self.jobs.capacity();
        if queued >= SEND_QUEUE_LIMIT {
            return Err(StoreError::Busy);
        }
        self.write_then(f, after_commit).await
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, observer: &OnceLock<CommitObserver>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut completions: Vec<Completion> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let message = e.to_string();
            tracing::error!(error = %message, "sqlite writer could not begin a transaction");
            // Run nothing; tell every caller.
            for job in batch.drain(..) {
                drop(job);
            }
            continue;
        }
        if let Some(observe) = observer.get() {
            observe(batch.len());
        }
        for job in batch.drain(..) {
            completions.push(run_in_savepoint(&conn, job));
        }
        let commit = conn.execute_batch("COMMIT");
        let commit_error = match &commit {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(error = %e, "sqlite commit failed");
                let _ = conn.execute_batch("ROLLBACK");
                Some(e.to_string())
            }
        };
        for complete in completions.drain(..) {
            complete(commit_error.as_deref());
        }
    }
    tracing::debug!("sqlite writer stopped");
}

fn run_in_savepoint(conn: &Connection, job: Job) -> Completion {
    if let Err(e) = conn.execute_batch("SAVEPOINT job") {
        // Without a savepoint a failing job could not be undone alone: refuse to run it.
        let message = e.to_string();
        return Box::new(
            move |_| tracing::error!(error = %message, "savepoint failed; job dropped"),
        );
    }
    let (ok, complete) = job(conn);
    let end = if ok {
        "RELEASE job"
    } else {
        "ROLLBACK TO job; RELEASE job"
    };
    if let Err(e) = conn.execute_batch(end) {
        tracing::error!(error = %e, "ending a savepoint failed");
    }
    complete
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;

    use super::*;

    #[tokio::test]
    async fn a_send_is_refused_at_once_when_the_queue_is_deep_and_taken_when_it_drains() {
        let dir = tempfile::tempdir().expect("dir");
        let conn = Connection::open(dir.path().join("w.db")).expect("open");
        let writer = Writer::spawn(conn).expect("writer");
        // Hold the writer inside a job until released.
        let (release, held) = std_mpsc::channel::<()>();
        let blocker = writer.clone();
        let busy = tokio::spawn(async move {
            blocker
                .write(move |_| {
                    let _ = held.recv();
                    Ok(())
                })
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut queued = Vec::new();
        for _ in 0..SEND_QUEUE_LIMIT {
            let w = writer.clone();
            queued.push(tokio::spawn(async move { w.write(|_| Ok(())).await }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let refused = writer.write_then_unless_busy(|_| Ok(()), |_: &()| {}).await;
        assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");

        release.send(()).expect("release");
        busy.await.expect("join").expect("the held job commits");
        for job in queued {
            job.await.expect("join").expect("every queued job commits");
        }
        writer
            .write_then_unless_busy(|_| Ok(()), |_: &()| {})
            .await
            .expect("taken once the queue has drained");
    }
}
