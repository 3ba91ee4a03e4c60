//! Code highlighting with syntect, as one short CSS class per token (`theme/highlight.css`
//! colours them in light, dark and print), behind a content-addressed cache.
//!
//! Why short classes rather than syntect's scope stacks as classes: the stacks (`hl-meta
//! hl-function-call hl-shell`, nested several deep) made up 40% of a code-heavy page and
//! styled nothing a reader could see; a token's colour is one of a dozen roles anyway.
//!
//! Highlighting dominates build time, so: syntect is loaded once per process, each distinct
//! block is highlighted once per build, and results persist between builds in one cache
//! file. The cache never changes output: a hit returns exactly what a miss would compute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use syntect::highlighting::{
    Color, HighlightIterator, HighlightState, Highlighter as Matcher, ScopeSelectors,
    StyleModifier, Theme, ThemeItem, ThemeSettings,
};
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

/// Token classes (the `X` of `hl-X`) and the TextMate scope selectors that give them. A token
/// takes the class whose selector matches its scope stack best, by syntect's theme rules (the
/// deeper and longer match wins), so `keyword.operator` stays plain although `keyword` is `k`,
/// and the `$` and braces of `${VAR}` inside a string are `v`. An empty class means no span.
const CLASSES: &[(&str, &str)] = &[
    (
        "",
        "keyword.operator, punctuation.separator, punctuation.terminator, invalid",
    ),
    ("c", "comment"),
    ("s", "string"),
    ("n", "constant, support.constant"),
    ("k", "keyword, storage"),
    (
        "f",
        "entity.name.function, support.function, variable.function",
    ),
    (
        "t",
        "entity.name.type, entity.name.class, support.type, support.class, \
         entity.other.inherited-class",
    ),
    (
        "v",
        "variable.parameter, variable.other.readwrite.shell, meta.group.expansion.parameter, \
         variable.language",
    ),
    (
        "g",
        "entity.name.tag, meta.structure.dictionary.key.json string, meta.mapping.key string",
    ),
    ("a", "entity.other.attribute-name"),
    ("h", "markup.heading, entity.name.section"),
    ("i", "markup.inserted"),
    ("d", "markup.deleted"),
    ("r", "meta.diff.range, meta.diff.header"),
    ("b", "markup.bold"),
    ("e", "markup.italic"),
];

/// Bump when highlighting output changes shape, so old cache files are ignored.
const CACHE_VERSION: u64 = 3;
const SHARDS: usize = 32;
/// Without a cache folder, repeated blocks are still highlighted once, but only this many
/// bytes of highlighted HTML are kept for that, so memory stays flat on huge sites.
const DEDUP_BUDGET: usize = 32 << 20;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

type Index = HashMap<u128, (u64, u32)>;

/// Highlights code; shared by all render threads.
///
/// The cache is two files: `highlight.dat` (the HTML of each block, back to back) and
/// `highlight.idx` (key, offset, length). Only the index is held in memory; blocks are read
/// from disk when hit, and every block this build uses is appended to the next generation of
/// the files, which replaces the old one on [`Highlighter::save`]. Memory therefore stays
/// proportional to the number of blocks, not their size.
pub struct Highlighter {
    previous: Option<(Index, std::fs::File)>,
    next: Option<Mutex<NextCache>>,
    /// Repeated blocks within a build when there is no cache folder (bounded).
    dedup: Vec<Mutex<HashMap<u128, Arc<str>>>>,
    dedup_bytes: std::sync::atomic::AtomicUsize,
    /// Escape only, never highlight (see [`Highlighter::plain`]).
    plain: bool,
}

struct NextCache {
    dir: PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
    reader: std::fs::File,
    index: Index,
    len: u64,
}

impl Highlighter {
    /// `cache_dir = None` disables the persistent cache.
    pub fn new(cache_dir: Option<&Path>) -> Highlighter {
        let previous = cache_dir.and_then(read_index);
        let next = cache_dir.and_then(|dir| {
            std::fs::create_dir_all(dir).ok()?;
            let tmp = dir.join(format!("highlight.dat.tmp-{}", std::process::id()));
            let file = std::fs::File::create(&tmp).ok()?;
            let reader = std::fs::File::open(&tmp).ok()?;
            Some(Mutex::new(NextCache {
                dir: dir.to_path_buf(),
                writer: std::io::BufWriter::new(file),
                reader,
                index: Index::new(),
                len: 0,
            }))
        });
        Highlighter {
            previous,
            next,
            dedup: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            dedup_bytes: std::sync::atomic::AtomicUsize::new(0),
            plain: false,
        }
    }

    /// A highlighter that only escapes code, for builds whose HTML nobody reads (`check`).
    pub fn plain() -> Highlighter {
        let mut h = Highlighter::new(None);
        h.plain = true;
        h
    }

