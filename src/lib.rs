//! ifctl: one binary that keeps a small AI-serving stack alive — Redis, a ChromaDB vector
//! database, an OpenWebUI front end, and the host.
//!
//! The core (`config`, `journal`, `health`, `clients`) never prints; `cli` and `commands` are the
//! front end that turns arguments into calls and results into output.

pub mod cli;
pub mod clients;
pub mod commands;
pub mod config;
pub mod exit;
pub mod health;
pub mod hooks;
pub mod journal;
pub mod migrate;
pub mod offload;
pub mod recovery;
pub mod serve;
pub mod snapshot;
