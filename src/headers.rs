//! What every response tells the browser about how to treat it: a Content-Security-Policy that
//! runs only this site's own files, `Referrer-Policy`, and HSTS when cookies are Secure (Rocket's
//! Shield adds nosniff and X-Frame-Options), `Served-By` naming the instance that answered — and
//! the two static files (layout CSS, inspector
//! script) that let the pages do without inline style and script.

use std::collections::HashMap;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::http::{ContentType, Header};
use rocket::{get, Request, Responder, Response};

use crate::settings::Settings;

/// Scripts, styles, images, forms and fetches only from this site; no plugins, no `<base>`
/// rewriting, no framing. No `'unsafe-inline'`: the pages carry no inline script, `<style>` or
/// `style` attribute (the color swatch and the size bar are SVG presentation attributes, which
/// the policy does not cover). An injected `<script>` or `onclick` would not run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// One year, the usual HSTS lifetime. Sent only with Secure cookies, which already mean the site
/// is reached over HTTPS; without `includeSubDomains`, since the app does not know its siblings.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Sets the headers on every response, error pages and static files included.
struct SecurityHeaders {
    hsts: bool,
    /// The `instance` setting: behind a load balancer, which process answered.
    served_by: String,
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
        // Other sites learn nothing of our URLs (the next= of a login link, say).
        res.set_header(Header::new("Referrer-Policy", "same-origin"));
        // X-Content-Type-Options: nosniff is the Shield's, enabled by name in `lib.rs`.
        // Which instance answered, for the scale-out lesson (the guide's "Scale out"): on every
        // response, so devtools' Network tab shows it for JSON and error pages too.
        res.set_header(Header::new("Served-By", self.served_by.clone()));
        if self.hsts {
            res.set_header(Header::new(
                "Strict-Transport-Security",
                STRICT_TRANSPORT_SECURITY,
            ));
        }
    }
}

/// A file served from the binary, with the version its URL carries.
struct Asset {
    name: &'static str,
    body: &'static str,
    /// [`version`] of `body`, computed by the compiler: every page links to the CSS, and hashing
    /// it per page cost 27,000 instructions, more than a bare route.
    version: u64,
    content_type: fn() -> ContentType,
}

const ASSETS: [Asset; 2] = [
    Asset::new("site.css", include_str!("../static/site.css"), || {
        ContentType::CSS
    }),
    Asset::new(
        "inspector.js",
        include_str!("../static/inspector.js"),
        || ContentType::JavaScript,
    ),
];

impl Asset {
    /// Computed by the compiler, version included: `ASSETS` is a constant.
    const fn new(
        name: &'static str,
        body: &'static str,
        content_type: fn() -> ContentType,
    ) -> Asset {
        Asset {
            name,
            body,
            version: version(body),
            content_type,
        }
    }
}

/// FNV-1a of the file (at compile time, in [`ASSETS`]): a changed file gets a new URL (`?v=…`), so browsers may
/// keep each version for a year and still see an edit at once.
const fn version(body: &str) -> u64 {
    let bytes = body.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The URL templates link to: `{{ asset(name='site.css') }}` → `/static/site.css?v=…`.
pub fn asset_url(name: &str) -> Option<String> {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/static/{}?v={:016x}", a.name, a.version))
}

/// The Tera function behind `asset(name=…)`; an unknown name fails the render (a typo shows at
/// once in the tests rather than as an unstyled page).
pub fn register(tera: &mut rocket_dyn_templates::tera::Tera) {
    tera.register_function(
        "asset",
        |args: &HashMap<String, serde_json::Value>| -> rocket_dyn_templates::tera::Result<serde_json::Value> {
            let name = args.get("name").and_then(|v| v.as_str()).unwrap_or_default();
            asset_url(name)
                .map(serde_json::Value::String)
                .ok_or_else(|| format!("no static file called {name:?}").into())
        },
    );
}

/// A static file, cacheable for a year (`immutable`: its URL changes with its content). The
/// query (`?v=`) is not declared, so any version matches; an old one gets the current file.
#[get("/static/<name>")]
fn static_file(name: &str) -> Option<StaticFile> {
    let asset = ASSETS.iter().find(|a| a.name == name)?;
    Some(StaticFile {
        body: ((asset.content_type)(), asset.body),
        cache: Header::new("Cache-Control", "public, max-age=31536000, immutable"),
    })
}

#[derive(Responder)]
struct StaticFile {
    body: (ContentType, &'static str),
    cache: Header<'static>,
}

/// The headers fairing and the static files. Reads whether cookies are Secure from the settings,
/// and warns when the origin POSTs are checked against is a guess.
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Security headers", |rocket| async {
        let Some(settings) = rocket.state::<Settings>() else {
            return rocket;
        };
        let hsts = settings.secure();
        let served_by = settings.instance_name().to_string();
        if settings.site_origin.is_none() && settings.secure() {
            rocket::warn!(
                "Cookies are Secure, so browsers reach this site over HTTPS, but site_origin is \
                 not set: forms are accepted only from {}. Set site_origin (e.g. \
                 ROCKET_SITE_ORIGIN=https://lab.example) to the address browsers use.",
                settings
                    .origins
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
        }
        rocket
            .attach(SecurityHeaders { hsts, served_by })
            .mount("/", rocket::routes![static_file])
    })
}
