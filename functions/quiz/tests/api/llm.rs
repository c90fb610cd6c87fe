//! The LLM path against the local fake: valid answers, the cache in front of
//! it, and every way a provider fails.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::llm_fake::{LlmFake, PROVIDER_WORDS, Reply};

fn topic(count: u32) -> serde_json::Value {
    json!({"source": {"topic": "photosynthesis"}, "question_count": count, "difficulty": "easy"})
}

#[tokio::test]
async fn a_topic_quiz_comes_from_the_llm_and_a_repeat_comes_from_cache_with_no_call() {
    let fake = LlmFake::start(vec![], Reply::Valid(3)).await;
    let app = app_with_llm(&fake, &[]).await;
    let token = app.token("u");
    let r = create(&app, &token, topic(3)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["generator"], "llm:fake-model");
    assert_eq!(r.json["title"], "Photosynthesis (LLM)");
    assert_eq!(r.json["questions"].as_array().map(Vec::len), Some(3));
    assert!(!body_text(&r).contains("answer_index"));
    assert_eq!(fake.calls(), 1);

    let (headers, body) = fake.last_request().expect("a request");
    assert_eq!(headers["authorization"], "Bearer test-llm-key");
    assert_eq!(body["model"], "fake-model");
    assert_eq!(body["response_format"]["type"], "json_schema");
    assert!(
        body["response_format"]["json_schema"]["schema"]["properties"]["questions"].is_object()
    );
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("photosynthesis"))
    );

    let again = create(&app, &app.token("someone-else"), topic(3)).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json["cached"], true);
    assert_eq!(fake.calls(), 1, "a cache hit makes no LLM call");
    assert_eq!(counter(&app, "llm.calls").await, 1);
    assert_eq!(counter(&app, "llm.saved").await, 1);

    // The stored answers are the model's.
    let id = r.json["quiz_id"].as_str().expect("id");
    assert_eq!(answers_of(&app, id).await, vec![0, 1, 2]);
}

#[tokio::test]
async fn text_goes_to_the_llm_when_one_is_configured_unless_extractive_is_asked_for() {
    let fake = LlmFake::start(vec![], Reply::Valid(4)).await;
    let app = app_with_llm(&fake, &[]).await;
    let token = app.token("u");
    let r = create(&app, &token, text_body(PHOTOSYNTHESIS, 4)).await;
    assert_eq!(r.json["generator"], "llm:fake-model");
    let (_, body) = fake.last_request().expect("request");
    assert!(
        body["messages"][1]["content"]
            .as_str()
            .is_some_and(|c| c.contains("chloroplasts"))
    );
    let r = create(
        &app,
        &token,
        json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": 4, "generator": "extractive"}),
    )
    .await;
    assert_eq!(r.json["generator"], "extractive");
    assert_eq!(fake.calls(), 1);
}

#[tokio::test]
async fn malformed_json_is_retried_then_503_without_the_providers_words() {
    let fake = LlmFake::start(vec![], Reply::MalformedJson).await;
    let app = app_with_llm(&fake, &[]).await;
    let r = create(&app, &app.token("u"), topic(3)).await;
    r.assert_problem(503, "unavailable");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(fake.calls(), 3, "one try and two retries");
    let stored: i64 = shared::db::query_scalar("SELECT count(*) FROM quizzes")
        .fetch_one(&app.sql)
        .await
        .expect("count");
    assert_eq!(stored, 0, "nothing invalid is stored");
}

