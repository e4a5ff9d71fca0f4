//! Strongbox: a self-hosted secrets manager that speaks the AWS Secrets Manager wire protocol.
//!
//! The crate is a library with a thin binary (`src/main.rs`). See `ARCHITECTURE.md` for the code
//! map, the path of one request and the invariants each module keeps.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![forbid(unsafe_code)]

pub mod api;
pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod crypto;
pub mod iam;
pub mod metrics;
pub mod model;
pub mod policy;
pub mod server;
pub mod store;
pub mod wire;
