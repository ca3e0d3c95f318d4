//! Reading the engine's JSON where the console keeps it as the engine
//! wrote it (inspect answers, lists whose fields vary between versions).

use serde_json::{json, Map, Value};

/// The value at a JSON pointer as text (strings as they are, numbers and
/// booleans written out); empty when absent.
pub fn json_text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The number at a JSON pointer; 0 when absent.
pub fn json_number(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// The strings of the JSON array at a pointer (anything else in it is
/// skipped; no array, no strings).
pub fn json_strings(v: &Value, pointer: &str) -> Vec<String> {
    json_items(v, pointer)
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect()
}

/// The items of the JSON array at a pointer; none when there is no array.
pub fn json_items<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Whether `labels` pass a label filter as the engine's prunes take it:
/// `key` or `key=value` (empty passes everything).
pub fn label_matches(labels: Option<&Map<String, Value>>, filter: &str) -> bool {
    let filter = filter.trim();
    if filter.is_empty() {
        return true;
    }
    let (k, v) = match filter.split_once('=') {
        Some((k, v)) => (k, Some(v)),
        None => (filter, None),
    };
    labels
        .and_then(|l| l.get(k))
        .is_some_and(|got| v.is_none_or(|v| got.as_str() == Some(v)))
}

/// `k=v` lines as a JSON object, as create bodies take labels and options
/// (blank lines skipped; `k` alone is `k=""`).
pub fn pairs(lines: &str) -> Map<String, Value> {
    lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), json!(v.trim())),
            None => (l.to_owned(), json!("")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_numbers_and_lists_by_pointer() {
        let v = json!({"State": {"Status": "running", "Pid": 7, "Running": true},
                       "Config": {"Cmd": ["sh", 1, "-c"]}});
        assert_eq!(json_text(&v, "/State/Status"), "running");
        assert_eq!(json_text(&v, "/State/Pid"), "7");
        assert_eq!(json_text(&v, "/State/Running"), "true");
        assert_eq!(json_text(&v, "/Nope"), "");
        assert_eq!(json_number(&v, "/State/Pid"), 7);
        assert_eq!(json_number(&v, "/State/Status"), 0);
        assert_eq!(json_strings(&v, "/Config/Cmd"), ["sh", "-c"]);
        assert!(json_strings(&v, "/State").is_empty());
    }

    #[test]
    fn pairs_as_create_bodies_take_them() {
        assert_eq!(
            Value::Object(pairs("a = 1\n\n b\nc=x=y\n")),
            json!({"a": "1", "b": "", "c": "x=y"})
        );
    }

    #[test]
    fn label_filters_as_prunes_read_them() {
        let labels = json!({"team": "ops", "tier": ""});
        let labels = labels.as_object();
        assert!(label_matches(labels, ""));
        assert!(label_matches(labels, "team"));
        assert!(label_matches(labels, "team=ops"));
        assert!(!label_matches(labels, "team=dev"));
        assert!(label_matches(labels, " tier= "), "trimmed, then tier=''");
        assert!(!label_matches(None, "team"));
    }
}
