//! End-to-end tests: the real `ifctl` binary against real Redis, Chroma and OpenWebUI servers
//! started on free loopback ports. Needs `scripts/test-stack install` (the README's test command
//! runs it).

mod config;
mod connectivity;
mod docs;
mod harness;
mod health;
mod journal;
mod migrate;
mod recovery;
mod repository;
mod secrets;
mod serve;
mod snapshot;
mod targets;
mod watch;
