//! Invariants of the extractive generator on real-looking texts.

use std::collections::HashSet;

use super::*;
use crate::quiz::domain::{Difficulty, Language, QuestionCount};

const PHOTOSYNTHESIS: &str = include_str!("../../../testdata/quiz/photosynthesis.txt");
const ROME: &str = include_str!("../../../testdata/quiz/rome.txt");
const OTHERS: [&str; 3] = [
    include_str!("../../../testdata/quiz/water-cycle.txt"),
    include_str!("../../../testdata/quiz/printing.txt"),
    include_str!("../../../testdata/quiz/volcanoes.txt"),
];

fn options(count: i64, difficulty: Difficulty) -> QuizOptions {
    QuizOptions {
        question_count: QuestionCount::parse(count).expect("count"),
        difficulty,
        language: Language::parse("en").expect("language"),
    }
}

fn quiz(text: &str, count: i64, difficulty: Difficulty) -> GeneratedQuiz {
    generate(
        text,
        &crate::quiz::cache::sha256_hex(text),
        &options(count, difficulty),
    )
    .expect("quiz")
}

/// The words of `s` less indefinite articles ("a(n)" stands in for them in prompts).
fn without_articles(s: &str) -> Vec<&str> {
    s.split(' ')
        .filter(|w| !matches!(w.to_lowercase().as_str(), "a" | "an" | "a(n)"))
        .collect()
}

fn norm(s: &str) -> String {
    words::stem(&s.to_lowercase())
}

#[test]
fn every_question_obeys_the_invariants_at_every_difficulty() {
    for text in [PHOTOSYNTHESIS, ROME].into_iter().chain(OTHERS) {
        for difficulty in [Difficulty::Easy, Difficulty::Medium, Difficulty::Hard] {
            let q = quiz(text, 10, difficulty);
            assert_eq!(q.questions.len(), 10, "{difficulty:?}: {:#?}", q);
            let mut answers = HashSet::new();
            for question in &q.questions {
                let answer = &question.choices[usize::from(question.answer_index)];
                assert!(answers.insert(norm(answer)), "answer {answer} twice");
                let distinct: HashSet<String> = question.choices.iter().map(|c| norm(c)).collect();
                assert_eq!(
                    distinct.len(),
                    4,
                    "choices not distinct: {:?}",
                    question.choices
                );
                assert_eq!(
                    question.prompt.matches(BLANK).count(),
                    1,
                    "{}",
                    question.prompt
                );
                // The explanation is the source sentence, and filling the blank gives it back
                // (but for a neutralised article).
                // (A term opening the sentence is offered in lower case.)
                let filled = question.prompt.replace(BLANK, answer).to_lowercase();
                let source = question.explanation.to_lowercase();
                assert_eq!(without_articles(&filled), without_articles(&source));
                assert!(
                    text.split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .contains(&question.explanation)
                );
                for choice in &question.choices {
                    assert!(
                        !words::is_stop(&choice.to_lowercase()),
                        "stop word {choice}"
                    );
                    assert!(
                        text.contains(choice.as_str())
                            || text.to_lowercase().contains(&choice.to_lowercase())
                    );
                    assert!(!choice.is_empty());
                }
            }
        }
    }
}

#[test]
fn distractors_are_of_the_answers_kind() {
    let is_number = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    };
    let capitalised = |s: &str| s.chars().next().is_some_and(char::is_uppercase);
    for difficulty in [Difficulty::Easy, Difficulty::Medium, Difficulty::Hard] {
        for question in quiz(ROME, 12, difficulty).questions {
            let answer = &question.choices[usize::from(question.answer_index)];
            for choice in &question.choices {
                assert_eq!(
                    is_number(choice),
                    is_number(answer),
                    "{:?}",
                    question.choices
                );
                if !is_number(answer) {
                    assert_eq!(
                        capitalised(choice),
                        capitalised(answer),
                        "{:?}",
                        question.choices
                    );
                }
            }
        }
    }
}

#[test]
fn the_same_input_gives_the_same_quiz_and_other_options_another() {
    let a = quiz(PHOTOSYNTHESIS, 8, Difficulty::Medium);
    let b = quiz(PHOTOSYNTHESIS, 8, Difficulty::Medium);
    assert_eq!(a, b);
    let hard = quiz(PHOTOSYNTHESIS, 8, Difficulty::Hard);
    assert_ne!(
        a.questions, hard.questions,
        "difficulty changes the questions"
    );
}

#[test]
fn difficulty_changes_which_terms_are_asked() {
    let years = |q: &GeneratedQuiz| {
        q.questions
            .iter()
            .filter(|x| {
                x.choices[usize::from(x.answer_index)]
                    .chars()
                    .all(|c| c.is_ascii_digit())
            })
            .count()
    };
    let easy = quiz(ROME, 8, Difficulty::Easy);
    let hard = quiz(ROME, 8, Difficulty::Hard);
    assert!(
        years(&hard) > years(&easy),
        "hard asks more dates: {} vs {}",
        years(&hard),
        years(&easy)
    );
}

#[test]
fn fewer_good_sentences_than_asked_gives_fewer_questions_and_says_so() {
    let q = quiz(PHOTOSYNTHESIS, 50, Difficulty::Medium);
    assert!(
        q.questions.len() < 50 && q.questions.len() >= 15,
        "{}",
        q.questions.len()
    );
    assert!(
        q.warnings.iter().any(|w| w.contains("of the 50 requested")),
        "{:?}",
        q.warnings
    );
    let full = quiz(PHOTOSYNTHESIS, 5, Difficulty::Medium);
    assert!(full.warnings.is_empty());
}

#[test]
fn a_text_with_nothing_to_ask_is_refused() {
    let opts = options(5, Difficulty::Easy);
    for text in [
        "Hello.",
        "the the the. and and and.",
        "One two three four five six seven.",
    ] {
        let err = generate(text, "x", &opts).expect_err(text);
        assert!(matches!(err, GenerationError::NotEnoughContent(_)));
    }
}

#[test]
fn the_title_is_the_heading_when_there_is_one() {
    assert_eq!(
        quiz(PHOTOSYNTHESIS, 3, Difficulty::Easy).title,
        "Photosynthesis"
    );
    let body = PHOTOSYNTHESIS
        .trim_start_matches("Photosynthesis")
        .trim_start();
    let title = quiz(body, 3, Difficulty::Easy).title;
    assert!(title.starts_with("Quiz: "), "{title}");
}

/// Not an assertion: `cargo test -p folio-shared print_sample -- --ignored --nocapture`
/// prints a quiz to read.
#[test]
#[ignore = "prints a sample for a human to read"]
fn print_sample_quizzes() {
    let mut samples = vec![
        (PHOTOSYNTHESIS, Difficulty::Easy),
        (PHOTOSYNTHESIS, Difficulty::Hard),
        (ROME, Difficulty::Medium),
        (ROME, Difficulty::Hard),
    ];
    samples.extend(OTHERS.map(|t| (t, Difficulty::Medium)));
    for (text, difficulty) in samples {
        let q = quiz(text, 8, difficulty);
        println!("== {} ({difficulty:?})", q.title);
        for x in q.questions {
            println!("- {}\n  {:?} -> {}", x.prompt, x.choices, x.answer_index);
        }
    }
}
