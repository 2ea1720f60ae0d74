//! Plain text out of table cells: what every document format shares once its
//! own structure is gone.
//!
//! The format parsers hand a cell over as [`Block`]s — paragraphs and list
//! items — and this module owns everything about their text: the inline
//! markup of Markdown and reStructuredText (emphasis, code spans, literals,
//! links, backslash escapes), HTML character references, whitespace, and how
//! the blocks of a cell become one line of text. The rules, applied alike to
//! every document:
//!
//! - a run of whitespace becomes one space, except that a line break between
//!   two wide (CJK) characters disappears: Chinese puts no space between
//!   words, so a Chinese sentence wrapped over two lines joins without one;
//! - paragraphs are joined with one space (none between two CJK characters);
//! - a list item is written `- item` (a numbered one keeps its number,
//!   `1. item`) and is followed by `; ` — or by a plain space when the item
//!   already ends in punctuation — so `Requirements: - letters; - digits`;
//! - a text that only says there is nothing (`-`, `无`, `无。`, `N/A`, ...) is
//!   absent, not a string.

use unicode_width::UnicodeWidthChar;

/// A paragraph or a list item of a cell, its text still carrying the inline
/// markup of its format until [`render`] (or the format's cleaner) removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Para(String),
    /// `marker` is what the item is written with: `-` for a bullet, `1.` for
    /// a numbered item.
    Item {
        marker: String,
        text: String,
    },
}

impl Block {
    pub(crate) fn text(&self) -> &str {
        match self {
            Block::Para(t) | Block::Item { text: t, .. } => t,
        }
    }

    pub(crate) fn text_mut(&mut self) -> &mut String {
        match self {
            Block::Para(t) | Block::Item { text: t, .. } => t,
        }
    }
}

/// The blocks of a cell as one line of clean text, or `None` when the cell is
/// empty or only a placeholder for "nothing" (see [`is_placeholder`]).
/// Block texts must already be free of markup.
pub(crate) fn render(blocks: &[Block]) -> Option<String> {
    let mut out = String::new();
    let mut after_item = false;
    for block in blocks {
        let text = collapse_whitespace(block.text());
        if text.is_empty() {
            continue;
        }
        let piece = match block {
            Block::Para(_) => text,
            Block::Item { marker, .. } => format!("{marker} {text}"),
        };
        if let (Some(last), Some(first)) = (out.chars().next_back(), piece.chars().next()) {
            if after_item && !ends_sentence(last) {
                out.push_str("; ");
            } else if !(is_wide(last) && is_wide(first)) {
                out.push(' ');
            }
        }
        out.push_str(&piece);
        after_item = matches!(block, Block::Item { .. });
    }
    (!is_placeholder(&out)).then_some(out)
}

/// Punctuation after which a list item needs no `;` to be told from the next.
fn ends_sentence(c: char) -> bool {
    matches!(
        c,
        '.' | ';' | ':' | '!' | '?' | ',' | '。' | '；' | '：' | '！' | '？' | '，' | '…'
    )
}

/// Whether a cell's text is only a way of saying "nothing here". Vendor
/// documents write an absent remedy as `-`, `无` or `无。`; a few more
/// spellings of the same are accepted so a new document needs no change.
pub(crate) fn is_placeholder(text: &str) -> bool {
    const NOTHING: &[&str] = &[
        "",
        "-",
        "--",
        "—",
        "–",
        "－",
        "/",
        "／",
        "无",
        "无。",
        "无.",
        "暂无",
        "暂无。",
        "不涉及",
        "不涉及。",
        "n/a",
        "n/a.",
        "na",
        "none",
        "none.",
    ];
    let t = text.trim();
    NOTHING.contains(&t) || NOTHING.contains(&t.to_ascii_lowercase().as_str())
}

/// Whether `c` takes two columns on a terminal (East Asian Wide or
/// Fullwidth): CJK ideographs and CJK punctuation. Used both to join wrapped
/// CJK lines without a space and to measure reStructuredText grid tables,
/// whose columns are aligned by display width.
pub(crate) fn is_wide(c: char) -> bool {
    c.width() == Some(2)
}

