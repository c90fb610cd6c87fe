//! Bad request bodies: every one a 4xx problem+json, never a 500.

use axum::body::Body;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn bad_bodies_are_4xx_problems() {
    // Rejected bodies count against the generation limit too; this test sends
    // more than five, and is about validation, so the limit is off here.
    let app = app(&[("RATE_LIMIT_QUIZ_PER_MIN", "0")]).await;
    let token = app.token("u");
    let cases = [
        (
            json!({"source": {"text": "x"}, "question_count": 5, "colour": "red"}),
            422,
            "invalid-body",
        ),
        // Two sources at once: serde_json reports it as a syntax error.
        (
            json!({"source": {"text": PHOTOSYNTHESIS, "topic": "x"}}),
            400,
            "bad-request",
        ),
        (json!({"source": {"url": "http://x"}}), 422, "invalid-body"),
        (json!({"source": {"text": 42}}), 422, "invalid-body"),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": "five"}),
            422,
            "invalid-body",
        ),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": 2.5}),
            422,
            "invalid-body",
        ),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "difficulty": "brutal"}),
            422,
            "invalid-body",
        ),
        (
            json!({"source": {"document_id": "not-a-uuid"}}),
            422,
            "invalid-body",
        ),
        (json!({"question_count": 5}), 422, "invalid-body"),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": 0}),
            422,
            "invalid-question-count",
        ),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": 51}),
            422,
            "invalid-question-count",
        ),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": -3}),
            422,
            "invalid-question-count",
        ),
        (json!({"source": {"text": ""}}), 422, "empty-text"),
        (json!({"source": {"text": " \n\t "}}), 422, "empty-text"),
        (json!({"source": {"topic": "  "}}), 422, "invalid-topic"),
        (
            json!({"source": {"text": PHOTOSYNTHESIS}, "language": "klingon!"}),
            422,
            "invalid-language",
        ),
    ];
    for (body, status, slug) in cases {
        let r = create(&app, &token, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {}", r.json);
        r.assert_problem(status, slug);
    }
    let stored: i64 = shared::db::query_scalar("SELECT count(*) FROM quizzes")
        .fetch_one(&app.sql)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn malformed_json_is_400_and_a_missing_content_type_is_415() {
    let app = app(&[]).await;
    let request = |content_type: Option<&str>, body: &'static str| {
        let mut b = http::Request::post("/v1/quizzes")
            .header("authorization", format!("Bearer {}", app.token("u")));
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        b.body(Body::from(body)).expect("request")
    };
    app.call(request(Some("application/json"), "{\"source\": "))
        .await
        .assert_problem(400, "bad-request");
    app.call(request(None, "{}"))
        .await
        .assert_problem(415, "unsupported-media-type");
}

#[tokio::test]
async fn five_megabytes_of_text_is_413_and_text_past_the_limit_is_422() {
    let app = app(&[]).await;
    let token = app.token("u");
    let huge = "Plants make sugar from light. ".repeat(5 * 1024 * 1024 / 30 + 1);
    create(&app, &token, text_body(&huge, 5))
        .await
        .assert_problem(413, "too-large");
    // Under the body limit but over the text limit (escaping makes room for it).
    let small = app_with_limit().await;
    let long = "é".repeat(600);
    create(&small, &small.token("u"), text_body(&long, 5))
        .await
        .assert_problem(422, "text-too-long");
}

async fn app_with_limit() -> folio_testing::TestApp {
    app(&[("QUIZ_MAX_TEXT_BYTES", "1000")]).await
}
