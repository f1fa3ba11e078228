//! Queries on people and access: users, courses with their tutors, enrollments, blocks,
//! refresh tokens and the audit log.

use chrono::{DateTime, Utc};
use rusqlite::{named_params, params, Connection, OptionalExtension, Row};
use tutorchat_shared::api::{AuditAction, AuditEntry};
use tutorchat_shared::{ChatId, CourseId, CourseRef, Role, UserId};

use super::{from_ms, to_ms};
use crate::store::{
    AuditRecord, ContactRow, PersonRow, Provisioning, ProvisioningError, RefreshRecord, Result,
    RotateOutcome, UserRecord,
};

const USER_COLUMNS: &str = "id, email, name, role, password_hash, disabled";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(row.get(0)?),
        email: row.get(1)?,
        name: row.get(2)?,
        role: parse_role(row.get_ref(3)?.as_str()?)?,
        password_hash: row.get(4)?,
        disabled: row.get(5)?,
    })
}

pub(super) fn parse_role(s: &str) -> rusqlite::Result<Role> {
    Role::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown role {s:?}").into(),
        )
    })
}

pub(super) fn user_count(c: &Connection) -> Result<u64> {
    let n: i64 = c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
    Ok(super::to_u64(n))
}

pub(super) fn user(c: &Connection, id: &UserId) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id.as_str()], user_from_row)
        .optional()?)
}

pub(super) fn user_by_email(c: &Connection, email: &str) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([email], user_from_row)
        .optional()?)
}

/// Where the platform sells the course, if it said.
pub(super) fn purchase_url(c: &Connection, id: &CourseId) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT purchase_url FROM courses WHERE id = ?1")?
            .query_row([id.as_str()], |r| r.get(0))
            .optional()?
            .flatten(),
    )
}

pub(super) fn course(c: &Connection, id: &CourseId) -> Result<Option<CourseRef>> {
    Ok(
        c.prepare_cached("SELECT id, title FROM courses WHERE id = ?1")?
            .query_row([id.as_str()], |r| {
                Ok(CourseRef {
                    id: CourseId(r.get(0)?),
                    title: r.get(1)?,
                })
            })
            .optional()?,
    )
}

/// Applies a batch inside the caller's transaction; a refusal leaves partial changes that the
/// caller must roll back.
pub(super) fn provision(
    c: &Connection,
    batch: &Provisioning,
) -> Result<std::result::Result<(), ProvisioningError>> {
    let now = to_ms(Utc::now());
    for u in &batch.users {
        let owner: Option<String> = c
            .prepare_cached("SELECT id FROM users WHERE email = ?1 AND id != ?2")?
            .query_row([u.email.as_str(), u.id.as_str()], |r| r.get(0))
            .optional()?;
        if let Some(owner) = owner {
            return Ok(Err(ProvisioningError::EmailTaken {
                email: u.email.clone(),
                owner: UserId(owner),
            }));
        }
        c.prepare_cached(
            "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (id) DO UPDATE SET
                email = excluded.email, name = excluded.name, role = excluded.role,
                password_hash = coalesce(excluded.password_hash, users.password_hash),
                updated_at = excluded.updated_at",
        )?
        .execute(params![
            u.id.as_str(),
            u.email,
            u.name,
            u.role.as_str(),
            u.password_hash,
            now
        ])?;
    }
    for course in &batch.courses {
        c.prepare_cached(
            "INSERT INTO courses (id, title, purchase_url, created_at, updated_at)
             VALUES (?1, ?2, ?4, ?3, ?3)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                purchase_url = excluded.purchase_url, updated_at = excluded.updated_at",
        )?
        .execute(params![
            course.id.as_str(),
            course.title,
            now,
            course.purchase_url
        ])?;
        c.prepare_cached("DELETE FROM course_tutors WHERE course_id = ?1")?
            .execute([course.id.as_str()])?;
        for tutor in &course.tutor_ids {
            if let Err(refusal) = expect_role(c, tutor, Role::Tutor, "tutor")? {
                return Ok(Err(refusal));
            }
            c.prepare_cached(
                "INSERT OR IGNORE INTO course_tutors (course_id, tutor_id) VALUES (?1, ?2)",
            )?
            .execute([course.id.as_str(), tutor.as_str()])?;
        }
    }
    for e in &batch.enrollments {
        if course(c, &e.course_id)?.is_none() {
            return Ok(Err(ProvisioningError::Missing {
                what: "course",
                id: e.course_id.0.clone(),
            }));
        }
        if let Err(refusal) = expect_role(c, &e.student_id, Role::Student, "student")? {
            return Ok(Err(refusal));
        }
        if e.active {
            c.prepare_cached(
                "INSERT INTO enrollments (course_id, student_id, granted_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (course_id, student_id) DO UPDATE SET
                    granted_at = CASE WHEN revoked_at IS NULL THEN granted_at ELSE excluded.granted_at END,
                    revoked_at = NULL",
            )?
            .execute(params![e.course_id.as_str(), e.student_id.as_str(), now])?;
        } else {
            c.prepare_cached(
                "UPDATE enrollments SET revoked_at = ?3
                 WHERE course_id = ?1 AND student_id = ?2 AND revoked_at IS NULL",
            )?
            .execute(params![e.course_id.as_str(), e.student_id.as_str(), now])?;
        }
    }
    Ok(Ok(()))
}