/// Whether the text contains Chinese: a CJK ideograph, CJK punctuation or a
/// fullwidth form. This is what decides that a row is Chinese.
pub(crate) fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c as u32,
            0x3000..=0x303F       // CJK symbols and punctuation
            | 0x3400..=0x4DBF     // CJK extension A
            | 0x4E00..=0x9FFF     // CJK unified ideographs
            | 0xF900..=0xFAFF     // CJK compatibility ideographs
            | 0xFF00..=0xFFEF     // halfwidth and fullwidth forms
            | 0x20000..=0x2FA1F) // CJK extensions B and later
    })
}

/// Characters that render as nothing and only get in the way of comparing
/// and searching text: zero-width spaces and joiners, the byte-order mark,
/// the soft hyphen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Collapses every run of whitespace to one space and trims both ends; a run
/// that holds a line break between two wide characters is dropped instead
/// (see the module docs). Invisible characters are removed.
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending: Option<bool> = None; // Some(run has a line break)
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            let newline = c == '\n' || c == '\r';
            pending = Some(pending.unwrap_or(false) || newline);
            continue;
        }
        if let (Some(newline), Some(last)) = (pending, out.chars().next_back())
            && !(newline && is_wide(last) && is_wide(c))
        {
            out.push(' ');
        }
        pending = None;
        out.push(c);
    }
    out
}

/// A list marker at the start of `line` (already trimmed on the left): a
/// bullet (`-`, `*`, `+`, `•`) or a number (`1.`, `1)`, `(1)`, `#.`) followed
/// by a space. Returns the marker as it is written in the clean text and the
/// byte length of the marker with its following spaces.
pub(crate) fn list_marker(line: &str) -> Option<(String, usize)> {
    let mut chars = line.char_indices();
    let (_, first) = chars.next()?;
    let marker_end = match first {
        '-' | '*' | '+' | '•' => first.len_utf8(),
        '#' if line[1..].starts_with('.') => 2,
        '(' => {
            let digits = line[1..].bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 3 || line.as_bytes().get(1 + digits) != Some(&b')') {
                return None;
            }
            digits + 2
        }
        '0'..='9' => {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 3 || !matches!(line.as_bytes().get(digits), Some(b'.' | b')')) {
                return None;
            }
            digits + 1
        }
        _ => return None,
    };
    let rest = &line[marker_end..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if spaces == 0 || rest.trim().is_empty() {
        return None;
    }
    let marker = match &line[..marker_end] {
        "-" | "*" | "+" | "•" | "#." => "-".to_string(),
        number => number.to_string(),
    };
    Some((marker, marker_end + spaces))
}

/// Decodes HTML character references: the named ones vendor documents use
/// (`&nbsp;`, `&lt;`, `&amp;`, quotes, dashes, ...) and every numeric one
/// (`&#8220;`, `&#x201C;`). A reference must end with `;`. An unknown name is
/// left as it is, since it is more likely text (`R&D;`) than markup.
pub(crate) fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi > 0 && semi <= 32)
            .and_then(|semi| Some((reference(&after[..semi])?, semi)));
        match decoded {
            Some((text, semi)) => {
                out.push_str(&text);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of one character reference, given what is between `&` and `;`.
fn reference(name: &str) -> Option<String> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        // A reference to no character (0, a surrogate, beyond Unicode) is
        // shown as the replacement character, as browsers do.
        return Some(
            char::from_u32(code)
                .filter(|&c| c != '\0')
                .unwrap_or('\u{FFFD}')
                .to_string(),
        );
    }
    let text = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{A0}",
        "ensp" => "\u{2002}",
        "emsp" => "\u{2003}",
        "thinsp" => "\u{2009}",
        "shy" => "\u{AD}",
        "zwsp" => "\u{200B}",
        "ndash" => "–",
        "mdash" => "—",
        "minus" => "−",
        "lsquo" => "‘",
        "rsquo" => "’",
        "sbquo" => "‚",
        "ldquo" => "“",
        "rdquo" => "”",
        "bdquo" => "„",
        "laquo" => "«",
        "raquo" => "»",
        "hellip" => "…",
        "middot" => "·",
        "bull" => "•",
        "times" => "×",
        "divide" => "÷",
        "plusmn" => "±",
        "deg" => "°",
        "micro" => "µ",
        "le" => "≤",
        "ge" => "≥",
        "ne" => "≠",
        "larr" => "←",
        "rarr" => "→",
        "uarr" => "↑",
        "darr" => "↓",
        "harr" => "↔",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "sect" => "§",
        "para" => "¶",
        "cent" => "¢",
        "pound" => "£",
        "yen" => "¥",
        "euro" => "€",
        "sup1" => "¹",
        "sup2" => "²",
        "sup3" => "³",
        "frac12" => "½",
        "frac14" => "¼",
        "frac34" => "¾",
        "prime" => "′",
        "Prime" => "″",
        "iexcl" => "¡",
        "iquest" => "¿",
        _ => return None,
    };
    Some(text.to_string())
}

