//! Passwords and names: the rules a new one must meet, and argon2id hashing and verifying (the
//! blocking work itself; [`super::queue`] decides when it may run).

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const PASSWORD_MIN_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing it is no denial of service.
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// Usernames are compared without regard to case, so they are stored lower-case.
/// Returns the normalised name, or what is wrong with it.
pub fn normalise_username(input: &str) -> Result<String, &'static str> {
    let name = input.trim().to_lowercase();
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err("A username is 3 to 32 characters long.");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    {
        return Err("A username uses only letters a–z, digits, and _ . -");
    }
    Ok(name)
}

/// zxcvbn looks at no more than this many characters: its matching grows faster than linearly
/// with length, and a password this long that is weak in its first part is rejected anyway.
const STRENGTH_CHARS: usize = 128;

/// Passwords are taken exactly as typed: never trimmed or truncated. Besides the length, a new
/// password must not contain the username and must reach `min_score` (0–4) on zxcvbn, which
/// knows common passwords, names, words, keyboard walks, repeats and dates.
///
/// # Errors
/// What is wrong, in a sentence for the form; never the password itself.
pub fn check_password(password: &str, username: &str, min_score: u8) -> Result<(), String> {
    check_length(password)?;
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err("A password must not contain the username.".into());
    }
    let head: String = password.chars().take(STRENGTH_CHARS).collect();
    let estimate = zxcvbn::zxcvbn(&head, &[&name, "session", "lab", "sessionlab"]);
    if u8::from(estimate.score()) >= min_score {
        return Ok(());
    }
    let mut why = String::from("This password is too easy to guess.");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            why.push_str(&format!(" {warning}."));
        }
        for tip in feedback.suggestions() {
            why.push_str(&format!(" {tip}."));
        }
    }
    Err(why.replace("..", "."))
}

fn check_length(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN_CHARS {
        return Err(format!(
            "A password has at least {PASSWORD_MIN_CHARS} characters."
        ));
    }
    if len > PASSWORD_MAX_CHARS {
        return Err(format!(
            "A password has at most {PASSWORD_MAX_CHARS} characters."
        ));
    }
    Ok(())
}

/// Argon2id at the crate's defaults (m=19456 KiB, t=2, p=1: OWASP's minimum), as a PHC string.
/// Blocking (~25 ms optimised): call it from `spawn_blocking`.
/// The salt is 16 random bytes the hasher draws from the operating system itself.
pub(super) fn hash_blocking(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub(super) fn verify_blocking(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash of nothing anyone knows, verified against when the user does not exist, so a wrong
/// name takes as long as a wrong password and timing does not tell who has an account.
pub(super) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&crate::crypto::random_token(24)).unwrap_or_default())
}

/// Computes the dummy hash once, at start, so the first unknown-user login does not pay for it
/// (which would make that one miss slower than a wrong password).
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(dummy_hash).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_guessable_and_name_bearing_passwords_are_refused() {
        for weak in [
            "password",
            "12345678",
            "        ",
            "password123",
            "qwertyuiop",
            "iloveyou1",
            "aaaaaaaaaaaa",
            "alice2024!",
        ] {
            assert!(check_password(weak, "bob", 3).is_err(), "{weak:?}");
        }
        let why = check_password("xX_alice_Xx-9f!", "alice", 3).unwrap_err();
        assert!(why.contains("username"), "{why}");
        let why = check_password("password", "bob", 3).unwrap_err();
        assert!(why.contains("too easy to guess"), "{why}");
        assert!(!why.contains("password\""), "never echoed: {why}");
    }

    #[test]
    fn the_suites_passphrases_pass() {
        for (pw, name) in [
            ("correct horse battery", "alice"),
            ("another password", "alice"),
            ("a password with spaces ", "carol"),
            ("correct horse", "alice"),
            ("whatever the weather 12", "carol"),
            (
                &(0..25u32)
                    .map(|i| format!("ñ{}🔑 ", char::from_u32(0x5bc6 + i).unwrap_or('密')))
                    .collect::<String>(),
                "alice",
            ),
        ] {
            let score = u8::from(zxcvbn::zxcvbn(pw, &[name]).score());
            assert!(check_password(pw, name, 3).is_ok(), "{pw:?}: score {score}");
        }
    }
}
