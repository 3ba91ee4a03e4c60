//! CommonMark conformance: every example of the CommonMark spec 0.31.2 and of the GFM spec's
//! table, task-list and strikethrough extensions, rendered by the real pipeline
//! (`render_fragment(md, true)`) and compared with the spec's HTML after normalising.
//!
//! The normalisation ([`normalize`]) removes what does not change meaning (whitespace between
//! tags, attribute order, entity spelling) and scalebook's documented additions: heading `id`s,
//! the `div.sb-code` wrapper and `pre class="code"` around code blocks, highlight spans, and the
//! checklist markup of task items. Examples that still differ are listed, each with a reason, in
//! `tests/data/commonmark/allow-list.txt`; the test fails when an example outside the list fails,
//! and when a listed example passes (so the list cannot rot).

use scalebook::markdown::render_fragment;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(serde::Deserialize)]
struct Example {
    example: u32,
    section: String,
    markdown: String,
    html: String,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/commonmark")
}

fn load(file: &str) -> Vec<Example> {
    let path = data_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `spec 123` / `gfm 279` → reason. Lines are `SET NUMBER REASON`; `#` starts a comment.
fn allow_list() -> BTreeMap<(String, u32), String> {
    let path = data_dir().join("allow-list.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, char::is_whitespace);
        let (set, num, reason) = (parts.next(), parts.next(), parts.next());
        let (Some(set), Some(num), Some(reason)) = (set, num.and_then(|n| n.parse().ok()), reason)
        else {
            panic!(
                "{}:{}: expected `spec|gfm NUMBER reason`",
                path.display(),
                n + 1
            );
        };
        assert!(
            set == "spec" || set == "gfm",
            "{}:{}: unknown set `{set}`",
            path.display(),
            n + 1
        );
        assert!(
            !reason.trim().is_empty(),
            "{}:{}: give a reason",
            path.display(),
            n + 1
        );
        out.insert((set.to_string(), num), reason.trim().to_string());
    }
    out
}

#[test]
fn commonmark_and_gfm_examples_render_as_the_spec_says() {
    let sets = [
        ("spec", load("spec-0.31.2.json")),
        ("gfm", load("gfm-0.29-extensions.json")),
    ];
    let allowed = allow_list();
    let verbose = std::env::var_os("COMMONMARK_VERBOSE").is_some();
    let (mut total, mut passed) = (0, 0);
    let mut unexpected = Vec::new();
    let mut stale = Vec::new();
    for (set, examples) in &sets {
        for ex in examples {
            total += 1;
            let got = render_fragment(&ex.markdown, true);
            let ok = normalize(&got) == normalize(&ex.html);
            let key = (set.to_string(), ex.example);
            if ok {
                passed += 1;
            }
            let report = format!(
                "{set} {} ({}):\n  markdown: {:?}\n  expected: {}\n  got:      {}\n  raw:      {:?}",
                ex.example,
                ex.section,
                ex.markdown,
                normalize(&ex.html),
                normalize(&got),
                got
            );
            match (ok, allowed.contains_key(&key)) {
                (false, false) => unexpected.push(report),
                (true, true) => stale.push(format!("{set} {}", ex.example)),
                (false, true) if verbose => eprintln!("allowed failure: {report}"),
                _ => {}
            }
        }
    }
    for key in allowed.keys() {
        let known = sets
            .iter()
            .any(|(s, ex)| *s == key.0 && ex.iter().any(|e| e.example == key.1));
        assert!(
            known,
            "allow-list.txt names {} {}, which is no example",
            key.0, key.1
        );
    }
    // Printed with --nocapture (.ci/run does); the CI summary line reads it.
    println!(
        "commonmark: {passed}/{total} examples pass ({} allow-listed)",
        allowed.len()
    );
    assert!(
        unexpected.is_empty(),
        "{} example(s) fail that are not in tests/data/commonmark/allow-list.txt:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "these allow-listed examples pass now: remove them from tests/data/commonmark/allow-list.txt: {}",
        stale.join(", ")
    );
}

#[test]
fn normalisation_keeps_meaning_and_drops_scalebook_additions() {
    assert_eq!(
        normalize("<h2 id=\"x\">A &amp; B</h2>\n<p>q&quot;</p>"),
        normalize("<h2>A &amp; B</h2><p>q\"</p>")
    );
    assert_eq!(
        normalize("<div class=\"sb-code\" data-lang=\"rb\"><pre class=\"code\"><code class=\"language-rb\">x <span class=\"hl-k\">=</span> 1\n</code></pre></div>\n"),
        normalize("<pre><code class=\"language-rb\">x = 1\n</code></pre>\n")
    );
    assert_ne!(normalize("<p>a  b</p>"), normalize("<p>a b</p>"));
    assert_ne!(
        normalize("<pre><code>a\n</code></pre>"),
        normalize("<pre><code>a</code></pre>")
    );
    assert_ne!(normalize("<em>a</em>"), normalize("<strong>a</strong>"));
}

// ---------------------------------------------------------------------------------------------
// A small HTML normaliser: enough for the spec's HTML and ours, not a general HTML parser.

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End(String),
    Text(String),
    /// Comments, doctypes, processing instructions, CDATA: compared as written.
    Raw(String),
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Block elements: whitespace at their edges (outside `<pre>`) carries no meaning.
const BLOCK: &[&str] = &[
    "blockquote",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// Canonical text of an HTML fragment.
fn normalize(html: &str) -> String {
    let tokens = drop_additions(tokenize(html));
    // Merge adjacent text; outside <pre>, trim it at block edges and after a task checkbox,
    // and drop it when only whitespace is left. Print tags with sorted attributes.
    let is_edge = |t: &Token| match t {
        Token::Start { name, attrs } => {
            BLOCK.contains(&name.as_str())
                || (name == "input" && attr(attrs, "type") == Some("checkbox"))
        }
        Token::End(name) => BLOCK.contains(&name.as_str()),
        _ => false,
    };
    let mut out = String::new();
    let mut text = String::new();
    let mut pre = 0usize;
    let mut after_edge = true;
    let flush =
        |text: &mut String, out: &mut String, pre: usize, after_edge: bool, before_edge: bool| {
            let mut t = text.as_str();
            if pre == 0 {
                if after_edge {
                    t = t.trim_start();
                }
                if before_edge {
                    t = t.trim_end();
                }
            }
            if !t.is_empty() && (pre > 0 || !t.trim().is_empty()) {
                out.push_str(&escape(t));
            }
            text.clear();
        };
    for t in tokens {
        let edge = is_edge(&t);
        match t {
            Token::Text(s) => {
                text.push_str(&s);
                continue;
            }
            Token::Start { name, mut attrs } => {
                flush(&mut text, &mut out, pre, after_edge, edge);
                if name == "th" || name == "td" {
                    // `style="text-align: x"` (HTML5) and `align="x"` (the spec) say the same.
                    for (k, v) in attrs.iter_mut() {
                        if k == "style" {
                            if let Some(a) = v.strip_prefix("text-align:") {
                                *v = a.trim().trim_end_matches(';').to_string();
                                *k = "align".into();
                            }
                        }
                    }
                }
                attrs.sort();
                out.push('<');
                out.push_str(&name);
                for (k, v) in attrs {
                    out.push_str(&format!(" {k}=\"{}\"", escape(&v)));
                }
                out.push('>');
                if name == "pre" {
                    pre += 1;
                }
            }
            Token::End(name) => {
                flush(&mut text, &mut out, pre, after_edge, edge);
                if name == "pre" {
                    pre = pre.saturating_sub(1);
                }
                out.push_str(&format!("</{name}>"));
            }
            Token::Raw(s) => {
                flush(&mut text, &mut out, pre, after_edge, false);
                out.push_str(&s);
            }
        }
        after_edge = edge;
    }
    flush(&mut text, &mut out, pre, after_edge, true);
    out
}

/// Removes what scalebook adds on purpose, so only the markdown's meaning is compared.
fn drop_additions(tokens: Vec<Token>) -> Vec<Token> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Keep,
        /// The tag goes, its content stays (wrappers, highlight spans).
        DropTag,
        /// The tag and its content go (the `run`/`verify` label, the static task mark).
        DropAll,
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut stack: Vec<(String, Mode)> = Vec::new();
    let skipping = |stack: &[(String, Mode)]| stack.iter().any(|(_, m)| *m == Mode::DropAll);
    for t in tokens {
        match t {
            Token::Start { name, mut attrs } => {
                let class = attr(&attrs, "class").unwrap_or_default().to_string();
                let classes: Vec<&str> = class.split_whitespace().collect();
                let label = name == "span"
                    && (classes.contains(&"sb-code-kind") || classes.contains(&"task-mark"));
                let mode = if skipping(&stack) || label {
                    Mode::DropAll
                } else if (name == "div" && classes.contains(&"sb-code"))
                    || (name == "span"
                        && classes
                            .iter()
                            .any(|c| c.starts_with("hl-") || c.starts_with("sb-")))
                {
                    Mode::DropTag
                } else {
                    Mode::Keep
                };
                if !VOID.contains(&name.as_str()) {
                    stack.push((name.clone(), mode));
                }
                if mode != Mode::Keep {
                    continue;
                }
                match name.as_str() {
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => attrs.retain(|(k, _)| k != "id"),
                    "pre" => {
                        // Code blocks are focusable so keyboards can scroll wide ones.
                        strip_class(&mut attrs, "code");
                        attrs.retain(|(k, v)| !(k == "tabindex" && v == "0"));
                    }
                    "ul" | "ol" => strip_class(&mut attrs, "contains-task-list"),
                    "li" if classes
                        .iter()
                        .any(|c| *c == "task-item" || c.starts_with("sb-")) =>
                    {
                        attrs.clear()
                    }
                    "input" if attr(&attrs, "type") == Some("checkbox") => {
                        let checked = attrs.iter().any(|(k, _)| k == "checked");
                        attrs = vec![
                            ("disabled".into(), String::new()),
                            ("type".into(), "checkbox".into()),
                        ];
                        if checked {
                            attrs.push(("checked".into(), String::new()));
                        }
                    }
                    _ => {}
                }
                out.push(Token::Start { name, attrs });
            }
            Token::End(name) => match stack.iter().rposition(|(n, _)| *n == name) {
                Some(at) => {
                    let mode = stack[at].1;
                    stack.truncate(at);
                    if mode == Mode::Keep {
                        out.push(Token::End(name));
                    }
                }
                None if !skipping(&stack) => out.push(Token::End(name)),
                None => {}
            },
            other if !skipping(&stack) => out.push(other),
            _ => {}
        }
    }
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn strip_class(attrs: &mut Vec<(String, String)>, class: &str) {
    for (k, v) in attrs.iter_mut() {
        if k == "class" {
            *v = v
                .split_whitespace()
                .filter(|c| *c != class)
                .collect::<Vec<_>>()
                .join(" ");
        }
    }
    attrs.retain(|(k, v)| !(k == "class" && v.is_empty()));
}

fn tokenize(html: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            out.push(Token::Text(decode(rest)));
            break;
        };
        if lt > 0 {
            out.push(Token::Text(decode(&rest[..lt])));
            rest = &rest[lt..];
        }
        match tag(rest) {
            Some((tok, len)) => {
                out.push(tok);
                rest = &rest[len..];
            }
            None => {
                out.push(Token::Text("<".into()));
                rest = &rest[1..];
            }
        }
    }
    out
}

