//! Turning text into index terms.
//!
//! Why a module of its own: the browser must turn a query into terms exactly the
//! way the build turned pages into terms, or a query silently finds nothing.
//! Every rule here has a twin in `theme/search.js` (`tokenize`, `fold`, `stem`);
//! the tests below pin the rules down, and `agreement.rs` runs the JS twin
//! under node over a generated word list and a set of texts and compares.
//!
//! The rules:
//! 1. Fold: NFD, drop combining marks (accents), map `’` to `'`. Case is kept for
//!    now, because camelCase boundaries are needed in step 3.
//! 2. Split into Unicode words (UAX #29, `unicode-segmentation`); a segment is a
//!    word when it holds a letter or digit. Words joined by exactly one of
//!    `- / : @ .` with no space form a *compound* (`kube-proxy`, `eu-west-1`,
//!    `api.example.com`); adjacent words with nothing between them
//!    (ideographs) stay apart.
//! 3. A compound is split further at every character that is not a letter,
//!    digit or apostrophe (`_ . : -` ...) and at camelCase boundaries
//!    (`OOMKilled` → `OOM`, `Killed`); these pieces are the *parts*; apostrophes
//!    at their edges are dropped.
//! 4. Every part is lower-cased and stemmed (Snowball English). When a compound
//!    has more than one part, the whole compound, lower-cased and not stemmed,
//!    is a term too, so `kube-proxy` and `oomkilled` are found whole and by
//!    their pieces; `p95` and `5xx` are single words and stay whole.
//! 5. Parts and wholes over [`MAX_TERM_CHARS`] characters are dropped, and so
//!    are parts with a run of more than [`MAX_PART_DIGITS`] digits and wholes
//!    with a run of more than [`MAX_WHOLE_DIGITS`] (measurements, timestamps,
//!    ids and table cells run together: a fifth of the postings of a site with
//!    code and tables, and nobody searches for them). `INC-84712` is still
//!    found whole; `5432`, `2024` and `p95` are kept.

use std::borrow::Cow;
use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// Terms longer than this (hashes, base64 blobs, long URLs) are not indexed.
pub const MAX_TERM_CHARS: usize = 40;

/// A part with a longer run of ASCII digits (`48213`, `req20240115`) is not
/// indexed: numbers up to four digits (ports, years, status codes) are.
pub const MAX_PART_DIGITS: usize = 4;

/// A whole compound with a longer run of ASCII digits is not indexed either, so
/// ticket ids (`JIRA-123456`) stay findable and timestamps do not.
pub const MAX_WHOLE_DIGITS: usize = 7;

/// Whether a part or whole (`max_digits` says which) is indexed at all.
fn indexable(term: &str, max_digits: usize) -> bool {
    let mut run = 0;
    for b in term.bytes() {
        if b.is_ascii_digit() {
            run += 1;
            if run > max_digits {
                return false;
            }
        } else {
            run = 0;
        }
    }
    term.chars().count() <= MAX_TERM_CHARS
}

/// Characters that glue two words into one compound when they stand alone
/// between them.
const JOINERS: [&str; 5] = ["-", "/", ":", "@", "."];

/// One compound as it appeared in the text: its lower-cased whole form (set
/// only when it has more than one part) and its stemmed parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub whole: Option<String>,
    pub parts: Vec<String>,
    /// Parts lower-cased but not stemmed (for the typo vocabulary).
    pub surface: Vec<String>,
}

impl Group {
    /// Every term the group contributes, whole first.
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.whole
            .iter()
            .map(String::as_str)
            .chain(self.parts.iter().map(String::as_str))
    }
}

/// Removes accents (NFD minus combining marks) and normalises the apostrophe.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text); // already NFD, no marks, no curly apostrophe
    }
    Cow::Owned(fold_unicode(text))
}

fn fold_unicode(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if c == '\u{2019}' { '\'' } else { c })
        .collect()
}

