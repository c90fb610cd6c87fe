//! The document's candidate terms: repeated noun phrases, names, acronyms,
//! years, numbers and head nouns, each with its kind (distractors must be of
//! the same kind) and where it occurs.

use std::collections::{HashMap, HashSet};

use super::evidence::{Evidence, gather};
use super::sentences::Sentence;
use super::tokens::{Class, Tok, tokenize};
use super::words;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Year,
    Number,
    Percent,
    Acronym,
    Name,
    Term,
}

#[derive(Debug, Clone)]
pub struct Term {
    /// As shown in a choice: lower case for common terms, as written otherwise.
    pub display: String,
    /// Identity for "is this the same answer": lower case, each word singular.
    pub stem: String,
    pub kind: Kind,
    pub words: usize,
    pub plural: bool,
    /// May be an answer or a distractor (a noun, a name, a number…).
    pub eligible: bool,
    /// The numeric value of years, numbers and percentages.
    pub value: f64,
    /// How often a name follows "the" (institutions and places do, people do not).
    pub with_the: u32,
    /// How often a name follows "in", "at", "to", "from"… (places do).
    pub after_place_word: u32,
    /// How often a name qualifies a noun ("Roman society"): then it is an adjective.
    pub as_modifier: u32,
    pub count: u32,
    pub paragraph: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Occurrence {
    pub term: usize,
    /// Byte range in the sentence's text.
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Default)]
pub struct Index {
    pub terms: Vec<Term>,
    /// Sentences each stem occurs in.
    pub stem_df: HashMap<String, u32>,
    pub occurrences: Vec<Vec<Occurrence>>,
    pub sentence_words: Vec<usize>,
    pub opens_with_context: Vec<bool>,
}

fn is_acronym(tok: &Tok<'_>) -> bool {
    let n = tok.text.chars().count();
    let upper = tok.text.chars().filter(char::is_ascii_uppercase).count();
    tok.class == Class::Word
        && (2..=6).contains(&n)
        && upper >= 2
        && tok
            .text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !tok.text.chars().all(|c| "IVXLCDM".contains(c))
}

impl Index {
    pub fn build(sentences: &[Sentence]) -> Index {
        let tokens: Vec<Vec<Tok<'_>>> = sentences.iter().map(|s| tokenize(&s.text)).collect();
        let evidence = gather(&tokens);
        let mut index = Index::default();
        let mut by_display: HashMap<(Kind, String), usize> = HashMap::new();
        for (si, toks) in tokens.iter().enumerate() {
            let paragraph = sentences[si].paragraph;
            let found = scan(toks, &evidence);
            let mut stems_here = HashSet::new();
            let mut occurrences = Vec::with_capacity(found.len());
            for candidate in found {
                let key = (candidate.kind, candidate.display.clone());
                let id = *by_display.entry(key).or_insert_with(|| {
                    index.terms.push(candidate.to_term(paragraph, &evidence));
                    index.terms.len() - 1
                });
                let term = &mut index.terms[id];
                term.count += 1;
                term.with_the += u32::from(candidate.after_the);
                term.after_place_word += u32::from(candidate.after_place_word);
                term.as_modifier += u32::from(candidate.as_modifier);
                stems_here.insert(term.stem.clone());
                occurrences.push(Occurrence {
                    term: id,
                    start: candidate.start,
                    end: candidate.end,
                });
            }
            for stem in stems_here {
                *index.stem_df.entry(stem).or_default() += 1;
            }
            index.occurrences.push(occurrences);
            index
                .sentence_words
                .push(toks.iter().filter(|t| t.class != Class::Mixed).count());
            index.opens_with_context.push(
                toks.first()
                    .is_some_and(|t| words::is_context_opener(&t.lower)),
            );
        }
        // A name mostly used before a noun is an adjective ("Roman", "Dutch").
        for term in index.terms.iter_mut().filter(|t| t.kind == Kind::Name) {
            term.eligible = term.as_modifier * 2 <= term.count;
        }
        index
    }

    pub fn df(&self, term: &Term) -> u32 {
        self.stem_df.get(&term.stem).copied().unwrap_or(0)
    }
}

struct Candidate {
    display: String,
    kind: Kind,
    words: usize,
    start: usize,
    end: usize,
    after_the: bool,
    after_place_word: bool,
    as_modifier: bool,
    value: f64,
}

impl Candidate {
    fn to_term(&self, paragraph: usize, ev: &Evidence) -> Term {
        let lower = self.display.to_lowercase();
        let last = lower.rsplit(' ').next().unwrap_or(&lower);
        let stem = lower
            .split(' ')
            .map(words::stem)
            .collect::<Vec<_>>()
            .join(" ");
        let eligible = match self.kind {
            Kind::Term if self.words == 1 => {
                let evidence = ev.head_noun.get(&stem).copied().unwrap_or(0);
                evidence > 0
                    || (words::has_noun_suffix(&lower) && !words::has_non_noun_suffix(&lower))
            }
            _ => true,
        };
        Term {
            plural: self.kind == Kind::Term && words::is_plural(last),
            display: self.display.clone(),
            stem,
            kind: self.kind,
            words: self.words,
            eligible,
            value: self.value,
            with_the: 0,
            after_place_word: 0,
            as_modifier: 0,
            count: 0,
            paragraph,
        }
    }
}

