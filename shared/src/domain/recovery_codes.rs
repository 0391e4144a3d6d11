//! Recovery codes: ten single-use codes shown once at enrolment, for a patient who lost their
//! authenticator app. Each carries 80 random bits (16 base32 characters, shown in groups of four),
//! so a plain SHA-256 is enough to store them: nobody can search a space that size, and a
//! memory-hard hash would cost ten argon2 runs per enrolment for nothing.

use crate::crypto;

/// How many codes an enrolment hands out.
pub const COUNT: usize = 10;

/// Characters of one code (without the dashes).
const LEN: usize = 16;

/// RFC 4648 base32: no 0/1/8/9, so no O/0 or I/1 confusion when typed from paper.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Fresh codes, as shown to the patient (`ABCD-EFGH-IJKL-MNOP`).
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let bytes = crypto::random_bytes(LEN);
            let chars: Vec<char> = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect();
            chars
                .chunks(4)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// What a typed code is stored as: SHA-256 (base64url) of the code without dashes or spaces, in
/// capitals; `None` if it cannot be a recovery code at all.
pub fn hash(typed: &str) -> Option<String> {
    let normalised: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = normalised.len() == LEN && normalised.bytes().all(|b| ALPHABET.contains(&b));
    valid.then(|| crypto::sha256_b64url(normalised.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_codes_in_groups_of_four() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.matches('-').count(), 3);
            assert!(hash(code).is_some());
        }
    }

    #[test]
    fn typing_variations_hash_alike_and_other_texts_are_no_code() {
        let code = "ABCD-EFGH-JKLM-NP23";
        let expected = hash(code).unwrap();
        assert_eq!(
            hash("abcd efgh jklm np23").as_deref(),
            Some(expected.as_str())
        );
        assert_eq!(hash("ABCDEFGHJKLMNP23").as_deref(), Some(expected.as_str()));
        assert_eq!(hash("123456"), None);
        assert_eq!(hash("ABCD-EFGH-JKLM-NP21"), None, "1 is not base32");
        assert_eq!(hash(""), None);
    }
}
