//! User catalogs in JSON (SPEC section 1): reading them into
//! [`UserEntry`]s and [`Problem`]s in one pass.
//!
//! serde_json reads the text straight into the entries through the
//! visitors below, with no `serde_json::Value` tree in between: a key is
//! matched against the eight fields without allocating, a known field's
//! value lands in its slot of [`Fields`] (a string is allocated once and
//! then moved into the entry), an unknown field's value is skipped. The
//! checks then run per entry in a fixed order (code first, so every other
//! problem names the code), whatever the order of the keys in the file.
//!
//! serde_json does not say where in the text an array element starts, and
//! only an entry with a problem needs its line; so the lines of the
//! elements are found by a second pass over the text ([`element_lines`])
//! only when some entry has a problem.
//!
//! Cost: one pass over the text, one allocation per string value plus the
//! sort of [`super::user::sort_distinct`]; a valid file never pays for
//! line numbers.

use super::user::{EntryCheck, FIELDS, Problem, UserEntry, sort_distinct};
use super::{Category, Texts};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Validates a JSON user catalog (UTF-8 and BOM already handled). With
/// `complete`, every field of the entry shape is required.
pub(crate) fn validate(text: &str, complete: bool) -> (Vec<UserEntry>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut read = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    let top = TopLevel {
        complete,
        entries: &mut read,
        problems: &mut problems,
    };
    let is_array = match top.deserialize(&mut de).and_then(|a| de.end().map(|()| a)) {
        Ok(is_array) => is_array,
        Err(e) => {
            let problem = Problem::whole(
                e.line().max(1),
                None,
                format!("invalid JSON at column {}: {e}", e.column()),
            );
            return (Vec::new(), vec![problem]);
        }
    };
    if !is_array {
        let problem = Problem::whole(
            1,
            None,
            "expected a JSON array of entries at the top level".into(),
        );
        return (Vec::new(), vec![problem]);
    }
    let entries = sort_distinct(read, &mut problems);
    if !problems.is_empty() {
        let lines = element_lines(text);
        for p in &mut problems {
            if let Some(n) = p.entry {
                p.line = lines.get(n - 1).copied().unwrap_or(1);
            }
        }
        problems.sort_by_key(|p| p.entry);
    }
    (entries, problems)
}

/// The 1-based line on which each element of the top-level array starts.
/// `text` is known to be a valid JSON array, so a small scanner that only
/// tracks strings and nesting depth is exact.
fn element_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth, mut in_string, mut escaped) = (1usize, 0usize, false, false);
    let mut expect_element = false;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expect_element && b != b']' {
            lines.push(line);
            expect_element = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expect_element = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_element = true,
            _ => {}
        }
    }
    lines
}