    /// HTML for the inside of `<code>`: escaped, with `hl-` class spans.
    pub fn highlight(&self, lang: &str, code: &str) -> Arc<str> {
        if self.plain {
            return Arc::from(escape_html(code));
        }
        let key = cache_key(lang, code);
        if let Some(next) = &self.next {
            let Ok(mut n) = next.lock() else {
                return Arc::from(highlight_uncached(lang, code));
            };
            if let Some(&(off, len)) = n.index.get(&key) {
                use std::io::Write;
                if n.writer.flush().is_ok() {
                    if let Some(s) = read_at(&n.reader, off, len) {
                        return Arc::from(s);
                    }
                }
            }
            drop(n);
            let html: String = self
                .previous
                .as_ref()
                .and_then(|(idx, file)| {
                    idx.get(&key)
                        .and_then(|&(off, len)| read_at(file, off, len))
                })
                .unwrap_or_else(|| highlight_uncached(lang, code));
            if let Ok(mut n) = next.lock() {
                use std::io::Write;
                if !n.index.contains_key(&key) && n.writer.write_all(html.as_bytes()).is_ok() {
                    let at = n.len;
                    n.index.insert(key, (at, html.len() as u32));
                    n.len += html.len() as u64;
                }
            }
            return Arc::from(html);
        }
        let shard = &self.dedup[(key as usize) % SHARDS];
        if let Some(hit) = shard.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return hit;
        }
        let html: Arc<str> = Arc::from(highlight_uncached(lang, code));
        use std::sync::atomic::Ordering;
        if self.dedup_bytes.load(Ordering::Relaxed) < DEDUP_BUDGET {
            self.dedup_bytes.fetch_add(html.len(), Ordering::Relaxed);
            if let Ok(mut m) = shard.lock() {
                m.insert(key, html.clone());
            }
        }
        html
    }

    /// Publishes the blocks used by this build as the new cache, dropping the rest (so the
    /// cache never grows without bound). Errors are ignored: a cache is an optimisation.
    pub fn save(&self) {
        let Some(next) = &self.next else { return };
        let Ok(mut n) = next.lock() else { return };
        use std::io::Write;
        if n.writer.flush().is_err() {
            return;
        }
        let mut entries: Vec<(u128, (u64, u32))> = n.index.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_by_key(|e| e.0);
        let mut buf = Vec::with_capacity(8 + entries.len() * 28);
        buf.extend_from_slice(&CACHE_VERSION.to_le_bytes());
        for (k, (off, len)) in entries {
            buf.extend_from_slice(&k.to_le_bytes());
            buf.extend_from_slice(&off.to_le_bytes());
            buf.extend_from_slice(&len.to_le_bytes());
        }
        let tmp_dat = n
            .dir
            .join(format!("highlight.dat.tmp-{}", std::process::id()));
        let tmp_idx = n
            .dir
            .join(format!("highlight.idx.tmp-{}", std::process::id()));
        // Data first, index last: an index never points into a file it does not describe,
        // and a reader that finds a stale pair just misses.
        let _ = std::fs::remove_file(n.dir.join("highlight.idx"));
        if std::fs::rename(&tmp_dat, n.dir.join("highlight.dat")).is_ok()
            && std::fs::write(&tmp_idx, buf).is_ok()
        {
            let _ = std::fs::rename(&tmp_idx, n.dir.join("highlight.idx"));
        }
        n.index.clear();
    }
}

impl Drop for Highlighter {
    fn drop(&mut self) {
        if let Some(next) = &self.next {
            if let Ok(n) = next.lock() {
                let _ = std::fs::remove_file(
                    n.dir
                        .join(format!("highlight.dat.tmp-{}", std::process::id())),
                );
            }
        }
    }
}

fn cache_key(lang: &str, code: &str) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(lang.as_bytes());
    h.update(&[0]);
    h.update(code.as_bytes());
    h.digest128()
}

fn read_index(dir: &Path) -> Option<(Index, std::fs::File)> {
    let buf = std::fs::read(dir.join("highlight.idx")).ok()?;
    let file = std::fs::File::open(dir.join("highlight.dat")).ok()?;
    let size = file.metadata().ok()?.len();
    if buf.len() < 8 || buf[..8] != CACHE_VERSION.to_le_bytes() {
        return None;
    }
    let mut index = Index::new();
    for e in buf[8..].chunks_exact(28) {
        let key = u128::from_le_bytes(e[..16].try_into().ok()?);
        let off = u64::from_le_bytes(e[16..24].try_into().ok()?);
        let len = u32::from_le_bytes(e[24..28].try_into().ok()?);
        if off + len as u64 > size {
            return None;
        }
        index.insert(key, (off, len));
    }
    Some((index, file))
}

