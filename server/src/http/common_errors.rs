//! The error answers every operation can give by the way it is reached, declared once on the
//! generated OpenAPI document instead of on each handler.
//!
//! Handlers declare what their service can refuse (403 `not_enrolled`, 404, …); the extractors
//! add refusals of their own to every route that uses them, and those are added here from the
//! shape of each operation:
//!
//! - bearer security (`CurrentUser`, `AdminCaller`) → 401 `unauthorized` / `invalid_token` /
//!   `token_expired`, with `WWW-Authenticate`;
//! - a user's routes (`CurrentUser`, every tag but `admin`) → 429 `rate_limited`, with
//!   `Retry-After`; the admin routes (`AdminCaller`) → 403 `forbidden` for a non-admin token;
//! - a JSON body (`ApiJson`) → 413 `payload_too_large` and 422 `validation`;
//! - path or query parameters (`ApiPath`, `ApiQuery`) → 422 `validation`.
//!
//! A status a handler already declares keeps the handler's description. `scripts/schemathesis.sh`
//! checks that every answer the real server gives is declared.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

/// Adds the extractors' error answers to every operation of `doc`.
pub fn declare(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            declare_on(operation);
        }
    }
}

fn declare_on(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let admin = operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "admin"));
    let has_body = operation.request_body.is_some();
    let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if secured {
        add(
            operation,
            "401",
            "unauthorized, invalid_token or token_expired",
            Some(("WWW-Authenticate", Type::String, "Bearer")),
        );
        if admin {
            add(operation, "403", "forbidden: not an admin", None);
        } else {
            add(
                operation,
                "429",
                "rate_limited",
                Some(("Retry-After", Type::Integer, "seconds to wait")),
            );
        }
    }
    if has_body {
        add(operation, "413", "payload_too_large", None);
    }
    if has_body || has_params {
        add(
            operation,
            "422",
            "validation: the body, path or query is not what this operation takes",
            None,
        );
    }
}

/// Declares `status` with an `ApiError` body, unless the handler already does.
fn add(
    operation: &mut Operation,
    status: &str,
    description: &str,
    header: Option<(&str, Type, &str)>,
) {
    let responses = &mut operation.responses.responses;
    if responses.contains_key(status) {
        return;
    }
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ApiError")))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body);
    if let Some((name, ty, about)) = header {
        let header = HeaderBuilder::new()
            .schema(Object::with_type(ty))
            .description(Some(about))
            .build();
        response = response.header(name, header);
    }
    responses.insert(status.to_owned(), RefOr::T(response.build()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(method: &str, path: &str) -> Operation {
        let doc = crate::http::openapi();
        let item = doc.paths.paths.get(path).expect("path").clone();
        match method {
            "get" => item.get,
            "post" => item.post,
            "put" => item.put,
            "delete" => item.delete,
            _ => None,
        }
        .expect("operation")
    }

    fn statuses(op: &Operation) -> Vec<&str> {
        op.responses.responses.keys().map(String::as_str).collect()
    }

    #[test]
    fn a_users_route_declares_unauthorized_rate_limited_and_invalid_input() {
        let send = operation("post", "/api/chats/{id}/messages");
        for status in ["401", "413", "422", "429"] {
            assert!(statuses(&send).contains(&status), "{status}");
        }
    }

    #[test]
    fn admin_routes_declare_forbidden_and_no_rate_limit() {
        let import = operation("post", "/api/admin/import");
        assert!(statuses(&import).contains(&"403"));
        assert!(!statuses(&import).contains(&"429"));
    }

    #[test]
    fn login_declares_no_unauthenticated_refusal_it_cannot_give() {
        let login = operation("post", "/api/auth/login");
        assert_eq!(statuses(&login), ["200", "401", "413", "422", "429"]);
        // The handler's own wording of 401 is kept.
        let RefOr::T(unauthorized) = &login.responses.responses["401"] else {
            panic!("inline response");
        };
        assert_eq!(unauthorized.description, "invalid_credentials");
    }
}
