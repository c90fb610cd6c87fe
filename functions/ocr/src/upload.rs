//! Reading the document: the raw body, or the `file` part of a multipart
//! body. Either way the bytes are counted as they arrive and reading stops at
//! `OCR_MAX_BYTES` (413), so an endless body is never buffered whole.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use shared::Error;

use crate::MULTIPART_OVERHEAD;

/// The document's bytes, at most `max` of them.
pub async fn read_document(request: Request, max: usize) -> Result<Bytes, Error> {
    let multipart = is_multipart(request.headers());
    let allowed = if multipart {
        max.saturating_add(MULTIPART_OVERHEAD)
    } else {
        max
    };
    // A declared length over the limit is refused before reading anything.
    if content_length(request.headers()).is_some_and(|n| n > allowed as u64) {
        return Err(Error::TooLarge { limit: max });
    }
    if multipart {
        read_file_part(request, max).await
    } else {
        read_raw(request.into_body(), max).await
    }
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

async fn read_raw(body: Body, max: usize) -> Result<Bytes, Error> {
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Error::TooLarge { limit: max })
        }
        Err(_) => Err(Error::BadRequest(
            "the request body could not be read to its end".into(),
        )),
    }
}

async fn read_file_part(request: Request, max: usize) -> Result<Bytes, Error> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| Error::BadRequest(format!("malformed multipart body: {}", e.body_text())))?;
    let refused = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge { limit: max }
        } else {
            Error::BadRequest(format!("malformed multipart body: {}", e.body_text()))
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(refused)? {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(refused)? {
            if bytes.len() + chunk.len() > max {
                return Err(Error::TooLarge { limit: max });
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes.freeze());
    }
    Err(Error::BadRequest(
        "the multipart body has no part named `file`; send the document in a part named `file`"
            .into(),
    ))
}
