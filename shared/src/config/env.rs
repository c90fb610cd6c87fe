//! A reader over a snapshot of environment variables that collects every
//! problem instead of stopping at the first.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

/// Every configuration problem found at start-up, one per variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<(String, String)>,
}

impl ConfigError {
    /// The variable names at fault, in the order found.
    pub fn variables(&self) -> Vec<&str> {
        self.problems
            .iter()
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem(s)):",
            self.problems.len()
        )?;
        for (name, why) in &self.problems {
            writeln!(f, "  {name}: {why}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub(super) struct Env<'a> {
    vars: &'a HashMap<String, String>,
    problems: Vec<(String, String)>,
}

impl<'a> Env<'a> {
    pub(super) fn new(vars: &'a HashMap<String, String>) -> Self {
        Env {
            vars,
            problems: Vec::new(),
        }
    }

    /// The trimmed value; an empty variable counts as unset.
    pub(super) fn string(&self, name: &str) -> Option<String> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    pub(super) fn secret(&self, name: &str) -> Option<SecretString> {
        self.string(name).map(SecretString::from)
    }

    pub(super) fn parse_or<T: FromStr>(&mut self, name: &str, default: T) -> T {
        match self.string(name) {
            None => default,
            Some(raw) => match raw.parse() {
                Ok(v) => v,
                Err(_) => {
                    // Values of these variables are not secret, but echoing
                    // them is not needed to fix the problem either.
                    let kind = std::any::type_name::<T>();
                    let kind = kind.rsplit("::").next().unwrap_or(kind);
                    self.invalid(name, &format!("cannot be read as {kind}"));
                    default
                }
            },
        }
    }

    /// Seconds as a decimal number (`2`, `0.5`), also accepting a `s`/`ms` suffix.
    pub(super) fn seconds_or(&mut self, name: &str, default: f64) -> Duration {
        let Some(raw) = self.string(name) else {
            return Duration::from_secs_f64(default);
        };
        match parse_duration(&raw) {
            Some(d) => d,
            None => {
                self.invalid(name, "must be a duration such as `5`, `2.5s` or `500ms`");
                Duration::from_secs_f64(default)
            }
        }
    }

    pub(super) fn missing(&mut self, name: &str, what: &str) {
        self.problems
            .push((name.to_owned(), format!("missing: {what}")));
    }

    pub(super) fn invalid(&mut self, name: &str, why: &str) {
        self.problems.push((name.to_owned(), why.to_owned()));
    }

    pub(super) fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

/// Parses `5`, `2.5`, `2.5s`, `500ms`, `1m`, `2h`, `7d` into a duration.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let (number, scale) = if let Some(n) = raw.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = raw.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = raw.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = raw.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = raw.strip_suffix('d') {
        (n, 86400.0)
    } else {
        (raw, 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| Duration::from_secs_f64(value * scale))
}
