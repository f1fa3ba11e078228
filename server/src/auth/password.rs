//! Password hashing with argon2id (default parameters) on a small, fixed pool of threads.
//!
//! Each argon2 computation needs ~19 MiB of working memory. Run on the blocking pool, every
//! concurrent login allocated its own, and glibc kept the freed blocks per thread: ten logins
//! at once grew the process by hundreds of MiB for good. Here a fixed number of workers each
//! own one buffer, allocated once and reused, so password work costs `workers × 19 MiB`
//! whatever arrives; a short queue absorbs bursts and anything beyond it is refused at once
//! (`rate_limited`), never queued without bound.
//!
//! Timing: a login for an unknown email verifies against [`DUMMY_PHC`] — the same parameters
//! as a real hash — so both paths cost exactly one verification.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::locks::lock;

/// What an unknown email is verified against: argon2id with the default parameters (so it
/// costs what a real verification costs) and a hash no password produces in practice. The
/// answer for it is "no" whatever the outcome.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$dHV0b3JjaGF0LWR1bW15$\
                         AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Seconds a refused caller is told to wait.
const RETRY_AFTER_SECS: u64 = 1;

/// Password work: a fixed pool of argon2 workers behind a bounded queue.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    in_flight: Arc<AtomicUsize>,
}

#[derive(Debug)]
enum Job {
    Verify {
        password: String,
        stored: Option<String>,
        reply: oneshot::Sender<Result<bool>>,
    },
    Hash {
        password: String,
        reply: oneshot::Sender<Result<String>>,
    },
}

impl PasswordHasher {
    /// Starts `workers` threads (at least one) and a queue of `queue` waiting jobs. The
    /// threads end when the last handle is dropped.
    pub fn start(workers: usize, queue: usize) -> PasswordHasher {
        let (jobs, receiver) = sync_channel(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let in_flight = Arc::new(AtomicUsize::new(0));
        for n in 0..workers.max(1) {
            let receiver = receiver.clone();
            let in_flight = in_flight.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&receiver, &in_flight));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password worker");
            }
        }
        PasswordHasher { jobs, in_flight }
    }

    /// Verifications and hashes queued or running (for metrics).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Checks `password` against a stored PHC hash. With no hash (an unknown user, or one who
    /// signs in only through the platform) it spends exactly the same work and answers false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify {
            password,
            stored,
            reply,
        })?;
        answer.await.map_err(|_| worker_gone())?
    }

    /// Hashes `password` into a PHC string (argon2id, default parameters, random salt).
    pub async fn hash(&self, password: String) -> Result<String> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        answer.await.map_err(|_| worker_gone())?
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        match self.jobs.try_send(job) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                match e {
                    TrySendError::Full(_) => Err(Error::rate_limited(RETRY_AFTER_SECS)),
                    TrySendError::Disconnected(_) => Err(worker_gone()),
                }
            }
        }
    }
}

fn worker_gone() -> Error {
    Error::Password("the password workers have stopped".into())
}

/// A worker: takes jobs until every sender is gone, reusing one block buffer throughout.
fn work(receiver: &Mutex<Receiver<Job>>, in_flight: &AtomicUsize) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = {
            let receiver = lock(receiver);
            receiver.recv()
        };
        let Ok(job) = job else { return };
        // The count drops before the answer goes, so a caller never sees its own job counted.
        match job {
            Job::Verify {
                password,
                stored,
                reply,
            } => {
                let answer = verify_with(&mut memory, &password, stored.as_deref());
                in_flight.fetch_sub(1, Ordering::Relaxed);
                let _ = reply.send(answer);
            }
            Job::Hash { password, reply } => {
                let answer = hash_with(&mut memory, &password);
                in_flight.fetch_sub(1, Ordering::Relaxed);
                let _ = reply.send(answer);
            }
        }
    }
}

/// Hashes with the default parameters, outside any pool: for seeding and tools.
pub fn hash_blocking(password: &str) -> Result<String> {
    hash_with(&mut Vec::new(), password)
}

fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let params = Params::default();
    let output = compute(memory, password, &salt, &params)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(password_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_with(memory: &mut Vec<Block>, password: &str, stored: Option<&str>) -> Result<bool> {
    let phc = stored.unwrap_or(DUMMY_PHC);
    let parsed = PasswordHash::new(phc).map_err(password_error)?;
    let params = Params::try_from(&parsed).map_err(password_error)?;
    let salt = parsed
        .salt
        .ok_or_else(|| Error::Password("stored hash has no salt".into()))?;
    let expected = parsed
        .hash
        .ok_or_else(|| Error::Password("stored hash has no output".into()))?;
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(password_error)?;
    let computed = compute_raw(memory, password, salt_bytes, &params, expected.len())?;
    // `Output`'s equality is constant-time.
    Ok(computed == expected && stored.is_some())
}

fn compute(
    memory: &mut Vec<Block>,
    password: &str,
    salt: &SaltString,
    params: &Params,
) -> Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(password_error)?;
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    compute_raw(memory, password, salt_bytes, params, len)
}

fn compute_raw(
    memory: &mut Vec<Block>,
    password: &str,
    salt: &[u8],
    params: &Params,
    len: usize,
) -> Result<Output> {
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    Output::init_with(len, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(password_error)
}

fn password_error(e: impl std::fmt::Display) -> Error {
    Error::Password(e.to_string())
}

#[cfg(test)]
mod tests {
    use argon2::PasswordVerifier;

    use super::*;

    #[test]
    fn the_dummy_costs_what_a_real_hash_costs() {
        let dummy = PasswordHash::new(DUMMY_PHC).expect("dummy parses");
        let real = hash_blocking("pw").expect("hash");
        let real = PasswordHash::new(&real).expect("real parses");
        assert_eq!(dummy.algorithm, real.algorithm);
        let cost = |h: &PasswordHash<'_>| {
            let p = Params::try_from(h).expect("params");
            (p.m_cost(), p.t_cost(), p.p_cost(), h.hash.map(|o| o.len()))
        };
        assert_eq!(cost(&dummy), cost(&real));
        let default = Params::default();
        let (m, t, p, _) = cost(&dummy);
        assert_eq!(
            (m, t, p),
            (default.m_cost(), default.t_cost(), default.p_cost())
        );
    }

    #[test]
    fn hashes_verify_with_the_reference_implementation_and_ours() {
        let phc = hash_blocking("correct horse").expect("hash");
        let parsed = PasswordHash::new(&phc).expect("parses");
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        let mut memory = Vec::new();
        assert!(verify_with(&mut memory, "correct horse", Some(&phc)).expect("verify"));
        assert!(!verify_with(&mut memory, "wrong", Some(&phc)).expect("verify"));
        assert!(!verify_with(&mut memory, "anything", None).expect("verify"));
    }

    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_waiting() {
        let pool = PasswordHasher::start(1, 1);
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.verify("pw".into(), None).await })
            })
            .collect();
        let mut refused = 0;
        for attempt in attempts {
            match attempt.await.expect("task") {
                Ok(ok) => assert!(!ok),
                Err(e) => {
                    assert_eq!(e.code(), tutorchat_shared::ErrorCode::RateLimited);
                    refused += 1;
                }
            }
        }
        assert!(
            refused > 0,
            "one worker and one queue slot cannot take 8 at once"
        );
        assert_eq!(pool.in_flight(), 0);
    }
}
