//! The single writer: one connection on its own thread, committing in groups.
//!
//! SQLite allows one writer at a time, and a durable commit costs an fsync. So every write goes
//! through this thread: it takes whatever jobs are queued (up to a batch limit), runs each in its
//! own savepoint inside one transaction, commits once, and only then answers each caller. A
//! caller therefore hears "done" only for durable data, and a burst of sends costs one fsync,
//! not one each. A job that fails rolls back to its savepoint without disturbing the others.
//!
//! The answers and after-commit hooks of a commit go, as one batch, to a task on the async
//! runtime that runs them in commit order. Waking a task from a thread outside the runtime
//! puts it in the runtime's shared queue, which a busy worker visits only now and then: waking
//! every sender and every recipient's connection from here made each wait behind the whole
//! local queue (measured: 177 ms on average from commit to socket at 6,000 msg/s on one core).
//! One such wake per commit, and the rest woken from inside the runtime, keeps them in line
//! with everything else.
//!
//! A commit's sync costs the same whatever it holds (on this kind of VM, ~60 µs of kernel work
//! and a virtio doorbell), and while sends arrive together the writer can make each sync cover
//! more of them: when the last commit carried more than one job, it waits `commit_linger`
//! after taking the first job of the next, and takes what arrived meanwhile too. A lone send
//! (the last commit held only it) never waits. Measured on one core with a 2 ms linger: a
//! sixth less CPU per message at 6,000 msg/s and a tenth at 10,000, for ~3 ms more latency
//! (README, Performance).
//!
//! The writer also makes the WAL start over. SQLite rewinds the log only when a write begins
//! after a checkpoint has copied every frame; under steady load the checkpoint thread never
//! catches up with a writer that commits between its passes, so the log only grew (1.6 GB in
//! 20 s at 8,000 msg/s, for a 15 MB database), and every frame went to fresh file space, which
//! the kernel zeroes first (up to a fifth of the server's CPU in a profile). Every
//! [`RESTART_WAL_EVERY`] the writer checkpoints what the thread has not copied yet, between
//! two commits, so the next commit starts the log from the beginning.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::super::{CommitObserver, Result, StoreError};

/// Most jobs folded into one commit.
const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer before senders wait too (back-pressure).
const QUEUE_DEPTH: usize = 8192;
/// Committed batches whose answers may wait for the runtime before the writer waits too.
const DONE_DEPTH: usize = 64;
/// Past this many queued jobs a send is refused at once instead of queued (`Busy`): about
/// 100 ms of the writer's work here, so past saturation the messages taken are acknowledged
/// quickly and the rest are told to retry, rather than everyone waiting seconds.
const SEND_QUEUE_LIMIT: usize = 1024;

/// How often the writer finishes a checkpoint itself so that the WAL starts over: a short
/// pause of the writer (the frames since the checkpoint thread's last pass, and a sync of the
/// database file), against a log that would otherwise grow for as long as the load lasts.
const RESTART_WAL_EVERY: Duration = Duration::from_millis(500);

/// Runs one job inside the open transaction; returns whether it succeeded and how to answer
/// its caller once the commit's outcome is known.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;
type Completion = Box<dyn FnOnce(&Committed) + Send>;

/// How a commit ended, and when.
#[derive(Debug)]
struct Committed {
    /// The commit's error, if it failed.
    error: Option<String>,
    /// When it was durable (or failed): the start of a delivery's wait.
    at: Instant,
}

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

