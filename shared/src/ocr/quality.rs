//! How well an OCR page read, so the quality travels with the text: Tesseract's
//! mean word confidence and the share of tokens that look like words of a
//! language (letters only, at least one vowel, one case pattern, no letter
//! repeated four times). Noise from a page read sideways or upside down scores
//! low on both. A page is `low_quality` below either threshold.

use serde::{Deserialize, Serialize};

/// Mean confidence below this marks a page as reading poorly.
pub const LOW_CONFIDENCE: f32 = 0.60;
/// A share of word-like tokens below this marks a page as reading poorly.
pub const LOW_WORD_SHARE: f32 = 0.60;
/// Pages with fewer tokens than this are judged by confidence alone.
const MIN_TOKENS: usize = 5;

/// Per-page quality of an OCR page (`pages[].quality`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quality {
    /// Tesseract's mean word confidence, 0–1.
    pub mean_confidence: f32,
    /// Share of tokens that look like dictionary words, 0–1 (`None` for a
    /// page with too few tokens to say).
    pub word_share: Option<f32>,
    /// Below `LOW_CONFIDENCE` or `LOW_WORD_SHARE`.
    pub low_quality: bool,
}

impl Quality {
    pub fn of(text: &str, mean_confidence: f32) -> Quality {
        let word_share = word_share(text);
        let low_quality = mean_confidence < LOW_CONFIDENCE
            || word_share.is_some_and(|share| share < LOW_WORD_SHARE);
        Quality {
            mean_confidence: round2(mean_confidence),
            word_share: word_share.map(round2),
            low_quality,
        }
    }
}

fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// Share of word-like tokens among the tokens that hold a letter. Tokens in
/// capitals count only while they are a minority (headings, acronyms): a page
/// of mostly capitals is what noise looks like.
pub fn word_share(text: &str) -> Option<f32> {
    let (mut tokens, mut words, mut capitals, mut capital_words) = (0, 0, 0, 0);
    for raw in text.split_whitespace() {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric());
        if !token.chars().any(char::is_alphabetic) {
            continue;
        }
        tokens += 1;
        let word_like = is_word_like(token);
        if token.chars().count() > 1 && token.chars().all(|c| !c.is_lowercase()) {
            capitals += 1;
            capital_words += usize::from(word_like);
        } else {
            words += usize::from(word_like);
        }
    }
    if capitals * 4 <= tokens {
        words += capital_words;
    }
    (tokens >= MIN_TOKENS).then(|| words as f32 / tokens as f32)
}

fn is_word_like(token: &str) -> bool {
    let letters: Vec<char> = token
        .chars()
        .filter(|c| *c != '\'' && *c != '-' && *c != '\u{2019}')
        .collect();
    if letters.is_empty() || !letters.iter().all(|c| c.is_alphabetic()) {
        return false;
    }
    if letters.len() == 1 {
        return matches!(letters[0], 'a' | 'A' | 'I' | 'o' | 'O');
    }
    let vowel = |c: &char| "aeiouyAEIOUYàáâäèéêëìíîïòóôöùúûüÀÁÂÄÈÉÊËÌÍÎÏÒÓÔÖÙÚÛÜ".contains(*c);
    if !letters.iter().any(vowel) {
        return false;
    }
    let rest_lower = letters[1..].iter().all(|c| c.is_lowercase());
    let all_upper = letters.iter().all(|c| c.is_uppercase());
    if !(rest_lower || all_upper) {
        return false;
    }
    let repeated = letters
        .windows(4)
        .any(|w| w.iter().all(|c| c.eq_ignore_ascii_case(&w[0])));
    !repeated
}
