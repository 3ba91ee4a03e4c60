//! From pages and sections to scored postings.
//!
//! Why scores are computed here and not in the browser: the browser then never
//! needs document lengths, field statistics or document frequencies: a posting
//! carries its final BM25F score (with the term's idf folded in) as one byte,
//! and a query only adds bytes up. This is what lets a shard be a plain sorted
//! list of terms with their postings.
//!
//! A *section* is one search document: the top of a page (title, tags, owner,
//! severity, description and any text before the first heading), a heading
//! section, or a checklist step. Sections are numbered per page in the order the
//! core gave them, the page top first; the fragment file of a page lists them in
//! the same order, so a posting says `(page, section)` and nothing more.

use rayon::prelude::*;

use super::text::{english_stemmer, scan, FxMap, Term};
use super::{SearchDoc, SearchPage};

/// Field weights for BM25F. Title, tags and headings (including step text)
/// weigh more than the body, so a title match beats a body match.
/// Short-field weights are whole numbers so a posting under construction holds
/// their weighted count in a `u16` (memory: one posting is 8 bytes).
const W_TITLE: u16 = 6;
const W_TAGS: u16 = 3;
const W_HEADING: u16 = 3;
const W_DESCRIPTION: u16 = 2;
const W_BODY: f32 = 1.0;
/// BM25 saturation and body length normalisation. The short fields are not
/// length-normalised (b = 0): a heading is a heading.
const K1: f32 = 1.2;
const B_BODY: f32 = 0.75;

/// How many pages are tokenised at once: bounds peak memory at any site size.
const BATCH_PAGES: usize = 512;

/// One section as search sees it, in fragment order.
#[derive(Debug, Clone)]
pub struct Section {
    pub page: u32,
    pub anchor: String,
    pub heading: String,
    pub text: String,
    pub is_step: bool,
}

/// A scored, quantised posting: the score byte is `1..=255` on a log scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub page: u32,
    pub section: u16,
    pub score: u8,
}

/// Everything the encoder needs.
pub struct Scored {
    /// Sections grouped by page, in page order.
    pub sections: Vec<Vec<Section>>,
    /// Terms in byte order with their postings sorted by (page, section).
    pub terms: Vec<(String, Vec<Posting>)>,
    /// The score that byte 255 stands for.
    pub max_score: f32,
    /// Lower-cased, unstemmed words with their counts (for typo suggestions).
    pub words: FxMap<String, u32>,
}

/// Unquantised posting while the collection is being read.
struct Raw {
    section: u32,
    short_fields: u16,
    body_tf: u16,
}

/// Groups docs by page and puts a page-top section first: the core's own
/// page-top doc (anchor "") when it gave one, otherwise a synthetic one.
pub fn sections(pages: &[SearchPage], docs: &[SearchDoc]) -> Vec<Vec<Section>> {
    let mut by_page: Vec<Vec<Section>> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![Section {
                page: i as u32,
                anchor: String::new(),
                heading: p.title.clone(),
                text: String::new(),
                is_step: false,
            }]
        })
        .collect();
    for doc in docs {
        let Some(list) = by_page.get_mut(doc.page) else {
            panic!(
                "search doc `{}` points at page {} of {}",
                doc.heading,
                doc.page,
                pages.len()
            );
        };
        if doc.anchor.is_empty() && !doc.is_step && list.len() == 1 && list[0].text.is_empty() {
            // The page top: keep the title as heading, take the intro text.
            list[0].text = doc.text.clone();
        } else {
            list.push(Section {
                page: doc.page as u32,
                anchor: doc.anchor.clone(),
                heading: doc.heading.clone(),
                text: doc.text.clone(),
                is_step: doc.is_step,
            });
        }
    }
    by_page
}

/// One section's body length and its (local term, short-field tf, body tf).
type SectionTerms = (u32, Vec<(u32, u16, u16)>);

/// Per-section term statistics of one page, with terms numbered per page so
/// the sequential merge looks each distinct string up once per page.
struct PageTerms {
    terms: Vec<String>,
    sections: Vec<SectionTerms>,
    words: FxMap<String, u32>,
}