/// Parses the tag at the start of `s`: the token and its length in bytes.
fn tag(s: &str) -> Option<(Token, usize)> {
    for (open, close) in [
        ("<!--", "-->"),
        ("<![CDATA[", "]]>"),
        ("<?", "?>"),
        ("<!", ">"),
    ] {
        if let Some(body) = s.strip_prefix(open) {
            let end = body.find(close)? + open.len() + close.len();
            return Some((Token::Raw(s[..end].to_string()), end));
        }
    }
    let b = s.as_bytes();
    let mut i = 1;
    let end_tag = b.get(1) == Some(&b'/');
    if end_tag {
        i += 1;
    }
    let name_start = i;
    if !b.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
        i += 1;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                i += 1;
                break;
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                i += 2;
                break;
            }
            _ if end_tag => return None,
            _ => {}
        }
        let k0 = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/\"'<".contains(&b[i]) {
            i += 1;
        }
        if i == k0 {
            return None;
        }
        let key = s[k0..i].to_ascii_lowercase();
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let mut value = String::new();
        if b.get(j) == Some(&b'=') {
            j += 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j)? {
                q @ (b'"' | b'\'') => {
                    let close = s[j + 1..].find(*q as char)? + j + 1;
                    value = decode(&s[j + 1..close]);
                    j = close + 1;
                }
                _ => {
                    let v0 = j;
                    while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                        j += 1;
                    }
                    value = decode(&s[v0..j]);
                }
            }
            i = j;
        }
        attrs.push((key, value));
    }
    let tok = if end_tag {
        Token::End(name)
    } else {
        Token::Start { name, attrs }
    };
    Some((tok, i))
}

/// Decodes the entities that HTML writers spell differently (`&quot;` / `&#34;` / `"`).
fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let semi = rest.find(';').filter(|&n| n <= 10);
        let decoded = semi.and_then(|n| {
            let ent = &rest[1..n];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, n + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
