//! Choosing the questions: which sentences (informative, self-contained,
//! spread over the document), which term to blank in each (by difficulty),
//! and which three terms of the same kind to offer beside it.

use std::collections::HashSet;

use super::sentences::Sentence;
use super::terms::{Index, Kind, Occurrence, Term};
use crate::quiz::domain::Difficulty;
use crate::quiz::rng::SeededRng;

/// One chosen question: the sentence, the blanked occurrence, the distractors.
#[derive(Debug, Clone)]
pub struct Pick {
    pub sentence: usize,
    pub occurrence: Occurrence,
    pub distractors: [usize; 3],
}

struct Candidate {
    sentence: usize,
    occurrence: Occurrence,
    score: f64,
}

/// Picks up to `count` questions; fewer when the text has no more good ones.
pub fn pick(
    sentences: &[Sentence],
    index: &Index,
    count: usize,
    difficulty: Difficulty,
    rng: &mut SeededRng,
) -> Vec<Pick> {
    let candidates = candidates(sentences, index, difficulty, rng);
    // Sentences that can make a question, in reading order, cut into `count`
    // runs: the best question of each run first, so questions cover the document.
    let mut usable: Vec<usize> = candidates.iter().map(|c| c.sentence).collect();
    usable.dedup();
    let mut chosen: Vec<Pick> = Vec::new();
    let mut used_stems: HashSet<&str> = HashSet::new();
    let mut used_sentences: HashSet<usize> = HashSet::new();
    let mut try_take = |c: &Candidate, chosen: &mut Vec<Pick>, rng: &mut SeededRng| {
        let answer = &index.terms[c.occurrence.term];
        if used_sentences.contains(&c.sentence) || used_stems.contains(answer.stem.as_str()) {
            return;
        }
        if let Some(distractors) = distractors(sentences, index, c, difficulty, rng) {
            used_stems.insert(answer.stem.as_str());
            used_sentences.insert(c.sentence);
            chosen.push(Pick {
                sentence: c.sentence,
                occurrence: c.occurrence,
                distractors,
            });
        }
    };
    let runs = count.min(usable.len());
    for run in 0..runs {
        let (from, to) = (usable.len() * run / runs, usable.len() * (run + 1) / runs);
        let in_run: HashSet<usize> = usable[from..to].iter().copied().collect();
        let before = chosen.len();
        let mut ranked: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| in_run.contains(&c.sentence))
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        for c in ranked {
            try_take(c, &mut chosen, rng);
            if chosen.len() > before {
                break;
            }
        }
    }
    if chosen.len() < count {
        let mut ranked: Vec<&Candidate> = candidates.iter().collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        for c in ranked {
            if chosen.len() >= count {
                break;
            }
            try_take(c, &mut chosen, rng);
        }
    }
    chosen.sort_by_key(|p| (p.sentence, p.occurrence.start));
    chosen
}

/// Every (sentence, term) pair worth asking about, scored for `difficulty`.
fn candidates(
    sentences: &[Sentence],
    index: &Index,
    difficulty: Difficulty,
    rng: &mut SeededRng,
) -> Vec<Candidate> {
    let max_df = index.stem_df.values().copied().max().unwrap_or(1).max(1) as f64;
    let group_sizes = group_sizes(index);
    let (ideal_lo, ideal_hi) = match difficulty {
        Difficulty::Easy => (8, 24),
        Difficulty::Medium => (10, 32),
        Difficulty::Hard => (12, 45),
    };
    let mut out = Vec::new();
    for (si, sentence) in sentences.iter().enumerate() {
        let words = index.sentence_words[si];
        if !sentence.complete || !(6..=60).contains(&words) {
            continue;
        }
        let fit = if (ideal_lo..=ideal_hi).contains(&words) {
            1.0
        } else {
            0.6
        };
        let opener = if index.opens_with_context[si] {
            0.35
        } else {
            0.0
        };
        let occurrences = &index.occurrences[si];
        let informative = occurrences
            .iter()
            .filter(|o| index.terms[o.term].eligible)
            .count()
            .min(5) as f64;
        let lower = sentence.text.to_lowercase();
        for occ in occurrences {
            let term = &index.terms[occ.term];
            if !term.eligible
                || group_sizes(term) < 4
                || lower.matches(&term.display.to_lowercase()).count() != 1
            {
                continue;
            }
            let salience = match term.kind {
                Kind::Term | Kind::Name | Kind::Acronym => index.df(term) as f64 / max_df,
                Kind::Year | Kind::Number | Kind::Percent => 0.0,
            };
            let answer = answer_score(term, salience, index.df(term), difficulty);
            let score = fit + 0.08 * informative - opener + answer + 0.01 * rng.unit();
            out.push(Candidate {
                sentence: si,
                occurrence: *occ,
                score,
            });
        }
    }
    out
}

