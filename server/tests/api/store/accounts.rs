//! Conformance checks on people and access: refresh-token rotation, provisioning, enrollments,
//! blocks and the audit log.

use chrono::{Duration, Utc};
use tutorchat_server::store::{
    AuditRecord, Provisioning, ProvisioningError, RefreshRecord, RotateOutcome, Store,
};
use tutorchat_shared::api::{AuditAction, EnrollmentChange, UpsertCourse};
use tutorchat_shared::{CourseId, Role};

use super::{enrollment, id, school, user, COURSE, OTHER_STUDENT, STUDENT, TUTOR};

/// No reuse grace: any second presentation of a spent token is theft.
const NO_GRACE: std::time::Duration = std::time::Duration::ZERO;

fn token(hash: &str, expires_in: Duration) -> RefreshRecord {
    let now = Utc::now();
    RefreshRecord {
        token_hash: hash.into(),
        user_id: id(STUDENT),
        family_id: format!("family-of-{hash}"),
        created_at: now,
        expires_at: now + expires_in,
    }
}

/// What the service passes as `next`: the store fills in the user and family.
fn successor(hash: &str) -> RefreshRecord {
    RefreshRecord {
        user_id: id(""),
        family_id: String::new(),
        ..token(hash, Duration::days(1))
    }
}

pub async fn refresh_reuse_revokes_the_family(store: &dyn Store) {
    school(store).await;
    let now = Utc::now();
    store
        .insert_refresh_token(token("a", Duration::days(1)))
        .await
        .expect("insert");
    store
        .insert_refresh_token(token("other", Duration::days(1)))
        .await
        .expect("insert");
    let rotate = |presented: &'static str, next: &'static str| {
        store.rotate_refresh_token(presented, successor(next), now, NO_GRACE)
    };
    assert_eq!(
        rotate("a", "b").await.expect("rotate"),
        RotateOutcome::Rotated {
            user_id: id(STUDENT),
            family_id: "family-of-a".into(),
        }
    );
    assert_eq!(
        rotate("a", "c").await.expect("rotate"),
        RotateOutcome::Reused {
            user_id: id(STUDENT),
            family_id: "family-of-a".into(),
        }
    );
    let after = rotate("b", "d").await.expect("rotate");
    assert!(
        !matches!(after, RotateOutcome::Rotated { .. }),
        "b was revoked with its family: {after:?}"
    );
    assert_eq!(
        rotate("c", "e").await.expect("rotate"),
        RotateOutcome::Invalid,
        "c was never issued"
    );
    assert_eq!(
        rotate("d", "f").await.expect("rotate"),
        RotateOutcome::Invalid
    );
    // Another family is untouched.
    assert_eq!(
        rotate("other", "g").await.expect("rotate"),
        RotateOutcome::Rotated {
            user_id: id(STUDENT),
            family_id: "family-of-other".into(),
        }
    );

    // Revoking by any member of a family ends it.
    assert_eq!(
        store.revoke_refresh_family("g", now).await.expect("revoke"),
        Some((id(STUDENT), "family-of-other".into()))
    );
    assert!(!matches!(
        rotate("g", "h").await.expect("rotate"),
        RotateOutcome::Rotated { .. }
    ));
    assert_eq!(
        store
            .revoke_refresh_family("unknown", now)
            .await
            .expect("revoke"),
        None
    );
}

