//! Remedy categories: deciding which of the seven [`Category`] values an
//! entry gets, from rules kept as data.
//!
//! This module owns the two data files under `catalog/` and their meaning:
//! `category_rules.json`, an ordered list of keyword rules in English and
//! Chinese, and `category_overrides.json`, a short list of per-code
//! corrections for what the rules get wrong, each with a reason. Both are
//! compiled into the binary ([`CategoryRules::builtin`]) and validated when
//! loaded, so a bad edit is reported by file, rule and field rather than
//! silently miscategorising codes.
//!
//! How a category is decided ([`CategoryRules::explain`]): an override for
//! the code wins; otherwise the rules are tried in file order and the first
//! one that matches decides; otherwise the fallback category applies. The
//! order is the precedence: rules naming a specific cause (a quota, a
//! permission, a missing resource) come before generic advice, so an error
//! that says a maximum number is reached and advises contacting support is a
//! quota error.
//!
//! Matching works on cleaned text: lowercased, with every run of characters
//! that are not letters or digits turned into one space, so punctuation and
//! markup never decide a match. English phrases match whole words (`token`
//! does not match `asumeToken`) unless they end in `*`; Chinese phrases, which
//! have no word boundaries, match anywhere.

use super::code::check_code;
use super::{Category, Texts};
use serde::Deserialize;
use std::collections::HashSet;

/// Where the rules live in the source tree; named in every error.
pub const RULES_FILE: &str = "catalog/category_rules.json";
/// Where the per-code overrides live in the source tree.
pub const OVERRIDES_FILE: &str = "catalog/category_overrides.json";

const BUILTIN_RULES: &str = include_str!("../../catalog/category_rules.json");
const BUILTIN_OVERRIDES: &str = include_str!("../../catalog/category_overrides.json");

/// A rules or overrides file that cannot be used: names the file, where in
/// it the problem is (rule or override, and field) when that is known, and
/// what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{file}: not a valid {what} file")]
    Json {
        file: String,
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("{file}: {place}: {problem}")]
    Invalid {
        file: String,
        place: String,
        problem: String,
    },
}

/// The text fields of an entry a rule can look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Message,
    Description,
    Remedy,
}

impl Field {
    const ALL: [Field; 3] = [Field::Message, Field::Description, Field::Remedy];

    fn name(self) -> &'static str {
        match self {
            Field::Message => "message",
            Field::Description => "description",
            Field::Remedy => "remedy",
        }
    }
}

/// One phrase of a rule, cleaned the same way as the text it is matched in.
#[derive(Clone, Debug)]
struct Phrase {
    cleaned: String,
    /// A trailing `*` in the file: the last word may continue.
    open_end: bool,
}

/// Phrases that must all occur in the same field; most have just one.
#[derive(Clone, Debug)]
struct Pattern {
    phrases: Vec<Phrase>,
    /// As written in the file, for explanations.
    shown: String,
}

#[derive(Clone, Debug)]
struct Rule {
    id: String,
    category: Category,
    why: String,
    fields: Vec<Field>,
    any: Vec<Pattern>,
    unless: Vec<Pattern>,
}

/// A per-code correction to the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub code: String,
    pub category: Category,
    pub reason: String,
}

/// The category rules and overrides, validated and ready to match.
#[derive(Clone, Debug)]
pub struct CategoryRules {
    rules: Vec<Rule>,
    fallback: Category,
    fallback_why: String,
    /// Sorted by code.
    overrides: Vec<Override>,
}