/// The top-level value: an array of entries, each checked as it is read.
/// Deserializes to whether it was an array at all.
struct TopLevel<'a> {
    complete: bool,
    entries: &'a mut Vec<(usize, UserEntry)>,
    problems: &'a mut Vec<Problem>,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        if let Some(n) = seq.size_hint() {
            self.entries.reserve(n);
        }
        let mut index = 0;
        while let Some(element) = seq.next_element::<Element>()? {
            index += 1;
            let ctx = EntryCheck {
                line: 0,
                index,
                code: None,
                problems: self.problems,
            };
            if let Some(entry) = check(ctx, element, self.complete) {
                self.entries.push((index, entry));
            }
        }
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// A field's value as the checks need it: a string owned (it moves into
/// the entry); of anything else its kind, and a number's value.
enum Json {
    Null,
    Bool,
    Number(serde_json::Number),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "a boolean",
            Json::Number(_) => "a number",
            Json::Str(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

impl<'de> de::Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Json, E> {
        Ok(Json::Bool)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
        // JSON has no NaN or infinity, so the number is always finite.
        Ok(serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::Str(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Json, E> {
        Ok(Json::Str(s))
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
        while let Some(member) = map.next_entry()? {
            members.push(member);
        }
        Ok(Json::Object(members))
    }
}

/// An element of the top-level array: an object's fields, or the kind of
/// whatever else it is. One lives on the stack at a time; boxing the
/// fields would be an allocation per entry.
#[allow(clippy::large_enum_variant)]
enum Element {
    Object(Fields),
    Other(&'static str),
}

/// The fields of one entry object, by name; a key given twice keeps its
/// last value, as in serde_json's own maps.
#[derive(Default)]
struct Fields {
    /// Indexed like [`FIELDS`].
    known: [Option<Json>; 8],
    /// Keys that are not fields, in file order.
    unknown: Vec<String>,
}

impl<'de> de::Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entry object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut fields = Fields::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                Key::Field(i) => fields.known[i] = Some(map.next_value()?),
                Key::Unknown(name) => {
                    map.next_value::<IgnoredAny>()?;
                    fields.unknown.push(name);
                }
            }
        }
        Ok(Element::Object(fields))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Element, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Element::Other("an array"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Element, E> {
        Ok(Element::Other("null"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Element, E> {
        Ok(Element::Other("a boolean"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Element, E> {
        Ok(Element::Other("a number"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Element, E> {
        Ok(Element::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Element, E> {
        Ok(Element::Other("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Element, E> {
        Ok(Element::Other("a string"))
    }
}

/// A key of an entry object: one of [`FIELDS`] (matched without
/// allocating), or another name.
enum Key {
    Field(usize),
    Unknown(String),
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
        Ok(match FIELDS.iter().position(|&f| f == s) {
            Some(i) => Key::Field(i),
            None => Key::Unknown(s.to_string()),
        })
    }
}

/// Position of `code` in [`FIELDS`] and [`Fields::known`].
const CODE: usize = 0;

/// Checks one element; the entry when it has no problem.
fn check(mut ctx: EntryCheck<'_>, element: Element, complete: bool) -> Option<UserEntry> {
    let mut fields = match element {
        Element::Object(fields) => fields,
        Element::Other(kind) => {
            ctx.problem(None, format!("expected an object, found {kind}"));
            return None;
        }
    };
    let before = ctx.problems.len();
    let code = match fields.known[CODE].take() {
        Some(Json::Str(c)) => ctx.is_code(&c).then_some(c),
        Some(other) => {
            let found = format!("expected a string, found {}", other.kind());
            ctx.problem(Some("code"), found);
            None
        }
        None => {
            ctx.problem(Some("code"), "missing; every entry needs a code".into());
            None
        }
    };
    // Every other problem names the code.
    let ctx = &mut EntryCheck {
        code: code.as_deref(),
        ..ctx
    };
    for key in &fields.unknown {
        ctx.problem(
            Some(key),
            format!("unknown field; the fields are {}", FIELDS.join(", ")),
        );
    }
    if complete {
        for (field, value) in FIELDS.iter().zip(&fields.known).skip(1) {
            if value.is_none() {
                ctx.problem(
                    Some(field),
                    "missing; a complete catalog entry needs it".into(),
                );
            }
        }
    }
    let [
        _,
        service,
        status_value,
        message,
        description,
        remedy,
        category,
        sources,
    ] = fields.known;
    let service = string(ctx, service, "service");
    let status = status_value.and_then(|v| status(ctx, v));
    let message = string(ctx, message, "message");
    let description = description.and_then(|v| texts(ctx, v, "description"));
    let remedy = remedy.and_then(|v| texts(ctx, v, "remedy"));
    let category = category.and_then(|v| self::category(ctx, v));
    let sources = sources.and_then(|v| self::sources(ctx, v));
    let ok = ctx.problems.len() == before;
    let code = code.filter(|_| ok)?;
    Some(UserEntry {
        code,
        service,
        status,
        message,
        description,
        remedy,
        category,
        sources,
    })
}

/// A text field: a non-empty string.
fn string(ctx: &mut EntryCheck<'_>, value: Option<Json>, field: &str) -> Option<String> {
    match value? {
        Json::Str(s) if !s.trim().is_empty() => Some(s),
        Json::Str(_) => {
            ctx.problem(
                Some(field),
                "empty; give a text or leave the field out".into(),
            );
            None
        }
        other => {
            let found = format!("expected a string, found {}", other.kind());
            ctx.problem(Some(field), found);
            None
        }
    }
}

/// `status`: an HTTP status, or null for none (`Some(None)`).
fn status(ctx: &mut EntryCheck<'_>, value: Json) -> Option<Option<u16>> {
    match value {
        Json::Null => Some(None),
        Json::Number(n) => match n.as_u64() {
            Some(s @ 100..=599) => Some(Some(s as u16)),
            _ => {
                ctx.problem(
                    Some("status"),
                    format!(
                        "{n} is not an HTTP status; expected an integer from 100 to 599, or null"
                    ),
                );
                None
            }
        },
        other => {
            ctx.problem(
                Some("status"),
                format!(
                    "expected an integer from 100 to 599 or null, found {}",
                    other.kind()
                ),
            );
            None
        }
    }
}

/// `description` or `remedy`: an object of texts by language.
fn texts(ctx: &mut EntryCheck<'_>, value: Json, field: &str) -> Option<Texts> {
    let Json::Object(langs) = value else {
        ctx.problem(
            Some(field),
            format!(
                "expected an object with \"en\" and/or \"zh\" texts, found {}",
                value.kind()
            ),
        );
        return None;
    };
    let mut texts = Texts::default();
    for (lang, text) in langs {
        let slot = match lang.as_str() {
            "en" => &mut texts.en,
            "zh" => &mut texts.zh,
            _ => {
                ctx.problem(
                    Some(&format!("{field}.{lang}")),
                    "unknown language; use \"en\" or \"zh\"".into(),
                );
                continue;
            }
        };
        match text {
            Json::Str(s) if !s.trim().is_empty() => *slot = Some(s),
            other => ctx.problem(
                Some(&format!("{field}.{lang}")),
                format!("expected a non-empty string, found {}", other.kind()),
            ),
        }
    }
    Some(texts)
}

fn category(ctx: &mut EntryCheck<'_>, value: Json) -> Option<Category> {
    match value {
        Json::Str(s) => match s.parse() {
            Ok(c) => Some(c),
            Err(e) => {
                ctx.problem(Some("category"), e.to_string());
                None
            }
        },
        other => {
            let found = format!("expected a string, found {}", other.kind());
            ctx.problem(Some("category"), found);
            None
        }
    }
}

/// `sources`: an array of file names.
fn sources(ctx: &mut EntryCheck<'_>, value: Json) -> Option<Vec<String>> {
    let kind = value.kind();
    if let Json::Array(items) = value
        && items.iter().all(|v| matches!(v, Json::Str(_)))
    {
        return Some(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Json::Str(s) => Some(s),
                    _ => None,
                })
                .collect(),
        );
    }
    ctx.problem(
        Some("sources"),
        format!("expected an array of file names, found {kind}"),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_lines_tracks_strings_and_nesting() {
        let text = "[\n {\"a\": \"[{,\\\"\"},\n\n {\"b\": [1, {\"c\": 2}]}\n, {}]";
        assert_eq!(element_lines(text), vec![2, 4, 5]);
        assert_eq!(element_lines("[]"), Vec::<usize>::new());
    }
}
