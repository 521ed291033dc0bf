//! A request's cookies through one typed API: read what the browser sent, queue what it must
//! keep or drop. A queued cookie waits in the request's [`Outbox`] until the writer sends it at
//! the end of the response, so a later change in the same request replaces an earlier one (one
//! line per cookie), and the session layer can still decide its own cookie after the handler.

use std::sync::Mutex;

use rocket::http::Cookie;
use rocket::request::{FromRequest, Outcome, Request};

use super::{CookieConfig, Kind, Lifetime};
use crate::settings::Mode;

/// A value that travels sealed in a cookie of its own: a typed cookie. Its plaintext is what
/// [`CookieValue::encode`] gives, sealed (AES-256-GCM) under the cookie's name.
pub trait CookieValue: Sized {
    /// The cookie it travels in, for an app of `mode`.
    fn kind(mode: Mode) -> Kind;

    /// Its plaintext; `None` when it cannot be written (then nothing is sent).
    fn encode(&self) -> Option<String>;

    /// The value a plaintext holds; `None` for anything this app would not have written.
    fn decode(plaintext: &str) -> Option<Self>;

    /// How long the browser keeps it.
    fn lifetime(&self) -> Lifetime {
        Lifetime::Browser
    }
}

/// The cookies a request will send, in the order first queued; and whether its page asked to show
/// them (its footer's "On the wire").
#[derive(Default)]
pub struct Outbox {
    inner: Mutex<Queued>,
}

#[derive(Default)]
struct Queued {
    cookies: Vec<(Kind, Cookie<'static>)>,
    show_exchange: bool,
    /// The page that shows the exchange, rendered and held back until the exchange is known,
    /// so it is finished once instead of being read back out of the response.
    page: Option<String>,
}

impl Outbox {
    /// The request's outbox.
    pub fn of<'r>(req: &'r Request<'_>) -> &'r Outbox {
        req.local_cache(Outbox::default)
    }

    fn put(&self, kind: Kind, cookie: Cookie<'static>) {
        let Ok(mut q) = self.inner.lock() else {
            return;
        };
        match q.cookies.iter_mut().find(|(k, _)| *k == kind) {
            Some(slot) => slot.1 = cookie,
            None => q.cookies.push((kind, cookie)),
        }
    }

    /// Drops what describes a session state that was not kept ([`Kind::follows_session`]). The
    /// session cookie itself stays as the session layer decided it: nothing for a change that
    /// failed, a removal for a session that ended meanwhile.
    pub fn discard_session_state(&self) {
        if let Ok(mut q) = self.inner.lock() {
            q.cookies
                .retain(|(k, _)| matches!(k, Kind::Session(_)) || !k.follows_session());
        }
    }

    /// Whether a cookie of `kind` is queued.
    pub fn has(&self, kind: Kind) -> bool {
        self.inner
            .lock()
            .is_ok_and(|q| q.cookies.iter().any(|(k, _)| *k == kind))
    }

    /// The queued cookie of `kind`: its value, or `None` for a removal or nothing queued.
    pub fn queued_value(&self, kind: Kind) -> Option<String> {
        let q = self.inner.lock().ok()?;
        let (_, c) = q.cookies.iter().find(|(k, _)| *k == kind)?;
        (!c.value().is_empty()).then(|| c.value().to_string())
    }

    /// Asks the writer to put what it sent into this response's page (its footer's marker).
    pub fn show_exchange(&self) {
        if let Ok(mut q) = self.inner.lock() {
            q.show_exchange = true;
        }
    }

    /// Whether this response's page shows the exchange.
    pub fn shows_exchange(&self) -> bool {
        self.inner.lock().is_ok_and(|q| q.show_exchange)
    }

    /// Holds the rendered page back until the exchange can be written into it.
    pub fn hold_page(&self, page: String) {
        if let Ok(mut q) = self.inner.lock() {
            q.page = Some(page);
        }
    }

    /// The page held back, if any.
    pub fn take_page(&self) -> Option<String> {
        self.inner.lock().ok()?.page.take()
    }