pub async fn a_refresh_replayed_within_the_grace_gets_the_same_successor(store: &dyn Store) {
    school(store).await;
    let spent_at = Utc::now();
    let grace = std::time::Duration::from_secs(30);
    store
        .insert_refresh_token(token("a", Duration::days(1)))
        .await
        .expect("insert");
    let rotated = RotateOutcome::Rotated {
        user_id: id(STUDENT),
        family_id: "family-of-a".into(),
    };
    let rotate = |presented: &'static str, next: &'static str, at| {
        store.rotate_refresh_token(presented, successor(next), at, grace)
    };
    assert_eq!(rotate("a", "b", spent_at).await.expect("rotate"), rotated);
    // The client crashed before saving b and presents a again: the same exchange, answered
    // again, storing nothing new.
    let soon = spent_at + Duration::seconds(5);
    assert_eq!(rotate("a", "b", soon).await.expect("replay"), rotated);
    // b is still good, exactly once.
    assert_eq!(
        rotate("b", "c", soon).await.expect("rotate"),
        RotateOutcome::Rotated {
            user_id: id(STUDENT),
            family_id: "family-of-a".into(),
        }
    );
    // a again, now that its successor is spent: theft, and the family ends.
    assert!(matches!(
        rotate("a", "b", soon).await.expect("reuse"),
        RotateOutcome::Reused { .. }
    ));
    assert!(!matches!(
        rotate("c", "d", soon).await.expect("rotate"),
        RotateOutcome::Rotated { .. }
    ));

    // Past the grace, a replay is theft even if the successor was never used.
    store
        .insert_refresh_token(token("x", Duration::days(1)))
        .await
        .expect("insert");
    assert!(matches!(
        rotate("x", "y", spent_at).await.expect("rotate"),
        RotateOutcome::Rotated { .. }
    ));
    let late = spent_at + Duration::seconds(31);
    assert!(matches!(
        rotate("x", "y", late).await.expect("late replay"),
        RotateOutcome::Reused { .. }
    ));
    let revoked = store
        .revoked_families_since(spent_at)
        .await
        .expect("revoked families");
    assert!(revoked.contains(&"family-of-x".to_owned()), "{revoked:?}");
    assert!(revoked.contains(&"family-of-a".to_owned()), "{revoked:?}");
}

pub async fn expired_or_unknown_refresh_token_is_invalid(store: &dyn Store) {
    school(store).await;
    let now = Utc::now();
    store
        .insert_refresh_token(token("old", -Duration::minutes(1)))
        .await
        .expect("insert");
    let outcome = store
        .rotate_refresh_token("old", successor("new"), now, NO_GRACE)
        .await
        .expect("rotate");
    assert_eq!(outcome, RotateOutcome::Invalid);
    let outcome = store
        .rotate_refresh_token("new", successor("newer"), now, NO_GRACE)
        .await
        .expect("rotate");
    assert_eq!(outcome, RotateOutcome::Invalid, "no successor was stored");
    let outcome = store
        .rotate_refresh_token("never", successor("x"), now, NO_GRACE)
        .await
        .expect("rotate");
    assert_eq!(outcome, RotateOutcome::Invalid);
}

pub async fn provisioning_is_all_or_nothing(store: &dyn Store) {
    school(store).await;
    let bad_enrollment = Provisioning {
        users: vec![user("s-new", Role::Student)],
        courses: vec![UpsertCourse {
            id: CourseId::new("c-new"),
            title: "New".into(),
            tutor_ids: vec![],
            purchase_url: None,
        }],
        enrollments: vec![
            enrollment("c-new", "s-new"),
            enrollment("c-missing", "s-new"),
        ],
    };
    let refusal = store.provision(bad_enrollment).await.expect("store works");
    assert_eq!(
        refusal,
        Err(ProvisioningError::Missing {
            what: "course",
            id: "c-missing".into()
        })
    );
    assert_eq!(store.user(&id("s-new")).await.expect("user"), None);
    assert_eq!(
        store.course(&CourseId::new("c-new")).await.expect("course"),
        None
    );
    assert_eq!(store.user_count().await.expect("count"), 3);

    let mut taken = user("s-thief", Role::Student);
    taken.email = format!("{STUDENT}@STORE.test");
    let refusal = store
        .provision(Provisioning {
            users: vec![taken],
            ..Default::default()
        })
        .await;
    match refusal.expect("store works") {
        Err(ProvisioningError::EmailTaken { owner, .. }) => assert_eq!(owner, id(STUDENT)),
        other => panic!("expected EmailTaken, got {other:?}"),
    }

    let student_as_tutor = Provisioning {
        courses: vec![UpsertCourse {
            id: CourseId::new(COURSE),
            title: "X".into(),
            tutor_ids: vec![id(STUDENT)],
            purchase_url: None,
        }],
        ..Default::default()
    };
    let refusal = store
        .provision(student_as_tutor)
        .await
        .expect("store works");
    assert!(
        matches!(refusal, Err(ProvisioningError::WrongRole { .. })),
        "{refusal:?}"
    );
    assert!(
        store
            .teaches(&id(TUTOR), &CourseId::new(COURSE))
            .await
            .expect("teaches"),
        "unchanged"
    );
}

