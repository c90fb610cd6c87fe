//! The `{"document_id"}` source: a recognised document's text, for its owner
//! only, read from the `ocr` function's tables (`documents` → `ocr_results`).
//! A document row exists only once its recognition has finished, so there is
//! no "not ready" state: a document still in an OCR job is not a document yet.
//! Pages the recogniser flagged `low_quality` are left out of the text (see
//! `service` for the refusal when they are most of it).

use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::ocr::Recognised;

/// A recognised document's content.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// SHA-256 of the uploaded bytes.
    pub sha256: String,
    /// The recognised text, pages joined by form feeds, without the pages
    /// that read poorly.
    pub text: String,
    /// OCR pages (1-based) flagged `low_quality` by the recogniser.
    pub low_quality_pages: Vec<u32>,
    /// The share (0–1) of the document's characters on those pages.
    pub low_quality_share: f32,
}

impl SourceDocument {
    fn of(sha256: String, result: &Recognised) -> SourceDocument {
        let total: usize = result.pages.iter().map(|p| p.text.len()).sum();
        let poor: Vec<&crate::ocr::Page> =
            result.pages.iter().filter(|p| p.low_quality()).collect();
        let poor_chars: usize = poor.iter().map(|p| p.text.len()).sum();
        let readable: Vec<&str> = result
            .pages
            .iter()
            .filter(|p| !p.low_quality())
            .map(|p| p.text.as_str())
            .collect();
        SourceDocument {
            sha256,
            text: readable.join("\u{c}"),
            low_quality_pages: poor.iter().map(|p| p.page).collect(),
            low_quality_share: if total == 0 {
                0.0
            } else {
                poor_chars as f32 / total as f32
            },
        }
    }
}

/// Loads `document_id` if `owner_id` owns it; `None` when it does not exist
/// or belongs to someone else (the two are not told apart).
pub async fn load_document(
    conn: &mut PgConnection,
    owner_id: &str,
    document_id: Uuid,
) -> Result<Option<SourceDocument>, sqlx::Error> {
    let row: Option<(String, Json<Recognised>)> = crate::db::query_as(
        "SELECT d.sha256, r.result \
         FROM documents d JOIN ocr_results r ON r.result_key = d.result_key \
         WHERE d.id = $1 AND d.owner_id = $2",
    )
    .bind(document_id)
    .bind(owner_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(sha256, Json(result))| SourceDocument::of(sha256, &result)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::{Page, Quality, Source};

    fn page(number: u32, text: &str, confidence: f32) -> Page {
        Page {
            page: number,
            source: Source::Ocr,
            text: text.to_owned(),
            confidence: Some(confidence),
            width_px: Some(100),
            height_px: Some(100),
            rotation: Some(0),
            skew_degrees: Some(0.0),
            quality: Some(Quality::of(text, confidence)),
            words: None,
        }
    }

    #[test]
    fn pages_that_read_poorly_are_named_and_left_out_of_the_text() {
        let good = crate::ocr::samples::paragraph(1);
        let noise = "IO UOTIIIIP IY} VsNVd SUTYLU IO} polozoid YAOM";
        let result = Recognised {
            page_count: 3,
            lang: "eng".into(),
            pages: vec![
                page(1, &good, 0.93),
                page(2, noise, 0.33),
                page(3, &good, 0.91),
            ],
        };
        let document = SourceDocument::of("x".into(), &result);
        assert_eq!(document.low_quality_pages, [2]);
        assert!(!document.text.contains("polozoid"));
        assert!(document.low_quality_share > 0.0 && document.low_quality_share < 0.5);
    }
}