/// One term as [`scan`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term<'a> {
    /// A compound of several parts, lower-cased, not stemmed.
    Whole(&'a str),
    /// One part, lower-cased, not stemmed (the caller stems it: the build
    /// caches stems per word, queries do not need to).
    Part(&'a str),
    /// The end of a group.
    End,
}

/// Splits `text` into groups of terms. See the module comment for the rules.
pub fn tokenize(text: &str, stemmer: &Stemmer) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut g = Group {
        whole: None,
        parts: vec![],
        surface: vec![],
    };
    scan(text, &mut |t| match t {
        Term::Whole(w) => g.whole = Some(w.to_owned()),
        Term::Part(surface) => {
            g.surface.push(surface.to_owned());
            g.parts.push(stemmer.stem(surface).into_owned());
        }
        Term::End => groups.push(std::mem::replace(
            &mut g,
            Group {
                whole: None,
                parts: vec![],
                surface: vec![],
            },
        )),
    });
    groups
}

/// The allocation-free core of [`tokenize`]: reports each group's whole form
/// (if any), then its parts, then [`Term::End`]. The build calls this on every
/// word of the site, so it reuses buffers and leaves stemming to the caller.
pub fn scan(text: &str, sink: &mut impl FnMut(Term)) {
    let folded = fold(text);
    let mut buf = Buffers::default();
    let mut start = 0usize; // byte offset of the current compound
    let mut end = 0usize;
    let mut words = 0usize;
    let mut pending_joiner = false;
    for (offset, seg) in folded.split_word_bound_indices() {
        if is_wordlike(seg) {
            if words > 0 && !pending_joiner {
                emit_group(&folded[start..end], words, &mut buf, sink);
                words = 0;
            }
            if words == 0 {
                start = offset;
            }
            words += 1;
            end = offset + seg.len();
            pending_joiner = false;
        } else if words > 0 && !pending_joiner && offset == end && JOINERS.contains(&seg) {
            pending_joiner = true;
        } else if words > 0 {
            emit_group(&folded[start..end], words, &mut buf, sink);
            words = 0;
            pending_joiner = false;
        }
    }
    if words > 0 {
        emit_group(&folded[start..end], words, &mut buf, sink);
    }
}

#[derive(Default)]
struct Buffers {
    pieces: Vec<(usize, usize)>,
    lower: String,
}

fn is_wordlike(seg: &str) -> bool {
    seg.bytes().any(|b| b.is_ascii_alphanumeric())
        || (!seg.is_ascii() && seg.chars().any(char::is_alphanumeric))
}

fn emit_group(whole: &str, words: usize, buf: &mut Buffers, sink: &mut impl FnMut(Term)) {
    buf.pieces.clear();
    split_word(whole, &mut buf.pieces);
    let kept = buf
        .pieces
        .iter()
        .filter(|&&(a, b)| indexable(&whole[a..b], MAX_PART_DIGITS))
        .count();
    if (words > 1 || kept > 1) && indexable(whole, MAX_WHOLE_DIGITS) {
        lowercase_into(whole, &mut buf.lower);
        sink(Term::Whole(&buf.lower));
    }
    for &(a, b) in &buf.pieces {
        let piece = &whole[a..b];
        if !indexable(piece, MAX_PART_DIGITS) {
            continue;
        }
        lowercase_into(piece, &mut buf.lower);
        sink(Term::Part(&buf.lower));
    }
    sink(Term::End);
}