fn expect_role(
    c: &Connection,
    id: &UserId,
    expected: Role,
    what: &'static str,
) -> Result<std::result::Result<(), ProvisioningError>> {
    let found = user(c, id)?;
    Ok(ProvisioningError::check_role(
        found.as_ref(),
        id,
        expected,
        what,
    ))
}

/// A row while `:student` holds a current enrollment in `:course`. The gate's rules are stated
/// once here, for these reads and for the send path's checks (`chats::refusal`).
pub(super) const ENROLLED: &str = "SELECT 1 FROM enrollments
     WHERE course_id = :course AND student_id = :student AND revoked_at IS NULL";
/// A row while `:tutor` teaches `:course`.
pub(super) const TEACHES: &str =
    "SELECT 1 FROM course_tutors WHERE course_id = :course AND tutor_id = :tutor";
/// A row while `:blocker` blocks `:blocked`.
pub(super) const BLOCKED: &str =
    "SELECT 1 FROM blocks WHERE blocker_id = :blocker AND blocked_id = :blocked";

pub(super) fn is_enrolled(c: &Connection, student: &UserId, course: &CourseId) -> Result<bool> {
    Ok(c.prepare_cached(ENROLLED)?.exists(named_params! {
        ":course": course.as_str(),
        ":student": student.as_str(),
    })?)
}

pub(super) fn teaches(c: &Connection, tutor: &UserId, course: &CourseId) -> Result<bool> {
    Ok(c.prepare_cached(TEACHES)?.exists(named_params! {
        ":course": course.as_str(),
        ":tutor": tutor.as_str(),
    })?)
}

fn contact_from_row(r: &Row<'_>) -> rusqlite::Result<ContactRow> {
    Ok(ContactRow {
        course: CourseRef {
            id: CourseId(r.get(0)?),
            title: r.get(1)?,
        },
        person: PersonRow {
            id: UserId(r.get(2)?),
            name: r.get(3)?,
            role: parse_role(r.get_ref(4)?.as_str()?)?,
        },
        chat_id: r.get::<_, Option<i64>>(5)?.map(ChatId),
    })
}

