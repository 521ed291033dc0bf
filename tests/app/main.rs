//! The integration suite as one test binary: one link of the app and its dependencies instead of
//! five, and one test runner spreading every test over the cores.
//!
//! `tests/hashing.rs` stays a binary of its own: it runs on a single-worker runtime and reads
//! process-wide hash counters that the logins here would disturb.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod at_rest;
mod classroom;
mod code;
mod compare;
mod core;
mod evidence;
mod exercises;
mod exposure;
mod floods;
mod fuzz;
mod guide;
mod hardening;
mod headers;
mod humanized;
mod instance;
mod labs;
mod lifecycle;
mod live;
mod redis_store;
mod report;
mod row_size;
mod session_cache;
mod startup;
mod teacher;
