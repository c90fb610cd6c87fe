//! The built-in generator: offline, no key, deterministic. It splits the text
//! into sentences, picks informative ones spread over the document, blanks a
//! key term in each (a repeated noun phrase, a name, a number, a head noun;
//! never a function word) and offers three terms of the same kind from the
//! same text beside it. The explanation is the source sentence.

mod evidence;
mod select;
mod sentences;
mod terms;
mod tokens;
mod words;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::domain::{GeneratedQuestion, GeneratedQuiz, QuizOptions};
use super::generator::{GenerationError, GenerationRequest, Material, QuizGenerator};
use super::rng::SeededRng;
use terms::{Index, Kind};

/// What the blank looks like in a prompt.
pub const BLANK: &str = "_____";

/// The extractive generator. Stateless; its work runs off the async runtime.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extractive;

#[async_trait]
impl QuizGenerator for Extractive {
    fn name(&self) -> String {
        "extractive".to_owned()
    }

    async fn generate(
        &self,
        request: &GenerationRequest,
    ) -> Result<GeneratedQuiz, GenerationError> {
        let Material::Text { text, sha256 } = &request.material else {
            return Err(GenerationError::Unsupported(
                "a topic needs an LLM provider; the built-in generator works from text or a document"
                    .to_owned(),
            ));
        };
        let (text, sha256, options) = (text.clone(), sha256.clone(), request.options.clone());
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| generate(&text, &sha256, &options)))
            .await
            // A panic stays a panic: the runtime's panic layer logs it and answers 500.
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}

/// Generates a quiz from normalised `text` whose SHA-256 is `sha256`. The
/// same text and options always give the same quiz.
pub fn generate(
    text: &str,
    sha256: &str,
    options: &QuizOptions,
) -> Result<GeneratedQuiz, GenerationError> {
    let mut rng = SeededRng::from_digest(&seed(sha256, options));
    let sentences = sentences::split(text);
    let index = Index::build(&sentences);
    let wanted = options.question_count.get();
    let picks = select::pick(&sentences, &index, wanted, options.difficulty, &mut rng);
    if picks.is_empty() {
        return Err(GenerationError::NotEnoughContent(
            "the text is too short or has too few informative sentences to make a question; \
             it needs several complete sentences that share key terms"
                .to_owned(),
        ));
    }
    let mut warnings = Vec::new();
    if picks.len() < wanted {
        warnings.push(format!(
            "only {} of the {wanted} requested questions could be made: the text has no more \
             informative sentences with a distinct answer",
            picks.len()
        ));
    }
    if !options.language.is_english() {
        warnings.push(
            "the built-in generator is tuned for English; questions in other languages may read less well"
                .to_owned(),
        );
    }
    let questions = picks
        .iter()
        .map(|pick| question(&sentences[pick.sentence].text, pick, &index, &mut rng))
        .collect();
    Ok(GeneratedQuiz {
        title: title(&sentences, &index),
        questions,
        warnings,
    })
}

/// The seed: the text's hash and the options, so each difficulty or count
/// draws its own choices, reproducibly.
fn seed(sha256: &str, options: &QuizOptions) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(sha256.as_bytes());
    h.update([options.question_count.get() as u8]);
    h.update(options.difficulty.as_str().as_bytes());
    h.update(options.language.as_str().as_bytes());
    h.finalize().into()
}

fn question(
    sentence: &str,
    pick: &select::Pick,
    index: &Index,
    rng: &mut SeededRng,
) -> GeneratedQuestion {
    let occ = pick.occurrence;
    let answer = &index.terms[occ.term];
    let before = neutral_article(&sentence[..occ.start]);
    let prompt = format!("{before}{BLANK}{}", &sentence[occ.end..]);
    let mut choices: Vec<(String, bool)> = std::iter::once((answer.display.clone(), true))
        .chain(
            pick.distractors
                .iter()
                .map(|&d| (index.terms[d].display.clone(), false)),
        )
        .collect();
    rng.shuffle(&mut choices);
    let answer_index = choices
        .iter()
        .position(|(_, correct)| *correct)
        .unwrap_or(0) as u8;
    let choices: [String; 4] = std::array::from_fn(|i| choices[i].0.clone());
    GeneratedQuestion {
        prompt,
        choices,
        answer_index,
        explanation: sentence.to_owned(),
    }
}

/// A heading at the top of the text, else the most repeated key term.
fn title(sentences: &[sentences::Sentence], index: &Index) -> String {
    if let Some(first) = sentences
        .first()
        .filter(|s| !s.complete && s.text.split_whitespace().count() <= 12)
    {
        return first.text.chars().take(120).collect();
    }
    let top = index
        .terms
        .iter()
        .filter(|t| t.eligible && matches!(t.kind, Kind::Term | Kind::Name | Kind::Acronym))
        .max_by_key(|t| (index.df(t), t.words, std::cmp::Reverse(t.display.clone())));
    match top {
        Some(t) => {
            let mut chars = t.display.chars();
            let first: String = chars
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default();
            format!("Quiz: {first}{}", chars.as_str())
        }
        None => "Quiz".to_owned(),
    }
}

/// "an _____" would give a vowel-initial answer away: say "a(n) _____".
fn neutral_article(before: &str) -> String {
    for (article, neutral) in [
        ("an ", "a(n) "),
        ("a ", "a(n) "),
        ("An ", "A(n) "),
        ("A ", "A(n) "),
    ] {
        if let Some(rest) = before.strip_suffix(article)
            && (rest.is_empty() || rest.ends_with([' ', '(', '"']))
        {
            return format!("{rest}{neutral}");
        }
    }
    before.to_owned()
}

#[cfg(test)]
mod tests;
