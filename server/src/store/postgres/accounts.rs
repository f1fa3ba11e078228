//! Queries on people and access: users, courses with their tutors, enrollments, blocks,
//! refresh tokens and the audit log. The same rules as the SQLite twin, statement for
//! statement; where several nodes could race, a row lock says who goes first.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tutorchat_shared::api::{AuditAction, AuditEntry};
use tutorchat_shared::{ChatId, CourseId, CourseRef, Role, UserId};

use super::{from_ms, to_ms, to_u64, Client};
use crate::store::{
    AuditRecord, ContactRow, PersonRow, Provisioning, ProvisioningError, RefreshRecord, Result,
    RotateOutcome, StoreError, UserRecord,
};

const USER_COLUMNS: &str = "id, email, name, role, password_hash, disabled";

fn user_from_row(row: &Row) -> Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(row.try_get(0)?),
        email: row.try_get(1)?,
        name: row.try_get(2)?,
        role: parse_role(row.try_get(3)?)?,
        password_hash: row.try_get(4)?,
        disabled: row.try_get(5)?,
    })
}

pub(super) fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown role {s:?}")))
}

pub(super) async fn user_count(c: &Client) -> Result<u64> {
    let n: i64 = c
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .try_get(0)?;
    Ok(to_u64(n))
}

pub(super) async fn user(c: &impl GenericClient, id: &UserId) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    c.query_opt(&sql, &[&id.0])
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

pub(super) async fn user_by_email(c: &Client, email: &str) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)");
    c.query_opt(&sql, &[&email])
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

pub(super) async fn purchase_url(c: &Client, id: &CourseId) -> Result<Option<String>> {
    Ok(
        c.query_opt("SELECT purchase_url FROM courses WHERE id = $1", &[&id.0])
            .await?
            .map(|r| r.try_get::<_, Option<String>>(0))
            .transpose()?
            .flatten(),
    )
}

pub(super) async fn course(c: &impl GenericClient, id: &CourseId) -> Result<Option<CourseRef>> {
    c.query_opt("SELECT id, title FROM courses WHERE id = $1", &[&id.0])
        .await?
        .map(|r| {
            Ok(CourseRef {
                id: CourseId(r.try_get(0)?),
                title: r.try_get(1)?,
            })
        })
        .transpose()
}

/// Applies a batch in one transaction; a refusal rolls it all back.
pub(super) async fn provision(
    c: &mut Client,
    batch: &Provisioning,
) -> Result<std::result::Result<(), ProvisioningError>> {
    let tx = c.transaction().await?;
    let applied = provision_in(&tx, batch).await?;
    if applied.is_ok() {
        tx.commit().await?;
    }
    // Dropped without a commit: rolled back.
    Ok(applied)
}

async fn provision_in(
    tx: &deadpool_postgres::Transaction<'_>,
    batch: &Provisioning,
) -> Result<std::result::Result<(), ProvisioningError>> {
    let now = to_ms(Utc::now());
    for u in &batch.users {
        let owner = tx
            .query_opt(
                "SELECT id FROM users WHERE lower(email) = lower($1) AND id != $2",
                &[&u.email, &u.id.0],
            )
            .await?;
        if let Some(owner) = owner {
            return Ok(Err(ProvisioningError::EmailTaken {
                email: u.email.clone(),
                owner: UserId(owner.try_get(0)?),
            }));
        }
        tx.execute(
            "INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (id) DO UPDATE SET
                email = excluded.email, name = excluded.name, role = excluded.role,
                password_hash = coalesce(excluded.password_hash, users.password_hash),
                updated_at = excluded.updated_at",
            &[
                &u.id.0,
                &u.email,
                &u.name,
                &u.role.as_str(),
                &u.password_hash,
                &now,
            ],
        )
        .await?;
    }
    for course in &batch.courses {
        tx.execute(
            "INSERT INTO courses (id, title, purchase_url, created_at, updated_at)
             VALUES ($1, $2, $4, $3, $3)
             ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                purchase_url = excluded.purchase_url, updated_at = excluded.updated_at",
            &[&course.id.0, &course.title, &now, &course.purchase_url],
        )
        .await?;
        tx.execute(
            "DELETE FROM course_tutors WHERE course_id = $1",
            &[&course.id.0],
        )
        .await?;
        for tutor in &course.tutor_ids {
            if let Err(refusal) = expect_role(tx, tutor, Role::Tutor, "tutor").await? {
                return Ok(Err(refusal));
            }
            tx.execute(
                "INSERT INTO course_tutors (course_id, tutor_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&course.id.0, &tutor.0],
            )
            .await?;
        }
    }
    for e in &batch.enrollments {
        if course(tx, &e.course_id).await?.is_none() {
            return Ok(Err(ProvisioningError::Missing {
                what: "course",
                id: e.course_id.0.clone(),
            }));
        }
        if let Err(refusal) = expect_role(tx, &e.student_id, Role::Student, "student").await? {
            return Ok(Err(refusal));
        }
        let sql = if e.active {
            "INSERT INTO enrollments (course_id, student_id, granted_at) VALUES ($1, $2, $3)
             ON CONFLICT (course_id, student_id) DO UPDATE SET
                granted_at = CASE WHEN enrollments.revoked_at IS NULL
                             THEN enrollments.granted_at ELSE excluded.granted_at END,
                revoked_at = NULL"
        } else {
            "UPDATE enrollments SET revoked_at = $3
             WHERE course_id = $1 AND student_id = $2 AND revoked_at IS NULL"
        };
        tx.execute(sql, &[&e.course_id.0, &e.student_id.0, &now])
            .await?;
    }
    Ok(Ok(()))
}