    /// Everything queued, for the writer, and whether the page shows it.
    pub(super) fn take(&self) -> (Vec<(Kind, Cookie<'static>)>, bool) {
        match self.inner.lock() {
            Ok(mut q) => (std::mem::take(&mut q.cookies), q.show_exchange),
            Err(_) => (Vec::new(), false),
        }
    }
}

/// This request's cookies of one mode: what came, and what will go.
#[derive(Clone, Copy)]
pub struct Jar<'r> {
    config: &'r CookieConfig,
    mode: Mode,
    came: &'r rocket::http::CookieJar<'r>,
    outbox: &'r Outbox,
}

impl<'r> Jar<'r> {
    /// The request's cookies, for the app's own mode; `None` when no cookie configuration is
    /// managed (an app built without the cookie stage).
    pub fn of(req: &'r Request<'_>) -> Option<Jar<'r>> {
        let config = req.rocket().state::<CookieConfig>()?;
        Some(Jar {
            config,
            mode: config.mode,
            came: req.cookies(),
            outbox: Outbox::of(req),
        })
    }

    /// The same request's cookies, for another mode's session (`--mode both`'s sibling).
    pub fn for_mode(self, mode: Mode) -> Jar<'r> {
        Jar { mode, ..self }
    }

    pub fn config(&self) -> &'r CookieConfig {
        self.config
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The name of this mode's cookie of `kind`.
    pub fn name(&self, kind: Kind) -> &'static str {
        self.config.name(kind)
    }

    /// The value of the cookie of `kind` exactly as the browser sent it.
    pub fn value(&self, kind: Kind) -> Option<&'r str> {
        self.came.get(self.config.name(kind)).map(|c| c.value())
    }

    /// The typed value the browser's cookie holds, if it opens under this app's keys and holds
    /// one; anything else (absent, tampered, another key, junk inside) is none.
    pub fn get<T: CookieValue>(&self) -> Option<T> {
        self.get_opened::<T>().map(|(value, _)| value)
    }

    /// As [`Jar::get`], and whether an older key (a fallback) was needed to open it.
    pub fn get_opened<T: CookieValue>(&self) -> Option<(T, bool)> {
        let kind = T::kind(self.mode);
        let opened = self.config.open(kind, self.value(kind)?)?;
        Some((T::decode(&opened.plaintext)?, opened.with_fallback))
    }

    /// Queues `value`, sealed, for the browser to keep; returns the cookie's size as the browser
    /// counts it (0 when it could not be encoded, and then nothing is queued).
    pub fn set<T: CookieValue>(&self, value: &T) -> usize {
        let kind = T::kind(self.mode);
        let Some(plaintext) = value.encode() else {
            rocket::error!("could not encode a {} cookie", self.name(kind));
            return 0;
        };
        let sealed = self.config.seal(kind, &plaintext);
        let bytes = self.config.size(kind, &sealed);
        self.put(kind, sealed, value.lifetime());
        bytes
    }

    /// Queues the cookie of `kind` with `value` exactly as given (already sealed, or the replay
    /// lab's copy put back byte for byte).
    pub fn put(&self, kind: Kind, value: String, lifetime: Lifetime) {
        self.outbox
            .put(kind, self.config.build(kind, value, lifetime));
    }

    /// Queues the removal of the cookie of `kind`.
    pub fn remove(&self, kind: Kind) {
        self.outbox.put(kind, self.config.removal(kind));
    }

    /// Queues the removal of `T`'s cookie.
    pub fn remove_value<T: CookieValue>(&self) {
        self.remove(T::kind(self.mode));
    }

    pub fn outbox(&self) -> &'r Outbox {
        self.outbox
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Jar<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match Jar::of(req) {
            Some(jar) => Outcome::Success(jar),
            None => Outcome::Error((
                rocket::http::Status::InternalServerError,
                "no cookie configuration",
            )),
        }
    }
}

/// A typed cookie's plaintext as compact JSON.
pub fn to_json<T: serde::Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// A typed cookie's value from its JSON plaintext.
pub fn from_json<T: serde::de::DeserializeOwned>(plaintext: &str) -> Option<T> {
    serde_json::from_str(plaintext).ok()
}