/// Finds the terms of one sentence, longest first: repeated two-word phrases,
/// runs of name words, acronyms, numbers, then single content words.
fn scan(toks: &[Tok<'_>], ev: &Evidence) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        let after_the = i > 0 && !tok.gap && toks[i - 1].lower == "the";
        let after_place_word = i > 0
            && !tok.gap
            && matches!(
                toks[i - 1].lower.as_str(),
                "in" | "at" | "to" | "from" | "near" | "across" | "into"
            );
        let single = |kind, display: String, value| Candidate {
            display,
            kind,
            words: 1,
            start: tok.start,
            end: tok.end,
            after_the,
            after_place_word,
            as_modifier: false,
            value,
        };
        if let Some(next) = toks.get(i + 1).filter(|n| !n.gap) {
            let first_ok = ev.content(tok) || ev.name_word(tok, i == 0);
            let repeated = ev
                .pairs
                .get(&(tok.lower.clone(), next.lower.clone()))
                .is_some_and(|(seen, opened)| *seen >= 2 && *opened >= 1);
            if first_ok && ev.content(next) && repeated {
                let first = if ev.name_word(tok, i == 0) {
                    tok.text.to_owned()
                } else {
                    tok.lower.clone()
                };
                out.push(Candidate {
                    display: format!("{first} {}", next.lower),
                    kind: Kind::Term,
                    words: 2,
                    start: tok.start,
                    end: next.end,
                    after_the,
                    after_place_word,
                    as_modifier: false,
                    value: 0.0,
                });
                i += 2;
                continue;
            }
        }
        // A name may open a sentence when a name word follows ("Julius Caesar").
        let opens_name = i == 0
            && ev.name_word(tok, false)
            && toks
                .get(1)
                .is_some_and(|n| !n.gap && ev.name_word(n, false));
        if ev.name_word(tok, i == 0) || opens_name {
            let mut j = i + 1;
            loop {
                let continues = |k: usize| {
                    toks.get(k).is_some_and(|t| {
                        !t.gap
                            && t.is_capitalised()
                            && t.class == Class::Word
                            && !words::is_stop(&t.lower)
                    })
                };
                if toks[j - 1].possessive {
                    // "Chaucer's Canterbury Tales" is two names.
                    break;
                } else if continues(j) {
                    j += 1;
                } else if toks.get(j).is_some_and(|t| {
                    !t.gap
                        && matches!(
                            t.lower.as_str(),
                            "of" | "the" | "de" | "von" | "van" | "la" | "du" | "da"
                        )
                }) && continues(j + 1)
                {
                    j += 2;
                } else {
                    break;
                }
            }
            let end = toks[j - 1].end;
            let as_modifier = toks
                .get(j)
                .is_some_and(|n| !n.gap && n.is_lowercase_word() && !words::is_stop(&n.lower));
            out.push(Candidate {
                display: tok_span(toks, i, j),
                kind: Kind::Name,
                words: j - i,
                start: tok.start,
                end,
                after_the,
                after_place_word,
                as_modifier,
                value: 0.0,
            });
            i = j;
            continue;
        }
        match tok.class {
            Class::Word if is_acronym(tok) => {
                out.push(single(Kind::Acronym, tok.text.to_owned(), 0.0))
            }
            Class::Number => {
                if let Some((kind, value)) = number(tok, toks.get(i + 1)) {
                    // The blank covers the digits only ("_____% of", "_____ percent").
                    let digits = tok.text.trim_end_matches('%');
                    let mut c = single(kind, digits.to_owned(), value);
                    c.end = c.start + digits.len();
                    out.push(c);
                }
            }
            Class::Word if ev.content(tok) => out.push(single(Kind::Term, tok.lower.clone(), 0.0)),
            _ => {}
        }
        i += 1;
    }
    out
}

/// The text of tokens `i..j` as written (single spaces between them).
fn tok_span(toks: &[Tok<'_>], i: usize, j: usize) -> String {
    toks[i..j]
        .iter()
        .map(|t| t.text)
        .collect::<Vec<_>>()
        .join(" ")
}

fn number(tok: &Tok<'_>, next: Option<&Tok<'_>>) -> Option<(Kind, f64)> {
    let digits = tok.text.trim_end_matches('%').replace(',', "");
    let value: f64 = digits.parse().ok()?;
    let percent = tok.text.ends_with('%') || next.is_some_and(|n| n.lower == "percent");
    if percent {
        return Some((Kind::Percent, value));
    }
    let year = tok.text.len() == 4 && tok.text.bytes().all(|b| b.is_ascii_digit());
    if year && (1000.0..=2100.0).contains(&value) {
        return Some((Kind::Year, value));
    }
    Some((Kind::Number, value))
}
