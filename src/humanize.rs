//! Times and user agents as a person reads them: "Chrome 156 on Linux", "3 minutes ago",
//! "in 14 days" — with the exact time kept beside, for a `title=` on hover.

use time::OffsetDateTime;

/// A short description of the browser behind a `User-Agent` header: "Chrome 156 on Linux",
/// "Firefox 135 on Windows", "Safari on macOS" (Safari's version names the engine build, not the
/// release, so it is left out), or "Unknown browser".
pub fn browser(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.map(str::trim).filter(|ua| !ua.is_empty()) else {
        return "Unknown browser".into();
    };
    let name = browser_name(ua);
    match (name, platform(ua)) {
        (Some(name), Some(os)) => format!("{name} on {os}"),
        (Some(name), None) => name,
        (None, Some(os)) => format!("Unknown browser on {os}"),
        (None, None) => "Unknown browser".into(),
    }
}

/// The major version after `token/` in `ua` ("156" from "Chrome/156.0.0.0").
fn major(ua: &str, token: &str) -> Option<String> {
    let start = ua.find(token)? + token.len();
    let digits: String = ua[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then_some(digits)
}

fn browser_name(ua: &str) -> Option<String> {
    // Order matters: Edge and Opera also say "Chrome/", Chrome also says "Safari/", and the
    // iOS browsers say "Safari/" with their own token.
    let named = |label: &str, token: &str| major(ua, token).map(|v| format!("{label} {v}"));
    named("Edge", "Edg/")
        .or_else(|| named("Edge", "EdgA/"))
        .or_else(|| named("Edge", "EdgiOS/"))
        .or_else(|| named("Opera", "OPR/"))
        .or_else(|| named("Firefox", "Firefox/"))
        .or_else(|| named("Firefox", "FxiOS/"))
        .or_else(|| named("Headless Chrome", "HeadlessChrome/"))
        .or_else(|| named("Chrome", "CriOS/"))
        .or_else(|| named("Chromium", "Chromium/"))
        .or_else(|| named("Chrome", "Chrome/"))
        .or_else(|| {
            (ua.contains("Safari/") && ua.contains("Version/")).then(|| "Safari".to_string())
        })
        .or_else(|| named("curl", "curl/"))
}

fn platform(ua: &str) -> Option<&'static str> {
    // Android says "Linux", iOS says "like Mac OS X": the more specific first.
    if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        Some("iOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Linux") || ua.contains("X11") {
        Some("Linux")
    } else {
        None
    }
}

/// `then` relative to `now` in words: "just now", "45 seconds ago", "3 minutes ago",
/// "in 29 minutes", "in 14 days". Each unit is rounded to the nearest whole one, and a value that
/// rounds up to the next unit moves to it ("in 60 minutes" reads "in 1 hour").
pub fn relative(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (then - now).whole_seconds();
    let amount = in_words(seconds.unsigned_abs());
    match seconds {
        0 => "just now".into(),
        s if s > 0 => format!("in {amount}"),
        _ => format!("{amount} ago"),
    }
}

/// A duration in words, in its largest fitting unit: "45 seconds", "29 minutes", "1 hour",
/// "14 days".
pub fn in_words(seconds: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let round = |unit: u64| (seconds + unit / 2) / unit;
    let (n, unit) = if seconds < MINUTE {
        (seconds, "second")
    } else if round(MINUTE) < 60 {
        (round(MINUTE), "minute")
    } else if round(HOUR) < 24 {
        (round(HOUR), "hour")
    } else {
        (round(DAY), "day")
    };
    count(n, unit, &format!("{unit}s"))
}

/// `n` and the noun that goes with it: "1 session", "3 sessions".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The exact time for a `title=`: to the second, in UTC, without the microseconds PostgreSQL
/// keeps (`2026-11-27 06:10:17 UTC`).
pub fn exact(t: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
    const HEADLESS: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
    const FIREFOX_WINDOWS: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:135.0) Gecko/20100101 Firefox/135.0";
    const SAFARI_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
    const EDGE_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
    const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
    const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

    #[test]
    fn browsers_in_a_few_words() {
        assert_eq!(browser(Some(CHROME_LINUX)), "Chrome 156 on Linux");
        assert_eq!(browser(Some(HEADLESS)), "Headless Chrome 156 on Linux");
        assert_eq!(browser(Some(FIREFOX_WINDOWS)), "Firefox 135 on Windows");
        assert_eq!(browser(Some(SAFARI_MAC)), "Safari on macOS");
        assert_eq!(browser(Some(EDGE_WINDOWS)), "Edge 131 on Windows");
        assert_eq!(browser(Some(CHROME_ANDROID)), "Chrome 131 on Android");
        assert_eq!(browser(Some(SAFARI_IPHONE)), "Safari on iOS");
        assert_eq!(browser(Some("curl/8.5.0")), "curl 8");
    }

    #[test]
    fn unknown_browsers_say_so() {
        assert_eq!(browser(None), "Unknown browser");
        assert_eq!(browser(Some("")), "Unknown browser");
        assert_eq!(browser(Some("TestBrowser/1.0")), "Unknown browser");
        assert_eq!(
            browser(Some("Something (X11; Linux)")),
            "Unknown browser on Linux"
        );
    }

    #[test]
    fn relative_times_in_words() {
        let now = datetime!(2026-11-27 06:10:17 UTC);
        let at = |s: i64| relative(now + Duration::seconds(s), now);
        assert_eq!(at(0), "just now");
        assert_eq!(at(-1), "1 second ago");
        assert_eq!(at(-45), "45 seconds ago");
        assert_eq!(at(-180), "3 minutes ago");
        assert_eq!(at(-200), "3 minutes ago");
        assert_eq!(at(1794), "in 30 minutes");
        assert_eq!(at(29 * 60 + 10), "in 29 minutes");
        assert_eq!(at(59 * 60 + 40), "in 1 hour");
        assert_eq!(at(-2 * 3600), "2 hours ago");
        assert_eq!(at(23 * 3600 + 40 * 60), "in 1 day");
        // The absolute deadline of a session made a few seconds ago.
        assert_eq!(at(1_209_594), "in 14 days");
        assert_eq!(at(-86_400), "1 day ago");
    }

    #[test]
    fn exact_times_drop_the_microseconds() {
        let t = datetime!(2026-11-27 06:10:17.599508 UTC);
        assert_eq!(exact(t), "2026-11-27 06:10:17 UTC");
        let elsewhere = datetime!(2026-11-27 07:10:17 +01:00);
        assert_eq!(exact(elsewhere), "2026-11-27 06:10:17 UTC");
    }
}
