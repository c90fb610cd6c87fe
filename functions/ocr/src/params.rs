//! The query of `POST /v1/ocr`, turned into checked options at the edge:
//! malformed values are 400, languages that are not installed are 422.

use serde::Deserialize;
use shared::Error;
use shared::config::OcrConfig;
use shared::ocr::{Ocr, Options};

/// The raw query; every value is checked by hand so each error can say what
/// is wrong (malformed: 400). The document shows the values that are accepted.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OcrQuery {
    /// Tesseract languages, `+`-joined (`eng+ind`), at most 4; default `eng`.
    /// A language that is not installed is 422 `unknown-language`.
    #[param(pattern = r"^[a-z_]{3,16}(\+[a-z_]{3,16}){0,3}$", example = "eng")]
    pub(crate) lang: Option<String>,
    /// `sync` answers 200 with the text, `async` 202 with a job, `auto`
    /// (default) sync up to `OCR_SYNC_MAX_PAGES` pages needing OCR.
    #[param(value_type = Option<ModeParam>)]
    pub(crate) mode: Option<String>,
    /// OCR every page even where a PDF has a text layer (default `false`).
    #[param(value_type = Option<bool>)]
    pub(crate) force_ocr: Option<String>,
    /// Render resolution for PDF pages that need OCR (default 300).
    #[param(value_type = Option<u16>, minimum = 72, maximum = 600)]
    pub(crate) dpi: Option<String>,
    /// Find which way is up on every OCR page (default `true`).
    #[param(value_type = Option<bool>)]
    pub(crate) rotate_pages: Option<String>,
    /// `words`: every OCR page also gets its words with boxes.
    #[param(value_type = Option<IncludeParam>)]
    pub(crate) include: Option<String>,
    /// Where to POST the job's status document when it finishes (a signed
    /// webhook; needs a secret from `PUT /v1/webhooks`; makes the request a job).
    pub(crate) callback_url: Option<String>,
}

/// The values of `mode` (documentation only: the query is read as text).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ModeParam {
    Auto,
    Sync,
    Async,
}

/// The values of `include`.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum IncludeParam {
    Words,
}

/// How the caller wants the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Synchronous up to `OCR_SYNC_MAX_PAGES` pages that need OCR, a job beyond.
    Auto,
    Sync,
    Async,
}

#[derive(Debug, Clone)]
pub struct Params {
    pub mode: Mode,
    pub options: Options,
}

pub const MIN_DPI: u16 = 72;
pub const MAX_DPI: u16 = 600;

impl Params {
    pub fn parse(query: &OcrQuery, config: &OcrConfig, ocr: &Ocr) -> Result<Params, Error> {
        let mode = match query.mode.as_deref().map(str::trim) {
            None | Some("auto") => Mode::Auto,
            Some("sync") => Mode::Sync,
            Some("async") => Mode::Async,
            Some(_) => {
                return Err(Error::BadRequest(
                    "`mode` must be `auto`, `sync` or `async`".into(),
                ));
            }
        };
        let force_ocr = match query.force_ocr.as_deref().map(str::trim) {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => {
                return Err(Error::BadRequest(
                    "`force_ocr` must be `true` or `false`".into(),
                ));
            }
        };
        let rotate_pages = match query.rotate_pages.as_deref().map(str::trim) {
            None | Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(_) => {
                return Err(Error::BadRequest(
                    "`rotate_pages` must be `true` or `false`".into(),
                ));
            }
        };
        let mut words = false;
        for part in query.include.as_deref().unwrap_or("").split(',') {
            match part.trim() {
                "" => {}
                "words" => words = true,
                _ => {
                    return Err(Error::BadRequest(
                        "`include` takes a comma-separated list of: words".into(),
                    ));
                }
            }
        }
        let dpi = match query.dpi.as_deref().map(str::trim) {
            None => config.default_dpi,
            Some(raw) => raw
                .parse::<u16>()
                .ok()
                .filter(|d| (MIN_DPI..=MAX_DPI).contains(d))
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "`dpi` must be a whole number from {MIN_DPI} to {MAX_DPI}"
                    ))
                })?,
        };
        let lang = ocr.lang(query.lang.as_deref().unwrap_or(&config.default_lang))?;
        Ok(Params {
            mode,
            options: Options {
                lang,
                force_ocr,
                dpi,
                rotate_pages,
                words,
            },
        })
    }
}
