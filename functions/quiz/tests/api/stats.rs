//! Weekly stats: counted from Postgres, cached per user.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn weekly_stats_count_the_callers_quizzes_and_attempts_only() {
    let app = app(&[]).await;
    let token = app.token("learner");
    let empty = app.get("/v1/quizzes/stats/weekly", Some(&token)).await;
    assert_eq!(empty.status, 200, "{}", empty.json);
    assert_eq!(
        empty.json,
        json!({"quizzes_generated": 0, "attempts": 0, "average_score": null, "documents_recognised": 0, "pages_recognised": 0})
    );
    let a = create(&app, &token, text_body(PHOTOSYNTHESIS, 2)).await;
    create(&app, &token, text_body(ROME, 2)).await;
    create(&app, &app.token("someone-else"), text_body(ROME, 3)).await;
    let id = a.json["quiz_id"].as_str().expect("id");
    let right = answers_of(&app, id).await;
    let uri = format!("/v1/quizzes/{id}/attempts");
    app.post_json(&uri, Some(&token), &json!({"answers": right}))
        .await;
    let wrong: Vec<i64> = right.iter().map(|a| (a + 1) % 4).collect();
    app.post_json(&uri, Some(&token), &json!({"answers": wrong}))
        .await;
    // Older than a week: not counted.
    shared::db::query("INSERT INTO quizzes (id, owner_id, title, generator, source_kind, difficulty, language, requested_count, created_at) \
                 VALUES (gen_random_uuid(), 'learner', 'old', 'extractive', 'text', 'easy', 'en', 1, now() - interval '8 days')")
        .execute(&app.sql)
        .await
        .expect("old quiz");

    let r = app.get("/v1/quizzes/stats/weekly", Some(&token)).await;
    assert_eq!(r.json["quizzes_generated"], 2);
    assert_eq!(r.json["attempts"], 2);
    assert!((r.json["average_score"].as_f64().expect("average") - 0.5).abs() < 1e-9);
}

#[tokio::test]
async fn weekly_stats_are_served_from_cache_for_five_minutes() {
    let app = app(&[]).await;
    let token = app.token("learner");
    create(&app, &token, text_body(ROME, 2)).await;
    let first = app.get("/v1/quizzes/stats/weekly", Some(&token)).await;
    assert_eq!(first.json["quizzes_generated"], 1);
    // A row written behind the API's back is not seen until the entry expires.
    shared::db::query("INSERT INTO quizzes (id, owner_id, title, generator, source_kind, difficulty, language, requested_count) \
                 VALUES (gen_random_uuid(), 'learner', 't', 'extractive', 'text', 'easy', 'en', 1)")
        .execute(&app.sql)
        .await
        .expect("insert");
    let second = app.get("/v1/quizzes/stats/weekly", Some(&token)).await;
    assert_eq!(second.json, first.json);
    let key = shared::quiz::stats::cache_key("learner");
    let ttl = app.kv().ttl(&key).await.expect("redis").expect("a ttl");
    assert!(ttl.as_secs() <= 300 && ttl.as_secs() >= 290, "{ttl:?}");
    // Generating through the API refreshes them.
    create(&app, &token, text_body(PHOTOSYNTHESIS, 2)).await;
    let third = app.get("/v1/quizzes/stats/weekly", Some(&token)).await;
    assert_eq!(third.json["quizzes_generated"], 3);
}
