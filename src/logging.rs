//! The app's logger: Rocket's output, less the records that carry secrets.
//!
//! At `log_level = "debug"` Rocket 0.5 logs every url-encoded form field (`password`,
//! `csrf_token` included) from `rocket::form::parser`, and the whole hyper request and response
//! (`Cookie` and `Set-Cookie` headers with their values) from `rocket::server` — in any profile.
//! Rocket has no per-target level, and its logger is private, so the app installs this one before
//! Rocket tries to install its own (the `log` crate takes the first): it drops those records and
//! prints the rest the way Rocket does. The records dropped are dropped whole, not redacted: the
//! request line and the response status are logged anyway, at the `normal` level.

use std::io::Write;
use std::sync::Once;

use log::{Level, LevelFilter, Log, Metadata, Record};
use rocket::config::LogLevel;
use rocket::figment::Figment;
use yansi::Paint;

/// Installs the logger (once per process) and sets the level from `log_level`. Rocket no longer
/// sets the level itself once another logger is in place, so every `build()` does it here.
pub fn install(figment: &Figment) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only if something else (a test harness) installed a logger first: then neither
        // this one nor Rocket's runs, and that logger decides.
        let _ = log::set_boxed_logger(Box::new(AppLogger));
    });
    let level: LogLevel = figment
        .extract_inner("log_level")
        .unwrap_or(LogLevel::Normal);
    log::set_max_level(match level {
        LogLevel::Critical => LevelFilter::Warn,
        LogLevel::Normal => LevelFilter::Info,
        LogLevel::Debug => LevelFilter::Trace,
        LogLevel::Off => LevelFilter::Off,
    });
}

/// Whether a record may carry a password, a token or a cookie value.
fn carries_secrets(record: &Metadata<'_>) -> bool {
    let target = record.target();
    // "url-encoded field: (name, value)" and "multipart field: …" (`trace_!`, target `…::_`).
    target.starts_with("rocket::form::parser")
        // "received request: Request { … headers: { "cookie": … } }" and "sending response: …
        // "set-cookie": …" — the only debug records this module writes.
        || (target.starts_with("rocket::server") && record.level() >= Level::Debug)
        // The flash message's cookie (the app sends none, but a cookie is a cookie).
        || target.starts_with("rocket::response::flash")
}

struct AppLogger;

impl Log for AppLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Rocket's launch banner is logged at `warn` under `rocket::launch` so it shows at the
        // `critical` level too; the same rule as Rocket's logger.
        let launch = metadata.target().contains("rocket::launch");
        (metadata.level() <= log::max_level() || launch && log::max_level() > LevelFilter::Off)
            && !carries_secrets(metadata)
    }

    /// Rocket's format: `>>` for its indented records (targets ending in `_`), coloured levels
    /// (yansi's colour condition is set by Rocket from `cli_colors` and the terminal).
    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let from = |path| record.module_path().is_some_and(|m| m.starts_with(path));
        // hyper's and rustls' chatter only at the debug level, as Rocket does.
        if (from("hyper") || from("rustls")) && log::max_level() < LevelFilter::Trace {
            return;
        }
        let indented = record.target().ends_with('_');
        let level = if record.target().contains("rocket::launch") {
            Level::Info
        } else {
            record.level()
        };
        let args = record.args();
        let line = match level {
            Level::Error if !indented => format!("{} {}", "Error:".red().bold(), args.red()),
            Level::Warn if !indented => {
                format!("{} {}", "Warning:".yellow().bold(), args.yellow())
            }
            Level::Error => args.red().to_string(),
            Level::Warn => args.yellow().to_string(),
            Level::Info => args.blue().to_string(),
            Level::Trace => args.magenta().to_string(),
            Level::Debug => {
                let file = record.file().unwrap_or("");
                let at = record.line().map(|l| format!(":{l}")).unwrap_or_default();
                format!(
                    "\n{} {}{}\n\t{args}",
                    "-->".blue().bold(),
                    file.blue(),
                    at.blue()
                )
            }
        };
        let prefix = if indented {
            format!("   {} ", ">>".bold())
        } else {
            String::new()
        };
        // A closed stdout is no reason to fail a request.
        let _ = writeln!(std::io::stdout().lock(), "{prefix}{line}");
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

/// An error and its causes, for logs and start-up messages (`Display` is only the top).
///
/// Kept by hand: std's `Error::sources()` is still unstable, and the crates that print a chain
/// (`anyhow`'s `{:#}`, `eyre`) would wrap every error type in theirs for these few lines.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::carries_secrets;
    use log::{Level, MetadataBuilder};

    fn hidden(target: &str, level: Level) -> bool {
        carries_secrets(&MetadataBuilder::new().target(target).level(level).build())
    }

    #[test]
    fn form_fields_and_header_dumps_are_hidden_the_rest_is_not() {
        assert!(hidden("rocket::form::parser::_", Level::Trace));
        assert!(hidden("rocket::server", Level::Debug));
        assert!(!hidden("rocket::server", Level::Info));
        assert!(!hidden("rocket::launch", Level::Warn));
        assert!(!hidden("session_lab::session::fairing", Level::Debug));
    }
}
