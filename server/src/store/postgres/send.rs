//! The send path on PostgreSQL: sends from every connection of this node are folded into one
//! transaction, and each message is one call of the `tutorchat_send` function (the schema's
//! migration 1), all of a batch's calls pipelined on one connection — one round trip and one
//! durable commit for the lot, not one each. The function deduplicates, checks, takes the
//! chat's next seq under the chat's row lock (gapless across nodes), inserts and moves the
//! sender's read pointer.
//!
//! Callers hear "done" only after the commit, and the after-commit hooks of a batch run in
//! commit order before the next batch begins. If a batch fails as a whole (a statement error
//! aborts its transaction), each send in it is tried again alone, so one bad send cannot fail
//! the others.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use tutorchat_shared::{Attachment, ChatId, Message, MessageId, MessageKind};

use super::{from_ms, pool_error, to_u64};
use crate::store::CommitObserver;
use crate::store::{
    InsertOutcome, NewMessage, OnCommit, Result, SendChecks, SendRefusal, StoreError,
};

/// Most sends (jobs) folded into one transaction.
const MAX_BATCH: usize = 512;
/// Jobs that may wait before senders wait too (back-pressure).
const QUEUE_DEPTH: usize = 8192;
/// Past this many queued jobs a send is refused at once (`Busy`), as on SQLite.
const SEND_QUEUE_LIMIT: usize = 1024;

const SEND: &str = "SELECT outcome, m_id, m_chat, m_seq, m_kind, m_content, m_at, m_attachment
     FROM tutorchat_send($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// A message ready for the database: its kind and attachment as the message will show them.
#[derive(Debug)]
pub(super) struct Prepared {
    pub message: NewMessage,
    pub kind: MessageKind,
    /// The finished upload's description, if the message carries one and it was finished.
    pub attachment: Option<Attachment>,
    pub attachment_json: Option<String>,
}

struct Job {
    work: Work,
    tail: Tail,
}

/// What a job stores (shared with the database task while it runs).
struct Work {
    sends: Vec<Prepared>,
    checks: Option<SendChecks>,
}

/// How a job is answered.
struct Tail {
    on_commit: Option<OnCommit>,
    reply: oneshot::Sender<Result<Vec<InsertOutcome>>>,
}

/// A cheap handle to the node's send task; the task ends with the last handle.
#[derive(Clone)]
pub(super) struct Sender {
    jobs: mpsc::Sender<Job>,
    pub(super) observer: Arc<OnceLock<CommitObserver>>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl Sender {
    pub(super) fn spawn(pool: Pool) -> Sender {
        let (jobs, rx) = mpsc::channel(QUEUE_DEPTH);
        let observer = Arc::new(OnceLock::new());
        tokio::spawn(run(pool, rx, observer.clone()));
        Sender { jobs, observer }
    }

    /// Stores the sends in order (checked against `checks` if given) in a transaction shared
    /// with other queued sends; answers once it is durable. Refused with `Busy` when too much
    /// already waits and `refuse_when_busy`.
    pub(super) async fn send(
        &self,
        sends: Vec<Prepared>,
        checks: Option<SendChecks>,
        on_commit: Option<OnCommit>,
        refuse_when_busy: bool,
    ) -> Result<Vec<InsertOutcome>> {
        let queued = self.jobs.max_capacity() - self.jobs.capacity();
        if refuse_when_busy && queued >= SEND_QUEUE_LIMIT {
            return Err(StoreError::Busy);
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work: Work { sends, checks },
            tail: Tail { on_commit, reply },
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>, observer: Arc<OnceLock<CommitObserver>>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Some(observe) = observer.get() {
            observe(batch.len());
        }
        let (works, tails): (Vec<Work>, Vec<Tail>) =
            batch.drain(..).map(|job| (job.work, job.tail)).unzip();
        match store(&pool, &works).await {
            Ok(outcomes) => {
                let committed = Instant::now();
                for (tail, outcomes) in tails.into_iter().zip(outcomes) {
                    answer(tail, outcomes, committed);
                }
            }
            // A statement failed, so nothing was committed: try each job alone, so one bad
            // send cannot fail the others.
            Err(Failed::Statement(e)) if works.len() > 1 => {
                tracing::warn!(error = %e, jobs = works.len(), "a send batch failed; retrying each alone");
                for (work, tail) in works.iter().zip(tails) {
                    let outcomes = match store(&pool, std::slice::from_ref(work)).await {
                        Ok(mut each) => each.pop().unwrap_or_else(|| Ok(Vec::new())),
                        Err(Failed::Statement(e) | Failed::Other(e)) => Err(e),
                    };
                    answer(tail, outcomes, Instant::now());
                }
            }
            // No connection, or the commit's fate is unknown: nothing is retried here (a
            // client's retry is answered with the original if it was stored).
            Err(Failed::Statement(e) | Failed::Other(e)) => {
                tracing::error!(error = %e, jobs = works.len(), "a send batch failed");
                let message = e.to_string();
                for tail in tails {
                    answer(
                        tail,
                        Err(StoreError::Commit(message.clone())),
                        Instant::now(),
                    );
                }
            }
        }
    }
    tracing::debug!("postgres send task stopped");
}

/// Runs the job's hooks for what it stored, then answers it.
fn answer(tail: Tail, outcomes: Result<Vec<InsertOutcome>>, committed: Instant) {
    if let (Ok(outcomes), Some(mut hook)) = (&outcomes, tail.on_commit) {
        for outcome in outcomes {
            if let InsertOutcome::Stored(message) = outcome {
                hook(message, committed);
            }
        }
    }
    // The caller may have gone away; the send stands.
    let _ = tail.reply.send(outcomes);
}

/// Why a batch failed as a whole.
enum Failed {
    /// A statement failed: the transaction was rolled back, nothing is stored.
    Statement(StoreError),
    /// Anything else (no connection; a commit whose fate is unknown).
    Other(StoreError),
}

/// One transaction for every send of every job, pipelined; one outcome list per job (a row
/// read back wrong fails its own job only: the transaction is committed by then).
///
/// The calls go in chat order (stable, so a chat's sends keep theirs): every node's
/// transactions then take chat row locks in the same order and never deadlock each other.
async fn store(pool: &Pool, jobs: &[Work]) -> Result<Vec<Result<Vec<InsertOutcome>>>, Failed> {
    let other = |e: tokio_postgres::Error| Failed::Other(e.into());
    let mut order: Vec<(usize, usize)> = jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.sends.len()).map(move |m| (j, m)))
        .collect();
    order.sort_by_key(|&(j, m)| jobs[j].sends[m].message.chat_id.0);
    let mut client = pool.get().await.map_err(|e| Failed::Other(pool_error(e)))?;
    let tx = client.transaction().await.map_err(other)?;
    let statement = tx.prepare_cached(SEND).await.map_err(other)?;
    let args: Vec<Args<'_>> = order
        .iter()
        .map(|&(j, m)| Args::new(&jobs[j].sends[m], jobs[j].checks.as_ref()))
        .collect();
    let params: Vec<[&(dyn ToSql + Sync); 13]> = args.iter().map(Args::params).collect();
    let calls = params.iter().map(|p| tx.query_one(&statement, p));
    let rows = futures_util::future::try_join_all(calls)
        .await
        .map_err(|e| {
            if e.as_db_error().is_some() {
                Failed::Statement(e.into())
            } else {
                Failed::Other(e.into())
            }
        })?;
    tx.commit().await.map_err(other)?;
    let mut outcomes: Vec<Vec<Option<Result<InsertOutcome>>>> = jobs
        .iter()
        .map(|job| (0..job.sends.len()).map(|_| None).collect())
        .collect();
    for (&(j, m), row) in order.iter().zip(&rows) {
        outcomes[j][m] = Some(outcome(row, &jobs[j].sends[m]));
    }
    Ok(outcomes
        .into_iter()
        .map(|each| {
            each.into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| Err(StoreError::Corrupt("a send answered no row".into())))
                })
                .collect()
        })
        .collect())
}

