//! Comparison of decimal digit runs of any length.

use std::cmp::Ordering;

/// Compares two runs of ASCII digits as unsigned integers of any size.
///
/// Leading zeros are ignored, and an empty run counts as zero.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Returns the digit run without leading zeros, or `"0"` for a run of zeros.
pub(crate) fn strip_leading_zeros(digits: &str) -> &str {
    let stripped = digits.trim_start_matches('0');
    if stripped.is_empty() && !digits.is_empty() {
        "0"
    } else {
        stripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_by_value() {
        assert_eq!(cmp_digits("10", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("007", "7"), Ordering::Equal);
        assert_eq!(cmp_digits("", "0"), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                "123456789012345678901234567890",
                "123456789012345678901234567891"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn leading_zeros_stripped_to_zero() {
        assert_eq!(strip_leading_zeros("000"), "0");
        assert_eq!(strip_leading_zeros("0070"), "70");
        assert_eq!(strip_leading_zeros(""), "");
    }
}
