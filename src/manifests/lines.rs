//! Lines for findings. serde-saphyr reads documents without keeping where
//! each value was, so lines come from the text: where each document starts
//! (its `---`), and where a field path's keys appear, one after the other,
//! below that. Only used for findings, never on the fast path's hot loop.

/// The 1-based line at which each document of a YAML stream starts (the
/// line after its `---`, or the first line of content for the first one),
/// in the order the parser yields the documents.
pub fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut content_before_marker = false;
    let mut first_content: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with("---") && (line.len() == 3 || line[3..].starts_with([' ', '\t'])) {
            if starts.is_empty() && content_before_marker {
                starts.push(first_content.unwrap_or(1));
            }
            starts.push(n + 1);
            continue;
        }
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') && starts.is_empty() && !content_before_marker {
            content_before_marker = true;
            first_content = Some(n);
        }
    }
    if starts.is_empty() {
        starts.push(first_content.unwrap_or(1));
    }
    starts
}

/// The line where `field` (`spec.pauses[1].to`) appears at or below line
/// `from` (1-based) of `lines` (a text's lines, split once per file: a file
/// of a thousand tickets may carry a thousand findings), searching each key
/// in turn; the last line found if a later key cannot be found (e.g. a
/// required field that is missing: its parent's line).
pub fn locate(lines: &[&str], from: usize, field: &str) -> usize {
    let mut at = from.saturating_sub(1);
    let mut found = from;
    for segment in field.split('.') {
        let key = segment.split('[').next().unwrap_or(segment);
        if key.is_empty() || key == "(root)" {
            continue;
        }
        let plain = format!("{key}:");
        let quoted = format!("\"{key}\":");
        let spaced = format!(" {plain}");
        let braced = format!("{{{plain}");
        let hit = lines.iter().enumerate().skip(at).find(|(_, l)| {
            let l = l
                .trim_start()
                .trim_start_matches("- ")
                .trim_start_matches(['{', ' ']);
            l.starts_with(&plain)
                || l.starts_with(&quoted)
                || l.contains(&spaced)
                || l.contains(&braced)
                || l.contains(&quoted)
        });
        match hit {
            Some((i, _)) => {
                at = i;
                found = i + 1;
            }
            None => break,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_fields_are_found() {
        let text = "# c\napiVersion: v1\nkind: A\n---\nkind: B\nspec:\n  x: 1\n  pauses:\n  - {from: a, to: b}\n";
        assert_eq!(document_starts(text), vec![2, 5]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(locate(&lines, 5, "spec.x"), 7);
        assert_eq!(locate(&lines, 5, "spec.pauses[0].to"), 9);
        assert_eq!(locate(&lines, 5, "spec.missing"), 6);
        assert_eq!(document_starts("---\nkind: A\n"), vec![2]);
    }
}