impl Writer {
    /// Starts the writer thread; `commit_linger` is how long it waits for more jobs to share
    /// a commit once jobs arrive together (zero: never).
    pub(super) fn spawn(conn: Connection, commit_linger: Duration) -> Result<Writer> {
        let (jobs, rx) = mpsc::channel(QUEUE_DEPTH);
        let observer = Arc::new(OnceLock::new());
        let seen = observer.clone();
        // Outside a runtime (a one-off command), the writer thread answers on its own.
        let answers = tokio::runtime::Handle::try_current().ok().map(|runtime| {
            let (done, batches) = mpsc::channel(DONE_DEPTH);
            runtime.spawn(answer(batches));
            done
        });
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, commit_linger, &seen, answers))?;
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
        self.write_then(f, |_: &T, _| {}).await
    }

    /// Like [`Writer::write`], and once the commit is durable runs `after_commit` with the
    /// result and when the commit was durable. Hooks run in commit order, so what they publish
    /// (live deliveries) is ordered exactly as the data was stored. They must not block.
    pub(super) async fn write_then<T, F, H>(&self, f: F, after_commit: H) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
        H: FnOnce(&T, Instant) + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let complete: Completion = Box::new(move |commit: &Committed| {
                let answer = match &commit.error {
                    None => {
                        if let Ok(value) = &result {
                            after_commit(value, commit.at);
                        }
                        result
                    }
                    Some(e) => Err(StoreError::Commit(e.clone())),
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
        H: FnOnce(&T, Instant) + Send + 'static,
    {
        let queued = self.jobs.max_capacity() - self.jobs.capacity();
        if queued >= SEND_QUEUE_LIMIT {
            return Err(StoreError::Busy);
        }
        self.write_then(f, after_commit).await
    }
}

/// A commit's answers, and how it ended.
type Done = (Vec<Completion>, Committed);

/// Runs each committed batch's answers and hooks, in commit order, on the runtime. Ends when
/// the writer thread does.
async fn answer(mut batches: mpsc::Receiver<Done>) {
    while let Some((completions, commit)) = batches.recv().await {
        for complete in completions {
            complete(&commit);
        }
    }
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    commit_linger: Duration,
    observer: &OnceLock<CommitObserver>,
    answers: Option<mpsc::Sender<Done>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut completions: Vec<Completion> = Vec::with_capacity(MAX_BATCH);
    let mut wal_restarted = Instant::now();
    // Jobs in the last commit: more than one means they are arriving together.
    let mut last_batch = 0;
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        take_queued(&mut rx, &mut batch);
        if last_batch > 1 && !commit_linger.is_zero() && batch.len() < MAX_BATCH {
            std::thread::sleep(commit_linger);
            take_queued(&mut rx, &mut batch);
        }
        last_batch = batch.len();
        if let Err(e) = run_cached(&conn, "BEGIN IMMEDIATE") {
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
        let commit = run_cached(&conn, "COMMIT");
        let commit_error = match &commit {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(error = %e, "sqlite commit failed");
                let _ = conn.execute_batch("ROLLBACK");
                Some(e.to_string())
            }
        };
        let done = std::mem::replace(&mut completions, Vec::with_capacity(MAX_BATCH));
        let commit = Committed {
            error: commit_error,
            at: Instant::now(),
        };
        let unsent = match &answers {
            Some(answers) => answers.blocking_send((done, commit)).err().map(|e| e.0),
            None => Some((done, commit)),
        };
        // No runtime to answer on (or it has stopped): answer here.
        if let Some((done, commit)) = unsent {
            for complete in done {
                complete(&commit);
            }
        }
        if wal_restarted.elapsed() >= RESTART_WAL_EVERY && checkpoint_all(&conn) {
            wal_restarted = Instant::now();
        }
    }
    tracing::debug!("sqlite writer stopped");
}

/// Adds the jobs already queued to `batch`, up to [`MAX_BATCH`].
fn take_queued(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// Copies every frame of the WAL into the database (PASSIVE: readers go on); true when it
/// did, so that the next commit starts the log over. False while the checkpoint thread is in
/// a pass of its own, or a reader still needs old frames: the writer tries again after its
/// next commit.
fn checkpoint_all(conn: &Connection) -> bool {
    super::checkpoint::passive(conn).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "WAL checkpoint by the writer failed");
        false
    })
}

fn run_in_savepoint(conn: &Connection, job: Job) -> Completion {
    if let Err(e) = run_cached(conn, "SAVEPOINT job") {
        // Without a savepoint a failing job could not be undone alone: refuse to run it.
        let message = e.to_string();
        return Box::new(
            move |_| tracing::error!(error = %message, "savepoint failed; job dropped"),
        );
    }
    let (ok, complete) = job(conn);
    let undone = if ok {
        Ok(())
    } else {
        run_cached(conn, "ROLLBACK TO job")
    };
    if let Err(e) = undone.and_then(|()| run_cached(conn, "RELEASE job")) {
        tracing::error!(error = %e, "ending a savepoint failed");
    }
    complete
}

