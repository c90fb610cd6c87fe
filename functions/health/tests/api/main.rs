//! The `health` function over its real router, against the real Postgres and Redis.

mod ready;