// The file shapes. Unknown keys are errors so that a misspelt key (`unles`)
// is reported instead of silently ignored.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    #[allow(dead_code)] // documentation for people editing the file
    about: Vec<String>,
    rules: Vec<RuleSpec>,
    fallback: FallbackSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    category: String,
    why: String,
    fields: Vec<String>,
    any: Vec<PatternSpec>,
    #[serde(default)]
    unless: Vec<PatternSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PatternSpec {
    One(String),
    All(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FallbackSpec {
    category: String,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesFile {
    #[serde(default)]
    #[allow(dead_code)] // documentation for people editing the file
    about: Vec<String>,
    overrides: Vec<OverrideSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideSpec {
    code: String,
    category: String,
    reason: String,
}

impl CategoryRules {
    /// The rules and overrides compiled into the binary.
    pub fn builtin() -> Result<CategoryRules, RulesError> {
        CategoryRules::from_json(BUILTIN_RULES, BUILTIN_OVERRIDES)
    }

    /// Rules and overrides from the JSON text of the two files; errors name
    /// them as [`RULES_FILE`] and [`OVERRIDES_FILE`].
    pub fn from_json(rules_json: &str, overrides_json: &str) -> Result<CategoryRules, RulesError> {
        let file: RulesFile =
            serde_json::from_str(rules_json).map_err(|source| RulesError::Json {
                file: RULES_FILE.into(),
                what: "category rules",
                source,
            })?;
        let rules_problem = |place: String, problem: String| RulesError::Invalid {
            file: RULES_FILE.into(),
            place,
            problem,
        };
        if file.rules.is_empty() {
            return Err(rules_problem(
                "field \"rules\"".into(),
                "no rules; every code would get the fallback category".into(),
            ));
        }
        let mut rules = Vec::with_capacity(file.rules.len());
        let mut ids = HashSet::new();
        for (i, spec) in file.rules.into_iter().enumerate() {
            let place = |field: &str| format!("rule {} ({:?}), field {field:?}", i + 1, spec.id);
            if spec.id.trim().is_empty() {
                return Err(rules_problem(
                    format!("rule {}, field \"id\"", i + 1),
                    "empty id".into(),
                ));
            }
            if !ids.insert(spec.id.clone()) {
                return Err(rules_problem(
                    place("id"),
                    "duplicate id; another rule has the same one".into(),
                ));
            }
            let category = spec
                .category
                .parse::<Category>()
                .map_err(|e| rules_problem(place("category"), e.to_string()))?;
            if spec.why.trim().is_empty() {
                return Err(rules_problem(
                    place("why"),
                    "empty; say what the rule recognises, it is shown to users".into(),
                ));
            }
            let fields =
                parse_fields(&spec.fields).map_err(|p| rules_problem(place("fields"), p))?;
            if spec.any.is_empty() {
                return Err(rules_problem(
                    place("any"),
                    "no phrases; the rule can never match".into(),
                ));
            }
            let any = parse_patterns(spec.any).map_err(|p| rules_problem(place("any"), p))?;
            let unless =
                parse_patterns(spec.unless).map_err(|p| rules_problem(place("unless"), p))?;
            rules.push(Rule {
                id: spec.id,
                category,
                why: spec.why,
                fields,
                any,
                unless,
            });
        }
        let fallback = file
            .fallback
            .category
            .parse::<Category>()
            .map_err(|e| rules_problem("fallback, field \"category\"".into(), e.to_string()))?;
        if file.fallback.why.trim().is_empty() {
            return Err(rules_problem(
                "fallback, field \"why\"".into(),
                "empty; say why codes no rule matches get this category".into(),
            ));
        }
        let overrides = parse_overrides(overrides_json)?;
        Ok(CategoryRules {
            rules,
            fallback,
            fallback_why: file.fallback.why,
            overrides,
        })
    }

    /// The category of an entry: its override if it has one, else what the
    /// rules say.
    pub fn categorize(
        &self,
        code: &str,
        message: &str,
        description: &Texts,
        remedy: &Texts,
    ) -> Category {
        self.explain(code, message, description, remedy).0
    }

    /// The category of an entry and why: the override and its reason, or the
    /// rule, the phrase and the field that decided, or the fallback.
    pub fn explain(
        &self,
        code: &str,
        message: &str,
        description: &Texts,
        remedy: &Texts,
    ) -> (Category, String) {
        let (ruled, why) = self.by_rules(message, description, remedy);
        match self.override_for(code) {
            Some(o) => (
                o.category,
                format!(
                    "override in {OVERRIDES_FILE}: {} (the rules alone say {ruled}: {why})",
                    o.reason
                ),
            ),
            None => (ruled, why),
        }
    }

    /// What the rules alone say, ignoring overrides, and why. Tests use it to
    /// check that every override still changes something.
    pub fn by_rules(
        &self,
        message: &str,
        description: &Texts,
        remedy: &Texts,
    ) -> (Category, String) {
        let texts = FieldTexts::new(message, description, remedy);
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some((pattern, field)) = rule.first_match(&texts) {
                return (
                    rule.category,
                    format!(
                        "rule {:?} ({} of {} in {RULES_FILE}) found {} in the {}: {}",
                        rule.id,
                        i + 1,
                        self.rules.len(),
                        pattern.shown,
                        field.name(),
                        rule.why
                    ),
                );
            }
        }
        (
            self.fallback,
            format!("no rule in {RULES_FILE} matched: {}", self.fallback_why),
        )
    }

    /// The overrides, sorted by code, so callers can check that each names a
    /// code in the catalog.
    pub fn overrides(&self) -> impl Iterator<Item = &Override> {
        self.overrides.iter()
    }

    fn override_for(&self, code: &str) -> Option<&Override> {
        self.overrides
            .binary_search_by(|o| o.code.as_str().cmp(code))
            .ok()
            .map(|i| &self.overrides[i])
    }
}

fn parse_overrides(json: &str) -> Result<Vec<Override>, RulesError> {
    let file: OverridesFile = serde_json::from_str(json).map_err(|source| RulesError::Json {
        file: OVERRIDES_FILE.into(),
        what: "category overrides",
        source,
    })?;
    let mut overrides: Vec<Override> = Vec::with_capacity(file.overrides.len());
    for (i, spec) in file.overrides.into_iter().enumerate() {
        let problem = |field: &str, problem: String| RulesError::Invalid {
            file: OVERRIDES_FILE.into(),
            place: format!("override {} ({:?}), field {field:?}", i + 1, spec.code),
            problem,
        };
        if let Err(why) = check_code(&spec.code) {
            return Err(problem("code", format!("not an error code: it {why}")));
        }
        if overrides.iter().any(|o| o.code == spec.code) {
            return Err(problem(
                "code",
                "duplicate override; the code already has one".into(),
            ));
        }
        let category = spec
            .category
            .parse::<Category>()
            .map_err(|e| problem("category", e.to_string()))?;
        if spec.reason.trim().is_empty() {
            return Err(problem(
                "reason",
                "empty; say in one line why the rules are wrong for this code".into(),
            ));
        }
        if spec.reason.contains('\n') {
            return Err(problem("reason", "keep the reason to one line".into()));
        }
        overrides.push(Override {
            code: spec.code,
            category,
            reason: spec.reason,
        });
    }
    overrides.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(overrides)
}

fn parse_fields(names: &[String]) -> Result<Vec<Field>, String> {
    if names.is_empty() {
        return Err("no fields; expected some of message, description, remedy".into());
    }
    let mut fields = Vec::with_capacity(names.len());
    for name in names {
        let field = Field::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                format!("unknown field {name:?}; expected message, description or remedy")
            })?;
        if fields.contains(&field) {
            return Err(format!("{name:?} is listed twice"));
        }
        fields.push(field);
    }
    Ok(fields)
}

fn parse_patterns(specs: Vec<PatternSpec>) -> Result<Vec<Pattern>, String> {
    let mut patterns: Vec<Pattern> = Vec::with_capacity(specs.len());
    for spec in specs {
        let (raw, shown) = match spec {
            PatternSpec::One(s) => {
                let shown = format!("{s:?}");
                (vec![s], shown)
            }
            PatternSpec::All(v) => {
                if v.is_empty() {
                    return Err("an empty list of phrases; a list means all of them".into());
                }
                let shown = v
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(" with ");
                (v, shown)
            }
        };
        let phrases = raw
            .iter()
            .map(|s| parse_phrase(s))
            .collect::<Result<Vec<_>, _>>()?;
        // Two spellings that clean to the same text are one phrase; listing
        // both is a slip worth reporting (e.g. "in-progress" and "in progress").
        let key: Vec<&str> = phrases.iter().map(|p| p.cleaned.as_str()).collect();
        if patterns.iter().any(|p| {
            p.phrases
                .iter()
                .map(|q| q.cleaned.as_str())
                .eq(key.iter().copied())
        }) {
            return Err(format!(
                "{shown} is listed twice (after lowercasing and removing punctuation)"
            ));
        }
        patterns.push(Pattern { phrases, shown });
    }
    Ok(patterns)
}

fn parse_phrase(raw: &str) -> Result<Phrase, String> {
    let (body, open_end) = match raw.trim_end().strip_suffix('*') {
        Some(body) => (body, true),
        None => (raw, false),
    };
    if body.contains('*') {
        return Err(format!(
            "{raw:?}: '*' is only allowed at the end of a phrase"
        ));
    }
    let cleaned = clean(body);
    if cleaned.is_empty() {
        return Err(format!(
            "empty phrase {raw:?}: it has no letters or digits and would match everything"
        ));
    }
    Ok(Phrase { cleaned, open_end })
}

/// Lowercases and turns every run of characters that are not letters or
/// digits (punctuation, markup, whitespace, full-width Chinese punctuation)
/// into one space, so phrases are matched on words alone.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut gap = false;
    for ch in s.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(ch);
        } else {
            gap = true;
        }
    }
    out
}

