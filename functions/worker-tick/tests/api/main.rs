//! Integration tests of the job queue and the `worker-tick` function, against
//! the real Postgres and Redis on this machine.

mod budget;
mod crash;
mod fanout_crash;
mod helpers;
mod housekeeping;
mod http;
mod lambda;
mod queue;
mod retries;
mod settings;
mod tick;
