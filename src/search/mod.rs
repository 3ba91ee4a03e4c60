//! Placeholder until the search index lands: the interface the build calls.

pub const MANIFEST_PATH: &str = "search/manifest.js";

pub struct SearchPage {
    pub url: String,
    pub title: String,
    pub topic: String,
    pub kind: String,
    pub tags: Vec<String>,
    pub severity: Option<String>,
    pub owner: Option<String>,
    pub description: String,
}

pub struct SearchDoc {
    pub page: usize,
    pub anchor: String,
    pub heading: String,
    pub text: String,
    pub is_step: bool,
}

pub struct SearchFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

pub struct SearchIndex {
    pub files: Vec<SearchFile>,
    pub manifest_path: String,
}

pub fn build_index(_pages: &[SearchPage], _docs: &[SearchDoc]) -> SearchIndex {
    SearchIndex {
        files: Vec::new(),
        manifest_path: MANIFEST_PATH.into(),
    }
}
