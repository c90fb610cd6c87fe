//! The other HTTP event shapes Lambda delivers, through the real binaries
//! under the Runtime API fake: API Gateway REST APIs (payload 1.0, always on
//! a named stage, which `lambda_http` would put in front of the path) and
//! Application Load Balancers. A path must mean the same as over HTTP APIs.

use std::time::Duration;

use base64::Engine;
use folio_e2e::lambda_fake::{LambdaFake, alb_event, rest_api_event};
use folio_e2e::{Running, free_port};
use folio_testing::samples;
use serde_json::{Value, json};

use crate::World;

fn body_of(answer: &Value) -> Value {
    let raw = answer["body"].as_str().unwrap_or_default();
    serde_json::from_str(raw).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rest_api_event_on_a_named_stage_reaches_the_same_routes_with_query_and_binary_body() {
    let world = World::new().await;
    let fake = LambdaFake::start().await;
    let mut vars = world.vars(&[]);
    vars.extend(fake.vars());
    let _ocr = Running::start("ocr", free_port(), &vars, &[]);

    let live = fake.push(rest_api_event("GET", "Prod", "/health", json!({}), None));
    let answer = fake.answer(&live, Duration::from_secs(20)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert_eq!(body_of(&answer)["function"], "ocr");
    assert!(
        answer["multiValueHeaders"]["x-request-id"].is_array(),
        "a REST API answer carries multi-value headers: {answer}"
    );

    let text = samples::paragraph(71);
    let image = samples::render_text(&text, 150, samples::fitted_height(&text)).expect("render");
    let png = samples::png(&image).expect("png");
    let token = shared::auth::mint_hs256(
        folio_testing::TEST_JWT_SECRET,
        "rest-user",
        Duration::from_secs(300),
    )
    .expect("token");
    let mut event = rest_api_event(
        "POST",
        "Prod",
        "/v1/ocr?mode=sync",
        json!({"authorization": format!("Bearer {token}"), "content-type": "image/png"}),
        Some(&base64::engine::general_purpose::STANDARD.encode(&png)),
    );
    event["isBase64Encoded"] = json!(true);
    let id = fake.push(event);
    let answer = fake.answer(&id, Duration::from_secs(60)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let body = body_of(&answer);
    let cer = shared::ocr::cer::cer(&text, body["text"].as_str().expect("text"));
    assert!(cer < 0.02, "character error rate {cer}");

    // A route that is not there is the usual problem, not a stage mix-up.
    let missing = fake.push(rest_api_event("GET", "Prod", "/v1/nope", json!({}), None));
    let answer = fake.answer(&missing, Duration::from_secs(5)).await;
    assert_eq!(answer["statusCode"], 404, "{answer}");
    assert!(fake.errors().is_empty(), "{:?}", fake.errors());
}

#[tokio::test]
async fn an_application_load_balancer_event_is_served_like_any_request() {
    let world = World::new().await;
    let fake = LambdaFake::start().await;
    let mut vars = world.vars(&[]);
    vars.extend(fake.vars());
    let _health = Running::start("health", free_port(), &vars, &[]);

    let ready = fake.push(alb_event(
        "GET",
        "/health/ready",
        json!({"accept": "application/json", "x-request-id": "alb-7"}),
        None,
    ));
    let answer = fake.answer(&ready, Duration::from_secs(20)).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert!(
        answer["statusDescription"]
            .as_str()
            .is_some_and(|d| d.starts_with("200")),
        "an ALB answer carries a status description: {answer}"
    );
    assert_eq!(answer["headers"]["x-request-id"], "alb-7");
    assert_eq!(body_of(&answer)["status"], "ok");

    let missing = fake.push(alb_event("POST", "/v1/nope", json!({}), Some("{}")));
    let answer = fake.answer(&missing, Duration::from_secs(5)).await;
    assert_eq!(answer["statusCode"], 404, "{answer}");
    assert_eq!(
        answer["headers"]["content-type"],
        "application/problem+json"
    );
    assert!(fake.errors().is_empty(), "{:?}", fake.errors());
}