/// Runs a transaction-control statement through the statement cache: these run several times
/// per commit (a savepoint per job), and parsing each anew was a measurable part of a send.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;
    use std::sync::Mutex;

    use super::*;

    #[tokio::test]
    async fn under_steady_writes_the_wal_starts_over_instead_of_growing() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("w.db");
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("wal");
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .expect("no autocheckpoint");
        conn.pragma_update(None, "journal_size_limit", 1 << 20)
            .expect("limit");
        conn.execute("CREATE TABLE t (b BLOB NOT NULL)", [])
            .expect("table");
        let writer = Writer::spawn(conn, Duration::ZERO).expect("writer");

        // Write steadily for several restart periods. No checkpoint thread runs here: only the
        // writer's own checkpoints can make the log start over.
        let started = std::time::Instant::now();
        let mut written: u64 = 0;
        while started.elapsed() < RESTART_WAL_EVERY * 4 {
            writer
                .write(|c| {
                    c.execute("INSERT INTO t (b) VALUES (zeroblob(65536))", [])?;
                    Ok(())
                })
                .await
                .expect("write");
            written += 65536;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let wal = std::fs::metadata(dir.path().join("w.db-wal"))
            .expect("wal file")
            .len();
        assert!(
            wal < written / 2,
            "the WAL holds {wal} bytes after {written} bytes were written: it never started over"
        );
    }

    /// Holds the writer inside a job until `release` is sent; `busy` ends with that job.
    async fn hold(writer: &Writer) -> (std_mpsc::Sender<()>, tokio::task::JoinHandle<Result<()>>) {
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
        // Time for the writer to take the job.
        tokio::time::sleep(Duration::from_millis(50)).await;
        (release, busy)
    }

    /// A writer whose commits' sizes are recorded, in order.
    fn observed_writer(
        dir: &tempfile::TempDir,
        linger: Duration,
    ) -> (Writer, Arc<Mutex<Vec<usize>>>) {
        let conn = Connection::open(dir.path().join("w.db")).expect("open");
        let writer = Writer::spawn(conn, linger).expect("writer");
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let observe: CommitObserver = Arc::new(move |n| seen.lock().expect("sizes").push(n));
        writer.observer().set(observe).ok().expect("observer unset");
        (writer, sizes)
    }

    #[tokio::test]
    async fn while_jobs_arrive_together_a_later_one_joins_the_commit_it_lingers_for() {
        let dir = tempfile::tempdir().expect("dir");
        let (writer, sizes) = observed_writer(&dir, Duration::from_secs(2));
        // Two jobs queued behind a held one: they are committed together (no linger yet: the
        // commit before held one job).
        let (release, busy) = hold(&writer).await;
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let w = writer.clone();
                tokio::spawn(async move { w.write(|_| Ok(())).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.send(()).expect("release");
        busy.await.expect("join").expect("held job");
        for job in queued {
            job.await.expect("join").expect("queued job");
        }
        // Now the last commit held two: the next job waits, and one sent 100 ms after it
        // shares its commit.
        let w = writer.clone();
        let first = tokio::spawn(async move { w.write(|_| Ok(())).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer.write(|_| Ok(())).await.expect("second");
        first.await.expect("join").expect("first");
        assert_eq!(*sizes.lock().expect("sizes"), vec![1, 2, 2]);
    }

    #[tokio::test]
    async fn a_lone_job_is_committed_without_lingering() {
        let dir = tempfile::tempdir().expect("dir");
        let (writer, sizes) = observed_writer(&dir, Duration::from_secs(60));
        for _ in 0..3 {
            tokio::time::timeout(Duration::from_secs(10), writer.write(|_| Ok(())))
                .await
                .expect("committed without waiting the linger")
                .expect("write");
        }
        assert_eq!(*sizes.lock().expect("sizes"), vec![1, 1, 1]);
    }

    #[tokio::test]
    async fn a_send_is_refused_at_once_when_the_queue_is_deep_and_taken_when_it_drains() {
        let dir = tempfile::tempdir().expect("dir");
        let conn = Connection::open(dir.path().join("w.db")).expect("open");
        let writer = Writer::spawn(conn, Duration::ZERO).expect("writer");
        let (release, busy) = hold(&writer).await;
        let mut queued = Vec::new();
        for _ in 0..SEND_QUEUE_LIMIT {
            let w = writer.clone();
            queued.push(tokio::spawn(async move { w.write(|_| Ok(())).await }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let refused = writer
            .write_then_unless_busy(|_| Ok(()), |_: &(), _| {})
            .await;
        assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");

        release.send(()).expect("release");
        busy.await.expect("join").expect("the held job commits");
        for job in queued {
            job.await.expect("join").expect("every queued job commits");
        }
        writer
            .write_then_unless_busy(|_| Ok(()), |_: &(), _| {})
            .await
            .expect("taken once the queue has drained");
    }
}