fn page_terms(page: &SearchPage, sections: &[Section]) -> PageTerms {
    let stemmer = english_stemmer();
    let mut local: FxMap<String, u32> = FxMap::default();
    let mut terms: Vec<String> = Vec::new();
    let mut words: FxMap<String, u32> = FxMap::default();
    let mut out = Vec::with_capacity(sections.len());
    let mut tf: FxMap<u32, (u16, u16)> = FxMap::default();
    for (i, sec) in sections.iter().enumerate() {
        tf.clear();
        let mut body_len = 0;
        let mut add = |text: &str, weight: Option<u16>| {
            scan(text, &stemmer, &mut |t| {
                let term = match t {
                    Term::Whole(w) => w,
                    Term::Part { surface, stem } => {
                        match words.get_mut(surface) {
                            Some(n) => *n += 1,
                            None => {
                                words.insert(surface.to_owned(), 1);
                            }
                        }
                        stem
                    }
                    Term::End => return,
                };
                let id = match local.get(term) {
                    Some(&id) => id,
                    None => {
                        let id = terms.len() as u32;
                        local.insert(term.to_owned(), id);
                        terms.push(term.to_owned());
                        id
                    }
                };
                let e = tf.entry(id).or_default();
                match weight {
                    Some(w) => e.0 = e.0.saturating_add(w),
                    None => {
                        e.1 = e.1.saturating_add(1);
                        body_len += 1;
                    }
                }
            })
        };
        if i == 0 {
            add(&page.title, Some(W_TITLE));
            let mut tags = page.tags.join(" ");
            for extra in [&page.owner, &page.severity].into_iter().flatten() {
                tags.push(' ');
                tags.push_str(extra);
            }
            add(&tags, Some(W_TAGS));
            add(&page.description, Some(W_DESCRIPTION));
        } else {
            add(&sec.heading, Some(W_HEADING));
        }
        add(&sec.text, None);
        let mut list: Vec<(u32, u16, u16)> = tf.iter().map(|(&t, &(s, b))| (t, s, b)).collect();
        list.sort_unstable_by_key(|e| e.0);
        out.push((body_len, list));
    }
    PageTerms {
        terms,
        sections: out,
        words,
    }
}

/// Reads every page, scores every (term, section) pair with BM25F, keeps at most
/// `max_postings` best postings per term and quantises the scores.
pub fn score(pages: &[SearchPage], docs: &[SearchDoc], max_postings: usize) -> Scored {
    let sections = sections(pages, docs);
    let mut ids: FxMap<String, u32> = FxMap::default();
    let mut names: Vec<String> = Vec::new();
    let mut postings: Vec<Vec<Raw>> = Vec::new();
    let mut body_lens: Vec<u32> = Vec::new();
    let mut section_of: Vec<(u32, u16)> = Vec::new();
    let mut words: FxMap<String, u32> = FxMap::default();

    // Tokenising a batch (parallel) overlaps with merging the one before it
    // (sequential: term ids are handed out in page order, for determinism).
    let mut merge = |first: usize, stats: Vec<PageTerms>| {
        for (i, page) in stats.into_iter().enumerate() {
            let global_ids: Vec<u32> = page
                .terms
                .into_iter()
                .map(|term| match ids.get(&term) {
                    Some(&id) => id,
                    None => {
                        let id = names.len() as u32;
                        ids.insert(term.clone(), id);
                        names.push(term);
                        postings.push(Vec::new());
                        id
                    }
                })
                .collect();
            for (local, (body_len, terms)) in page.sections.into_iter().enumerate() {
                let global = body_lens.len() as u32;
                body_lens.push(body_len);
                section_of.push(((first + i) as u32, local as u16));
                for (term, short_fields, body_tf) in terms {
                    postings[global_ids[term as usize] as usize].push(Raw {
                        section: global,
                        short_fields,
                        body_tf,
                    });
                }
            }
            for (w, n) in page.words {
                *words.entry(w).or_default() += n;
            }
        }
    };
    let tokenise = |first: usize, batch: &[Vec<Section>]| -> Vec<PageTerms> {
        batch
            .par_iter()
            .enumerate()
            .map(|(i, secs)| page_terms(&pages[first + i], secs))
            .collect()
    };
    let mut pending: Option<(usize, Vec<PageTerms>)> = None;
    for (b, batch) in sections.chunks(BATCH_PAGES).enumerate() {
        let first = b * BATCH_PAGES;
        let (stats, ()) = rayon::join(
            || tokenise(first, batch),
            || {
                if let Some((f, st)) = pending.take() {
                    merge(f, st)
                }
            },
        );
        pending = Some((first, stats));
    }
    if let Some((f, st)) = pending.take() {
        merge(f, st);
    }
    drop(ids);

    let n = body_lens.len().max(1) as f32;
    let avg_body = (body_lens.iter().map(|&l| l as f64).sum::<f64>() / n as f64).max(1.0) as f32;

    // Real-valued scores, pruned; then one global quantisation scale. Each
    // term's raw postings are freed as soon as they are scored.
    let mut scored: Vec<Vec<(u32, f32)>> = postings
        .into_par_iter()
        .map(|list| {
            let df = list.len() as f32;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let mut s: Vec<(u32, f32)> = list
                .iter()
                .map(|p| {
                    let norm =
                        1.0 - B_BODY + B_BODY * body_lens[p.section as usize] as f32 / avg_body;
                    let tf = p.short_fields as f32 + W_BODY * p.body_tf as f32 / norm;
                    (p.section, idf * tf * (K1 + 1.0) / (K1 + tf))
                })
                .collect();
            drop(list);
            if s.len() > max_postings {
                // Best first, ties by position, so pruning is deterministic.
                s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                s.truncate(max_postings);
                s.sort_by_key(|p| p.0);
                s.shrink_to_fit();
            }
            s
        })
        .collect();
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let max_score = scored
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0f32, f32::max)
        .max(1e-6);
    let scale = 255.0 / (1.0 + max_score).ln();
    let terms = order
        .iter()
        .map(|&id| {
            let ps = std::mem::take(&mut scored[id as usize])
                .into_iter()
                .map(|(sec, s)| {
                    let (page, section) = section_of[sec as usize];
                    Posting {
                        page,
                        section,
                        score: quantise(s, scale),
                    }
                })
                .collect();
            (std::mem::take(&mut names[id as usize]), ps)
        })
        .collect();
    Scored {
        sections,
        terms,
        max_score,
        words,
    }
}

