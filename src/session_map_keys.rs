//! The keys a login keeps in the session map, beside the login the session layer itself holds.
//! A leaf: accounts write them, pages read them, and the session layer's report explains them.

/// The account's name, for the header on every page (no query needed to show it).
pub const USERNAME: &str = "username";
/// The account's `session_epoch` at login: "sign out everywhere" bumps it (cookie mode).
pub const SESSION_EPOCH: &str = "session_epoch";
/// A keyed hash of the account's password hash at login (Django's `session_auth_hash`): a
/// changed password, or another `users` row under the same id, no longer matches it.
pub const AUTH_HASH: &str = "auth_hash";
