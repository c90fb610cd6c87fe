//! Scoring an attempt: one answer per question, each an index 0–3.

use super::store::{QuestionResult, StoredQuestion};
use crate::error::Error;

/// The marked answers before they are stored.
#[derive(Debug, Clone)]
pub struct Marked {
    pub answers: Vec<i16>,
    pub correct: u32,
    pub total: u32,
    pub score: f64,
    pub results: Vec<QuestionResult>,
}

/// Marks `answers` against `questions`: 422 for the wrong number of answers
/// or an index outside the question's choices.
pub fn mark(questions: &[StoredQuestion], answers: &[i64]) -> Result<Marked, Error> {
    if answers.len() != questions.len() {
        return Err(Error::unprocessable(
            "wrong-answer-count",
            format!(
                "the quiz has {} questions but {} answers were given",
                questions.len(),
                answers.len()
            ),
        ));
    }
    let mut chosen = Vec::with_capacity(answers.len());
    for (i, (answer, question)) in answers.iter().zip(questions).enumerate() {
        match i16::try_from(*answer) {
            Ok(a) if a >= 0 && (a as usize) < question.choices.len() => chosen.push(a),
            _ => {
                return Err(Error::unprocessable(
                    "answer-out-of-range",
                    format!(
                        "answer {i} must be a choice index from 0 to {}",
                        question.choices.len().saturating_sub(1)
                    ),
                ));
            }
        }
    }
    let results: Vec<QuestionResult> = questions
        .iter()
        .zip(&chosen)
        .map(|(q, &chosen_index)| QuestionResult {
            question_id: q.id,
            correct: chosen_index == q.answer_index,
            answer_index: q.answer_index,
            chosen_index,
            explanation: q.explanation.clone(),
        })
        .collect();
    let correct = results.iter().filter(|r| r.correct).count() as u32;
    let total = results.len() as u32;
    Ok(Marked {
        answers: chosen,
        correct,
        total,
        score: if total == 0 {
            0.0
        } else {
            f64::from(correct) / f64::from(total)
        },
        results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questions(answers: &[i16]) -> Vec<StoredQuestion> {
        answers
            .iter()
            .map(|&a| StoredQuestion {
                id: uuid::Uuid::now_v7(),
                prompt: "p".into(),
                choices: vec!["a".into(), "b".into(), "c".into(), "d".into()],
                answer_index: a,
                explanation: "e".into(),
            })
            .collect()
    }

    #[test]
    fn scores_count_matching_indexes() {
        let m = mark(&questions(&[2, 0, 1, 3, 1]), &[2, 0, 1, 3, 0]).expect("marked");
        assert_eq!((m.correct, m.total), (4, 5));
        assert!((m.score - 0.8).abs() < 1e-9);
        assert!(!m.results[4].correct);
        assert_eq!(m.results[4].answer_index, 1);
        assert_eq!(m.results[4].chosen_index, 0);
    }

    #[test]
    fn wrong_lengths_and_out_of_range_indexes_are_422() {
        let qs = questions(&[0, 1]);
        for bad in [
            vec![0],
            vec![0, 1, 2],
            vec![0, 4],
            vec![-1, 0],
            vec![0, i64::MAX],
        ] {
            let err = mark(&qs, &bad).expect_err("refused");
            assert_eq!(err.status().as_u16(), 422);
        }
    }
}
