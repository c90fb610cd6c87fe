//! Attempts: scoring, results with explanations, and refused answer lists.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_attempt_is_scored_stored_and_explained() {
    let app = app(&[]).await;
    let token = app.token("student");
    let quiz = create(&app, &token, text_body(PHOTOSYNTHESIS, 5)).await;
    let id = quiz.json["quiz_id"].as_str().expect("id").to_owned();
    let right = answers_of(&app, &id).await;
    assert_eq!(right.len(), 5);
    // Four right, the last one wrong.
    let mut given = right.clone();
    given[4] = (given[4] + 1) % 4;
    let r = app
        .post_json(
            &format!("/v1/quizzes/{id}/attempts"),
            Some(&token),
            &json!({"answers": given}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["correct"], 4);
    assert_eq!(r.json["total"], 5);
    assert!((r.json["score"].as_f64().expect("score") - 0.8).abs() < 1e-9);
    let results = r.json["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    let questions = quiz.json["questions"].as_array().expect("questions");
    for (i, result) in results.iter().enumerate() {
        assert_eq!(result["question_id"], questions[i]["question_id"]);
        assert_eq!(result["answer_index"], right[i]);
        assert_eq!(result["chosen_index"], given[i]);
        assert_eq!(result["correct"], i < 4);
        // The explanation is the sentence the blank came from.
        let explanation = result["explanation"].as_str().expect("explanation");
        let prompt = questions[i]["prompt"].as_str().expect("prompt");
        let head = prompt
            .split("_____")
            .next()
            .unwrap_or_default()
            .replace("a(n) ", "");
        assert!(
            explanation
                .replace("an ", "")
                .replace("a ", "")
                .starts_with(&head.replace("an ", "").replace("a ", "")),
            "{explanation} / {prompt}"
        );
    }
    let (stored_score, stored_answers): (f64, Vec<i16>) =
        shared::db::query_as("SELECT score, answers FROM quiz_attempts WHERE id = $1::uuid")
            .bind(r.json["attempt_id"].as_str().expect("attempt id"))
            .fetch_one(&app.sql)
            .await
            .expect("stored attempt");
    assert!((stored_score - 0.8).abs() < 1e-9);
    assert_eq!(
        stored_answers
            .iter()
            .map(|a| i64::from(*a))
            .collect::<Vec<_>>(),
        given
    );
}

#[tokio::test]
async fn a_wrong_number_of_answers_or_an_index_out_of_range_is_422() {
    let app = app(&[]).await;
    let token = app.token("student");
    let quiz = create(&app, &token, text_body(ROME, 3)).await;
    let uri = format!(
        "/v1/quizzes/{}/attempts",
        quiz.json["quiz_id"].as_str().expect("id")
    );
    for (answers, slug) in [
        (json!([0, 1]), "wrong-answer-count"),
        (json!([0, 1, 2, 3]), "wrong-answer-count"),
        (json!([]), "wrong-answer-count"),
        (json!([0, 1, 4]), "answer-out-of-range"),
        (json!([0, -1, 2]), "answer-out-of-range"),
    ] {
        app.post_json(&uri, Some(&token), &json!({"answers": answers}))
            .await
            .assert_problem(422, slug);
    }
    app.post_json(&uri, Some(&token), &json!({"answers": ["a", 1, 2]}))
        .await
        .assert_problem(422, "invalid-body");
    app.post_json(
        &uri,
        Some(&token),
        &json!({"answers": [0, 1, 2], "cheat": true}),
    )
    .await
    .assert_problem(422, "invalid-body");
    let stored: i64 = shared::db::query_scalar("SELECT count(*) FROM quiz_attempts")
        .fetch_one(&app.sql)
        .await
        .expect("count");
    assert_eq!(stored, 0);
}
