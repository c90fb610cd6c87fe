//! Reading the claims of a verified token the way each provider shapes them:
//! the user, the session, the `admin` role, Cognito's `token_use`/`client_id`
//! and the authorized party (`azp`).

use serde_json::{Map, Value};

use crate::config::{JwtConfig, Provider};
use crate::error::Error;

/// The verified claims of one token.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The configured user claim (`sub` by default).
    pub user_id: String,
    /// The configured session claim, when the token has one.
    pub session_id: Option<String>,
    /// `iat`, when present.
    pub issued_at: Option<i64>,
    /// Whether the configured admin claim holds the admin value.
    pub admin: bool,
    pub claims: Map<String, Value>,
}

/// A claim by name: the whole name first (`cognito:groups`,
/// `https://folio.dev/roles`), then as a dotted path (`app_metadata.role`).
pub fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// A string, a number or a boolean as text (Firebase's `auth_time` is a number).
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// True when `value` is `wanted`, or an array holding it, or a space
/// separated scope string holding it.
fn holds(value: &Value, wanted: &str) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| holds(v, wanted)),
        Value::String(s) => s == wanted || s.split(' ').any(|w| w == wanted),
        other => as_text(other).is_some_and(|t| t == wanted),
    }
}

/// Checks the provider-specific claims and builds the identity.
pub fn identity(
    config: &JwtConfig,
    session_claim: &str,
    claims: Map<String, Value>,
) -> Result<Identity, Error> {
    let refuse = |why: &str| Err(Error::Unauthorized(why.to_owned()));
    if config.provider == Provider::Cognito {
        let token_use = claims
            .get("token_use")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !config.token_use.iter().any(|t| t == token_use) {
            return refuse("the token's token_use is not accepted");
        }
        // ID tokens name the app client in `aud`, access tokens in `client_id`.
        let client = match token_use {
            "access" => claims.get("client_id"),
            _ => claims.get("aud"),
        };
        let matches = client.is_some_and(|c| config.audiences.iter().any(|a| holds(c, a)));
        if !matches {
            return refuse("the token has the wrong audience");
        }
    }
    if !config.authorized_parties.is_empty() {
        let azp = claims.get("azp").and_then(Value::as_str);
        if !azp.is_some_and(|p| config.authorized_parties.iter().any(|a| a == p)) {
            return refuse("the token's authorized party (azp) is not accepted");
        }
    }
    let user_id = claim(&claims, &config.user_claim).and_then(as_text);
    let Some(user_id) = user_id.filter(|u| !u.trim().is_empty() && u.len() <= 255) else {
        return refuse("the token's subject is not usable");
    };
    let session_id = claim(&claims, session_claim)
        .or_else(|| claims.get("jti"))
        .and_then(as_text)
        .filter(|s| !s.is_empty() && s.len() <= 255);
    let admin = claim(&claims, &config.admin_claim).is_some_and(|v| holds(v, &config.admin_value));
    Ok(Identity {
        user_id,
        session_id,
        issued_at: claims.get("iat").and_then(Value::as_i64),
        admin,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn claims_are_found_by_whole_name_then_by_dotted_path() {
        let claims = map(
            json!({"https://folio.dev/roles": ["admin"], "app_metadata": {"role": "admin"}, "cognito:groups": ["a"]}),
        );
        assert!(claim(&claims, "https://folio.dev/roles").is_some());
        assert_eq!(claim(&claims, "app_metadata.role"), Some(&json!("admin")));
        assert!(claim(&claims, "cognito:groups").is_some());
        assert!(claim(&claims, "app_metadata.missing").is_none());
    }

    #[test]
    fn a_role_matches_as_a_value_an_array_member_a_scope_word_or_a_boolean() {
        assert!(holds(&json!("admin"), "admin"));
        assert!(holds(&json!(["user", "admin"]), "admin"));
        assert!(holds(&json!("read admin"), "admin"));
        assert!(holds(&json!(true), "true"));
        assert!(!holds(&json!("administrator"), "admin"));
        assert!(!holds(&json!(false), "true"));
    }
}
