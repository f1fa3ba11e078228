//! The course platform's provisioning: users, courses with their tutors, and enrollments,
//! applied all or nothing, from the admin API or `tutorchat-server import FILE`.

use tutorchat_shared::api::{AuditAction, ProvisioningBatch, ProvisioningReport};
use tutorchat_shared::validation::validate_batch;
use tutorchat_shared::{CourseId, UserId};

use crate::auth::password::PasswordHasher;
use crate::error::{Error, Result};
use crate::service::{audit, chat_settings};
use crate::state::AppState;
use crate::store::{NewUser, Provisioning, Store};

/// Validates, hashes passwords, applies, and audits a batch.
pub async fn apply(
    state: &AppState,
    actor: Option<UserId>,
    action: AuditAction,
    batch: ProvisioningBatch,
) -> Result<ProvisioningReport> {
    // Whose chats may have changed standing: students whose purchase changed.
    let students: Vec<(CourseId, UserId)> = batch
        .enrollments
        .iter()
        .map(|e| (e.course_id.clone(), e.student_id.clone()))
        .collect();
    let report = apply_to_store(state.store.as_ref(), &state.passwords, batch).await?;
    // A purchase that ended makes those chats read-only (one granted again, writable): both
    // members' devices hear it now, not at their next connection.
    for (course, student) in students {
        for row in state.store.chats_of(&student).await? {
            if row.chat.course_id == course {
                for member in [&row.chat.student_id, &row.chat.tutor_id] {
                    chat_settings::publish_chat_updated(state, row.chat.id, member).await?;
                }
            }
        }
    }
    let detail = format!(
        "users={} courses={} enrollments={}",
        report.users, report.courses, report.enrollments
    );
    audit::record(state, action, actor.as_ref(), None, Some(detail), None).await;
    Ok(report)
}

/// The same without a running server (the `import` subcommand and the demo seed).
pub async fn apply_to_store(
    store: &dyn Store,
    passwords: &PasswordHasher,
    batch: ProvisioningBatch,
) -> Result<ProvisioningReport> {
    validate(&batch)?;
    let report = ProvisioningReport {
        users: batch.users.len(),
        courses: batch.courses.len(),
        enrollments: batch.enrollments.len(),
    };
    let mut users = Vec::with_capacity(batch.users.len());
    for u in batch.users {
        let password_hash = match u.password {
            Some(p) => Some(passwords.hash(p).await?),
            None => None,
        };
        users.push(NewUser {
            id: u.id,
            email: u.email.trim().to_owned(),
            name: u.name.trim().to_owned(),
            role: u.role,
            password_hash,
        });
    }
    let provisioning = Provisioning {
        users,
        courses: batch.courses,
        enrollments: batch.enrollments,
    };
    store
        .provision(provisioning)
        .await?
        .map_err(|refusal| Error::validation("batch", refusal.to_string()))?;
    Ok(report)
}

fn validate(batch: &ProvisioningBatch) -> Result<()> {
    Ok(validate_batch(batch)?)
}
