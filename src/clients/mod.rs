//! Thin HTTP clients for the servers ifctl talks to. They classify failures so callers can tell
//! "down" from "hung" from "this URL is not that service".

pub mod chroma;
pub mod http;
pub mod openwebui;
pub mod redis;
pub mod tls;
