//! What devtools does to a session cookie, done by the server on purpose: delete it, put back a
//! copy byte for byte (the replay lab), or change one character of it (a tampered cookie) — for
//! the labs, and for a phone that has no devtools. None of them opens or changes what is stored:
//! the next request carries what the browser now holds, and is judged by it.

use super::guard::Session;
use super::state::Outgoing;
use crate::cookies::Kind;
use crate::cookies::Lifetime;

impl Session<'_> {
    /// Tells the browser to drop its session cookie, as "Delete" in devtools' Cookies panel
    /// does, and changes nothing stored: server mode's row stays, orphaned until it expires.
    /// `Session-Trace` says `save=delete`.
    pub async fn forget_cookie(&self) {
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        inner.outgoing = Outgoing::Remove;
    }

    /// Sets the browser's session cookie to `value` byte for byte, without opening it: the
    /// replay lab's "put back". `Session-Trace` says `save=write`.
    pub async fn adopt_cookie(&self, value: String) {
        let kind = self.layer.cookie_kind();
        let bytes = self.jar.config().size(kind, &value);
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        inner.outgoing = Outgoing::Set(super::layer::Sealed {
            value,
            lifetime: Lifetime::Browser,
            bytes,
        });
    }

    /// The session cookie's value as this browser sent it, one character in the middle changed
    /// (as a student would change it in devtools); `None` without a session cookie.
    pub fn flipped_cookie(&self) -> Option<String> {
        let value = self.jar.value(Kind::Session(self.layer.mode()))?;
        flip_middle(value)
    }
}

/// `value` with the character at its middle replaced by another of the same alphabet (base64),
/// so it still looks like a cookie but no longer opens.
pub fn flip_middle(value: &str) -> Option<String> {
    let at = value.len() / 2;
    let old = value.get(at..=at)?;
    let new = if old == "A" { "B" } else { "A" };
    Some(format!("{}{new}{}", &value[..at], &value[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::flip_middle;

    #[test]
    fn a_flip_changes_one_character_in_the_middle() {
        assert_eq!(flip_middle("abcde").as_deref(), Some("abAde"));
        assert_eq!(flip_middle("abAde").as_deref(), Some("abBde"));
        assert_eq!(flip_middle(""), None);
    }
}