/// Which inline markup [`strip_inline`] understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// CommonMark/GFM: `**strong**`, `*em*`, `__strong__`, `_em_`, `` `code` ``,
    /// `[link](url)`, `<https://autolink>`, `\` before ASCII punctuation.
    Markdown,
    /// reStructuredText: `**strong**`, `*em*`, ``` ``literal`` ```,
    /// `` `interpreted` `` (with `:role:` and `` `text <url>`_ `` forms),
    /// `\` before any character (an escaped space disappears).
    Rst,
}

/// A character of a cell on its way through [`strip_inline`]: `kept` ones
/// came from an escape or a code span and are never markup.
#[derive(Clone, Copy)]
struct Ch {
    c: char,
    kept: bool,
    dropped: bool,
}

/// Removes the inline markup of `dialect` from `s`, keeping the text.
///
/// Emphasis is recognised leniently: a `*` run opens when followed by a
/// non-space and closes when preceded by one, so `配额**。**` and
/// `请设置**参数**值` lose their stars as a reader would expect; `_` (in
/// Markdown) only opens or closes at a word edge, so `hw_firmware_type` is
/// left alone. A delimiter with no partner stays as text.
///
/// Markdown output is meant to go through the HTML stage next (Markdown cells
/// may hold `<br>` and other tags), so a `<` or `&` that an escape or a code
/// span made literal comes out as `&lt;`/`&amp;` and is decoded there.
pub(crate) fn strip_inline(s: &str, dialect: Dialect) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    scan_inline(&chars, dialect, &mut out);
    strip_emphasis(&mut out, dialect);
    let mut text = String::with_capacity(s.len());
    for ch in out.iter().filter(|ch| !ch.dropped) {
        match (dialect, ch.kept, ch.c) {
            (Dialect::Markdown, true, '<') => text.push_str("&lt;"),
            (Dialect::Markdown, true, '&') => text.push_str("&amp;"),
            (_, _, c) => text.push(c),
        }
    }
    text
}

fn push_kept(out: &mut Vec<Ch>, text: impl IntoIterator<Item = char>) {
    out.extend(text.into_iter().map(|c| Ch {
        c,
        kept: true,
        dropped: false,
    }));
}

/// Escapes, code spans, links and roles; what is left for emphasis is pushed
/// as plain characters.
fn scan_inline(chars: &[char], dialect: Dialect, out: &mut Vec<Ch>) {
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\\'
            && let Some(n) = next
        {
            match dialect {
                Dialect::Markdown if n.is_ascii_punctuation() => {
                    push_kept(out, [n]);
                    i += 2;
                    continue;
                }
                Dialect::Rst if n.is_whitespace() => {
                    i += 2;
                    continue;
                }
                Dialect::Rst => {
                    push_kept(out, [n]);
                    i += 2;
                    continue;
                }
                Dialect::Markdown => {}
            }
        }
        if c == '`' {
            let (text, next_i) = match dialect {
                Dialect::Markdown => markdown_code(chars, i),
                Dialect::Rst => rst_backquoted(chars, i),
            };
            push_kept(out, text.chars());
            i = next_i;
            continue;
        }
        if dialect == Dialect::Markdown {
            let at = if c == '!' && next == Some('[') {
                i + 1
            } else {
                i
            };
            if chars[at] == '['
                && let Some((label, next_i)) = markdown_link(chars, at)
            {
                scan_inline(label, dialect, out);
                i = next_i;
                continue;
            }
            if c == '<'
                && let Some((url, next_i)) = autolink(chars, i)
            {
                push_kept(out, url.iter().copied());
                i = next_i;
                continue;
            }
        }
        if dialect == Dialect::Rst
            && c == ':'
            && let Some(next_i) = rst_role(chars, i)
        {
            i = next_i;
            continue;
        }
        out.push(Ch {
            c,
            kept: false,
            dropped: false,
        });
        i += 1;
    }
}

