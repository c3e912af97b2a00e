//! The RFC 822-style control format of Debian package databases (deb822).

use thiserror::Error;

/// Syntax error in a control file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ControlError {
    /// A line that is neither `Field: value`, a continuation line nor blank.
    #[error("line {line}: invalid field line, expected `Name: value`")]
    InvalidFieldLine {
        /// Line number, starting at 1.
        line: usize,
    },
    /// A continuation line (starting with a space or tab) before the first field of a
    /// paragraph.
    #[error("line {line}: continuation line without a field before it")]
    OrphanContinuation {
        /// Line number, starting at 1.
        line: usize,
    },
}

/// One paragraph (stanza) of a control file: fields in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    /// Line number of the paragraph's first field, starting at 1.
    pub line: usize,
    /// Field names and values. A multi-line value keeps its continuation lines joined by
    /// `\n`, each with its leading space or tab removed.
    pub fields: Vec<(String, String)>,
}

impl Paragraph {
    /// Returns the value of the first field named `name`, compared ASCII
    /// case-insensitively as deb822 requires.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns the value of field `name` when it is present and not blank.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }
}

/// Parses control-format text into paragraphs separated by blank lines.
///
/// Bytes that are not valid UTF-8 are replaced with U+FFFD, because old package
/// databases may carry Latin-1 maintainer names. Lines starting with `#` are comments.
pub fn parse_paragraphs(data: &[u8]) -> Result<Vec<Paragraph>, ControlError> {
    let (paragraphs, errors) = parse_paragraphs_lenient(data);
    match errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(paragraphs),
    }
}

/// Parses control-format text like [`parse_paragraphs`], but drops only the paragraphs
/// that contain a syntax error and keeps every other one.
///
/// One damaged stanza in a package database must not hide every other package from the
/// scan, so catalogers use this form and report the errors as warnings.
pub fn parse_paragraphs_lenient(data: &[u8]) -> (Vec<Paragraph>, Vec<ControlError>) {
    let mut paragraphs = Vec::new();
    let mut errors = Vec::new();
    let mut current = Paragraph::default();
    let mut damaged = false;

    for (index, raw) in data.split(|&byte| byte == b'\n').enumerate() {
        let line_number = index + 1;
        let text = String::from_utf8_lossy(raw);
        let line = text.strip_suffix('\r').unwrap_or(&text);

        // A blank line (possibly with whitespace) ends the paragraph.
        if line.trim().is_empty() {
            if !current.fields.is_empty() && !damaged {
                paragraphs.push(std::mem::take(&mut current));
            }
            current = Paragraph::default();
            damaged = false;
            continue;
        }
        if line.starts_with('#') || damaged {
            continue;
        }

        // Continuation of the previous field's value.
        if line.starts_with(' ') || line.starts_with('\t') {
            let Some((_, value)) = current.fields.last_mut() else {
                errors.push(ControlError::OrphanContinuation { line: line_number });
                damaged = true;
                continue;
            };
            let continued = &line[1..];
            value.push('\n');
            // A line of a single `.` stands for an empty line inside the value.
            if continued.trim() != "." {
                value.push_str(continued);
            }
            continue;
        }

        let field = line
            .split_once(':')
            .filter(|(name, _)| !name.is_empty() && !name.contains(char::is_whitespace));
        let Some((name, value)) = field else {
            errors.push(ControlError::InvalidFieldLine { line: line_number });
            damaged = true;
            continue;
        };
        if current.fields.is_empty() {
            current.line = line_number;
        }
        current
            .fields
            .push((name.to_string(), value.trim().to_string()));
    }
    if !current.fields.is_empty() && !damaged {
        paragraphs.push(current);
    }
    (paragraphs, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let text = b"Package: a\nVersion: 1\n\n \nPackage: b\r\nVersion: 2\r\n";
        let paragraphs = parse_paragraphs(text).unwrap();
        assert_eq!(paragraphs.len(), 2);
        assert_eq!(paragraphs[0].get("package"), Some("a"));
        assert_eq!(paragraphs[1].get("Version"), Some("2"));
        assert_eq!(paragraphs[1].line, 5);
    }

    #[test]
    fn continuation_lines_join_value() {
        let text = b"Package: a\nDescription: short\n long line\n .\n\tlast\nVersion: 1\n";
        let paragraphs = parse_paragraphs(text).unwrap();
        assert_eq!(
            paragraphs[0].get("Description"),
            Some("short\nlong line\n\nlast")
        );
        assert_eq!(paragraphs[0].get("Version"), Some("1"));
    }

    #[test]
    fn line_without_colon_is_rejected() {
        let error = parse_paragraphs(b"Package: a\ngarbage\n").unwrap_err();
        assert_eq!(error, ControlError::InvalidFieldLine { line: 2 });
    }

    #[test]
    fn leading_continuation_is_rejected() {
        let error = parse_paragraphs(b" orphan\n").unwrap_err();
        assert_eq!(error, ControlError::OrphanContinuation { line: 1 });
    }

    #[test]
    fn lenient_parse_drops_only_damaged_paragraph() {
        let text = b"Package: a\nVersion: 1\n\nPackage: b\nthis line is broken\nVersion: 2\n\nPackage: c\nVersion: 3\n";
        let (paragraphs, errors) = parse_paragraphs_lenient(text);
        let names: Vec<_> = paragraphs.iter().filter_map(|p| p.get("Package")).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(errors, [ControlError::InvalidFieldLine { line: 5 }]);
    }

    #[test]
    fn lenient_parse_recovers_after_orphan_continuation() {
        let (paragraphs, errors) = parse_paragraphs_lenient(b" orphan\n\nPackage: a\n");
        assert_eq!(paragraphs.len(), 1);
        assert_eq!(errors, [ControlError::OrphanContinuation { line: 1 }]);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let paragraphs = parse_paragraphs(b"Package: a\nMaintainer: Jos\xe9\n").unwrap();
        assert_eq!(paragraphs[0].get("Maintainer"), Some("Jos\u{fffd}"));
    }
}
