//! Splitting normalised text into paragraphs and sentences, with the usual
//! traps handled: abbreviations and initials, decimals, words hyphenated
//! across a line break, and headings that have no full stop.

/// One sentence, or a heading-like line (`complete` is false then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    pub text: String,
    pub paragraph: usize,
    /// Ends with `.` or `!` (questions and headings are not quiz material).
    pub complete: bool,
}

/// Abbreviations whose full stop does not end a sentence (lower-cased, without the dot).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "cf", "fig", "no", "approx",
    "ca", "jr", "sr", "inc", "ltd", "co", "u.s", "a.m", "p.m", "jan", "feb", "mar", "apr", "jun",
    "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "gen", "gov", "vol", "pp", "al", "c",
];

/// Splits `text` into sentences, in reading order.
pub fn split(text: &str) -> Vec<Sentence> {
    let mut sentences = Vec::new();
    for (paragraph, block) in paragraphs(text).into_iter().enumerate() {
        split_block(&block, paragraph, &mut sentences);
    }
    sentences
}

/// Paragraphs with their lines joined. A short line with no closing
/// punctuation followed by more text is taken as a heading: a paragraph of its own.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            flush(&mut current, &mut out);
            continue;
        }
        let heading = is_heading_line(line)
            && lines
                .get(i + 1)
                .is_some_and(|next| next.chars().next().is_some_and(char::is_uppercase));
        if heading {
            flush(&mut current, &mut out);
            out.push((*line).to_owned());
            continue;
        }
        if current.ends_with('-')
            && line.chars().next().is_some_and(char::is_lowercase)
            && current
                .chars()
                .rev()
                .nth(1)
                .is_some_and(char::is_alphabetic)
        {
            // "photo-\nsynthesis" was one word before the line break.
            current.pop();
        } else if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    flush(&mut current, &mut out);
    out
}

fn flush(current: &mut String, out: &mut Vec<String>) {
    if !current.is_empty() {
        out.push(std::mem::take(current));
    }
}

fn is_heading_line(line: &str) -> bool {
    let words = line.split_whitespace().count();
    words <= 10 && !line.ends_with(['.', '!', '?', ':', ';', ',', '-'])
}

fn split_block(block: &str, paragraph: usize, out: &mut Vec<Sentence>) {
    let chars: Vec<(usize, char)> = block.char_indices().collect();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if matches!(c, '.' | '!' | '?') {
            // Take closing quotes and brackets along with the stop.
            let mut end = i + 1;
            while end < chars.len() && matches!(chars[end].1, '"' | '\'' | ')' | ']' | '”' | '’')
            {
                end += 1;
            }
            let at_end = end >= chars.len();
            let next_starts_sentence = !at_end
                && chars[end].1.is_whitespace()
                && chars[end..]
                    .iter()
                    .find(|(_, ch)| !ch.is_whitespace())
                    .is_some_and(|(_, ch)| {
                        ch.is_uppercase() || ch.is_ascii_digit() || matches!(ch, '"' | '“' | '(')
                    });
            if (at_end || next_starts_sentence) && !(c == '.' && is_abbreviation(&block[start..at]))
            {
                let stop = chars.get(end).map_or(block.len(), |(b, _)| *b);
                push(&block[start..stop], paragraph, out);
                start = stop;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    if start < block.len() {
        push(&block[start..], paragraph, out);
    }
}

/// True when the word before a full stop is an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or_default();
    let lower = word.to_lowercase();
    let single_initial = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
    single_initial || ABBREVIATIONS.contains(&lower.as_str())
}

fn push(raw: &str, paragraph: usize, out: &mut Vec<Sentence>) {
    let text = raw.trim();
    if text.is_empty() {
        return;
    }
    let trimmed_end = text.trim_end_matches(['"', '\'', ')', ']', '”', '’']);
    out.push(Sentence {
        text: text.to_owned(),
        paragraph,
        complete: trimmed_end.ends_with(['.', '!']),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        split(text).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn abbreviations_initials_and_decimals_do_not_end_sentences() {
        let got = texts("Dr. Smith met J. R. Tolkien at 3.5 p.m. on Monday. He left early! Why?");
        assert_eq!(
            got,
            vec![
                "Dr. Smith met J. R. Tolkien at 3.5 p.m. on Monday.",
                "He left early!",
                "Why?"
            ]
        );
        let s = split("Why?");
        assert!(!s[0].complete);
    }

    #[test]
    fn headings_stand_alone_and_hyphenated_line_breaks_are_joined() {
        let s = split(
            "Photosynthesis\nPlants make sugar by photo-\nsynthesis in leaves.\n\nA new paragraph.",
        );
        assert_eq!(s[0].text, "Photosynthesis");
        assert!(!s[0].complete);
        assert_eq!(s[1].text, "Plants make sugar by photosynthesis in leaves.");
        assert_eq!(s[2].paragraph, 2);
        assert_ne!(s[1].paragraph, s[2].paragraph);
    }
}