fn lowercase_into(s: &str, out: &mut String) {
    out.clear();
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Splits a compound into its parts: at any character that is not a letter,
/// digit or apostrophe, and at camelCase boundaries. Pushes byte ranges.
fn split_word(word: &str, out: &mut Vec<(usize, usize)>) {
    let mut piece_start: Option<usize> = None;
    let mut prev = ' ';
    let mut iter = word.char_indices().peekable();
    while let Some((off, c)) = iter.next() {
        if !(c.is_alphanumeric() || c == '\'') {
            if let Some(s) = piece_start.take() {
                push_piece(word, s, off, out);
            }
            prev = c;
            continue;
        }
        match piece_start {
            None => piece_start = Some(off),
            Some(s) => {
                let next = iter.peek().map(|&(_, n)| n);
                // fooBar: lower then upper; OOMKilled: upper then upper+lower.
                let boundary = c.is_uppercase()
                    && (prev.is_lowercase()
                        || (prev.is_uppercase() && next.is_some_and(char::is_lowercase)));
                if boundary {
                    push_piece(word, s, off, out);
                    piece_start = Some(off);
                }
            }
        }
        prev = c;
    }
    if let Some(s) = piece_start {
        push_piece(word, s, word.len(), out);
    }
}

fn push_piece(word: &str, mut a: usize, mut b: usize, out: &mut Vec<(usize, usize)>) {
    // Apostrophes at the edges are quotes, not part of the word.
    while a < b && word.as_bytes()[a] == b'\'' {
        a += 1;
    }
    while b > a && word.as_bytes()[b - 1] == b'\'' {
        b -= 1;
    }
    if word[a..b].chars().any(char::is_alphanumeric) {
        out.push((a, b));
    }
}

/// A fast, non-cryptographic hasher (the Fx hash of rustc) for the build's
/// in-memory maps: keys are index terms, not attacker-chosen input, and SipHash
/// was a tenth of the build time.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.add(b as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`]. Never iterated into output without sorting.
pub type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// The English Snowball stemmer the index and `search.js` share.
pub fn english_stemmer() -> Stemmer {
    Stemmer::create(Algorithm::English)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        let s = english_stemmer();
        tokenize(text, &s)
            .iter()
            .flat_map(|g| g.terms().map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn plain_words_are_lowercased_and_stemmed() {
        assert_eq!(
            terms("Restarting the Pods quickly"),
            ["restart", "the", "pod", "quick"]
        );
    }

    #[test]
    fn hyphenated_identifier_is_kept_whole_and_split() {
        assert_eq!(
            terms("check kube-proxy logs"),
            ["check", "kube-proxy", "kube", "proxi", "log"]
        );
        assert_eq!(terms("eu-west-1"), ["eu-west-1", "eu", "west", "1"]);
    }

    #[test]
    fn camel_case_identifier_is_kept_whole_and_split() {
        assert_eq!(terms("OOMKilled"), ["oomkilled", "oom", "kill"]);
        assert_eq!(terms("maxReplicas"), ["maxreplicas", "max", "replica"]);
    }

    #[test]
    fn letters_with_digits_stay_one_term() {
        assert_eq!(terms("p95 and 5xx"), ["p95", "and", "5xx"]);
    }

    #[test]
    fn snake_case_and_dotted_names_are_split() {
        assert_eq!(
            terms("rate_limit_per_ip"),
            ["rate_limit_per_ip", "rate", "limit", "per", "ip"]
        );
        assert_eq!(
            terms("geo-lookup.example.com"),
            ["geo-lookup.example.com", "geo", "lookup", "exampl", "com"]
        );
    }

    #[test]
    fn accents_are_folded() {
        assert_eq!(fold("Café naïve résumé"), "Cafe naive resume");
        assert_eq!(terms("Ünïcödé"), ["unicod"]);
    }

    #[test]
    fn punctuation_and_spaces_end_a_compound() {
        assert_eq!(terms("a - b"), ["a", "b"]);
        assert_eq!(terms("end. Next"), ["end", "next"]);
        assert_eq!(terms("(kube-proxy)"), ["kube-proxy", "kube", "proxi"]);
    }

    #[test]
    fn apostrophes_are_normalised() {
        assert_eq!(terms("the team’s runbook"), ["the", "team", "runbook"]);
    }

    #[test]
    fn overlong_tokens_are_dropped() {
        let long = "a".repeat(MAX_TERM_CHARS + 1);
        assert!(terms(&long).is_empty());
    }

    #[test]
    fn long_digit_runs_are_dropped() {
        assert_eq!(terms("port 5432 in 2024"), ["port", "5432", "in", "2024"]);
        assert!(terms("48213 1700000000").is_empty());
        assert_eq!(terms("INC-84712"), ["inc-84712", "inc"]);
        assert_eq!(terms("req-20240115093000"), ["req"]);
        assert_eq!(terms("baseline30133696838"), Vec::<String>::new());
        assert_eq!(terms("fooBar12345"), ["foo"]);
    }

    #[test]
    fn ideographs_are_single_terms() {
        assert_eq!(terms("北京 ok"), ["北", "京", "ok"]);
    }
}