#[tokio::test]
async fn wrong_counts_are_refused_and_a_valid_retry_is_kept() {
    let fake = LlmFake::start(
        vec![Reply::Valid(2), Reply::ThreeChoices(3)],
        Reply::Valid(3),
    )
    .await;
    let app = app_with_llm(&fake, &[]).await;
    let r = create(&app, &app.token("u"), topic(3)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(fake.calls(), 3, "two unusable answers, then a good one");
    assert_eq!(r.json["questions"].as_array().map(Vec::len), Some(3));

    let always_short = LlmFake::start(vec![], Reply::Valid(1)).await;
    let app = app_with_llm(&always_short, &[("LLM_MAX_RETRIES", "1")]).await;
    create(&app, &app.token("u"), topic(3))
        .await
        .assert_problem(503, "unavailable");
    assert_eq!(always_short.calls(), 2);
}

#[tokio::test]
async fn a_slow_provider_times_out_within_the_budget_and_is_503() {
    let fake = LlmFake::start(vec![], Reply::Slow(Duration::from_secs(10), 3)).await;
    let app = app_with_llm(
        &fake,
        &[("LLM_TIMEOUT_SECS", "0.3"), ("LLM_MAX_RETRIES", "1")],
    )
    .await;
    let started = Instant::now();
    let r = create(&app, &app.token("u"), topic(3)).await;
    r.assert_problem(503, "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(fake.calls(), 2);
}

#[tokio::test]
async fn the_request_deadline_bounds_all_retries() {
    let fake = LlmFake::start(vec![], Reply::Slow(Duration::from_secs(10), 3)).await;
    let app = app_with_llm(
        &fake,
        &[
            ("REQUEST_TIMEOUT_SECS", "2"),
            ("LLM_TIMEOUT_SECS", "5"),
            ("LLM_MAX_RETRIES", "5"),
        ],
    )
    .await;
    let started = Instant::now();
    let r = create(&app, &app.token("u"), topic(3)).await;
    r.assert_problem(503, "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_provider_500_is_a_503_that_never_repeats_the_providers_words() {
    let fake = LlmFake::start(vec![], Reply::Status(500)).await;
    let app = app_with_llm(&fake, &[("LLM_MAX_RETRIES", "1")]).await;
    let r = create(&app, &app.token("u"), topic(3)).await;
    r.assert_problem(503, "unavailable");
    assert!(!body_text(&r).contains(PROVIDER_WORDS));
    assert!(
        !body_text(&r).contains("127.0.0.1"),
        "no provider URL either"
    );
    assert_eq!(fake.calls(), 2);

    // A 401 (bad key) is not retried.
    let denied = LlmFake::start(vec![], Reply::Status(401)).await;
    let app = app_with_llm(&denied, &[]).await;
    create(&app, &app.token("u"), topic(3))
        .await
        .assert_problem(503, "unavailable");
    assert_eq!(denied.calls(), 1);
}

#[tokio::test]
async fn a_429_is_retried_after_its_retry_after_and_a_long_one_is_passed_on() {
    let fake = LlmFake::start(vec![Reply::TooMany(1)], Reply::Valid(3)).await;
    let app = app_with_llm(&fake, &[]).await;
    let started = Instant::now();
    let r = create(&app, &app.token("u"), topic(3)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(fake.calls(), 2);

    let busy = LlmFake::start(vec![], Reply::TooMany(120)).await;
    let app = app_with_llm(&busy, &[]).await;
    let started = Instant::now();
    let r = create(&app, &app.token("u"), topic(3)).await;
    r.assert_problem(503, "unavailable");
    assert_eq!(r.headers["retry-after"], "120");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(busy.calls(), 1, "a wait past the cap is not waited out");
}

#[tokio::test]
async fn a_failing_provider_falls_back_to_extractive_for_text_unless_switched_off() {
    let fake = LlmFake::start(vec![], Reply::Status(503)).await;
    let app = app_with_llm(&fake, &[("LLM_MAX_RETRIES", "0")]).await;
    let r = create(&app, &app.token("u"), text_body(PHOTOSYNTHESIS, 4)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["generator"], "extractive");
    assert!(
        r.json["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w
                .as_str()
                .is_some_and(|w| w.contains("LLM provider was unavailable")))
    );
    // A topic has no text to fall back on.
    create(&app, &app.token("u"), topic(3))
        .await
        .assert_problem(503, "unavailable");

    let strict = app_with_llm(
        &fake,
        &[
            ("LLM_MAX_RETRIES", "0"),
            ("QUIZ_LLM_FALLBACK_TO_EXTRACTIVE", "false"),
        ],
    )
    .await;
    create(&strict, &strict.token("u"), text_body(ROME, 4))
        .await
        .assert_problem(503, "unavailable");
}