async fn expect_role(
    c: &impl GenericClient,
    id: &UserId,
    expected: Role,
    what: &'static str,
) -> Result<std::result::Result<(), ProvisioningError>> {
    let found = user(c, id).await?;
    Ok(ProvisioningError::check_role(
        found.as_ref(),
        id,
        expected,
        what,
    ))
}

pub(super) async fn is_enrolled(c: &Client, student: &UserId, course: &CourseId) -> Result<bool> {
    exists(
        c,
        "SELECT 1 FROM enrollments
         WHERE course_id = $1 AND student_id = $2 AND revoked_at IS NULL",
        &[&course.0, &student.0],
    )
    .await
}

pub(super) async fn teaches(c: &Client, tutor: &UserId, course: &CourseId) -> Result<bool> {
    exists(
        c,
        "SELECT 1 FROM course_tutors WHERE course_id = $1 AND tutor_id = $2",
        &[&course.0, &tutor.0],
    )
    .await
}

fn contact_from_row(r: &Row) -> Result<ContactRow> {
    Ok(ContactRow {
        course: CourseRef {
            id: CourseId(r.try_get(0)?),
            title: r.try_get(1)?,
        },
        person: PersonRow {
            id: UserId(r.try_get(2)?),
            name: r.try_get(3)?,
            role: parse_role(r.try_get(4)?)?,
        },
        chat_id: r.try_get::<_, Option<i64>>(5)?.map(ChatId),
    })
}

pub(super) async fn tutors_of_student(c: &Client, student: &UserId) -> Result<Vec<ContactRow>> {
    let statement = c
        .prepare_cached(
            "SELECT co.id, co.title, u.id, u.name, u.role, ch.id
             FROM enrollments e
             JOIN courses co ON co.id = e.course_id
             JOIN course_tutors ct ON ct.course_id = e.course_id
             JOIN users u ON u.id = ct.tutor_id AND NOT u.disabled
             LEFT JOIN chats ch ON ch.course_id = e.course_id
                  AND ch.student_id = e.student_id AND ch.tutor_id = ct.tutor_id
             WHERE e.student_id = $1 AND e.revoked_at IS NULL
             ORDER BY co.title COLLATE \"C\", co.id COLLATE \"C\", u.name COLLATE \"C\",
                      u.id COLLATE \"C\"",
        )
        .await?;
    c.query(&statement, &[&student.0])
        .await?
        .iter()
        .map(contact_from_row)
        .collect()
}

pub(super) async fn students_of_tutor(
    c: &Client,
    tutor: &UserId,
    course: Option<&CourseId>,
) -> Result<Vec<ContactRow>> {
    let statement = c
        .prepare_cached(
            "SELECT co.id, co.title, u.id, u.name, u.role, ch.id
             FROM course_tutors ct
             JOIN courses co ON co.id = ct.course_id
             JOIN enrollments e ON e.course_id = ct.course_id AND e.revoked_at IS NULL
             JOIN users u ON u.id = e.student_id AND NOT u.disabled
             LEFT JOIN chats ch ON ch.course_id = ct.course_id
                  AND ch.student_id = e.student_id AND ch.tutor_id = ct.tutor_id
             WHERE ct.tutor_id = $1 AND ($2::TEXT IS NULL OR ct.course_id = $2)
             ORDER BY co.title COLLATE \"C\", co.id COLLATE \"C\", u.name COLLATE \"C\",
                      u.id COLLATE \"C\"",
        )
        .await?;
    c.query(&statement, &[&tutor.0, &course.map(CourseId::as_str)])
        .await?
        .iter()
        .map(contact_from_row)
        .collect()
}

pub(super) async fn set_block(
    c: &Client,
    blocker: &UserId,
    blocked: &UserId,
    on: bool,
    at: DateTime<Utc>,
) -> Result<bool> {
    let changed = if on {
        c.execute(
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&blocker.0, &blocked.0, &to_ms(at)],
        )
        .await?
    } else {
        c.execute(
            "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
            &[&blocker.0, &blocked.0],
        )
        .await?
    };
    Ok(changed > 0)
}

pub(super) async fn is_blocked(c: &Client, blocker: &UserId, blocked: &UserId) -> Result<bool> {
    exists(
        c,
        "SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
        &[&blocker.0, &blocked.0],
    )
    .await
}