/// One call's arguments, borrowed from its send.
struct Args<'a> {
    chat: i64,
    sender: &'a str,
    client_id: &'a str,
    kind: &'static str,
    content: &'a str,
    at: i64,
    attachment: Option<&'a str>,
    attachment_json: Option<&'a str>,
    check: bool,
    recipient: &'a str,
    course: &'a str,
    student: &'a str,
    tutor: &'a str,
}

impl<'a> Args<'a> {
    fn new(p: &'a Prepared, checks: Option<&'a SendChecks>) -> Self {
        let m = &p.message;
        Args {
            chat: m.chat_id.0,
            sender: m.sender_id.as_str(),
            client_id: m.client_id.as_str(),
            kind: p.kind.as_str(),
            content: &m.content,
            at: super::to_ms(m.at),
            attachment: m.attachment.as_ref().map(|a| a.as_str()),
            attachment_json: p.attachment_json.as_deref(),
            check: checks.is_some(),
            recipient: checks.map_or("", |c| c.recipient.as_str()),
            course: checks.map_or("", |c| c.course.as_str()),
            student: checks.map_or("", |c| c.student.as_str()),
            tutor: checks.map_or("", |c| c.tutor.as_str()),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 13] {
        [
            &self.chat,
            &self.sender,
            &self.client_id,
            &self.kind,
            &self.content,
            &self.at,
            &self.attachment,
            &self.attachment_json,
            &self.check,
            &self.recipient,
            &self.course,
            &self.student,
            &self.tutor,
        ]
    }
}

fn outcome(row: &Row, p: &Prepared) -> Result<InsertOutcome> {
    let outcome: &str = row.try_get(0)?;
    Ok(match outcome {
        "stored" => InsertOutcome::Stored(Message {
            id: MessageId(row.try_get(1)?),
            chat_id: p.message.chat_id,
            seq: to_u64(row.try_get(3)?),
            sender_id: p.message.sender_id.clone(),
            client_id: p.message.client_id.clone(),
            kind: p.kind,
            content: p.message.content.clone(),
            created_at: from_ms(row.try_get(6)?),
            attachment: p.attachment.clone(),
        }),
        "duplicate" => InsertOutcome::Duplicate(Message {
            id: MessageId(row.try_get(1)?),
            chat_id: ChatId(row.try_get(2)?),
            seq: to_u64(row.try_get(3)?),
            sender_id: p.message.sender_id.clone(),
            client_id: p.message.client_id.clone(),
            kind: super::chats::parse_kind(row.try_get(4)?)?,
            content: row.try_get(5)?,
            created_at: from_ms(row.try_get(6)?),
            attachment: super::chats::parse_attachment(row.try_get(7)?)?,
        }),
        "reused" => InsertOutcome::ClientIdReused {
            chat_id: ChatId(row.try_get(2)?),
        },
        "blocked" => InsertOutcome::Refused(SendRefusal::Blocked),
        "not_enrolled" => InsertOutcome::Refused(SendRefusal::NotEnrolled),
        "not_course_tutor" => InsertOutcome::Refused(SendRefusal::NotCourseTutor),
        "attachment_unavailable" => InsertOutcome::Refused(SendRefusal::AttachmentUnavailable),
        other => {
            return Err(StoreError::Corrupt(format!(
                "unknown send outcome {other:?}"
            )))
        }
    })
}
