//! Quizzes, questions and attempts in Postgres. Every read filters on the
//! owner, so another user's quiz is simply not found.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{GeneratedQuestion, GeneratedQuiz, QuizOptions};

/// A stored quiz with its questions, answers included (the handler decides
/// what to show).
#[derive(Debug, Clone)]
pub struct StoredQuiz {
    pub id: Uuid,
    pub title: String,
    pub generator: String,
    pub cached: bool,
    pub requested: i16,
    pub warnings: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub questions: Vec<StoredQuestion>,
}

#[derive(Debug, Clone)]
pub struct StoredQuestion {
    pub id: Uuid,
    pub prompt: String,
    pub choices: Vec<String>,
    pub answer_index: i16,
    pub explanation: String,
}

/// Where a new quiz came from, as recorded beside it.
#[derive(Debug, Clone)]
pub struct Provenance<'a> {
    pub source_kind: &'static str,
    pub document_id: Option<Uuid>,
    pub source_sha256: Option<&'a str>,
    pub topic: Option<&'a str>,
}

/// Inserts a quiz and its questions; run it in a transaction.
pub async fn insert_quiz(
    conn: &mut PgConnection,
    owner_id: &str,
    quiz: &GeneratedQuiz,
    generator: &str,
    cached: bool,
    options: &QuizOptions,
    provenance: &Provenance<'_>,
) -> Result<StoredQuiz, sqlx::Error> {
    let id = Uuid::now_v7();
    let requested = options.question_count.get() as i16;
    let created_at: DateTime<Utc> = crate::db::query_scalar(
        "INSERT INTO quizzes (id, owner_id, title, generator, source_kind, document_id, source_sha256, \
         topic, difficulty, language, requested_count, cached, warnings) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING created_at",
    )
    .bind(id)
    .bind(owner_id)
    .bind(&quiz.title)
    .bind(generator)
    .bind(provenance.source_kind)
    .bind(provenance.document_id)
    .bind(provenance.source_sha256)
    .bind(provenance.topic)
    .bind(options.difficulty.as_str())
    .bind(options.language.as_str())
    .bind(requested)
    .bind(cached)
    .bind(&quiz.warnings)
    .fetch_one(&mut *conn)
    .await?;
    let questions: Vec<StoredQuestion> = quiz.questions.iter().map(stored_question).collect();
    let positions: Vec<i16> = (0..questions.len() as i16).collect();
    crate::db::query(
        "INSERT INTO quiz_questions (id, quiz_id, position, prompt, choices, answer_index, explanation) \
         SELECT q.id, $1, q.position, q.prompt, q.choices, q.answer_index, q.explanation \
         FROM UNNEST($2::uuid[], $3::int2[], $4::text[], $5::jsonb[], $6::int2[], $7::text[]) \
           AS q(id, position, prompt, choices, answer_index, explanation)",
    )
    .bind(id)
    .bind(questions.iter().map(|q| q.id).collect::<Vec<_>>())
    .bind(positions)
    .bind(questions.iter().map(|q| q.prompt.clone()).collect::<Vec<_>>())
    .bind(questions.iter().map(|q| serde_json::json!(q.choices)).collect::<Vec<_>>())
    .bind(questions.iter().map(|q| q.answer_index).collect::<Vec<_>>())
    .bind(questions.iter().map(|q| q.explanation.clone()).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    Ok(StoredQuiz {
        id,
        title: quiz.title.clone(),
        generator: generator.to_owned(),
        cached,
        requested,
        warnings: quiz.warnings.clone(),
        created_at,
        questions,
    })
}

fn stored_question(q: &GeneratedQuestion) -> StoredQuestion {
    StoredQuestion {
        id: Uuid::now_v7(),
        prompt: q.prompt.clone(),
        choices: q.choices.to_vec(),
        answer_index: i16::from(q.answer_index),
        explanation: q.explanation.clone(),
    }
}

type QuizRow = (Uuid, String, String, bool, i16, Vec<String>, DateTime<Utc>);
type QuestionRow = (Uuid, String, sqlx::types::Json<Vec<String>>, i16, String);

/// The quiz `id` if `owner_id` owns it.
pub async fn fetch_quiz(
    conn: &mut PgConnection,
    owner_id: &str,
    id: Uuid,
) -> Result<Option<StoredQuiz>, sqlx::Error> {
    let row: Option<QuizRow> = crate::db::query_as(
        "SELECT id, title, generator, cached, requested_count, warnings, created_at \
         FROM quizzes WHERE id = $1 AND owner_id = $2",
    )
    .bind(id)
    .bind(owner_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((id, title, generator, cached, requested, warnings, created_at)) = row else {
        return Ok(None);
    };
    let rows: Vec<QuestionRow> = crate::db::query_as(
        "SELECT id, prompt, choices, answer_index, explanation FROM quiz_questions \
         WHERE quiz_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let questions = rows
        .into_iter()
        .map(
            |(id, prompt, choices, answer_index, explanation)| StoredQuestion {
                id,
                prompt,
                choices: choices.0,
                answer_index,
                explanation,
            },
        )
        .collect();
    Ok(Some(StoredQuiz {
        id,
        title,
        generator,
        cached,
        requested,
        warnings,
        created_at,
        questions,
    }))
}

/// A scored attempt, as stored and as answered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub attempt_id: Uuid,
    pub score: f64,
    pub correct: u32,
    pub total: u32,
    pub results: Vec<QuestionResult>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub question_id: Uuid,
    pub correct: bool,
    /// The correct choice.
    pub answer_index: i16,
    /// The caller's choice.
    pub chosen_index: i16,
    pub explanation: String,
}

pub async fn insert_attempt(
    conn: &mut PgConnection,
    owner_id: &str,
    quiz_id: Uuid,
    answers: &[i16],
    correct: u32,
    total: u32,
    score: f64,
) -> Result<(Uuid, DateTime<Utc>), sqlx::Error> {
    let id = Uuid::now_v7();
    let created_at = crate::db::query_scalar(
        "INSERT INTO quiz_attempts (id, quiz_id, owner_id, answers, correct, total, score) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at",
    )
    .bind(id)
    .bind(quiz_id)
    .bind(owner_id)
    .bind(answers)
    .bind(correct as i32)
    .bind(total as i32)
    .bind(score)
    .fetch_one(conn)
    .await?;
    Ok((id, created_at))
}