/// The cleaned text of each field, every language of a field joined.
struct FieldTexts([String; 3]);

impl FieldTexts {
    fn new(message: &str, description: &Texts, remedy: &Texts) -> FieldTexts {
        // " | " keeps the languages apart: it cannot occur in cleaned text,
        // so no phrase matches across the join.
        let join = |t: &Texts| {
            [t.en.as_deref(), t.zh.as_deref()]
                .into_iter()
                .flatten()
                .map(clean)
                .collect::<Vec<_>>()
                .join(" | ")
        };
        FieldTexts([clean(message), join(description), join(remedy)])
    }

    fn get(&self, field: Field) -> &str {
        &self.0[field as usize]
    }
}

impl Rule {
    /// The first of the rule's fields, in the rule's order, that has one of
    /// its patterns, and that pattern; none when one of its `unless`
    /// patterns is in any of the fields. Fields go first so an explanation
    /// quotes the message when the message says it.
    fn first_match(&self, texts: &FieldTexts) -> Option<(&Pattern, Field)> {
        let in_fields = |p: &Pattern| self.fields.iter().any(|&f| p.found_in(texts.get(f)));
        if self.unless.iter().any(in_fields) {
            return None;
        }
        self.fields.iter().find_map(|&f| {
            let text = texts.get(f);
            self.any.iter().find(|p| p.found_in(text)).map(|p| (p, f))
        })
    }
}