/// A Markdown code span starting at the backtick run at `i`: its text and
/// where it ends. A run with no closing run of the same length is literal.
fn markdown_code(chars: &[char], i: usize) -> (String, usize) {
    let run = chars[i..].iter().take_while(|&&c| c == '`').count();
    let mut j = i + run;
    while j < chars.len() {
        if chars[j] == '`' {
            let close = chars[j..].iter().take_while(|&&c| c == '`').count();
            if close == run {
                let mut text: String = chars[i + run..j]
                    .iter()
                    .map(|&c| if c == '\n' { ' ' } else { c })
                    .collect();
                if text.len() >= 2
                    && text.starts_with(' ')
                    && text.ends_with(' ')
                    && !text.trim().is_empty()
                {
                    text = text[1..text.len() - 1].to_string();
                }
                return (text, j + close);
            }
            j += close;
        } else {
            j += 1;
        }
    }
    (chars[i..i + run].iter().collect(), i + run)
}

/// A reStructuredText inline literal (``` ``text`` ```) or interpreted text /
/// reference (`` `text` ``, `` `text <url>`_ ``, `` `text`__ ``, with an
/// optional `:role:` suffix) starting at `i`.
fn rst_backquoted(chars: &[char], i: usize) -> (String, usize) {
    let find = |from: usize, pat: &[char]| {
        (from..chars.len().saturating_sub(pat.len() - 1)).find(|&j| chars[j..].starts_with(pat))
    };
    if chars[i..].starts_with(&['`', '`']) {
        if let Some(end) = find(i + 2, &['`', '`']).filter(|&end| end > i + 2) {
            return (chars[i + 2..end].iter().collect(), end + 2);
        }
        return ("``".to_string(), i + 2);
    }
    let Some(end) = find(i + 1, &['`']).filter(|&end| end > i + 1) else {
        return ("`".to_string(), i + 1);
    };
    let mut text: String = chars[i + 1..end].iter().collect();
    let mut next = end + 1;
    if chars.get(next) == Some(&'_') {
        next += if chars.get(next + 1) == Some(&'_') {
            2
        } else {
            1
        };
        // `text <url>`_ : the reader sees the text, not the target.
        if text.ends_with('>')
            && let Some(open) = text.rfind('<')
            && !text[..open].trim().is_empty()
        {
            text = text[..open].trim_end().to_string();
        }
    } else if let Some(after) = rst_role(chars, next) {
        next = after;
    }
    (text, next)
}

/// A reStructuredText role (`:ref:`, `:guilabel:`) at `i` that is directly
/// followed by a backquote (prefix form) or directly preceded by one (suffix
/// form): where the role ends.
fn rst_role(chars: &[char], i: usize) -> Option<usize> {
    // `i` may be the end of the text (a backquoted span that ends it).
    let name = chars
        .get(i + 1..)?
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
        .count();
    let close = i + 1 + name;
    if name == 0 || chars.get(close) != Some(&':') {
        return None;
    }
    let prefix = chars.get(close + 1) == Some(&'`');
    let suffix = i > 0 && chars[i - 1] == '`';
    (prefix || suffix).then_some(close + 1)
}

/// A Markdown link or image `[label](target)` / `[label][ref]` at `i` (the
/// `[`): its label and where it ends.
fn markdown_link(chars: &[char], i: usize) -> Option<(&[char], usize)> {
    let mut j = i + 1;
    while j < chars.len() && chars[j] != ']' {
        if chars[j] == '\\' {
            j += 1;
        } else if chars[j] == '[' {
            return None;
        }
        j += 1;
    }
    let label_end = j;
    let (open, close) = match chars.get(label_end + 1)? {
        '(' => ('(', ')'),
        '[' => ('[', ']'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (k, &c) in chars.iter().enumerate().skip(label_end + 1) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some((&chars[i + 1..label_end], k + 1));
            }
        }
    }
    None
}

