//! Integration tests of the shared foundation against the real Postgres and
//! Redis on this machine.

mod db;
mod kv;
mod middleware;
