//! Code highlighting with syntect, as CSS classes (one generated stylesheet carries the light
//! and the dark theme), behind a content-addressed cache.
//!
//! Highlighting dominates build time, so: syntect is loaded once per process, each distinct
//! block is highlighted once per build, and results persist between builds in one cache
//! file. The cache never changes output: a hit returns exactly what a miss would compute.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use syntect::highlighting::ThemeSet;
use syntect::html::{css_for_theme_with_class_style, ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };
/// Bump when highlighting output changes shape, so old cache files are ignored.
const CACHE_VERSION: u64 = 1;
const SHARDS: usize = 32;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Highlights code; shared by all render threads.
pub struct Highlighter {
    /// Loaded from disk at start; read without locks.
    previous: HashMap<u128, Arc<str>>,
    /// Everything used in this build (hits and fresh work), split into shards so threads
    /// rarely wait on each other.
    used: Vec<Mutex<HashMap<u128, Arc<str>>>>,
    cache_file: Option<PathBuf>,
}

impl Highlighter {
    /// `cache_dir = None` disables the persistent cache.
    pub fn new(cache_dir: Option<&Path>) -> Highlighter {
        let cache_file = cache_dir.map(|d| d.join("highlight.bin"));
        let previous = cache_file.as_deref().map(read_cache).unwrap_or_default();
        Highlighter {
            previous,
            used: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            cache_file,
        }
    }

    /// Whether `lang` names a syntax we know (else the block is plain text).
    pub fn knows(lang: &str) -> bool {
        !lang.is_empty() && syntaxes().find_syntax_by_token(lang).is_some()
    }

    /// HTML for the inside of `<code>`: escaped, with `hl-` class spans.
    pub fn highlight(&self, lang: &str, code: &str) -> Arc<str> {
        let key = cache_key(lang, code);
        let shard = &self.used[(key as usize) % SHARDS];
        if let Some(hit) = shard.lock().map(|m| m.get(&key).cloned()).ok().flatten() {
            return hit;
        }
        let html: Arc<str> = match self.previous.get(&key) {
            Some(h) => h.clone(),
            None => Arc::from(highlight_uncached(lang, code)),
        };
        if let Ok(mut m) = shard.lock() {
            m.insert(key, html.clone());
        }
        html
    }

    /// Writes the blocks used by this build, dropping the rest (so the cache never grows
    /// without bound). Errors are ignored: a cache is an optimisation.
    pub fn save(&self) {
        let Some(path) = &self.cache_file else { return };
        let mut entries: Vec<(u128, Arc<str>)> = Vec::new();
        for shard in &self.used {
            if let Ok(m) = shard.lock() {
                entries.extend(m.iter().map(|(k, v)| (*k, v.clone())));
            }
        }
        entries.sort_by_key(|e| e.0);
        let mut buf = Vec::with_capacity(entries.iter().map(|e| e.1.len() + 20).sum::<usize>() + 8);
        buf.extend_from_slice(&CACHE_VERSION.to_le_bytes());
        for (k, v) in entries {
            buf.extend_from_slice(&k.to_le_bytes());
            buf.extend_from_slice(&(v.len() as u32).to_le_bytes());
            buf.extend_from_slice(v.as_bytes());
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, buf).is_ok() {
            let _ = std::fs::rename(&tmp, path);
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

fn read_cache(path: &Path) -> HashMap<u128, Arc<str>> {
    let mut map = HashMap::new();
    let Ok(buf) = std::fs::read(path) else {
        return map;
    };
    if buf.len() < 8 || buf[..8] != CACHE_VERSION.to_le_bytes() {
        return map;
    }
    let mut i = 8;
    while i + 20 <= buf.len() {
        let key = u128::from_le_bytes(buf[i..i + 16].try_into().unwrap_or([0; 16]));
        let len = u32::from_le_bytes(buf[i + 16..i + 20].try_into().unwrap_or([0; 4])) as usize;
        i += 20;
        let Some(bytes) = buf.get(i..i + len) else {
            break;
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                map.insert(key, Arc::from(s));
            }
            Err(_) => return HashMap::new(),
        }
        i += len;
    }
    map
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
    let mut gen = ClassedHTMLGenerator::new_with_class_style(syntax, ss, CLASS_STYLE);
    for line in LinesWithEndings::from(code) {
        if gen
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            return escape_html(code);
        }
    }
    gen.finalize()
}

/// The stylesheet for highlighted code: light by default, dark under
/// `prefers-color-scheme: dark` unless the reader chose light, and under `[data-theme=dark]`.
pub fn stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let light = css_for_theme_with_class_style(&themes.themes["InspiredGitHub"], CLASS_STYLE)
        .unwrap_or_default();
    let dark = css_for_theme_with_class_style(&themes.themes["base16-ocean.dark"], CLASS_STYLE)
        .unwrap_or_default();
    let mut out = String::from("/* Generated by scalebook from syntect themes InspiredGitHub (light) and base16-ocean.dark (dark). */\n");
    out.push_str(&strip_backgrounds(&light));
    out.push_str("@media (prefers-color-scheme: dark) {\n");
    out.push_str(&scope(
        &strip_backgrounds(&dark),
        ":root:not([data-theme=light])",
    ));
    out.push_str("}\n");
    out.push_str(&scope(&strip_backgrounds(&dark), ":root[data-theme=dark]"));
    out
}

/// Theme backgrounds would fight the site's own code background; keep only colours and
/// font styles.
fn strip_backgrounds(css: &str) -> String {
    css.lines()
        .filter(|l| !l.trim_start().starts_with("background-color"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn scope(css: &str, prefix: &str) -> String {
    let mut out = String::new();
    for line in css.lines() {
        let t = line.trim_start();
        if t.starts_with('.') && t.trim_end().ends_with('{') {
            let sels: Vec<String> = t
                .trim_end()
                .trim_end_matches('{')
                .split(',')
                .map(|s| format!("{prefix} {}", s.trim()))
                .collect();
            out.push_str(&sels.join(", "));
            out.push_str(" {\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
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
    out
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
        let h2 = Highlighter::new(Some(&dir));
        assert_eq!(h2.previous.len(), 1);
        assert_eq!(h2.highlight("python", "def f():\n    return 1\n"), first);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn stylesheet_has_light_and_dark_rules() {
        let css = stylesheet();
        assert!(css.contains(".hl-"));
        assert!(css.contains(":root[data-theme=dark] .hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}