/// A Markdown autolink `<https://...>` or `<mailto:...>` at `i`.
fn autolink(chars: &[char], i: usize) -> Option<(&[char], usize)> {
    let end = i + chars[i..].iter().position(|&c| c == '>')?;
    let inner = &chars[i + 1..end];
    let text: String = inner.iter().collect();
    let is_url = ["http://", "https://", "ftp://", "mailto:"]
        .iter()
        .any(|p| text.to_ascii_lowercase().starts_with(p))
        && !inner.iter().any(|c| c.is_whitespace() || *c == '<');
    is_url.then_some((inner, end + 1))
}

/// A run of emphasis delimiters still looking for a partner.
struct Run {
    c: char,
    start: usize,
    len: usize,
}

/// Drops matched emphasis delimiters (see [`strip_inline`] for the rules).
fn strip_emphasis(chars: &mut [Ch], dialect: Dialect) {
    let is_delim =
        |ch: &Ch| !ch.kept && (ch.c == '*' || (ch.c == '_' && dialect == Dialect::Markdown));
    let mut openers: Vec<Run> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_delim(&chars[i]) {
            i += 1;
            continue;
        }
        let c = chars[i].c;
        let mut len = chars[i..]
            .iter()
            .take_while(|ch| !ch.kept && ch.c == c)
            .count();
        let run_end = i + len;
        let mut start = i;
        let before = i.checked_sub(1).map(|k| chars[k].c);
        let after = chars.get(i + len).map(|ch| ch.c);
        let edge = |x: Option<char>| x.is_none_or(|x| x.is_whitespace() || is_punctuation(x));
        let mut can_open = after.is_some_and(|a| !a.is_whitespace());
        let can_close = before.is_some_and(|b| !b.is_whitespace()) && (c == '*' || edge(after));
        if c == '_' {
            can_open &= edge(before);
        }
        if can_close {
            while len > 0 {
                let Some(k) = openers.iter().rposition(|o| o.c == c) else {
                    break;
                };
                openers.truncate(k + 1);
                let opener = openers.last_mut().expect("just found");
                let m = opener.len.min(len);
                for ch in &mut chars[opener.start + opener.len - m..opener.start + opener.len] {
                    ch.dropped = true;
                }
                for ch in &mut chars[start..start + m] {
                    ch.dropped = true;
                }
                opener.len -= m;
                if opener.len == 0 {
                    openers.pop();
                }
                start += m;
                len -= m;
                can_open = can_open && len > 0;
            }
        }
        if can_open && len > 0 {
            openers.push(Run { c, start, len });
        }
        i = run_end;
    }
}

