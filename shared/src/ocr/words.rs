//! Per-word results (`?include=words`): Tesseract's TSV output read into
//! words with their confidence and box, in Tesseract's reading order (blocks,
//! paragraphs, lines, then words left to right), the way Textract and
//! Document AI give blocks.

use serde::{Deserialize, Serialize};

/// One recognised word (`pages[].words[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Word {
    pub text: String,
    /// Tesseract's confidence in the word, 0–1.
    pub confidence: f32,
    /// The word's box in page pixels (the page as recognised, upright).
    pub bbox_px: BoxPx,
    /// The same box as fractions (0–1) of the page's width and height.
    pub bbox: BoxFraction,
    /// Block, paragraph and line (1-based) the word belongs to.
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BoxPx {
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BoxFraction {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// The words of a TSV page (level 5 rows with text), numbering lines across
/// the page in reading order.
pub(crate) fn from_tsv(tsv: &str, page_width: u32, page_height: u32) -> Vec<Word> {
    let fraction = |v: u32, of: u32| {
        if of == 0 {
            0.0
        } else {
            ((v as f32 / of as f32) * 10_000.0).round() / 10_000.0
        }
    };
    let mut words = Vec::new();
    let mut line_key = (None, None, None);
    let mut line = 0;
    for row in tsv.lines() {
        let cells: Vec<&str> = row.split('\t').collect();
        if cells.len() < 12 || cells[0] != "5" {
            continue;
        }
        let number = |i: usize| cells[i].trim().parse::<i64>().ok();
        let text = cells[11..].join("\t").trim().to_owned();
        let (Some(left), Some(top), Some(width), Some(height)) =
            (number(6), number(7), number(8), number(9))
        else {
            continue;
        };
        if text.is_empty() {
            continue;
        }
        let key = (number(2), number(3), number(4));
        if key != line_key {
            line_key = key;
            line += 1;
        }
        let confidence = cells[10]
            .trim()
            .parse::<f32>()
            .unwrap_or(0.0)
            .clamp(0.0, 100.0);
        let px = |v: i64| u32::try_from(v.max(0)).unwrap_or(0);
        let bbox_px = BoxPx {
            left: px(left),
            top: px(top),
            width: px(width),
            height: px(height),
        };
        words.push(Word {
            text,
            confidence: (confidence).round() / 100.0,
            bbox: BoxFraction {
                left: fraction(bbox_px.left, page_width),
                top: fraction(bbox_px.top, page_height),
                width: fraction(bbox_px.width, page_width),
                height: fraction(bbox_px.height, page_height),
            },
            bbox_px,
            line,
        });
    }
    words
}
