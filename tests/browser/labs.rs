//! The replay and tamper labs, clicked through in the browser, and `--mode both`'s /compare.

use fantoccini::Locator;
use session_lab::settings::Mode;

use crate::chrome::Chrome;
use crate::served::{ServedApp, ServedBoth};
use crate::{set_color, sign_up};

/// The visible text of `#id`, white space collapsed.
async fn text_of(b: &Chrome, css: &str) -> String {
    let text = b
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("nothing matches {css}: {e}"))
        .text()
        .await
        .unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keep a copy of the session cookie, log out with the header's button, replay the copy: server
/// mode deleted the row, so the copy is refused (`unknown`); cookie mode had nothing to delete, so
/// the copy is still logged in.
pub async fn replay_lab_a_copy_kept_before_logging_out(b: &Chrome, app: &ServedApp) {
    let name = "replay_browser";
    sign_up(b, name).await;
    set_color(b, "crimson").await;
    b.goto("/labs/replay").await.unwrap();
    assert!(b.text().await.unwrap().contains("No copy kept yet."));
    b.click("form[action='/labs/replay/keep'] button[type=submit]")
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("the same value your browser holds now"),
        "a copy kept: {text}"
    );

    b.click("header form[action='/logout'] button[type=submit]")
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains("Not logged in"), "after logout: {text}");

    b.goto("/labs/replay").await.unwrap();
    b.click("form[action='/labs/replay/replay'] button[type=submit]")
        .await
        .unwrap();
    let header = text_of(b, "body > header").await;
    assert!(
        header.contains("Not logged in"),
        "replaying sends the browser nothing: {header}"
    );
    let color = text_of(b, "#replay-color").await;
    let account = text_of(b, "#replay-account").await;
    match app.mode {
        Mode::Server => {
            assert!(
                color.starts_with("Refused: unknown"),
                "server mode: the row is gone: {color}"
            );
            assert!(account.starts_with("Refused: unknown"), "{account}");
            assert!(
                b.text()
                    .await
                    .unwrap()
                    .contains("every copy of its cookie died with the row"),
                "the explanation"
            );
        }
        Mode::Cookie => {
            assert!(
                color.starts_with("Accepted") && color.contains("crimson"),
                "cookie mode: the copy still opens: {color}"
            );
            assert!(
                account.starts_with(&format!("Logged in as {name}")),
                "cookie mode: the copy is still logged in: {account}"
            );
        }
        Mode::Redis => unreachable!("the browser tests run in server and cookie mode"),
    }
}

/// Flip a byte of the sealed cookie on /labs/tamper: the sealed column says `undecryptable`.
pub async fn tamper_lab_a_flipped_byte_is_undecryptable(b: &Chrome, _app: &ServedApp) {
    set_color(b, "olive").await;
    b.goto("/labs/tamper").await.unwrap();
    b.click("form[action='/labs/tamper/flip'] button[type=submit]")
        .await
        .unwrap();
    let sealed = text_of(b, "#flip #sealed-flipped").await;
    assert_eq!(sealed, "refused: undecryptable", "the sealed column");
    // The other two columns: the signed one notices, the plain one believes.
    if b.client.find(Locator::Id("signed-flipped")).await.is_ok() {
        assert!(text_of(b, "#signed-flipped").await.starts_with("refused"));
    }
    // At a phone's width the three columns stack: each cell the table's whole width, under its
    // column's name, so no JSON key or base64 run is cut to a third of the screen.
    b.emulate_viewport(390, 844, true).await.unwrap();
    b.goto("/labs/tamper").await.unwrap();
    let widths = b
        .client
        .execute(
            "const t = document.querySelector('table.stack');
             const cells = [...t.querySelectorAll('td[data-label]')];
             return { table: t.getBoundingClientRect().width, inner: window.innerWidth,
                      narrowest: Math.min(...cells.map(c => c.getBoundingClientRect().width)),
                      label: getComputedStyle(cells[0], '::before').content };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(widths["inner"], 390, "{widths}");
    let (table, narrowest) = (
        widths["table"].as_f64().unwrap_or(0.0),
        widths["narrowest"].as_f64().unwrap_or(0.0),
    );
    assert!(
        narrowest >= table * 0.95,
        "every cell the table's width: {widths}"
    );
    assert_eq!(widths["label"], "\"Encrypted\"", "{widths}");
    b.emulate_viewport(1280, 900, false).await.unwrap();

    // The real cookie was not touched: the color is still there.
    b.goto("/color").await.unwrap();
    assert!(b
        .text()
        .await
        .unwrap()
        .contains("Your favorite color is olive."));
}

/// `--mode both`: a color set through /compare's form lands in both sessions, the browser holds
/// both cookies, and /compare on either port shows the color in both columns.
pub async fn both_modes_a_color_set_on_compare_shows_in_both_columns(
    b: &Chrome,
    apps: &ServedBoth,
) {
    b.goto("/compare").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        !text.contains("this app runs only"),
        "the app knows it runs beside the other: {text}"
    );
    b.submit_field("color", "seagreen").await.unwrap();

    let cookies = b.client.get_all_cookies().await.unwrap();
    let names: Vec<&str> = cookies.iter().map(|c| c.name()).collect();
    for name in ["session_id", "session_data"] {
        let c = cookies
            .iter()
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("the browser holds {name}: {names:?}"));
        assert_eq!(c.http_only(), Some(true), "{name} is HttpOnly");
    }

    for base in [&apps.server, &apps.cookie] {
        b.client.goto(&format!("{base}/compare")).await.unwrap();
        for mode in ["server", "cookie"] {
            let column = text_of(b, &format!("section.column.{mode}")).await;
            assert!(
                column.contains("seagreen"),
                "{base}/compare, the {mode} column: {column}"
            );
        }
    }
}
