//! `${NAME}` parameters in text and code.
//!
//! A parameter becomes `<span class="sb-param" data-param="NAME">${NAME}</span>` so that the
//! page reads correctly without JavaScript and the checklist script can fill in values.
//! `$${NAME}` is the escape for a literal `${NAME}` (for shell snippets that mean it).

use crate::highlight::escape_html;

#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// Name and byte offset of the `$` in the input.
    Param(&'a str, usize),
}

/// Splits text into literal pieces and parameter references.
pub fn split(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(rel) = s[i..].find("${") {
        let at = i + rel;
        let close = s[at + 2..].find('}').map(|c| at + 2 + c);
        let name = close.map(|c| &s[at + 2..c]);
        match (close, name) {
            (Some(c), Some(name)) if crate::content::front_matter::is_param_name(name) => {
                if at > 0 && bytes[at - 1] == b'$' {
                    // `$${X}`: drop one `$`, keep the rest literal.
                    out.push(Piece::Text(&s[start..at - 1]));
                    start = at;
                } else {
                    out.push(Piece::Text(&s[start..at]));
                    out.push(Piece::Param(name, at));
                    start = c + 1;
                }
                i = c + 1;
            }
            _ => i = at + 2,
        }
    }
    out.push(Piece::Text(&s[start..]));
    out.retain(|p| !matches!(p, Piece::Text("")));
    out
}

pub fn span(name: &str) -> String {
    format!("<span class=\"sb-param\" data-param=\"{name}\">${{{name}}}</span>")
}

/// Escaped HTML with parameter spans.
pub fn to_html(s: &str) -> String {
    split(s)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => escape_html(t),
            Piece::Param(n, _) => span(n),
        })
        .collect()
}

/// Text as a reader without JavaScript sees it (escapes resolved).
pub fn to_plain(s: &str) -> String {
    split(s)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t.to_string(),
            Piece::Param(n, _) => format!("${{{n}}}"),
        })
        .collect()
}

/// Substitutes values (used by the terminal runner); unknown names stay as written.
pub fn substitute(s: &str, value: impl Fn(&str) -> Option<String>) -> String {
    split(s)
        .into_iter()
        .map(|p| match p {
            Piece::Text(t) => t.to_string(),
            Piece::Param(n, _) => value(n).unwrap_or_else(|| format!("${{{n}}}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_found_with_offsets() {
        assert_eq!(
            split("scale ${SERVICE} to ${N}"),
            vec![
                Piece::Text("scale "),
                Piece::Param("SERVICE", 6),
                Piece::Text(" to "),
                Piece::Param("N", 20)
            ]
        );
    }

    #[test]
    fn escapes_and_non_names_stay_literal() {
        assert_eq!(
            split("echo $${HOME}"),
            vec![Piece::Text("echo "), Piece::Text("${HOME}")]
        );
        assert_eq!(to_plain("echo $${HOME}"), "echo ${HOME}");
        assert_eq!(
            split("${1x} ${ } ${a-b}"),
            vec![Piece::Text("${1x} ${ } ${a-b}")]
        );
        assert_eq!(split("${unclosed"), vec![Piece::Text("${unclosed")]);
    }

    #[test]
    fn html_escapes_text_around_spans() {
        assert_eq!(
            to_html("<b>${X}"),
            "&lt;b&gt;<span class=\"sb-param\" data-param=\"X\">${X}</span>"
        );
    }

    #[test]
    fn substitution_leaves_unknown_names() {
        let out = substitute("kubectl -n ${NS} scale ${SVC}", |n| {
            (n == "NS").then(|| "prod".into())
        });
        assert_eq!(out, "kubectl -n prod scale ${SVC}");
    }
}