fn read_at(file: &std::fs::File, off: u64, len: u32) -> Option<String> {
    let mut buf = vec![0u8; len as usize];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buf, off).ok()?;
    }
    #[cfg(not(unix))]
    {
        use std::os::windows::fs::FileExt;
        let mut done = 0;
        while done < buf.len() {
            let n = file.seek_read(&mut buf[done..], off + done as u64).ok()?;
            if n == 0 {
                return None;
            }
            done += n;
        }
    }
    String::from_utf8(buf).ok()
}

/// A syntect theme whose "colours" are indices into [`CLASSES`] (in the red channel), so that
/// syntect's own selector matching and style caching pick each token's class.
fn class_theme() -> &'static Theme {
    static THEME: OnceLock<Theme> = OnceLock::new();
    THEME.get_or_init(|| {
        let index = |i: usize| Color {
            r: i as u8,
            g: 0,
            b: 0,
            a: 0xFF,
        };
        Theme {
            settings: ThemeSettings {
                foreground: Some(index(0)),
                ..ThemeSettings::default()
            },
            scopes: CLASSES
                .iter()
                .enumerate()
                .map(|(i, (_, selectors))| ThemeItem {
                    scope: ScopeSelectors::from_str(selectors).expect("valid scope selectors"),
                    style: StyleModifier {
                        foreground: Some(index(i)),
                        ..StyleModifier::default()
                    },
                })
                .collect(),
            ..Theme::default()
        }
    })
}

