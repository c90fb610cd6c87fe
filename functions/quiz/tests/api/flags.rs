//! Feature flags through the quiz function: the admin API (admin only,
//! validated, audited), the LLM generator behind its flag, percentage
//! rollouts, and a Redis outage that keeps the last values.

use std::time::Duration;

use folio_testing::redis_server::RedisServer;
use folio_testing::{TEST_JWT_SECRET, TestApp, TestResponse};
use serde_json::json;
use shared::flags::{Flag, Setting};

use crate::helpers::*;
use crate::llm_fake::{LlmFake, Reply};

fn admin_token(sub: &str) -> String {
    shared::auth::mint_hs256_with_roles(TEST_JWT_SECRET, sub, &["admin"], Duration::from_secs(600))
        .expect("admin token")
}

async fn put(app: &TestApp, token: &str, name: &str, body: serde_json::Value) -> TestResponse {
    let request = http::Request::put(format!("/v1/admin/flags/{name}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::from(body.to_string()))
        .expect("request");
    app.call(request).await
}

#[tokio::test]
async fn the_flag_admin_api_is_for_admins_validates_and_audits_who_and_when() {
    let app = app(&[]).await;
    let admin = admin_token("root");
    let user = app.token("someone");

    app.get("/v1/admin/flags", Some(&user))
        .await
        .assert_problem(403, "forbidden");
    assert_eq!(app.get("/v1/admin/flags", None).await.status, 401);
    put(&app, &user, "llm_quiz", json!({"enabled": false}))
        .await
        .assert_problem(403, "forbidden");

    let list = app.get("/v1/admin/flags", Some(&admin)).await;
    assert_eq!(list.status, 200, "{}", list.json);
    let names: Vec<&str> = list.json["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["llm_quiz", "async_ocr", "searchable_pdf", "sessions"]
    );
    assert!(list.json["flags"][0]["updated_by"].is_null());

    app.get("/v1/admin/flags/no_such_flag", Some(&admin))
        .await
        .assert_problem(404, "not-found");
    put(&app, &admin, "no_such_flag", json!({"enabled": true}))
        .await
        .assert_problem(404, "not-found");
    put(
        &app,
        &admin,
        "llm_quiz",
        json!({"enabled": true, "rollout_percent": 101}),
    )
    .await
    .assert_problem(422, "invalid-flag");
    let bad = put(&app, &admin, "llm_quiz", json!({"enabled": "yes"})).await;
    assert_eq!(bad.status.as_u16() / 100, 4, "{}", bad.json);
    assert_eq!(bad.headers["content-type"], "application/problem+json");

    let changed = put(
        &app,
        &admin,
        "llm_quiz",
        json!({"enabled": true, "rollout_percent": 25}),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.json);
    assert_eq!(changed.json["rollout_percent"], 25);
    assert_eq!(changed.json["updated_by"], "root");
    let changed = put(
        &app,
        &admin_token("ops"),
        "llm_quiz",
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.json);

    let one = app.get("/v1/admin/flags/llm_quiz", Some(&admin)).await;
    assert_eq!(one.status, 200, "{}", one.json);
    assert_eq!(one.json["enabled"], false);
    assert_eq!(one.json["rollout_percent"], 100);
    assert_eq!(one.json["updated_by"], "ops");
    let changes = one.json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["changed_by"], "ops");
    assert_eq!(
        changes[0]["previous"],
        json!({"enabled": true, "rollout_percent": 25})
    );
    assert_eq!(changes[1]["changed_by"], "root");
    assert!(changes[1]["previous"].is_null());
    let audited: i64 = shared::db::query_scalar(
        "SELECT count(*) FROM feature_flag_changes WHERE name = 'llm_quiz' AND changed_at > now() - interval '1 minute'",
    )
    .fetch_one(&app.sql)
    .await
    .expect("audit rows");
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn with_the_llm_flag_off_quizzes_use_the_extractive_generator_and_topics_are_refused() {
    let fake = LlmFake::start(vec![], Reply::Valid(3)).await;
    let app = app_with_llm(&fake, &[]).await;
    let token = app.token("learner");
    let body = json!({"source": {"text": PHOTOSYNTHESIS}, "question_count": 3});
    let before = create(&app, &token, body.clone()).await;
    assert_eq!(before.status, 201, "{}", before.json);
    assert_eq!(before.json["generator"], "llm:fake-model");

    let off = put(
        &app,
        &admin_token("root"),
        "llm_quiz",
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(off.status, 200, "{}", off.json);
    let calls = fake.calls();
    let after = create(&app, &token, body).await;
    assert_eq!(after.status, 201, "{}", after.json);
    assert_eq!(after.json["generator"], "extractive");
    let topic = json!({"source": {"topic": "photosynthesis"}, "question_count": 3});
    create(&app, &token, topic)
        .await
        .assert_problem(422, "feature-disabled");
    assert_eq!(fake.calls(), calls, "no LLM call with the flag off");
}

#[tokio::test]
async fn a_percentage_rollout_reaches_about_that_share_of_users_always_the_same_ones() {
    let setting = Setting {
        enabled: true,
        rollout_percent: 30,
    };
    let users: Vec<String> = (0..2000).map(|i| format!("user-{i}")).collect();
    let on: Vec<bool> = users
        .iter()
        .map(|u| setting.on_for(Flag::LlmQuiz, Some(u)))
        .collect();
    let share = on.iter().filter(|v| **v).count() as f64 / users.len() as f64;
    assert!((0.26..0.34).contains(&share), "share {share}");
    // Stable: the same users again, and a wider rollout keeps everyone who had it.
    let wider = Setting {
        enabled: true,
        rollout_percent: 60,
    };
    for (user, was_on) in users.iter().zip(&on) {
        assert_eq!(setting.on_for(Flag::LlmQuiz, Some(user)), *was_on);
        if *was_on {
            assert!(wider.on_for(Flag::LlmQuiz, Some(user)));
        }
    }
    // Another flag cuts the users differently.
    let other = users
        .iter()
        .filter(|u| {
            setting.on_for(Flag::AsyncOcr, Some(u)) != setting.on_for(Flag::LlmQuiz, Some(u))
        })
        .count();
    assert!(other > 200, "only {other} users differ between flags");
    let off = Setting {
        enabled: false,
        rollout_percent: 100,
    };
    assert!(!off.on_for(Flag::LlmQuiz, Some("user-1")));
    assert!(
        !setting.on_for(Flag::LlmQuiz, None),
        "no user: only at 100 %"
    );
}

#[tokio::test]
async fn with_redis_down_an_instance_keeps_its_last_flag_values_and_catches_up_after() {
    let mut redis = RedisServer::start().expect("throwaway redis");
    let url = redis.url();
    let app = app(&[("REDIS_URL", url.as_str()), ("FLAGS_REFRESH", "200ms")]).await;
    let admin = admin_token("root");
    let flags = app.state.flags.clone();
    let off = put(&app, &admin, "async_ocr", json!({"enabled": false})).await;
    assert_eq!(off.status, 200, "{}", off.json);
    assert!(!flags.enabled(Flag::AsyncOcr, Some("u")).await);

    redis.kill();
    // A change straight into Postgres (another instance's PUT while Redis is
    // down could not announce itself).
    shared::flags::store::put(
        &app.sql,
        Flag::AsyncOcr,
        &Setting {
            enabled: true,
            rollout_percent: 100,
        },
        "elsewhere",
    )
    .await
    .expect("store");
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(
            !flags.enabled(Flag::AsyncOcr, Some("u")).await,
            "the last value (off) stays while redis is down, not the default"
        );
    }
    redis.restart().expect("redis back");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !flags.enabled(Flag::AsyncOcr, Some("u")).await {
        assert!(
            std::time::Instant::now() < deadline,
            "the instance did not catch up once redis was back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
