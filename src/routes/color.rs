//! `/color`: the original tutorial's example — one value kept in the session.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, uri, State};
use serde_json::json;

use crate::csrf::CheckedForm;
use crate::error::AppError;
use crate::page::Page;
use crate::session::SessionError;
use crate::throttle::{ClientAddr, Throttles};

/// The session key this page keeps its one value under.
pub const COLOR: &str = "color";

/// The 148 named colors of CSS Color Module Level 4.
const CSS_COLOR_NAMES: &[&str] = &[
    "aliceblue",
    "antiquewhite",
    "aqua",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanchedalmond",
    "blue",
    "blueviolet",
    "brown",
    "burlywood",
    "cadetblue",
    "chartreuse",
    "chocolate",
    "coral",
    "cornflowerblue",
    "cornsilk",
    "crimson",
    "cyan",
    "darkblue",
    "darkcyan",
    "darkgoldenrod",
    "darkgray",
    "darkgreen",
    "darkgrey",
    "darkkhaki",
    "darkmagenta",
    "darkolivegreen",
    "darkorange",
    "darkorchid",
    "darkred",
    "darksalmon",
    "darkseagreen",
    "darkslateblue",
    "darkslategray",
    "darkslategrey",
    "darkturquoise",
    "darkviolet",
    "deeppink",
    "deepskyblue",
    "dimgray",
    "dimgrey",
    "dodgerblue",
    "firebrick",
    "floralwhite",
    "forestgreen",
    "fuchsia",
    "gainsboro",
    "ghostwhite",
    "gold",
    "goldenrod",
    "gray",
    "green",
    "greenyellow",
    "grey",
    "honeydew",
    "hotpink",
    "indianred",
    "indigo",
    "ivory",
    "khaki",
    "lavender",
    "lavenderblush",
    "lawngreen",
    "lemonchiffon",
    "lightblue",
    "lightcoral",
    "lightcyan",
    "lightgoldenrodyellow",
    "lightgray",
    "lightgreen",
    "lightgrey",
    "lightpink",
    "lightsalmon",
    "lightseagreen",
    "lightskyblue",
    "lightslategray",
    "lightslategrey",
    "lightsteelblue",
    "lightyellow",
    "lime",
    "limegreen",
    "linen",
    "magenta",
    "maroon",
    "mediumaquamarine",
    "mediumblue",
    "mediumorchid",
    "mediumpurple",
    "mediumseagreen",
    "mediumslateblue",
    "mediumspringgreen",
    "mediumturquoise",
    "mediumvioletred",
    "midnightblue",
    "mintcream",
    "mistyrose",
    "moccasin",
    "navajowhite",
    "navy",
    "oldlace",
    "olive",
    "olivedrab",
    "orange",
    "orangered",
    "orchid",
    "palegoldenrod",
    "palegreen",
    "paleturquoise",
    "palevioletred",
    "papayawhip",
    "peachpuff",
    "peru",
    "pink",
    "plum",
    "powderblue",
    "purple",
    "rebeccapurple",
    "red",
    "rosybrown",
    "royalblue",
    "saddlebrown",
    "salmon",
    "sandybrown",
    "seagreen",
    "seashell",
    "sienna",
    "silver",
    "skyblue",
    "slateblue",
    "slategray",
    "slategrey",
    "snow",
    "springgreen",
    "steelblue",
    "tan",
    "teal",
    "thistle",
    "tomato",
    "turquoise",
    "violet",
    "wheat",
    "white",
    "whitesmoke",
    "yellow",
    "yellowgreen",
];

/// A CSS color name or `#rrggbb`, normalised to lower case; anything else is `None`.
pub fn parse_color(input: &str) -> Option<String> {
    let color = input.trim().to_ascii_lowercase();
    let is_hex = color.len() == 7
        && color.starts_with('#')
        && color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    (is_hex || CSS_COLOR_NAMES.contains(&color.as_str())).then_some(color)
}

#[derive(FromForm)]
struct ColorForm {
    color: String,
}

#[get("/color")]
async fn color_page(page: Page<'_>) -> Result<Html, AppError> {
    // lesson: color-show
    let color: Option<String> = page.session.get(COLOR).await?;
    // end lesson
    page.render(
        "color",
        json!({ "color": color, "typed": "", "error": null }),
    )
    .await
}

#[post("/color", data = "<form>")]
async fn set_color(
    page: Page<'_>,
    form: CheckedForm<ColorForm>,
    addr: ClientAddr,
    throttles: &State<Throttles>,
) -> Result<Result<Redirect, (Status, Html)>, AppError> {
    let typed = form.0.color;
    let Some(color) = parse_color(&typed) else {
        let error = "Use a CSS color name (like rebeccapurple) or a hex color like #ff8800.";
        return refused(&page, &typed, Status::UnprocessableEntity, error.into()).await;
    };
    throttles.new_session(&page.session, addr).await?;
    // lesson: color-set
    match page.session.insert(COLOR, color).await {
        Ok(()) => Ok(Ok(Redirect::to(uri!(color_page)))),
        // A session already full of notes has no room for even a color.
        Err(SessionError::TooLarge { what, bytes, limit }) => {
            let why = format!(
                "Refused with 413 (Payload Too Large): {}. Clear some notes first. Nothing \\
                 changed.",
                what.describe(bytes, limit)
            );
            refused(&page, &typed, Status::PayloadTooLarge, why).await
        }
        Err(e) => Err(e.into()),
    }
    // end lesson
}

/// Re-shows the form with what was typed and why it was refused; the session is untouched.
async fn refused(
    page: &Page<'_>,
    typed: &str,
    status: Status,
    why: String,
) -> Result<Result<Redirect, (Status, Html)>, AppError> {
    let current: Option<String> = page.session.get(COLOR).await?;
    let body = page
        .render(
            "color",
            json!({ "color": current, "typed": typed, "error": why }),
        )
        .await?;
    Ok(Err((status, body)))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![color_page, set_color]
}

#[cfg(test)]
mod tests {
    use super::parse_color;

    #[test]
    fn names_and_hex_are_colors_and_nothing_else_is() {
        assert_eq!(CSS_LEN, 148);
        assert_eq!(parse_color(" RebeccaPurple "), Some("rebeccapurple".into()));
        assert_eq!(parse_color("#FF8800"), Some("#ff8800".into()));
        for bad in [
            "",
            "#fff",
            "#ff88001",
            "#gg8800",
            "red;",
            "<b>",
            "blue green",
            "transparent",
        ] {
            assert_eq!(parse_color(bad), None, "{bad}");
        }
    }

    const CSS_LEN: usize = super::CSS_COLOR_NAMES.len();
}
