//! Reading the document: the raw body, the `file` part of a multipart body
//! (with an optional `callback_url` part), or a JSON body naming a `url` to
//! fetch. Uploaded bytes are counted as they arrive and reading stops at
//! `OCR_MAX_BYTES` (413), so an endless body is never buffered whole; a
//! fetched document has its own limit, `FETCH_MAX_BYTES`.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, header};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde_json::Value;
use shared::Error;

use crate::MULTIPART_OVERHEAD;
use crate::params::OcrQuery;

/// The longest JSON body `POST /v1/ocr` reads (a URL and options).
const MAX_JSON_BYTES: usize = 64 * 1024;
/// The longest `callback_url` multipart part.
const MAX_FIELD_BYTES: usize = 8 * 1024;

/// How the request carries its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Raw,
    Multipart,
    Json,
}

pub fn shape(headers: &HeaderMap) -> Shape {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start().to_ascii_lowercase())
    else {
        return Shape::Raw;
    };
    if ct.starts_with("multipart/form-data") {
        Shape::Multipart
    } else if ct.starts_with("application/json") {
        Shape::Json
    } else {
        Shape::Raw
    }
}

/// An uploaded document and the `callback_url` part, if any.
pub struct Uploaded {
    pub bytes: Bytes,
    pub callback_url: Option<String>,
}

/// The document's bytes, at most `max` of them.
pub async fn read_document(request: Request, max: usize) -> Result<Uploaded, Error> {
    let multipart = shape(request.headers()) == Shape::Multipart;
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
        Ok(Uploaded {
            bytes: read_raw(request.into_body(), max).await?,
            callback_url: None,
        })
    }
}

/// `{"url": "...", "callback_url": "...", ...options}`: the options are
/// the query's, by the same names, as strings, booleans or numbers
/// (`include` also as a list). A value here wins over the query's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlBody {
    url: String,
    callback_url: Option<String>,
    lang: Option<Value>,
    mode: Option<Value>,
    force_ocr: Option<Value>,
    dpi: Option<Value>,
    rotate_pages: Option<Value>,
    include: Option<Value>,
}

/// Reads a JSON body: returns the URL, with its options merged into `query`.
pub async fn read_url_body(request: Request, query: &mut OcrQuery) -> Result<String, Error> {
    if content_length(request.headers()).is_some_and(|n| n > MAX_JSON_BYTES as u64) {
        return Err(Error::TooLarge {
            limit: MAX_JSON_BYTES,
        });
    }
    let raw = read_raw(request.into_body(), MAX_JSON_BYTES).await?;
    let body: UrlBody = serde_json::from_slice(&raw).map_err(|e| {
        Error::BadRequest(format!(
            "the JSON body must be {{\"url\": \"https://...\", ...options}}: {e}"
        ))
    })?;
    let slots: [(&str, Option<Value>, &mut Option<String>); 6] = [
        ("lang", body.lang, &mut query.lang),
        ("mode", body.mode, &mut query.mode),
        ("force_ocr", body.force_ocr, &mut query.force_ocr),
        ("dpi", body.dpi, &mut query.dpi),
        ("rotate_pages", body.rotate_pages, &mut query.rotate_pages),
        ("include", body.include, &mut query.include),
    ];
    for (name, value, slot) in slots {
        if let Some(value) = value {
            *slot = Some(option_text(name, value)?);
        }
    }
    if body.callback_url.is_some() {
        query.callback_url = body.callback_url;
    }
    Ok(body.url)
}

fn option_text(name: &str, value: Value) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Array(items) if name == "include" => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| parts.join(","))
            .map_err(|()| Error::BadRequest("`include` must be a list of strings".into())),
        _ => Err(Error::BadRequest(format!(
            "`{name}` must be a string, a boolean or a number"
        ))),
    }
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

async fn read_file_part(request: Request, max: usize) -> Result<Uploaded, Error> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| Error::BadRequest(format!("malformed multipart body: {}", e.body_text())))?;
    let refused = |limit: usize| {
        move |e: axum::extract::multipart::MultipartError| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge { limit }
            } else {
                Error::BadRequest(format!("malformed multipart body: {}", e.body_text()))
            }
        }
    };
    let mut file = None;
    let mut callback_url = None;
    while let Some(mut field) = multipart.next_field().await.map_err(refused(max))? {
        let is_file = match field.name() {
            Some("file") if file.is_none() => true,
            Some("callback_url") => false,
            _ => continue,
        };
        let limit = if is_file { max } else { MAX_FIELD_BYTES };
        let mut bytes = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(refused(limit))? {
            if bytes.len() + chunk.len() > limit {
                return Err(if is_file {
                    Error::TooLarge { limit: max }
                } else {
                    Error::BadRequest(format!(
                        "the `callback_url` part is longer than {MAX_FIELD_BYTES} bytes"
                    ))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            file = Some(bytes.freeze());
        } else {
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                Error::BadRequest("the `callback_url` part is not UTF-8 text".into())
            })?;
            callback_url = Some(text.trim().to_owned());
        }
    }
    let bytes = file.ok_or_else(|| {
        Error::BadRequest(
            "the multipart body has no part named `file`; send the document in a part named `file`"
                .into(),
        )
    })?;
    Ok(Uploaded {
        bytes,
        callback_url,
    })
}
