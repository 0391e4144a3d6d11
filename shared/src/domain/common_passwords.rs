//! The 10,000 most common passwords, shipped in the crate (`shared/data/common-passwords.txt`)
//! so a new password can be refused for being one of them without any network call.
//!
//! The list is the head of the frequency-ranked password list of zxcvbn (MIT licence; its sources
//! are public password leaks), lowercased, deduplicated and sorted byte-wise: 10,000 lines, 79 KB
//! in the binary. Nothing is parsed at start-up: the first check splits the embedded text into a
//! sorted slice of borrowed lines (a few hundred microseconds, once per instance), and every check
//! is then a binary search.

use std::sync::OnceLock;

/// The list as embedded: one lowercase password per line, sorted byte-wise.
const LIST: &str = include_str!("../../data/common-passwords.txt");

fn sorted() -> &'static [&'static str] {
    static LINES: OnceLock<Vec<&'static str>> = OnceLock::new();
    LINES.get_or_init(|| LIST.lines().filter(|line| !line.is_empty()).collect())
}

/// Whether `password`, in any letter case, is one of the common passwords.
pub fn is_common(password: &str) -> bool {
    let lowered = password.to_lowercase();
    sorted().binary_search(&lowered.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_unique_and_ten_thousand_long() {
        let lines = sorted();
        assert_eq!(lines.len(), 10_000);
        assert!(lines.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(lines.iter().all(|line| *line == line.to_lowercase()));
    }

    #[test]
    fn common_passwords_are_found_in_any_case_and_others_are_not() {
        for common in [
            "password",
            "123456",
            "qwertyuiop",
            "Password1",
            "1234567890",
        ] {
            assert!(is_common(common), "{common}");
        }
        for rare in ["correct horse battery staple", "vT7#qk2!mZ9p", ""] {
            assert!(!is_common(rare), "{rare}");
        }
    }
}
