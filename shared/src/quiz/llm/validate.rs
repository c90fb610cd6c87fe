//! Checks a model's quiz before anything stores it: the count, four distinct
//! non-empty choices, an answer index in range, an explanation.

use std::collections::HashSet;

use super::wire::RawQuiz;
use crate::quiz::domain::{GeneratedQuestion, GeneratedQuiz};

const MAX_PROMPT_CHARS: usize = 1_000;
const MAX_CHOICE_CHARS: usize = 300;
const MAX_EXPLANATION_CHARS: usize = 2_000;
const MAX_TITLE_CHARS: usize = 200;

/// The validated quiz, or why it was refused (for the log, never the caller).
/// More questions than asked are cut to `wanted`; fewer are refused.
pub fn validate(
    raw: RawQuiz,
    wanted: usize,
    fallback_title: &str,
) -> Result<GeneratedQuiz, String> {
    if raw.questions.len() < wanted {
        return Err(format!(
            "{} questions instead of {wanted}",
            raw.questions.len()
        ));
    }
    let mut questions = Vec::with_capacity(wanted);
    let mut prompts = HashSet::new();
    for (i, q) in raw.questions.into_iter().take(wanted).enumerate() {
        let prompt = q.prompt.trim().to_owned();
        if prompt.is_empty() || prompt.chars().count() > MAX_PROMPT_CHARS {
            return Err(format!("question {i}: empty or overlong prompt"));
        }
        if !prompts.insert(prompt.to_lowercase()) {
            return Err(format!("question {i}: repeats an earlier prompt"));
        }
        if q.choices.len() != 4 {
            return Err(format!(
                "question {i}: {} choices instead of 4",
                q.choices.len()
            ));
        }
        let choices: Vec<String> = q.choices.iter().map(|c| c.trim().to_owned()).collect();
        if choices
            .iter()
            .any(|c| c.is_empty() || c.chars().count() > MAX_CHOICE_CHARS)
        {
            return Err(format!("question {i}: an empty or overlong choice"));
        }
        let distinct: HashSet<String> = choices.iter().map(|c| c.to_lowercase()).collect();
        if distinct.len() != 4 {
            return Err(format!("question {i}: choices are not distinct"));
        }
        let answer_index = u8::try_from(q.answer_index)
            .ok()
            .filter(|i| *i < 4)
            .ok_or_else(|| format!("question {i}: answer_index {} out of range", q.answer_index))?;
        let explanation = q.explanation.trim().to_owned();
        if explanation.is_empty() || explanation.chars().count() > MAX_EXPLANATION_CHARS {
            return Err(format!("question {i}: empty or overlong explanation"));
        }
        let choices: [String; 4] = std::array::from_fn(|k| choices[k].clone());
        questions.push(GeneratedQuestion {
            prompt,
            choices,
            answer_index,
            explanation,
        });
    }
    let title = raw.title.trim();
    let title = if title.is_empty() {
        fallback_title
    } else {
        title
    };
    Ok(GeneratedQuiz {
        title: title.chars().take(MAX_TITLE_CHARS).collect(),
        questions,
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::llm::wire::RawQuestion;

    fn question(choices: &[&str], answer_index: i64) -> RawQuestion {
        RawQuestion {
            prompt: format!("Which of {choices:?}?"),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            answer_index,
            explanation: "Because.".into(),
        }
    }

    fn quiz(questions: Vec<RawQuestion>) -> RawQuiz {
        RawQuiz {
            title: " Rome ".into(),
            questions,
        }
    }

    #[test]
    fn a_well_formed_quiz_passes_and_extra_questions_are_cut() {
        let q = validate(
            quiz(vec![
                question(&["a", "b", "c", "d"], 3),
                question(&["e", "f", "g", "h"], 0),
            ]),
            1,
            "x",
        )
        .expect("valid");
        assert_eq!(q.title, "Rome");
        assert_eq!(q.questions.len(), 1);
        assert_eq!(q.questions[0].answer_index, 3);
    }

    #[test]
    fn wrong_counts_duplicates_and_bad_indexes_are_refused() {
        let bad = [
            quiz(vec![question(&["a", "b", "c", "d"], 0)]),
            quiz(vec![
                question(&["a", "b", "c"], 0),
                question(&["e", "f", "g", "h"], 0),
            ]),
            quiz(vec![
                question(&["a", "b", "c", "A"], 0),
                question(&["e", "f", "g", "h"], 0),
            ]),
            quiz(vec![
                question(&["a", "b", "c", "d"], 4),
                question(&["e", "f", "g", "h"], 0),
            ]),
            quiz(vec![
                question(&["a", "b", "c", "d"], -1),
                question(&["e", "f", "g", "h"], 0),
            ]),
            quiz(vec![
                question(&["a", "b", " ", "d"], 0),
                question(&["e", "f", "g", "h"], 0),
            ]),
        ];
        for raw in bad {
            assert!(validate(raw, 2, "x").is_err());
        }
    }
}