pub fn highlight_uncached(lang: &str, code: &str) -> String {
    let ss = syntaxes();
    let syntax = match (!lang.is_empty())
        .then(|| ss.find_syntax_by_token(lang))
        .flatten()
    {
        Some(s) => s,
        None => return escape_html(code),
    };
    let matcher = Matcher::new(class_theme());
    let mut state = HighlightState::new(&matcher, ScopeStack::new());
    let mut parse = ParseState::new(syntax);
    let mut out = String::with_capacity(code.len() + code.len() / 2);
    // Runs of one class become one span, across token and line boundaries.
    let mut open = "";
    for line in LinesWithEndings::from(code) {
        let Ok(ops) = parse.parse_line(line, ss) else {
            return escape_html(code);
        };
        for (style, text) in HighlightIterator::new(&mut state, &ops, line, &matcher) {
            let class = CLASSES.get(style.foreground.r as usize).map_or("", |c| c.0);
            // Whitespace never opens or closes a span: it joins whatever run it is in.
            if class != open && !text.trim().is_empty() {
                if !open.is_empty() {
                    out.push_str("</span>");
                }
                if !class.is_empty() {
                    out.push_str("<span class=\"hl-");
                    out.push_str(class);
                    out.push_str("\">");
                }
                open = class;
            }
            escape_into(&mut out, text);
        }
    }
    if !open.is_empty() {
        out.push_str("</span>");
    }
    out
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    escape_into(&mut out, s);
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_classes_unknown_falls_back_to_escaped_text() {
        let h = highlight_uncached("sh", "echo \"<hi>\"\n");
        assert!(h.contains("class=\"hl-"), "{h}");
        assert!(h.contains("&lt;hi&gt;"));
        assert_eq!(highlight_uncached("no-such-lang", "a < b\n"), "a &lt; b\n");
    }

    #[test]
    fn cache_round_trips_and_never_changes_output() {
        let dir = std::env::temp_dir().join(format!("sb-hl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let h = Highlighter::new(Some(&dir));
        let first = h.highlight("python", "def f():\n    return 1\n");
        h.save();
        drop(h);
        let h2 = Highlighter::new(Some(&dir));
        assert_eq!(h2.previous.as_ref().map(|p| p.0.len()), Some(1));
        assert_eq!(h2.highlight("python", "def f():\n    return 1\n"), first);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The classes each sample's tokens get, as (class, text) runs, whitespace dropped.
    fn runs(lang: &str, code: &str) -> Vec<(String, String)> {
        let html = highlight_uncached(lang, code);
        let mut out = Vec::new();
        for part in html.split("<span class=\"hl-").skip(1) {
            let (class, rest) = part.split_once("\">").unwrap();
            let text = rest.split("</span>").next().unwrap();
            let text = text.replace("&quot;", "\"").replace("&#39;", "'");
            out.push((class.to_string(), text.trim().to_string()));
        }
        out
    }

    #[test]
    fn tokens_get_the_class_of_their_role() {
        let sh = runs(
            "sh",
            "kubectl scale --replicas=3 \"${NS}\" # up\nif true; then echo 'x'; fi\n",
        );
        let has =
            |r: &[(String, String)], c: &str, t: &str| r.iter().any(|(rc, rt)| rc == c && rt == t);
        assert!(has(&sh, "f", "kubectl"), "{sh:?}");
        assert!(has(&sh, "v", "--replicas"), "{sh:?}");
        assert!(
            has(&sh, "v", "${NS}"),
            "an expansion is one variable run: {sh:?}"
        );
        assert!(has(&sh, "c", "# up"), "{sh:?}");
        assert!(has(&sh, "k", "if"), "{sh:?}");
        assert!(has(&sh, "s", "'x'"), "{sh:?}");
        let yaml = runs("yaml", "replicas: 3\nname: \"api\"\n");
        assert!(has(&yaml, "g", "replicas") && has(&yaml, "n", "3") && has(&yaml, "s", "\"api\""));
        let json = runs("json", "{\"a\": \"b\"}\n");
        assert!(
            has(&json, "g", "\"a\"") && has(&json, "s", "\"b\""),
            "{json:?}"
        );
        let diff = runs("diff", "@@ -1 +1 @@\n-old\n+new\n ctx\n");
        assert!(
            has(&diff, "d", "-old") && has(&diff, "i", "+new"),
            "{diff:?}"
        );
        assert!(
            diff.iter().all(|(_, t)| t != "ctx"),
            "context lines stay plain"
        );
        // Operators and separators stay plain.
        assert!(!runs("sql", "SELECT a FROM t WHERE b = 1;\n")
            .iter()
            .any(|(_, t)| t == "=" || t == ";"));
    }

    #[test]
    fn output_is_compact_and_the_text_is_unchanged() {
        let code = "def f(x: int) -> str:\n    return \"<a>\" if x else None  # why\n";
        let html = highlight_uncached("python", code);
        // Every span opens a single short class, and spans never nest.
        assert_eq!(
            html.matches("<span").count(),
            html.matches("</span>").count()
        );
        let mut depth = 0;
        for piece in html.split('<').skip(1) {
            if piece.starts_with("span") {
                depth += 1;
                assert!(depth == 1, "nested span in {html}");
                assert!(
                    piece.starts_with("span class=\"hl-")
                        && piece
                            .find('"')
                            .map(|_| piece.split('"').nth(1).unwrap().len())
                            == Some(4),
                    "{piece}"
                );
            } else if piece.starts_with("/span") {
                depth -= 1;
            }
        }
        let text: String = html
            .split('<')
            .enumerate()
            .map(|(i, p)| {
                if i == 0 {
                    p
                } else {
                    p.split_once('>').map_or("", |x| x.1)
                }
            })
            .collect();
        let unescaped = text
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        assert_eq!(unescaped, code);
    }

    fn parse_hex(hex: &str) -> [u8; 3] {
        let b = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap();
        [b(0), b(2), b(4)]
    }

    fn luminance(rgb: [u8; 3]) -> f64 {
        let lin = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
    }

    fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// `--name: #rrggbb` declarations of the block that starts at `selector`.
    fn vars(css: &str, selector: &str) -> HashMap<String, [u8; 3]> {
        let at = css
            .find(selector)
            .unwrap_or_else(|| panic!("no {selector}"));
        let block = &css[at..];
        let block = &block[block.find('{').unwrap() + 1..block.find('}').unwrap()];
        block
            .split(';')
            .filter_map(|d| d.split_once(": #"))
            .map(|(k, v)| (k.trim().to_string(), parse_hex(v.trim())))
            .collect()
    }

    #[test]
    fn every_class_is_styled_and_every_colour_meets_aa_contrast_in_both_modes() {
        let css = include_str!("../theme/highlight.css");
        let style = include_str!("../theme/style.css");
        let light_bg = vars(style, ":root {")["--code-bg"];
        let dark_bg = vars(style, ":root[data-theme=dark]")["--code-bg"];
        let light = vars(css, ":root {");
        let dark = vars(css, ":root[data-theme=dark]");
        // The two dark blocks (preference and choice) and the print block agree.
        assert_eq!(vars(css, ":root:not([data-theme=light]) {"), dark);
        let print = &css[css.find("@media print").unwrap()..];
        assert_eq!(vars(print, ":root, "), light);
        for (mode, colours, bg) in [("light", &light, light_bg), ("dark", &dark, dark_bg)] {
            for (name, &c) in colours.iter().filter(|(n, _)| !n.ends_with("-bg")) {
                let bg = colours.get(&format!("{name}-bg")).copied().unwrap_or(bg);
                let ratio = contrast(c, bg);
                assert!(ratio >= 4.5, "{mode} {name}: {ratio:.2}");
            }
        }
        for (class, _) in CLASSES.iter().filter(|c| !c.0.is_empty()) {
            assert!(
                css.contains(&format!("\n.hl-{class} {{")),
                "hl-{class} has no rule"
            );
        }
    }
}