pub(super) fn tutors_of_student(c: &Connection, student: &UserId) -> Result<Vec<ContactRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT co.id, co.title, u.id, u.name, u.role, ch.id
         FROM enrollments e
         JOIN courses co ON co.id = e.course_id
         JOIN course_tutors ct ON ct.course_id = e.course_id
         JOIN users u ON u.id = ct.tutor_id AND u.disabled = 0
         LEFT JOIN chats ch ON ch.course_id = e.course_id
              AND ch.student_id = e.student_id AND ch.tutor_id = ct.tutor_id
         WHERE e.student_id = ?1 AND e.revoked_at IS NULL
         ORDER BY co.title, co.id, u.name, u.id",
    )?;
    let rows = stmt.query_map([student.as_str()], contact_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn students_of_tutor(
    c: &Connection,
    tutor: &UserId,
    course: Option<&CourseId>,
) -> Result<Vec<ContactRow>> {
    let mut stmt = c.prepare_cached(
        "SELECT co.id, co.title, u.id, u.name, u.role, ch.id
         FROM course_tutors ct
         JOIN courses co ON co.id = ct.course_id
         JOIN enrollments e ON e.course_id = ct.course_id AND e.revoked_at IS NULL
         JOIN users u ON u.id = e.student_id AND u.disabled = 0
         LEFT JOIN chats ch ON ch.course_id = ct.course_id
              AND ch.student_id = e.student_id AND ch.tutor_id = ct.tutor_id
         WHERE ct.tutor_id = ?1 AND (?2 IS NULL OR ct.course_id = ?2)
         ORDER BY co.title, co.id, u.name, u.id",
    )?;
    let rows = stmt.query_map(
        params![tutor.as_str(), course.map(CourseId::as_str)],
        contact_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn set_block(
    c: &Connection,
    blocker: &UserId,
    blocked: &UserId,
    on: bool,
    at: DateTime<Utc>,
) -> Result<bool> {
    let changed = if on {
        c.prepare_cached(
            "INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![blocker.as_str(), blocked.as_str(), to_ms(at)])?
    } else {
        c.prepare_cached("DELETE FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2")?
            .execute([blocker.as_str(), blocked.as_str()])?
    };
    Ok(changed > 0)
}

pub(super) fn is_blocked(c: &Connection, blocker: &UserId, blocked: &UserId) -> Result<bool> {
    Ok(c.prepare_cached(BLOCKED)?.exists(named_params! {
        ":blocker": blocker.as_str(),
        ":blocked": blocked.as_str(),
    })?)
}

pub(super) fn insert_refresh(c: &Connection, t: &RefreshRecord) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        t.token_hash,
        t.user_id.as_str(),
        t.family_id,
        to_ms(t.created_at),
        to_ms(t.expires_at)
    ])?;
    Ok(())
}

pub(super) fn rotate_refresh(
    c: &Connection,
    presented: &str,
    mut next: RefreshRecord,
    now: DateTime<Utc>,
    grace: std::time::Duration,
) -> Result<RotateOutcome> {
    type TokenState = (String, String, i64, Option<i64>, Option<i64>);
    let found: Option<TokenState> = c
        .prepare_cached(
            "SELECT user_id, family_id, expires_at, used_at, revoked_at
             FROM refresh_tokens WHERE token_hash = ?1",
        )?
        .query_row([presented], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((user_id, family_id, expires_at, used_at, revoked_at)) = found else {
        return Ok(RotateOutcome::Invalid);
    };
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let within_grace = used_at.is_some_and(|used| to_ms(now).saturating_sub(used) <= grace_ms);
    if within_grace && revoked_at.is_none() && successor_is_live(c, &next.token_hash, &family_id)? {
        return Ok(RotateOutcome::Rotated {
            user_id: UserId(user_id),
            family_id,
        });
    }
    if used_at.is_some() || revoked_at.is_some() {
        revoke_family_id(c, &family_id, now)?;
        return Ok(RotateOutcome::Reused {
            user_id: UserId(user_id),
            family_id,
        });
    }
    if expires_at <= to_ms(now) {
        return Ok(RotateOutcome::Invalid);
    }
    c.prepare_cached("UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1")?
        .execute(params![presented, to_ms(now)])?;
    next.family_id = family_id.clone();
    next.user_id = UserId(user_id.clone());
    insert_refresh(c, &next)?;
    Ok(RotateOutcome::Rotated {
        user_id: UserId(user_id),
        family_id,
    })
}

/// Whether `token_hash` is an unspent, unrevoked token of `family`.
fn successor_is_live(c: &Connection, token_hash: &str, family: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM refresh_tokens
         WHERE token_hash = ?1 AND family_id = ?2 AND used_at IS NULL AND revoked_at IS NULL",
    )?
    .exists([token_hash, family])?)
}

pub(super) fn revoked_families_since(c: &Connection, since: DateTime<Utc>) -> Result<Vec<String>> {
    let mut stmt =
        c.prepare_cached("SELECT DISTINCT family_id FROM refresh_tokens WHERE revoked_at >= ?1")?;
    let families = stmt
        .query_map([to_ms(since)], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(families)
}

pub(super) fn revoke_family(
    c: &Connection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(UserId, String)>> {
    let found: Option<(String, String)> = c
        .prepare_cached("SELECT user_id, family_id FROM refresh_tokens WHERE token_hash = ?1")?
        .query_row([token_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((user_id, family_id)) = found else {
        return Ok(None);
    };
    revoke_family_id(c, &family_id, now)?;
    Ok(Some((UserId(user_id), family_id)))
}

fn revoke_family_id(c: &Connection, family_id: &str, now: DateTime<Utc>) -> Result<()> {
    c.prepare_cached(
        "UPDATE refresh_tokens SET revoked_at = ?2 WHERE family_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![family_id, to_ms(now)])?;
    Ok(())
}

pub(super) fn append_audit(c: &Connection, e: &AuditRecord, at: DateTime<Utc>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO audit_log (at, action, actor_id, target, detail, ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        to_ms(at),
        e.action.as_str(),
        e.actor_id.as_ref().map(UserId::as_str),
        e.target,
        e.detail,
        e.ip
    ])?;
    Ok(())
}

pub(super) fn audit_entries(
    c: &Connection,
    before_id: Option<i64>,
    action: Option<AuditAction>,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, at, action, actor_id, target, detail, ip FROM audit_log
         WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR action = ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![before_id, action.map(AuditAction::as_str), limit],
        |r| {
            let action: String = r.get(2)?;
            let action = AuditAction::parse(&action).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    format!("unknown audit action {action:?}").into(),
                )
            })?;
            Ok(AuditEntry {
                id: r.get(0)?,
                at: from_ms(r.get(1)?),
                action,
                actor_id: r.get::<_, Option<String>>(3)?.map(UserId),
                target: r.get(4)?,
                detail: r.get(5)?,
                ip: r.get(6)?,
            })
        },
    )?;
    let entries = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(entries)
}
