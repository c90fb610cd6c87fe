//! Integration tests of the shared foundation against the real Postgres and
//! Redis on this machine.

mod auth;
mod db;
mod jwks;
mod kv;
mod middleware;
mod observability;
mod providers;
mod sessions;
mod tick;
