//! `--record`: writes `last_drill = YYYY-MM-DD` into a playbook's front matter after a fully
//! successful drill.
//!
//! Why this module exists: the edit must touch one line of a file people wrote by hand, keep
//! everything else byte for byte (comments, order, formatting), and never leave the key inside
//! a TOML table such as `[[params]]`. The edited text is parsed again before it is written, and
//! the file is replaced atomically.

use crate::content::front_matter::{self, Format};
use crate::dates::Date;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// `text` with `last_drill` set to `date`: the existing top-level line replaced, or a line
/// added at the end of the top-level keys; front matter created when the file has none.
pub fn set_last_drill(text: &str, date: Date) -> Result<String> {
    let split = front_matter::split(text).map_err(|(msg, _)| anyhow::anyhow!("{msg}"))?;
    let (format, matter, start) = match split.format {
        None => return Ok(format!("+++\nlast_drill = {date}\n+++\n{text}")),
        Some(f) => (f, split.matter, split.matter_offset),
    };
    let new_line = match format {
        Format::Toml => format!("last_drill = {date}\n"),
        Format::Yaml => format!("last_drill: {date}\n"),
    };
    let mut offset = 0;
    // Where the top-level keys end: TOML's first table header, YAML's end of front matter.
    let mut top_end = matter.len();
    let mut existing = None;
    for line in matter.split_inclusive('\n') {
        let is_key = match format {
            Format::Toml => {
                let t = line.trim_start();
                if t.starts_with('[') {
                    top_end = offset;
                    break;
                }
                key_of(t, '=') == Some("last_drill")
            }
            // Only unindented keys are top-level in YAML.
            Format::Yaml => key_of(line, ':') == Some("last_drill"),
        };
        if is_key {
            existing = Some(offset..offset + line.len());
        }
        offset += line.len();
    }
    let mut out = String::with_capacity(text.len() + new_line.len());
    match existing {
        Some(r) => {
            out.push_str(&text[..start + r.start]);
            out.push_str(&new_line);
            out.push_str(&text[start + r.end..]);
        }
        None => {
            let at = start + top_end;
            out.push_str(&text[..at]);
            if at > 0 && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&new_line);
            out.push_str(&text[at..]);
        }
    }
    Ok(out)
}

/// The key of a `key = value` (TOML) or `key: value` (YAML) line, quotes removed.
fn key_of(line: &str, sep: char) -> Option<&str> {
    let (key, _) = line.split_once(sep)?;
    let key = key.trim_end();
    let key = key.trim_matches('"').trim_matches('\'');
    (!key.is_empty() && !key.starts_with(char::is_whitespace)).then_some(key)
}

/// Sets `last_drill` in the file at `path`, checking that the result still parses to the
/// same problems as before and carries the new date.
pub fn record(path: &Path, date: Date) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let new = set_last_drill(&text, date).with_context(|| {
        format!(
            "{}: cannot set `last_drill` in the front matter",
            path.display()
        )
    })?;
    let errors = |t: &str| -> Result<(Option<Date>, usize)> {
        let split = front_matter::split(t).map_err(|(msg, _)| anyhow::anyhow!("{msg}"))?;
        let (fm, diags) = front_matter::parse(path, t, &split);
        Ok((fm.last_drill, diags.iter().filter(|d| d.is_error()).count()))
    };
    let (_, before) = errors(&text)?;
    let (got, after) = errors(&new)?;
    if got != Some(date) || after > before {
        bail!(
            "{}: not recording the drill: the edited front matter would not read back as `last_drill = {date}`",
            path.display()
        );
    }
    crate::runfile::write_atomic(path, &new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Date {
        Date::parse("2026-11-29").unwrap()
    }

    #[test]
    fn toml_key_goes_before_the_first_table_and_replaces_an_old_one() {
        let text = "+++\ntitle = \"A\"\n\n[[params]]\nname = \"X\"\n+++\nbody\n";
        let once = set_last_drill(text, d()).unwrap();
        assert_eq!(
            once,
            "+++\ntitle = \"A\"\n\nlast_drill = 2026-11-29\n[[params]]\nname = \"X\"\n+++\nbody\n"
        );
        let later = set_last_drill(&once, Date::parse("2027-01-02").unwrap()).unwrap();
        assert_eq!(later, once.replace("2026-11-29", "2027-01-02"));
    }

    #[test]
    fn toml_without_tables_appends_at_the_end_of_the_front_matter() {
        let text = "+++\ntitle = \"A\"\nlast_drill = 2020-01-01 # old\n+++\n";
        assert_eq!(
            set_last_drill(text, d()).unwrap(),
            "+++\ntitle = \"A\"\nlast_drill = 2026-11-29\n+++\n"
        );
        assert_eq!(
            set_last_drill("+++\ntitle = \"A\"\n+++\nx", d()).unwrap(),
            "+++\ntitle = \"A\"\nlast_drill = 2026-11-29\n+++\nx"
        );
    }

    #[test]
    fn yaml_replaces_only_a_top_level_key() {
        let text = "---\ntitle: A\nextra:\n  last_drill: keep\nlast_drill: 2020-01-01\n---\nbody";
        assert_eq!(
            set_last_drill(text, d()).unwrap(),
            "---\ntitle: A\nextra:\n  last_drill: keep\nlast_drill: 2026-11-29\n---\nbody"
        );
        assert_eq!(
            set_last_drill("---\ntags:\n- a\n---\n", d()).unwrap(),
            "---\ntags:\n- a\nlast_drill: 2026-11-29\n---\n"
        );
    }

    #[test]
    fn a_file_without_front_matter_gets_one() {
        assert_eq!(
            set_last_drill("# T\n", d()).unwrap(),
            "+++\nlast_drill = 2026-11-29\n+++\n# T\n"
        );
    }

    #[test]
    fn record_writes_a_file_that_reads_back() {
        let dir = std::env::temp_dir().join(format!("sb-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.md");
        std::fs::write(&p, "+++\ntitle = \"A\"\n[[params]]\nname = \"X\"\n+++\n").unwrap();
        record(&p, d()).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("last_drill = 2026-11-29\n[[params]]"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
