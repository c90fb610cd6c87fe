//! Tesseract languages: which are installed (the `*.traineddata` files of the
//! tessdata folder) and `Lang`, a `+`-joined set of installed ones. A `Lang` is
//! only ever built from names found on disk, so it is safe to hand to Tesseract.

use std::fmt;
use std::path::{Path, PathBuf};

use super::OcrError;

/// Where Debian/Ubuntu (tesseract 5 and 4) and source builds put the models.
const KNOWN_TESSDATA_DIRS: [&str; 5] = [
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/usr/local/share/tesseract-ocr/tessdata",
];

/// At most this many languages in one request: each one multiplies the work.
const MAX_LANGUAGES: usize = 4;

/// The tessdata folder: the configured one, else the first known location that
/// holds at least one model.
pub fn tessdata_dir(configured: Option<&str>) -> Option<PathBuf> {
    if let Some(dir) = configured {
        return Some(PathBuf::from(dir));
    }
    KNOWN_TESSDATA_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|dir| !installed(dir).is_empty())
}

/// The installed languages in `dir`, sorted (`osd`, orientation detection, is
/// not a language and is left out).
pub fn installed(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let lang = name.strip_suffix(".traineddata")?;
            is_language_name(lang).then(|| lang.to_owned())
        })
        .filter(|lang| lang != "osd")
        .collect();
    names.sort();
    names
}

/// Tesseract's model names: `eng`, `chi_sim`, `script/Latin` is not accepted.
fn is_language_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A validated, non-empty set of installed languages, in the caller's order
/// (the first is Tesseract's primary language).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lang(String);

impl Lang {
    /// Parses `eng` or `eng+ind` against the installed languages.
    pub fn parse(raw: &str, installed: &[String]) -> Result<Lang, OcrError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(OcrError::BadLanguage(
                "`lang` is empty; name one or more installed languages joined by `+`".into(),
            ));
        }
        let names: Vec<&str> = raw.split('+').map(str::trim).collect();
        if names.iter().any(|n| n.is_empty()) {
            return Err(OcrError::BadLanguage(format!(
                "`lang` must be languages joined by `+`, such as `eng` or `eng+ind`; got `{}`",
                printable(raw)
            )));
        }
        if names.len() > MAX_LANGUAGES {
            return Err(OcrError::BadLanguage(format!(
                "`lang` names {} languages; at most {MAX_LANGUAGES} are accepted",
                names.len()
            )));
        }
        let mut unknown: Vec<String> = names
            .iter()
            .filter(|n| !installed.iter().any(|i| i == *n))
            .map(|n| printable(n))
            .collect();
        if !unknown.is_empty() {
            unknown.dedup();
            return Err(OcrError::UnknownLanguage {
                unknown,
                installed: installed.to_vec(),
            });
        }
        let mut seen: Vec<&str> = Vec::new();
        for name in &names {
            if seen.contains(name) {
                return Err(OcrError::BadLanguage(format!(
                    "`lang` names `{name}` twice"
                )));
            }
            seen.push(name);
        }
        Ok(Lang(names.join("+")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Caller input echoed in an error: short, and without control characters.
fn printable(raw: &str) -> String {
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).take(40).collect();
    if raw.chars().count() > 40 {
        format!("{cleaned}…")
    } else {
        cleaned
    }
}