pub(super) async fn insert_refresh(c: &impl GenericClient, t: &RefreshRecord) -> Result<()> {
    c.execute(
        "INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &t.token_hash,
            &t.user_id.0,
            &t.family_id,
            &to_ms(t.created_at),
            &to_ms(t.expires_at),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn rotate_refresh(
    c: &mut Client,
    presented: &str,
    mut next: RefreshRecord,
    now: DateTime<Utc>,
    grace: std::time::Duration,
) -> Result<RotateOutcome> {
    let tx = c.transaction().await?;
    // Locked: the same token presented to two nodes at once is spent once.
    let Some(found) = tx
        .query_opt(
            "SELECT user_id, family_id, expires_at, used_at, revoked_at
             FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE",
            &[&presented],
        )
        .await?
    else {
        return Ok(RotateOutcome::Invalid);
    };
    let user_id: String = found.try_get(0)?;
    let family_id: String = found.try_get(1)?;
    let expires_at: i64 = found.try_get(2)?;
    let used_at: Option<i64> = found.try_get(3)?;
    let revoked_at: Option<i64> = found.try_get(4)?;
    let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let within_grace = used_at.is_some_and(|used| to_ms(now).saturating_sub(used) <= grace_ms);
    if within_grace
        && revoked_at.is_none()
        && exists(
            &tx,
            "SELECT 1 FROM refresh_tokens WHERE token_hash = $1 AND family_id = $2
                 AND used_at IS NULL AND revoked_at IS NULL",
            &[&next.token_hash, &family_id],
        )
        .await?
    {
        return Ok(RotateOutcome::Rotated {
            user_id: UserId(user_id),
            family_id,
        });
    }
    if used_at.is_some() || revoked_at.is_some() {
        revoke_family_id(&tx, &family_id, now).await?;
        tx.commit().await?;
        return Ok(RotateOutcome::Reused {
            user_id: UserId(user_id),
            family_id,
        });
    }
    if expires_at <= to_ms(now) {
        return Ok(RotateOutcome::Invalid);
    }
    tx.execute(
        "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1",
        &[&presented, &to_ms(now)],
    )
    .await?;
    next.family_id = family_id.clone();
    next.user_id = UserId(user_id.clone());
    insert_refresh(&tx, &next).await?;
    tx.commit().await?;
    Ok(RotateOutcome::Rotated {
        user_id: UserId(user_id),
        family_id,
    })
}

pub(super) async fn revoked_families_since(
    c: &Client,
    since: DateTime<Utc>,
) -> Result<Vec<String>> {
    c.query(
        "SELECT DISTINCT family_id FROM refresh_tokens WHERE revoked_at >= $1",
        &[&to_ms(since)],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get(0)?))
    .collect()
}

pub(super) async fn revoke_family(
    c: &Client,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(UserId, String)>> {
    let Some(found) = c
        .query_opt(
            "SELECT user_id, family_id FROM refresh_tokens WHERE token_hash = $1",
            &[&token_hash],
        )
        .await?
    else {
        return Ok(None);
    };
    let family_id: String = found.try_get(1)?;
    revoke_family_id(c, &family_id, now).await?;
    Ok(Some((UserId(found.try_get(0)?), family_id)))
}

async fn revoke_family_id(
    c: &impl GenericClient,
    family_id: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    c.execute(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
        &[&family_id, &to_ms(now)],
    )
    .await?;
    Ok(())
}

pub(super) async fn append_audit(c: &Client, e: &AuditRecord, at: DateTime<Utc>) -> Result<()> {
    c.execute(
        "INSERT INTO audit_log (at, action, actor_id, target, detail, ip)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &to_ms(at),
            &e.action.as_str(),
            &e.actor_id.as_ref().map(UserId::as_str),
            &e.target,
            &e.detail,
            &e.ip,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn audit_entries(
    c: &Client,
    before_id: Option<i64>,
    action: Option<AuditAction>,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    let statement = c
        .prepare_cached(
            "SELECT id, at, action, actor_id, target, detail, ip FROM audit_log
             WHERE ($1::BIGINT IS NULL OR id < $1) AND ($2::TEXT IS NULL OR action = $2)
             ORDER BY id DESC LIMIT $3",
        )
        .await?;
    c.query(
        &statement,
        &[
            &before_id,
            &action.map(AuditAction::as_str),
            &i64::from(limit),
        ],
    )
    .await?
    .iter()
    .map(|r| {
        let action: &str = r.try_get(2)?;
        let action = AuditAction::parse(action)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown audit action {action:?}")))?;
        Ok(AuditEntry {
            id: r.try_get(0)?,
            at: from_ms(r.try_get(1)?),
            action,
            actor_id: r.try_get::<_, Option<String>>(3)?.map(UserId),
            target: r.try_get(4)?,
            detail: r.try_get(5)?,
            ip: r.try_get(6)?,
        })
    })
    .collect()
}

/// Whether the query finds a row.
async fn exists(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<bool> {
    Ok(c.query_opt(sql, params).await?.is_some())
}
