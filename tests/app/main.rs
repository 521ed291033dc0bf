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
mod cookie_edit;
mod core;
mod drawings;
mod evidence;
mod exercise_words;
mod exercises;
mod exposure;
mod fairshare;
mod floods;
mod fuzz;
mod guide;
mod hardening;
mod headers;
mod humanized;
mod instance;
mod labs;
mod layering;
mod lifecycle;
mod live;
mod other_key;
mod redis_report;
mod redis_store;
mod report;
mod roles;
mod row_size;
mod session_cache;
mod session_limit;
mod shared_state;
mod startup;
mod store_lesson;
mod teacher;
mod teacher_actions;
mod teacher_board;
