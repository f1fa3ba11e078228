//! REST request bodies and queries as the server reads them: `ApiJson` is axum's `Json`
//! (serde_json over the body bytes), `ApiQuery` is axum's `Query` (serde_urlencoded), and then
//! the rules the server's services apply to each (`server/src/service/`).

use tutorchat_shared::api::{
    AuditQuery, CreateChatRequest, EnrollmentChange, LoginRequest, MarkReadRequest, MessagesQuery,
    ProvisioningBatch, RefreshRequest, SendMessageRequest, StudentsQuery, UpsertCourse, UpsertUser,
};
use tutorchat_shared::validation::{
    validate_batch, validate_client_id, validate_course_id, validate_email, validate_message,
    validate_name, Limits, ValidationError,
};

use crate::json_round_trip;

/// The first byte picks the body type (or query), the rest is the body; true when it decoded.
pub fn check_body(data: &[u8]) -> bool {
    let Some((&selector, body)) = data.split_first() else {
        return false;
    };
    match selector % 12 {
        // service::auth::login trims the email and needs both fields: nothing shared to check.
        0 => json_round_trip::<LoginRequest>(body).is_some(),
        1 => json_round_trip::<RefreshRequest>(body).is_some(),
        2 => json_round_trip::<CreateChatRequest>(body)
            .map(|req| refusal_renders(validate_course_id(&req.course_id)))
            .is_some(),
        // service::chats::send, with the server's default limits.
        3 => json_round_trip::<SendMessageRequest>(body)
            .map(|req| {
                crate::validation::check_client_id(req.client_id.as_str());
                crate::validation::check_message(req.kind, &req.content, &Limits::default());
                refusal_renders(validate_client_id(&req.client_id).and_then(|()| {
                    validate_message(
                        req.kind,
                        &req.content,
                        req.attachment_id.as_ref(),
                        &Limits::default(),
                    )
                }));
            })
            .is_some(),
        4 => json_round_trip::<MarkReadRequest>(body).is_some(),
        5 => json_round_trip::<UpsertUser>(body)
            .map(|user| {
                check_batch(&ProvisioningBatch {
                    users: vec![user],
                    ..Default::default()
                })
            })
            .is_some(),
        6 => json_round_trip::<UpsertCourse>(body)
            .map(|course| {
                check_batch(&ProvisioningBatch {
                    courses: vec![course],
                    ..Default::default()
                })
            })
            .is_some(),
        7 => json_round_trip::<EnrollmentChange>(body)
            .map(|change| {
                check_batch(&ProvisioningBatch {
                    enrollments: vec![change],
                    ..Default::default()
                })
            })
            .is_some(),
        8 => json_round_trip::<ProvisioningBatch>(body)
            .map(|batch| check_batch(&batch))
            .is_some(),
        9 => query_round_trip::<MessagesQuery>(body),
        10 => query_round_trip::<StudentsQuery>(body),
        _ => query_round_trip::<AuditQuery>(body),
    }
}

/// What `service::provisioning` checks before a batch reaches the store, in its order; a
/// batch that passes is stored with its email and name trimmed, and what is stored must pass
/// the same rules (an export imported again is accepted).
fn check_batch(batch: &ProvisioningBatch) {
    let result = validate_batch(batch);
    match result {
        Ok(()) => {
            for u in &batch.users {
                validate_email(u.email.trim()).expect("a stored email passes again");
                validate_name("name", u.name.trim()).expect("a stored name passes again");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fn refusal_renders(result: Result<(), ValidationError>) {
    if let Err(e) = result {
        let _ = e.to_string();
    }
}

/// A query string decodes as axum's `Query` decodes it, and encodes back to the same value;
/// true when it decoded.
fn query_round_trip<T>(query: &[u8]) -> bool
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let Ok(value) = serde_urlencoded::from_bytes::<T>(query) else {
        return false;
    };
    let encoded = serde_urlencoded::to_string(&value).expect("a decoded query encodes");
    let again: T = serde_urlencoded::from_str(&encoded)
        .unwrap_or_else(|e| panic!("re-encoded query does not decode: {e}\n{encoded}"));
    assert_eq!(value, again, "round trip changed the query: {encoded}");
    true
}
