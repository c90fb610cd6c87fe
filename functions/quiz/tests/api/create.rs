//! Creating and reading quizzes offline (the extractive generator), and the cache.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_text_makes_a_quiz_without_answers_and_reading_it_back_gives_the_same() {
    let app = app(&[]).await;
    let token = app.token("user-a");
    let r = create(&app, &token, text_body(PHOTOSYNTHESIS, 5)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["generator"], "extractive");
    assert_eq!(r.json["cached"], false);
    assert_eq!(r.json["requested"], 5);
    assert_eq!(r.json["title"], "Photosynthesis");
    let questions = r.json["questions"].as_array().expect("questions");
    assert_eq!(questions.len(), 5);
    for q in questions {
        assert_eq!(q["choices"].as_array().map(Vec::len), Some(4));
        assert!(q["prompt"].as_str().is_some_and(|p| p.contains("_____")));
        assert!(
            q.get("answer_index").is_none() && q.get("explanation").is_none(),
            "answers leaked: {q}"
        );
    }
    let id = r.json["quiz_id"].as_str().expect("id");
    assert_eq!(r.headers["location"], format!("/v1/quizzes/{id}").as_str());
    let got = app.get(&format!("/v1/quizzes/{id}"), Some(&token)).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["questions"], r.json["questions"]);
    assert!(!body_text(&got).contains("answer_index"));
    let stored: i64 =
        shared::db::query_scalar("SELECT count(*) FROM quiz_questions WHERE quiz_id = $1::uuid")
            .bind(id)
            .fetch_one(&app.sql)
            .await
            .expect("count");
    assert_eq!(stored, 5);
}

#[tokio::test]
async fn the_same_text_and_options_are_answered_from_cache_and_counted() {
    let app = app(&[]).await;
    let first = create(&app, &app.token("user-a"), text_body(ROME, 4)).await;
    assert_eq!(first.json["cached"], false);
    // Another user, the same text with other spacing: same normalised source.
    let spaced = ROME.replace(". ", ".  ").replace('\n', "\r\n");
    let second = create(&app, &app.token("user-b"), text_body(&spaced, 4)).await;
    assert_eq!(second.status, 201);
    assert_eq!(second.json["cached"], true);
    assert_eq!(second.json["questions"].as_array().map(Vec::len), Some(4));
    let prompts = |r: &folio_testing::TestResponse| {
        r.json["questions"]
            .as_array()
            .expect("q")
            .iter()
            .map(|q| q["prompt"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(prompts(&first), prompts(&second));
    assert_ne!(
        first.json["quiz_id"], second.json["quiz_id"],
        "each caller gets a quiz of their own"
    );
    // Other options miss.
    let hard = create(
        &app,
        &app.token("user-a"),
        json!({"source": {"text": ROME}, "question_count": 4, "difficulty": "hard"}),
    )
    .await;
    assert_eq!(hard.json["cached"], false);
    assert_eq!(
        (counter(&app, "hit").await, counter(&app, "miss").await),
        (1, 2)
    );
    let ttl = app
        .kv()
        .ttl(&redis_key_of_any_cache_entry(&app).await)
        .await
        .expect("ttl")
        .expect("has ttl");
    assert!(ttl.as_secs() <= 3600 && ttl.as_secs() > 3500, "{ttl:?}");
}

async fn redis_key_of_any_cache_entry(app: &folio_testing::TestApp) -> String {
    let reply = app
        .kv()
        .query(shared::kv::Cmd::new("KEYS").arg(app.kv().key("quiz:cache:*")))
        .await
        .expect("keys");
    match reply {
        shared::kv::Reply::Array(keys) => {
            let full = keys
                .into_iter()
                .find_map(|k| k.into_bytes())
                .expect("a cache key");
            String::from_utf8(full).expect("utf8")[app.kv().prefix().len()..].to_owned()
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_short_text_gives_fewer_questions_and_says_so() {
    let app = app(&[]).await;
    let r = create(&app, &app.token("u"), text_body(PHOTOSYNTHESIS, 50)).await;
    assert_eq!(r.status, 201);
    let n = r.json["questions"].as_array().map(Vec::len).unwrap_or(0);
    assert!((1..50).contains(&n), "{n}");
    assert_eq!(r.json["requested"], 50);
    let warning = r.json["warnings"][0].as_str().expect("a warning");
    assert!(
        warning.contains(&format!("only {n} of the 50")),
        "{warning}"
    );
}

#[tokio::test]
async fn a_text_with_nothing_to_ask_is_422_and_a_topic_without_an_llm_is_422() {
    let app = app(&[]).await;
    let token = app.token("u");
    create(&app, &token, text_body("Hello there.", 3))
        .await
        .assert_problem(422, "not-enough-content");
    let r = create(
        &app,
        &token,
        json!({"source": {"topic": "the water cycle"}}),
    )
    .await;
    r.assert_problem(422, "topic-needs-llm");
    assert!(r.json["detail"].as_str().is_some_and(|d| d.contains("LLM")));
    create(
        &app,
        &token,
        json!({"source": {"text": PHOTOSYNTHESIS}, "generator": "llm"}),
    )
    .await
    .assert_problem(422, "llm-not-configured");
}

#[tokio::test]
async fn another_users_quiz_is_404_and_so_is_a_malformed_id() {
    let app = app(&[]).await;
    let r = create(&app, &app.token("owner"), text_body(PHOTOSYNTHESIS, 3)).await;
    let id = r.json["quiz_id"].as_str().expect("id");
    app.get(&format!("/v1/quizzes/{id}"), Some(&app.token("intruder")))
        .await
        .assert_problem(404, "not-found");
    let attempt = app
        .post_json(
            &format!("/v1/quizzes/{id}/attempts"),
            Some(&app.token("intruder")),
            &json!({"answers": [0, 0, 0]}),
        )
        .await;
    attempt.assert_problem(404, "not-found");
    app.get("/v1/quizzes/not-a-uuid", Some(&app.token("owner")))
        .await
        .assert_problem(404, "not-found");
    app.get(&format!("/v1/quizzes/{id}"), None)
        .await
        .assert_problem(401, "unauthorized");
}
