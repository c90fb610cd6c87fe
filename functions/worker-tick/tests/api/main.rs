//! Integration tests of the job queue and the `worker-tick` function, against
//! the real Postgres and Redis on this machine.

mod crash;
mod helpers;
mod http;
mod lambda;
mod queue;
mod tick;
