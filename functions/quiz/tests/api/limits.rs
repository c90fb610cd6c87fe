//! Quiz generation is limited per user (default 5 a minute).

use crate::helpers::*;

#[tokio::test]
async fn the_sixth_generation_in_a_minute_is_429_with_rate_limit_headers() {
    let app = app(&[]).await;
    let alice = app.token("alice");
    for n in 0..5 {
        let r = create(&app, &alice, text_body(PHOTOSYNTHESIS, 3)).await;
        assert_eq!(r.status, 201, "request {n}: {}", r.json);
        assert_eq!(r.headers["ratelimit-limit"], "5");
        assert_eq!(
            r.headers["ratelimit-remaining"],
            (4 - n).to_string().as_str()
        );
    }
    let r = create(&app, &alice, text_body(PHOTOSYNTHESIS, 3)).await;
    r.assert_problem(429, "rate-limited");
    assert_eq!(r.headers["ratelimit-remaining"], "0");
    let retry: u64 = r.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");

    // Another user has a budget of their own; reading quizzes is not limited.
    let bob = app.token("bob");
    assert_eq!(
        create(&app, &bob, text_body(PHOTOSYNTHESIS, 3))
            .await
            .status,
        201
    );
    assert_eq!(
        app.get("/v1/quizzes/stats/weekly", Some(&alice))
            .await
            .status,
        200
    );
}
