//! The audit log: logins, chat creation, denials, blocks and admin changes.

use chrono::Utc;
use tutorchat_shared::api::{AuditAction, AuditPage, AuditQuery};
use tutorchat_shared::UserId;

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::AuditRecord;

/// Longest audit page.
const MAX_PAGE: u32 = 500;

/// Appends an entry. A failure is logged and does not fail the caller's request: the action
/// itself already happened (or was already refused).
pub async fn record(
    state: &AppState,
    action: AuditAction,
    actor: Option<&UserId>,
    target: Option<String>,
    detail: Option<String>,
    ip: Option<String>,
) {
    let entry = AuditRecord {
        action,
        actor_id: actor.cloned(),
        target,
        detail,
        ip,
    };
    if let Err(e) = state.store.append_audit(entry, Utc::now()).await {
        tracing::error!(error = %e, action = action.as_str(), "could not write the audit log");
    }
}

/// Records a refusal, then returns it, so call sites read `return Err(denied(..).await)`.
/// A caller piling up refusals gets a bounded number of rows per minute; the rest are only
/// counted (`tutorchat_audit_denials_suppressed_total`), so a probe cannot flood the log.
pub async fn denied(state: &AppState, actor: &UserId, target: String, error: Error) -> Error {
    if state.rate.audit_denials.check(actor).is_err() {
        state.metrics.audit_suppressed();
        return error;
    }
    record(
        state,
        AuditAction::AccessDenied,
        Some(actor),
        Some(target),
        Some(error.code().as_str().to_owned()),
        None,
    )
    .await;
    error
}

pub async fn page(state: &AppState, query: AuditQuery) -> Result<AuditPage> {
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::validation(
            "limit",
            format!("limit must be 1..={MAX_PAGE}"),
        ));
    }
    let entries = state
        .store
        .audit_entries(query.before_id, query.action, limit)
        .await?;
    Ok(AuditPage { entries })
}