/// ASCII or Unicode punctuation, for the word-edge rule of `_` emphasis.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c as u32, 0x2000..=0x206F | 0x3000..=0x303F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(s: &str) -> String {
        strip_inline(s, Dialect::Markdown)
    }
    fn rst(s: &str) -> String {
        strip_inline(s, Dialect::Rst)
    }

    #[test]
    fn whitespace_collapses_and_cjk_lines_join_without_a_space() {
        assert_eq!(collapse_whitespace("  a \t b\n c  "), "a b c");
        assert_eq!(collapse_whitespace("镜像名称\n长度"), "镜像名称长度");
        assert_eq!(collapse_whitespace("配额，\n请删除"), "配额，请删除");
        // Only a line break is dropped between CJK; a space the author wrote stays.
        assert_eq!(collapse_whitespace("超过128 字符"), "超过128 字符");
        assert_eq!(collapse_whitespace("镜像 ID"), "镜像 ID");
        assert_eq!(collapse_whitespace("使用\nECS"), "使用 ECS");
        assert_eq!(collapse_whitespace("a\u{A0}\u{200B}b"), "a b");
    }

    #[test]
    fn blocks_render_paragraphs_and_items() {
        let b = |s: &str| Block::Para(s.to_string());
        let item = |s: &str| Block::Item {
            marker: "-".into(),
            text: s.into(),
        };
        assert_eq!(
            render(&[b("Check:"), item("one"), item("two."), item("three")]).unwrap(),
            "Check: - one; - two. - three"
        );
        assert_eq!(
            render(&[b("An error occurred."), b("Contact support.")]).unwrap(),
            "An error occurred. Contact support."
        );
        assert_eq!(
            render(&[b("第一段。"), b("第二段。")]).unwrap(),
            "第一段。第二段。"
        );
        assert_eq!(render(&[b("  ")]), None);
        assert_eq!(render(&[]), None);
        for nothing in ["-", "无", "无。", "N/A", " — "] {
            assert_eq!(render(&[b(nothing)]), None, "{nothing}");
        }
    }

    #[test]
    fn list_markers() {
        assert_eq!(list_marker("-  The name"), Some(("-".into(), 3)));
        assert_eq!(list_marker("* x"), Some(("-".into(), 2)));
        assert_eq!(list_marker("2. x"), Some(("2.".into(), 3)));
        assert_eq!(list_marker("(3) x"), Some(("(3)".into(), 4)));
        assert_eq!(list_marker("#. x"), Some(("-".into(), 3)));
        for not in [
            "-1 means none",
            "128 GB.",
            "-",
            "- ",
            "2024. x",
            "a. b",
            "**x**",
        ] {
            assert_eq!(list_marker(not), None, "{not}");
        }
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a&nbsp;b &lt;p&gt; &amp;amp; &#x4E2D;&#25991; &ldquo;q&rdquo;"),
            "a\u{A0}b <p> &amp; 中文 “q”"
        );
        assert_eq!(
            decode_entities("R&D; AT&T &bogus; &#xD800; &"),
            "R&D; AT&T &bogus; \u{FFFD} &"
        );
    }

    #[test]
    fn markdown_inline() {
        assert_eq!(
            md("**forceCreate** must be set to **true**."),
            "forceCreate must be set to true."
        );
        assert_eq!(
            md("当前用户已经超过镜像共享配额**。**"),
            "当前用户已经超过镜像共享配额。"
        );
        assert_eq!(md("请设置**参数**值"), "请设置参数值");
        assert_eq!(md("set *x* and _y_ and __z__"), "set x and y and z");
        assert_eq!(
            md("hw_firmware_type and **hw_firmware_type**"),
            "hw_firmware_type and hw_firmware_type"
        );
        assert_eq!(md(r"a\_b \*not em\* \\ \| \q"), r"a_b *not em* \ | \q");
        assert_eq!(
            md("5 * 3 * 2 and *.vhd or *.qcow2"),
            "5 * 3 * 2 and *.vhd or *.qcow2"
        );
        assert_eq!(md("use `a*b*c` or ``x ` y``"), "use a*b*c or x ` y");
        assert_eq!(
            md("see [the guide](https://x.y/z_(1)) or ![alt](i.png)"),
            "see the guide or alt"
        );
        assert_eq!(md("<https://example.com/a_b>"), "https://example.com/a_b");
        // Escaped or literal < and & reach the HTML stage as references.
        assert_eq!(md(r"\<br> `a<b&c`"), "&lt;br> a&lt;b&amp;c");
        assert_eq!(md("-._和空格"), "-._和空格");
        assert_eq!(md("***both***"), "both");
        assert_eq!(md("**unclosed"), "**unclosed");
    }

    #[test]
    fn rst_inline() {
        assert_eq!(
            rst(r"Check whether the **\__system__server_id** value"),
            "Check whether the __system__server_id value"
        );
        assert_eq!(rst("``-``"), "-");
        assert_eq!(
            rst("Set **hw_firmware_type** to *uefi*."),
            "Set hw_firmware_type to uefi."
        );
        assert_eq!(rst(r"请设置\ **参数**\ 值"), "请设置参数值");
        assert_eq!(
            rst("see `the guide <https://x>`_ and :ref:`errors` and `t`:term:"),
            "see the guide and errors and t"
        );
        assert_eq!(rst("``C:\\path``"), "C:\\path");
        assert_eq!(rst("a_b and word_ stay"), "a_b and word_ stay");
    }

    #[test]
    fn cjk_detection() {
        assert!(has_cjk("fsp执行任务异常。"));
        assert!(has_cjk("BMS、ECS"));
        assert!(!has_cjk("The image is a public image."));
        assert!(!has_cjk("“quoted” – dash"));
    }
}