impl Pattern {
    fn found_in(&self, text: &str) -> bool {
        self.phrases.iter().all(|p| p.found_in(text))
    }
}

impl Phrase {
    fn found_in(&self, text: &str) -> bool {
        let needle = self.cleaned.as_str();
        // Only ASCII letters and digits make words that need a boundary;
        // a Chinese character next to a phrase is never part of its word.
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let starts_word = word(needle.chars().next());
        let ends_word = word(needle.chars().next_back()) && !self.open_end;
        text.match_indices(needle).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + needle.len()..].chars().next();
            let glued_before = starts_word && word(before);
            let glued_after = ends_word && word(after);
            !glued_before && !glued_after
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(en: Option<&str>, zh: Option<&str>) -> Texts {
        Texts {
            en: en.map(str::to_string),
            zh: zh.map(str::to_string),
        }
    }

    fn none() -> Texts {
        Texts::default()
    }

    const NO_OVERRIDES: &str = r#"{"overrides": []}"#;

    /// A small rule set for precedence tests: quota before the generic
    /// "contact support" rule, which is before the fallback.
    const SMALL: &str = r#"{
      "rules": [
        {"id": "limit", "category": "quota", "why": "a limit", "fields": ["message", "description"],
         "any": ["maximum number", ["number of", "maximum"], "配额"], "unless": ["failed to query"]},
        {"id": "auth", "category": "access", "why": "auth", "fields": ["message"],
         "any": ["token", "authenticat*"]},
        {"id": "support", "category": "contact_support", "why": "support", "fields": ["remedy"],
         "any": ["contact technical support"]}
      ],
      "fallback": {"category": "fix_request", "why": "nothing matched"}
    }"#;

    fn small() -> CategoryRules {
        CategoryRules::from_json(SMALL, NO_OVERRIDES).unwrap()
    }

    #[test]
    fn earlier_rule_wins_over_generic_advice() {
        let r = small();
        let remedy = texts(Some("Contact technical support."), None);
        let (c, why) = r.explain(
            "X.0001",
            "The number of vaults has reached the maximum allowed.",
            &none(),
            &remedy,
        );
        assert_eq!(c, Category::Quota);
        assert!(why.contains("\"limit\""), "{why}");
        assert!(why.contains("message"), "{why}");
        assert_eq!(
            r.categorize("X.0001", "Image creation failed.", &none(), &remedy),
            Category::ContactSupport
        );
        assert_eq!(
            r.categorize("X.0001", "Something.", &none(), &none()),
            Category::FixRequest
        );
    }

    #[test]
    fn unless_vetoes_a_rule() {
        let r = small();
        let c = r.categorize(
            "X.0001",
            "Failed to query the maximum number of disks.",
            &none(),
            &none(),
        );
        assert_eq!(c, Category::FixRequest);
    }

    #[test]
    fn english_is_case_insensitive_and_whole_word() {
        let r = small();
        assert_eq!(
            r.categorize("X.0001", "MAXIMUM   Number reached", &none(), &none()),
            Category::Quota
        );
        assert_eq!(
            r.categorize("X.0001", "The Token is wrong.", &none(), &none()),
            Category::Access
        );
        // A word inside another word is not the word.
        assert_eq!(
            r.categorize("X.0001", "Failed to get asumeToken.", &none(), &none()),
            Category::FixRequest
        );
        assert_eq!(
            r.categorize("X.0001", "tokens expired", &none(), &none()),
            Category::FixRequest
        );
        // A trailing * lets the word continue.
        assert_eq!(
            r.categorize("X.0001", "Not authenticated.", &none(), &none()),
            Category::Access
        );
        // Punctuation is a boundary, and English next to Chinese is a word.
        assert_eq!(
            r.categorize("X.0001", "Token错误", &none(), &none()),
            Category::Access
        );
        assert_eq!(
            r.categorize("X.0001", "(token)", &none(), &none()),
            Category::Access
        );
    }

    #[test]
    fn all_of_phrases_must_share_a_field() {
        let r = small();
        let d = texts(Some("The maximum is 10."), None);
        assert_eq!(
            r.categorize("X.0001", "The number of disks.", &d, &none()),
            Category::FixRequest
        );
        let d = texts(Some("The number of disks exceeds the maximum."), None);
        assert_eq!(
            r.categorize("X.0001", "Error.", &d, &none()),
            Category::Quota
        );
    }

    #[test]
    fn chinese_phrases_match_inside_text() {
        let r = small();
        let d = texts(None, Some("当前用户已经超过镜像配额。"));
        let (c, why) = r.explain("X.0001", "", &d, &none());
        assert_eq!(c, Category::Quota);
        assert!(why.contains("配额") && why.contains("description"), "{why}");
    }

    #[test]
    fn rules_only_look_at_their_fields() {
        let r = small();
        // "auth" looks at the message only.
        let d = texts(Some("The token is invalid."), None);
        assert_eq!(
            r.categorize("X.0001", "Error.", &d, &none()),
            Category::FixRequest
        );
    }

    #[test]
    fn override_wins_and_says_why() {
        let overrides = r#"{"overrides": [
            {"code": "X.0002", "category": "retry", "reason": "the service says so elsewhere"}
        ]}"#;
        let r = CategoryRules::from_json(SMALL, overrides).unwrap();
        let msg = "The number of vaults has reached the maximum allowed.";
        let (c, why) = r.explain("X.0002", msg, &none(), &none());
        assert_eq!(c, Category::Retry);
        assert!(why.contains("the service says so elsewhere"), "{why}");
        assert!(why.contains("the rules alone say quota"), "{why}");
        assert_eq!(r.by_rules(msg, &none(), &none()).0, Category::Quota);
        assert_eq!(
            r.categorize("X.0003", msg, &none(), &none()),
            Category::Quota
        );
        let listed: Vec<&str> = r.overrides().map(|o| o.code.as_str()).collect();
        assert_eq!(listed, ["X.0002"]);
    }

    #[test]
    fn fallback_is_explained() {
        let (c, why) = small().explain("X.0001", "Odd.", &none(), &none());
        assert_eq!(c, Category::FixRequest);
        assert!(
            why.contains("no rule") && why.contains("nothing matched"),
            "{why}"
        );
    }

    /// An error as the command layer shows it: the message, then its cause.
    fn shown(e: RulesError) -> String {
        format!("{:#}", anyhow::Error::from(e))
    }

    fn rules_error(rules: &str) -> String {
        shown(CategoryRules::from_json(rules, NO_OVERRIDES).unwrap_err())
    }

    fn one_rule(body: &str) -> String {
        format!(
            r#"{{"rules": [{body}], "fallback": {{"category": "contact_support", "why": "w"}}}}"#
        )
    }

    #[test]
    fn bad_rules_are_reported_by_file_rule_and_field() {
        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quotas", "why": "w", "fields": ["message"], "any": ["x"]}"#,
        ));
        assert!(e.starts_with(RULES_FILE), "{e}");
        assert!(e.contains("rule 1 (\"a\"), field \"category\""), "{e}");
        assert!(e.contains("unknown category \"quotas\""), "{e}");

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": ["x", " ... "]}"#,
        ));
        assert!(
            e.contains("field \"any\"") && e.contains("empty phrase"),
            "{e}"
        );

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": [["x", ""]]}"#,
        ));
        assert!(e.contains("empty phrase"), "{e}");

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": []}"#,
        ));
        assert!(e.contains("never match"), "{e}");

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["title"], "any": ["x"]}"#,
        ));
        assert!(
            e.contains("field \"fields\"") && e.contains("unknown field \"title\""),
            "{e}"
        );

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": ["in-progress", "In progress"]}"#,
        ));
        assert!(e.contains("listed twice"), "{e}");

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": ["a*b"]}"#,
        ));
        assert!(e.contains("only allowed at the end"), "{e}");

        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": " ", "fields": ["message"], "any": ["x"]}"#,
        ));
        assert!(e.contains("field \"why\""), "{e}");

        let two = r#"{"rules": [
            {"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": ["x"]},
            {"id": "a", "category": "retry", "why": "w", "fields": ["message"], "any": ["y"]}
          ], "fallback": {"category": "contact_support", "why": "w"}}"#;
        let e = rules_error(two);
        assert!(
            e.contains("rule 2 (\"a\"), field \"id\"") && e.contains("duplicate id"),
            "{e}"
        );

        let e = rules_error(
            r#"{"rules": [], "fallback": {"category": "contact_support", "why": "w"}}"#,
        );
        assert!(e.contains("no rules"), "{e}");

        let e = rules_error(
            r#"{"rules": [{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": ["x"]}],
                "fallback": {"category": "support", "why": "w"}}"#,
        );
        assert!(e.contains("fallback, field \"category\""), "{e}");

        // Misspelt keys and broken JSON name the file and the position.
        let e = rules_error(&one_rule(
            r#"{"id": "a", "category": "quota", "why": "w", "fields": ["message"], "any": ["x"], "unles": ["y"]}"#,
        ));
        assert!(e.starts_with(RULES_FILE) && e.contains("unles"), "{e}");
        let e = rules_error("{\"rules\": [");
        assert!(e.starts_with(RULES_FILE) && e.contains("line 1"), "{e}");
    }

    fn overrides_error(overrides: &str) -> String {
        shown(CategoryRules::from_json(SMALL, overrides).unwrap_err())
    }

    #[test]
    fn bad_overrides_are_reported_by_file_override_and_field() {
        let e = overrides_error(
            r#"{"overrides": [
                {"code": "X.0001", "category": "quota", "reason": "r"},
                {"code": "X.0001", "category": "retry", "reason": "r"}
            ]}"#,
        );
        assert!(e.starts_with(OVERRIDES_FILE), "{e}");
        assert!(e.contains("override 2 (\"X.0001\"), field \"code\""), "{e}");
        assert!(e.contains("duplicate"), "{e}");

        let e = overrides_error(
            r#"{"overrides": [{"code": "X.0001", "category": "Quota", "reason": "r"}]}"#,
        );
        assert!(
            e.contains("field \"category\"") && e.contains("unknown category"),
            "{e}"
        );

        let e = overrides_error(
            r#"{"overrides": [{"code": "X 1", "category": "quota", "reason": "r"}]}"#,
        );
        assert!(e.contains("not an error code"), "{e}");

        let e = overrides_error(
            r#"{"overrides": [{"code": "X.0001", "category": "quota", "reason": ""}]}"#,
        );
        assert!(e.contains("field \"reason\""), "{e}");

        let e = overrides_error(r#"{"overrides": [{"code": "X.0001", "category": "quota"}]}"#);
        assert!(e.starts_with(OVERRIDES_FILE) && e.contains("reason"), "{e}");
    }

    #[test]
    fn builtin_files_load_every_rule_and_override_as_written() {
        let r = CategoryRules::builtin().unwrap();
        // The files read as plain JSON, not through the loader.
        let rules: serde_json::Value = serde_json::from_str(BUILTIN_RULES).unwrap();
        assert_eq!(r.rules.len(), rules["rules"].as_array().unwrap().len());
        assert_eq!(r.fallback.as_str(), rules["fallback"]["category"]);
        let file: serde_json::Value = serde_json::from_str(BUILTIN_OVERRIDES).unwrap();
        let text = |o: &serde_json::Value, k: &str| o[k].as_str().unwrap().to_string();
        let mut written: Vec<[String; 3]> = (file["overrides"].as_array().unwrap().iter())
            .map(|o| [text(o, "code"), text(o, "category"), text(o, "reason")])
            .collect();
        written.sort();
        let loaded: Vec<[String; 3]> = (r.overrides())
            .map(|o| [o.code.clone(), o.category.to_string(), o.reason.clone()])
            .collect();
        assert_eq!(loaded, written);
        // Checked by hand in catalog/category_overrides.json.
        let o = r.overrides().find(|o| o.code == "BackupService.6109");
        assert_eq!(o.unwrap().category, Category::ContactSupport);
    }

    #[test]
    fn cleaning_keeps_words_only() {
        assert_eq!(
            clean("  **forceCreate**  must be\tset!"),
            "forcecreate must be set"
        );
        assert_eq!(clean("镜像名称为空。请填写"), "镜像名称为空 请填写");
        assert_eq!(clean("AK/SK in-progress"), "ak sk in progress");
        assert_eq!(clean("..."), "");
    }
}