/// How good `term` is as the answer at `difficulty`: easy asks about the
/// document's central terms, hard about its specific details (dates,
/// figures, terms met once).
fn answer_score(term: &Term, salience: f64, df: u32, difficulty: Difficulty) -> f64 {
    let phrase = if term.words > 1 { 0.15 } else { 0.0 };
    match difficulty {
        Difficulty::Easy => {
            let kind = match term.kind {
                Kind::Term | Kind::Name => 0.3,
                Kind::Acronym => 0.2,
                Kind::Year => 0.1,
                Kind::Number | Kind::Percent => 0.0,
            };
            let rare = if df <= 1 { 0.25 } else { 0.0 };
            kind + salience + phrase - rare
        }
        Difficulty::Medium => {
            let kind = match term.kind {
                Kind::Term | Kind::Name => 0.3,
                Kind::Acronym | Kind::Year => 0.2,
                Kind::Number | Kind::Percent => 0.15,
            };
            kind + (1.0 - (salience - 0.5).abs() * 2.0) * 0.6 + phrase
        }
        Difficulty::Hard => {
            let kind = match term.kind {
                Kind::Year | Kind::Number | Kind::Percent => 0.45,
                Kind::Name | Kind::Acronym => 0.3,
                Kind::Term => 0.25,
            };
            kind + (1.0 - salience) * 0.6 + phrase
        }
    }
}

/// How many distinct eligible terms could stand beside a term (an upper
/// bound, to skip hopeless candidates cheaply).
fn group_sizes(index: &Index) -> impl Fn(&Term) -> usize + '_ {
    let mut sizes: std::collections::HashMap<(Kind, bool), HashSet<&str>> = Default::default();
    for t in index.terms.iter().filter(|t| t.eligible) {
        sizes
            .entry((t.kind, t.kind == Kind::Term && t.plural))
            .or_default()
            .insert(t.stem.as_str());
    }
    move |t: &Term| {
        sizes
            .get(&(t.kind, t.kind == Kind::Term && t.plural))
            .map_or(0, HashSet::len)
    }
}

