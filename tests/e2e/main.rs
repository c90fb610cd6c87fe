//! End-to-end tests: the real binaries, started as processes, over HTTP (and
//! over the Lambda Runtime API), against the real Postgres and Redis.

mod cargo_lambda;
mod compose;
mod corpora;
mod flags;
mod lambda;
mod lambda_events;
mod lifecycle;
mod migrate;
mod monitoring;
mod observability;
mod packaging;
mod pdf_workers;
mod pooler;
mod schemathesis;
mod shutdown;
mod transport;

use folio_testing::{TestDb, TestPrefix, test_vars};

/// A database and Redis prefix of the test's own, and the variables that point
/// a binary at them.
pub struct World {
    pub db: TestDb,
    pub prefix: TestPrefix,
}

impl World {
    pub async fn new() -> World {
        World {
            db: TestDb::new().await,
            prefix: TestPrefix::new(),
        }
    }

    pub fn vars(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        test_vars(&self.db.url, &self.prefix.prefix, extra)
    }
}
