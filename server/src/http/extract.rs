//! Axum's `Json`, `Query` and `Path`, with rejections turned into our JSON errors (422 with the
//! offending field, 413 for oversized bodies) instead of plain-text ones.

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::Error;

#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct ApiPath<T>(pub T);