/// Three distractors of the answer's kind, none equal to (or contained in,
/// or containing) the answer, none already in the sentence, all different.
fn distractors(
    sentences: &[Sentence],
    index: &Index,
    c: &Candidate,
    difficulty: Difficulty,
    rng: &mut SeededRng,
) -> Option<[usize; 3]> {
    let answer = &index.terms[c.occurrence.term];
    let sentence = sentences[c.sentence].text.to_lowercase();
    let compatible = |t: &Term, strict: bool| {
        t.kind == answer.kind
            && t.eligible
            && (t.kind != Kind::Term || t.plural == answer.plural)
            && (!strict || t.words == answer.words || t.kind != Kind::Term)
            && !related(&t.stem, &answer.stem)
            && !sentence.contains(&t.display.to_lowercase())
    };
    let mut pool: Vec<(usize, f64)> = Vec::new();
    for strict in [true, false] {
        pool = index
            .terms
            .iter()
            .enumerate()
            .filter(|(_, t)| compatible(t, strict))
            .map(|(i, t)| (i, similarity(answer, t, index) + 0.001 * rng.unit()))
            .collect();
        if distinct_stems(index, &pool) >= 3 {
            break;
        }
    }
    pool.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Hard: the closest look-alikes. Medium: among the closer ones. Easy:
    // from the rest of the field, so the answer stands out.
    let slice: Vec<usize> = match difficulty {
        Difficulty::Hard => pool.iter().map(|p| p.0).collect(),
        Difficulty::Medium => shuffled_head(&pool, 6, rng),
        Difficulty::Easy => {
            let skip = if pool.len() >= 8 { 2 } else { 0 };
            let mut rest: Vec<usize> = pool.iter().skip(skip).map(|p| p.0).collect();
            rng.shuffle(&mut rest);
            rest
        }
    };
    let mut picked: Vec<usize> = Vec::with_capacity(3);
    for id in slice.into_iter().chain(pool.iter().map(|p| p.0)) {
        let stem = &index.terms[id].stem;
        if !picked.iter().any(|&p| related(&index.terms[p].stem, stem)) {
            picked.push(id);
        }
        if picked.len() == 3 {
            return Some([picked[0], picked[1], picked[2]]);
        }
    }
    None
}

fn shuffled_head(pool: &[(usize, f64)], n: usize, rng: &mut SeededRng) -> Vec<usize> {
    let mut head: Vec<usize> = pool.iter().take(n).map(|p| p.0).collect();
    rng.shuffle(&mut head);
    head
}

fn distinct_stems(index: &Index, pool: &[(usize, f64)]) -> usize {
    pool.iter()
        .map(|(i, _)| index.terms[*i].stem.as_str())
        .collect::<HashSet<_>>()
        .len()
}

/// The same term, or one inside the other as whole words ("light" / "light energy").
pub fn related(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    long.split(' ').any(|w| w == short)
        || long.starts_with(&format!("{short} "))
        || long.ends_with(&format!(" {short}"))
}

/// How alike two terms of one kind look, for picking plausible distractors.
fn similarity(answer: &Term, other: &Term, index: &Index) -> f64 {
    let length = |a: &str, b: &str| {
        let (la, lb) = (a.chars().count() as f64, b.chars().count() as f64);
        1.0 - (la - lb).abs() / la.max(lb).max(1.0)
    };
    let near = if answer.paragraph == other.paragraph {
        0.3
    } else {
        0.0
    };
    match answer.kind {
        Kind::Term => {
            let words = if answer.words == other.words {
                1.0
            } else {
                0.0
            };
            let suffix = |s: &str| s.chars().rev().take(3).collect::<String>();
            let rhyme = if suffix(&answer.stem) == suffix(&other.stem) {
                0.5
            } else {
                0.0
            };
            let (da, db) = (index.df(answer) as f64, index.df(other) as f64);
            let weight = 0.3 * (1.0 - (da - db).abs() / da.max(db).max(1.0));
            words + rhyme + 0.5 * length(&answer.display, &other.display) + near + weight
        }
        Kind::Name => {
            let words = if answer.words == other.words {
                1.0
            } else {
                0.0
            };
            let the = |t: &Term| t.with_the * 2 >= t.count.max(1);
            let article = if the(answer) == the(other) { 1.0 } else { 0.0 };
            let place = |t: &Term| t.after_place_word * 2 >= t.count.max(1);
            let place = if place(answer) == place(other) {
                1.0
            } else {
                0.0
            };
            words + article + place + 0.3 * length(&answer.display, &other.display) + near
        }
        Kind::Year => 1.0 / (1.0 + (answer.value - other.value).abs() / 25.0) + near,
        Kind::Number | Kind::Percent => {
            let magnitude = |v: f64| v.abs().max(1e-9).log10();
            1.0 / (1.0 + (magnitude(answer.value) - magnitude(other.value)).abs()) + near
        }
        Kind::Acronym => length(&answer.display, &other.display) + near,
    }
}
