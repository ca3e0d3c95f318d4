//! Request bodies read the way the engine reads them: with Go's
//! `encoding/json`.
//!
//! Go matches an object's keys to a struct's fields without regard to case,
//! and folds a few non-ASCII letters onto ASCII ones: `ſ` (U+017F) is `s`,
//! the Kelvin sign (U+212A) is `k`, and since Go 1.21 the dotless `ı` and
//! the dotted `İ` are `i`. When two keys name one field, the last one wins.
//! Fields Go does not know are ignored. A guard that looks keys up exactly
//! reads another body than the engine does; this module keeps every member
//! in order, folds keys as Go does, and refuses two keys that name one field
//! rather than guess which the engine will take.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A JSON value with its objects' members in order, duplicates kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// One JSON document, and nothing after it but white space.
pub fn parse(bytes: &[u8]) -> Result<Json, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Json::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut members = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Json>()? {
            members.push((k, v));
        }
        Ok(Json::Object(members))
    }
}

impl Json {
    /// Whether the value is a zero: null, false, 0, "", [] or {}. (An
    /// object holding only zeros is not: decoded into a map, it is a map
    /// with keys.)
    pub fn is_zero(&self) -> bool {
        match self {
            Json::Null => true,
            Json::Bool(b) => !b,
            Json::Number(n) => *n == 0.0,
            Json::String(s) => s.is_empty(),
            Json::Array(a) => a.is_empty(),
            Json::Object(m) => m.is_empty(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// What a Go `string` field reads: a string, or nothing for null.
    pub fn string(&self) -> Result<&str, String> {
        match self {
            Json::Null => Ok(""),
            Json::String(s) => Ok(s),
            other => Err(format!("expected a string, got {}", other.kind())),
        }
    }

    /// What a Go `[]string` (or Docker's `StrSlice`, which also takes a bare
    /// string) reads.
    pub fn strings(&self) -> Result<Vec<&str>, String> {
        match self {
            Json::Null => Ok(vec![]),
            Json::String(s) => Ok(vec![s]),
            Json::Array(items) => items.iter().map(Json::string).collect(),
            other => Err(format!("expected a list of strings, got {}", other.kind())),
        }
    }

    /// The elements of an array (none for null).
    pub fn items(&self) -> Result<&[Json], String> {
        match self {
            Json::Null => Ok(&[]),
            Json::Array(items) => Ok(items),
            other => Err(format!("expected a list, got {}", other.kind())),
        }
    }

    /// The members of a Go map (none for null): keys exact, as Go reads
    /// map keys; a key given twice is refused.
    pub fn map(&self) -> Result<Vec<(&str, &Json)>, String> {
        match self {
            Json::Null => Ok(vec![]),
            Json::Object(members) => {
                let mut out: Vec<(&str, &Json)> = Vec::with_capacity(members.len());
                for (k, v) in members {
                    if out.iter().any(|(seen, _)| seen == k) {
                        return Err(format!("the key {k:?} is given twice"));
                    }
                    out.push((k, v));
                }
                Ok(out)
            }
            other => Err(format!("expected an object, got {}", other.kind())),
        }
    }

    /// What it is, in words ("a list").
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "a list",
            Json::Object(_) => "an object",
        }
    }
}

/// A key as Go's decoder compares it with a field name: ASCII letters upper
/// case, and the non-ASCII letters whose simple case mappings lead to an
/// ASCII letter folded onto it. (Go 1.21+ folds with
/// `unicode.ToUpper(unicode.ToLower(r))`; earlier versions used
/// `bytes.EqualFold`, which folds a subset of these.)
pub fn fold(key: &str) -> String {
    key.chars()
        .map(|c| match c {
            '\u{017F}' => 'S',
            '\u{212A}' => 'K',
            '\u{0130}' | '\u{0131}' => 'I',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// An object's members matched to the fields of a Go struct.
#[derive(Debug)]
pub struct Members<'a> {
    /// `(field, key as sent, value)`, for keys that name a known field.
    pub known: Vec<(&'static str, &'a str, &'a Json)>,
    /// `(key, value)` for keys that name none.
    pub unknown: Vec<(&'a str, &'a Json)>,
}

impl<'a> Members<'a> {
    /// The value sent for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&'a Json> {
        self.known
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, _, v)| *v)
    }
}

/// Reads `value` as a Go struct with fields `fields`: null is an empty
/// struct; two keys that fold to one name are refused.
pub fn members<'a>(value: &'a Json, fields: &[&'static str]) -> Result<Members<'a>, String> {
    let entries: &[(String, Json)] = match value {
        Json::Null => &[],
        Json::Object(m) => m,
        other => return Err(format!("expected an object, got {}", other.kind())),
    };
    let mut out = Members {
        known: Vec::new(),
        unknown: Vec::new(),
    };
    let mut folded: Vec<(String, &str)> = Vec::with_capacity(entries.len());
    for (key, v) in entries {
        let f = fold(key);
        if let Some((_, first)) = folded.iter().find(|(seen, _)| *seen == f) {
            return Err(format!(
                "the keys {first:?} and {key:?} name the same field (the engine would take the last)"
            ));
        }
        folded.push((f.clone(), key));
        match fields.iter().find(|name| fold(name) == f) {
            Some(name) => out.known.push((name, key, v)),
            None => out.unknown.push((key, v)),
        }
    }
    Ok(out)
}

/// The field names serde's derive reads for the struct `T`, as they are
/// spelled on the wire: for the engine's models, the fields of the Engine
/// API specification they were generated from. (Empty for a type that is
/// not a struct.)
pub fn struct_fields<T: for<'de> serde::Deserialize<'de>>() -> &'static [&'static str] {
    struct Names(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Names {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    let mut names = Names(None);
    let _ = T::deserialize(&mut names);
    names.0.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_as_go_folds_them() {
        for (sent, field) in [
            ("privileged", "Privileged"),
            ("PRIVILEGED", "Privileged"),
            ("Bind\u{017F}", "Binds"),
            ("Networ\u{212A}Mode", "NetworkMode"),
            ("Pr\u{0131}vileged", "Privileged"),
            ("Pr\u{0130}vileged", "Privileged"),
        ] {
            assert_eq!(fold(sent), fold(field), "{sent}");
        }
        assert_ne!(fold("Privileged\u{00DF}"), fold("PrivilegedSS"));
    }

    #[test]
    fn members_are_matched_and_ambiguity_refused() {
        let v = parse(br#"{"privileged": true, "Image": "x", "Other": 1}"#).unwrap();
        let m = members(&v, &["Privileged", "Image"]).unwrap();
        assert_eq!(m.get("Privileged"), Some(&Json::Bool(true)));
        assert_eq!(m.known[0].1, "privileged");
        assert_eq!(m.unknown, vec![("Other", &Json::Number(1.0))]);

        let dup = parse(br#"{"Privileged": false, "Privileged": true}"#).unwrap();
        assert!(members(&dup, &["Privileged"])
            .unwrap_err()
            .contains("same field"));
        let folded = parse(br#"{"Privileged": false, "privileged": true}"#).unwrap();
        assert!(members(&folded, &["Privileged"]).is_err());
        assert!(members(&Json::Null, &["A"]).unwrap().known.is_empty());
    }

    #[test]
    fn values_read_as_go_reads_them() {
        let v = parse(br#"{"a": "SYS_ADMIN", "b": ["x", "y"], "c": null}"#).unwrap();
        let m = members(&v, &["A", "B", "C"]).unwrap();
        assert_eq!(m.get("A").unwrap().strings().unwrap(), vec!["SYS_ADMIN"]);
        assert_eq!(m.get("B").unwrap().strings().unwrap(), vec!["x", "y"]);
        assert!(m.get("C").unwrap().strings().unwrap().is_empty());
        assert!(parse(br#"{"a":1} {"b":2}"#).is_err(), "trailing content");
        assert!(parse(br#"{"a":1,}"#).is_err());
        assert!(parse(br#"{"k": 1, "k": 2}"#).unwrap().map().is_err());
        assert!(!Json::Object(vec![("k".into(), Json::String(String::new()))]).is_zero());
        assert!(Json::Object(vec![]).is_zero());
        assert!(!parse(b"[0]").unwrap().is_zero());
    }
}
