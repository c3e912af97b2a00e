//! Fitting a table into a terminal width: the least important columns are truncated
//! with an ellipsis first, and identifying columns are never truncated.

use comfy_table::{Cell, ContentArrangement, Table};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

const ELLIPSIS: char = '…';

/// Narrowest a truncated column gets in the first pass, unless its header is wider.
const SOFT_MIN_WIDTH: usize = 8;

/// Narrowest a truncated column gets at all, header included: three characters and the
/// ellipsis.
const HARD_MIN_WIDTH: usize = 4;

/// End of a truncated value that the ellipsis replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Keep the start (`1:2.36.1-8+deb…`), for names and versions.
    End,
    /// Keep the end (`…/site-packages/evil.py`), for file paths.
    Start,
}

/// Behaviour of a column when the table is too wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// Never truncated: identifiers, severities and short fixed-width values.
    Keep,
    /// Truncated when needed. Columns with a lower `rank` are truncated first.
    Shrink {
        /// Order of truncation, lowest first.
        rank: u8,
        /// End of the value that is cut.
        cut: Cut,
    },
}

/// One column of a fitted table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    /// Header text.
    pub(crate) header: &'static str,
    /// Truncation rule.
    pub(crate) fit: Fit,
}

/// Truncates the cells of `rows` so that a table of `columns` rendered in `style`
/// fits in `width` terminal columns, and returns the column widths used. A header wider
/// than its column must be truncated to it by the caller.
///
/// Columns marked [`Fit::Shrink`] lose width in rank order, first down to
/// [`SOFT_MIN_WIDTH`] (or their header width), then down to their header width, then
/// down to [`HARD_MIN_WIDTH`]. When the [`Fit::Keep`] columns alone are too wide for
/// `width`, the table is wider than `width`.
pub(crate) fn fit_rows(
    columns: &[Column],
    rows: &mut [Vec<String>],
    style: &str,
    width: usize,
) -> Vec<usize> {
    let mut widths: Vec<usize> = columns.iter().map(|c| c.header.width()).collect();
    for row in rows.iter() {
        for (slot, cell) in widths.iter_mut().zip(row) {
            *slot = (*slot).max(cell.width());
        }
    }
    let budget = width.saturating_sub(border_width(columns, style));
    let mut excess = widths.iter().sum::<usize>().saturating_sub(budget);

    let mut order: Vec<(u8, usize, Cut)> = columns
        .iter()
        .enumerate()
        .filter_map(|(index, column)| match column.fit {
            Fit::Keep => None,
            Fit::Shrink { rank, cut } => Some((rank, index, cut)),
        })
        .collect();
    order.sort_unstable_by_key(|&(rank, index, _)| (rank, index));
    let header_min = |index: usize| columns[index].header.width().max(2);
    let soft_min = |index: usize| header_min(index).max(SOFT_MIN_WIDTH);
    let hard_min = |_: usize| HARD_MIN_WIDTH;
    for floor in [&soft_min as &dyn Fn(usize) -> usize, &header_min, &hard_min] {
        for &(_, index, _) in &order {
            if excess == 0 {
                break;
            }
            let reducible = widths[index].saturating_sub(floor(index));
            let reduce = reducible.min(excess);
            widths[index] -= reduce;
            excess -= reduce;
        }
    }

    for row in rows.iter_mut() {
        for &(_, index, cut) in &order {
            if let Some(cell) = row.get_mut(index) {
                *cell = truncate(cell, widths[index], cut);
            }
        }
    }
    widths
}

/// Returns the columns a table of `columns` in `style` takes beyond its content:
/// borders, separators and cell padding.
fn border_width(columns: &[Column], style: &str) -> usize {
    let mut probe = Table::new();
    probe
        .load_preset(style)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(columns.iter().map(|column| Cell::new(column.header)));
    let rendered = probe.to_string();
    let total = rendered.lines().map(str::width).max().unwrap_or(0);
    let content: usize = columns.iter().map(|column| column.header.width()).sum();
    total.saturating_sub(content)
}

/// Returns `text` cut to at most `width` terminal columns, with an ellipsis in place of
/// what was cut.
pub(crate) fn truncate(text: &str, width: usize, cut: Cut) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let room = width - 1;
    let mut kept = Vec::new();
    let mut used = 0;
    let chars: Box<dyn Iterator<Item = char>> = match cut {
        Cut::End => Box::new(text.chars()),
        Cut::Start => Box::new(text.chars().rev()),
    };
    for c in chars {
        let char_width = c.width().unwrap_or(0);
        if used + char_width > room {
            break;
        }
        used += char_width;
        kept.push(c);
    }
    match cut {
        Cut::End => kept.into_iter().chain([ELLIPSIS]).collect(),
        Cut::Start => [ELLIPSIS]
            .into_iter()
            .chain(kept.into_iter().rev())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_keeps_start_or_end() {
        assert_eq!(truncate("1:2.36.1-8+deb11u1", 8, Cut::End), "1:2.36.…");
        assert_eq!(
            truncate("/usr/lib/python3/evil.py", 9, Cut::Start),
            "…/evil.py"
        );
        assert_eq!(truncate("short", 8, Cut::End), "short");
        assert_eq!(truncate("abc", 0, Cut::End), "");
    }

    #[test]
    fn truncate_counts_wide_characters() {
        // Each CJK character takes two terminal columns.
        let cut = truncate("漢字漢字漢字", 5, Cut::End);
        assert_eq!(cut, "漢字…");
        assert!(cut.width() <= 5);
    }
}
