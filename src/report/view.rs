//! A [`Summary`] as the report template reads it: the facts, plus the few things a template
//! cannot compute (times in words, what each changed key is for, the refusal in words).

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::words;
use crate::session::Summary;

/// The template's view of one mode's summary.
pub fn summary(s: &Summary, now: OffsetDateTime) -> Value {
    let keys: Vec<Value> = s
        .keys
        .iter()
        .map(|k| json!({ "name": k, "why": words::key(k) }))
        .collect();
    let said = |t: OffsetDateTime| {
        json!({
            "words": crate::humanize::relative(t, now),
            "exact": crate::humanize::exact(t),
        })
    };
    let mut view = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut view {
        map.insert("keys".into(), Value::Array(keys));
        map.insert("refused_why".into(), json!(s.refused.map(words::refusal)));
        map.insert(
            "copy_valid_until".into(),
            json!(s.copy_valid_until.map(|d| json!({
                "idle": said(d.idle),
                "absolute": said(d.absolute),
            }))),
        );
    }
    view
}