pub async fn revoked_enrollments_leave_the_gate_and_the_lists(store: &dyn Store) {
    school(store).await;
    let course = CourseId::new(COURSE);
    let revoke = EnrollmentChange {
        active: false,
        ..enrollment(COURSE, STUDENT)
    };
    store
        .provision(Provisioning {
            enrollments: vec![revoke],
            ..Default::default()
        })
        .await
        .expect("ok")
        .expect("ok");
    assert!(!store
        .is_enrolled(&id(STUDENT), &course)
        .await
        .expect("gate"));
    assert!(store
        .tutors_of_student(&id(STUDENT))
        .await
        .expect("tutors")
        .is_empty());
    let students = store
        .students_of_tutor(&id(TUTOR), Some(&course))
        .await
        .expect("students");
    assert_eq!(
        students
            .iter()
            .map(|c| c.person.id.as_str())
            .collect::<Vec<_>>(),
        [OTHER_STUDENT]
    );

    let grant = Provisioning {
        enrollments: vec![enrollment(COURSE, STUDENT)],
        ..Default::default()
    };
    store.provision(grant).await.expect("ok").expect("ok");
    assert!(store
        .is_enrolled(&id(STUDENT), &course)
        .await
        .expect("gate"));
    let tutors = store.tutors_of_student(&id(STUDENT)).await.expect("tutors");
    assert_eq!(tutors.len(), 1);
    assert!(tutors[0].chat_id.is_some(), "the existing chat is linked");
}

pub async fn blocks_are_one_way_and_report_changes(store: &dyn Store) {
    school(store).await;
    let (tutor, student) = (id(TUTOR), id(STUDENT));
    assert!(store
        .set_block(&tutor, &student, true)
        .await
        .expect("block"));
    assert!(
        !store
            .set_block(&tutor, &student, true)
            .await
            .expect("block"),
        "already blocked"
    );
    assert!(store.is_blocked(&tutor, &student).await.expect("query"));
    assert!(
        !store.is_blocked(&student, &tutor).await.expect("query"),
        "one way"
    );
    assert!(store
        .set_block(&tutor, &student, false)
        .await
        .expect("unblock"));
    assert!(!store
        .set_block(&tutor, &student, false)
        .await
        .expect("unblock"));
    assert!(!store.is_blocked(&tutor, &student).await.expect("query"));
}

pub async fn audit_entries_page_newest_first(store: &dyn Store) {
    for (i, action) in [
        AuditAction::LoginOk,
        AuditAction::LoginFailed,
        AuditAction::LoginOk,
    ]
    .into_iter()
    .enumerate()
    {
        let entry = AuditRecord {
            action,
            actor_id: None,
            target: Some(format!("t{i}")),
            detail: None,
            ip: None,
        };
        store.append_audit(entry, Utc::now()).await.expect("append");
    }
    let all = store.audit_entries(None, None, 10).await.expect("entries");
    let targets: Vec<_> = all
        .iter()
        .map(|e| e.target.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(targets, ["t2", "t1", "t0"]);
    let ok = store
        .audit_entries(None, Some(AuditAction::LoginOk), 1)
        .await
        .expect("entries");
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].target.as_deref(), Some("t2"));
    let older = store
        .audit_entries(Some(ok[0].id), Some(AuditAction::LoginOk), 10)
        .await
        .expect("entries");
    assert_eq!(
        older
            .iter()
            .map(|e| e.target.as_deref())
            .collect::<Vec<_>>(),
        [Some("t0")]
    );
}
