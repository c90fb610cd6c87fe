//! Words and numbers of one sentence, with their byte ranges, and whether
//! punctuation separates each from the one before.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Word,
    Number,
    /// A number glued to letters (`4th`, `1770s`): never a term.
    Mixed,
}

#[derive(Debug, Clone)]
pub struct Tok<'a> {
    pub text: &'a str,
    pub lower: String,
    pub start: usize,
    pub end: usize,
    pub class: Class,
    /// Punctuation (not just spaces) stands between this token and the previous one.
    pub gap: bool,
    /// A possessive `'s` followed the word (and was dropped from it).
    pub possessive: bool,
}

impl Tok<'_> {
    pub fn is_capitalised(&self) -> bool {
        self.text.chars().next().is_some_and(char::is_uppercase)
    }

    pub fn is_lowercase_word(&self) -> bool {
        self.class == Class::Word && self.text.chars().next().is_some_and(char::is_lowercase)
    }
}

/// Splits a sentence into tokens. Apostrophes and hyphens inside a word keep
/// it whole (`light-dependent`, `Earth's`); a possessive `'s` is dropped from
/// the token.
pub fn tokenize(sentence: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = sentence.char_indices().collect();
    let mut i = 0;
    let mut gap = false;
    let mut first = true;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_alphanumeric() {
            let numeric = c.is_ascii_digit();
            let mut j = i + 1;
            while j < chars.len() {
                let ch = chars[j].1;
                let joins_next = chars.get(j + 1).is_some_and(|(_, n)| n.is_alphanumeric());
                let inner = if numeric {
                    matches!(ch, '.' | ',')
                        && chars.get(j + 1).is_some_and(|(_, n)| n.is_ascii_digit())
                } else {
                    matches!(ch, '\'' | '’' | '-') && joins_next
                };
                if ch.is_alphanumeric() || inner {
                    j += 1;
                } else {
                    break;
                }
            }
            let mut end = chars.get(j).map_or(sentence.len(), |(b, _)| *b);
            // A percent sign belongs to its number.
            if numeric && chars.get(j).is_some_and(|(_, ch)| *ch == '%') {
                end += 1;
                j += 1;
            }
            let mut text = &sentence[start..end];
            let mut possessive = false;
            for suffix in ["'s", "’s"] {
                if let Some(base) = text.strip_suffix(suffix) {
                    text = base;
                    possessive = true;
                }
            }
            let class = if !numeric {
                Class::Word
            } else if text
                .chars()
                .all(|ch| ch.is_ascii_digit() || matches!(ch, '.' | ',' | '%'))
            {
                Class::Number
            } else {
                Class::Mixed
            };
            out.push(Tok {
                text,
                lower: text.to_lowercase(),
                start,
                end: start + text.len(),
                class,
                gap: gap && !first,
                possessive,
            });
            first = false;
            gap = false;
            i = j;
        } else {
            if !c.is_whitespace() {
                gap = true;
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_numbers_and_gaps_are_told_apart() {
        let toks =
            tokenize("In 1779, Jan Ingenhousz's light-dependent test used 6 CO2 (4th), 42%.");
        let texts: Vec<&str> = toks.iter().map(|t| t.text).collect();
        assert_eq!(
            texts,
            vec![
                "In",
                "1779",
                "Jan",
                "Ingenhousz",
                "light-dependent",
                "test",
                "used",
                "6",
                "CO2",
                "4th",
                "42%"
            ]
        );
        assert_eq!(toks[1].class, Class::Number);
        assert!(toks[2].gap, "the comma separates 1779 from Jan");
        assert!(!toks[3].gap);
        assert_eq!(toks[9].class, Class::Mixed);
        assert_eq!(
            &"In 1779, Jan Ingenhousz's"[toks[3].start..toks[3].end],
            "Ingenhousz"
        );
    }
}
