//! The first look over the whole text: which words are ever written in lower
//! case (so a capitalised one is a name), which pairs of words repeat as a
//! phrase, and which words head a noun phrase.

use std::collections::{HashMap, HashSet};

use super::tokens::{Class, Tok};
use super::words;

/// What the first look over the whole text learns about its words.
#[derive(Default)]
pub struct Evidence {
    lowercase_seen: HashSet<String>,
    capitalised_mid_sentence: HashSet<String>,
    /// Content-word pairs: (times seen, times after a noun-introducing word).
    pub pairs: HashMap<(String, String), (u32, u32)>,
    /// Stems seen heading a noun phrase ("the pigment absorbs").
    pub head_noun: HashMap<String, u32>,
}

impl Evidence {
    pub fn content(&self, tok: &Tok<'_>) -> bool {
        tok.class == Class::Word
            && tok.lower.chars().count() >= 4
            && tok
                .lower
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
            && !words::is_stop(&tok.lower)
            && !words::is_generic(&tok.lower)
            && (tok.is_lowercase_word() || self.lowercase_seen.contains(&tok.lower))
    }

    pub fn name_word(&self, tok: &Tok<'_>, at_start: bool) -> bool {
        tok.class == Class::Word
            && tok.is_capitalised()
            && tok.text.chars().skip(1).any(char::is_lowercase)
            && !words::is_stop(&tok.lower)
            && !self.lowercase_seen.contains(&tok.lower)
            && (!at_start || self.capitalised_mid_sentence.contains(&tok.lower))
    }
}

pub fn gather(tokens: &[Vec<Tok<'_>>]) -> Evidence {
    let mut ev = Evidence::default();
    for toks in tokens {
        for (i, tok) in toks.iter().enumerate() {
            if tok.is_lowercase_word() {
                ev.lowercase_seen.insert(tok.lower.clone());
            } else if i > 0 && tok.is_capitalised() && !tok.gap {
                ev.capitalised_mid_sentence.insert(tok.lower.clone());
            }
        }
    }
    for toks in tokens {
        for (i, tok) in toks.iter().enumerate() {
            let before_noun =
                |k: usize| !toks[k + 1].gap && words::comes_before_noun(&toks[k].lower);
            if !ev.content(tok) {
                continue;
            }
            // "the pigment absorbs": a determiner right before (or a
            // preposition, for a plural), and no further word of the phrase
            // after it (that would be the head noun).
            let next_in_phrase = toks
                .get(i + 1)
                .is_some_and(|n| !n.gap && n.class == Class::Word && !words::is_stop(&n.lower));
            let introduced = i >= 1
                && !tok.gap
                && (words::is_determiner(&toks[i - 1].lower)
                    || (words::is_preposition(&toks[i - 1].lower) && words::is_plural(&tok.lower)));
            if introduced && !next_in_phrase {
                *ev.head_noun.entry(words::stem(&tok.lower)).or_default() += 1;
            }
            if let Some(next) = toks.get(i + 1).filter(|n| !n.gap && ev.content(n)) {
                let opens = i == 0 || before_noun(i - 1);
                let entry = ev
                    .pairs
                    .entry((tok.lower.clone(), next.lower.clone()))
                    .or_default();
                entry.0 += 1;
                entry.1 += u32::from(opens);
            }
        }
    }
    ev
}