fn quantise(score: f32, scale: f32) -> u8 {
    ((1.0 + score).ln() * scale).round().clamp(1.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::{doc, page};

    fn postings<'a>(s: &'a Scored, term: &str) -> &'a [Posting] {
        &s.terms
            .iter()
            .find(|t| t.0 == term)
            .unwrap_or_else(|| panic!("no term {term}"))
            .1
    }

    #[test]
    fn page_top_doc_is_merged_and_others_follow() {
        let pages = [page("A", "")];
        let docs = [
            doc(0, "", "A", "intro text"),
            doc(0, "step-1", "Drain the node", ""),
        ];
        let secs = sections(&pages, &docs);
        assert_eq!(secs[0].len(), 2);
        assert_eq!(secs[0][0].text, "intro text");
        assert_eq!(secs[0][1].anchor, "step-1");
    }

    #[test]
    fn title_match_beats_body_match() {
        let pages = [
            page("Intro", "x"),
            page("Throttle the gateway", "y"),
            page("Other", "z"),
        ];
        let docs = [
            doc(
                0,
                "a",
                "Background",
                "you may need to throttle traffic here and there",
            ),
            doc(1, "b", "Steps", "first do the usual"),
            doc(2, "c", "More", "nothing relevant"),
        ];
        let s = score(&pages, &docs, 100);
        let p = postings(&s, "throttl");
        let title = p.iter().find(|p| p.page == 1).unwrap();
        let body = p.iter().find(|p| p.page == 0).unwrap();
        assert_eq!(title.section, 0);
        assert!(title.score > body.score, "{title:?} vs {body:?}");
    }

    #[test]
    fn common_terms_keep_only_their_best_postings() {
        let pages: Vec<_> = (0..10).map(|i| page(&format!("P{i}"), "")).collect();
        let mut docs: Vec<_> = (0..10)
            .map(|i| doc(i, "s", "Body", "alpha filler words here"))
            .collect();
        docs[7] = doc(7, "s", "Alpha", "alpha alpha");
        let s = score(&pages, &docs, 3);
        let p = postings(&s, "alpha");
        assert_eq!(p.len(), 3);
        assert!(
            p.iter().any(|p| p.page == 7),
            "the best posting survives pruning"
        );
        assert!(p
            .windows(2)
            .all(|w| (w[0].page, w[0].section) < (w[1].page, w[1].section)));
    }
}
