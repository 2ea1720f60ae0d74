//! What an error code is, and the family it belongs to (SPEC section 1,
//! "Codes of every shape").
//!
//! This module owns the one definition of a code's shape that the catalog
//! (validation of documents and user catalogs), the matcher (what can be a
//! hit, what is an unknown code) and the command layer share. Nothing here
//! lists prefixes, shapes or codes: a family is derived from a code's bytes.
//!
//! # Shape
//!
//! A code is a non-empty run of ASCII letters, digits and the separators
//! `.` `-` `_` `:`, beginning and ending with a letter or digit;
//! case-sensitive. `Ecs.0013`, `DBS.200001`, `SVCSTG.CCE-ADDONMGR.4000003`,
//! `ORA-00942`, `InvalidParameterValue`, `AuthFailure.SignatureFailure` and
//! `111404022` are codes; `Ecs.`, `-1`, `a b` and `é` are not.
//!
//! # Family
//!
//! A code that ends in a run of digits after a non-digit belongs to the
//! family (stem, digit count): `DBS.200001` to (`DBS.`, 6), `ORA-00942` to
//! (`ORA-`, 5), `CBC.18000016` to (`CBC.`, 8). The stem is everything before
//! the final digit run; the *prefix* (the label of unknown codes) is the
//! stem without its final separator (`DBS`, `ORA`). Word codes
//! (`ThrottlingException`) and purely numeric codes (`111404022`) have no
//! family. A final digit run longer than [`MAX_FAMILY_DIGITS`] has no family
//! either (its number would not fit the matcher's `u64`); such codes are
//! still matched exactly.
//!
//! Costs: every function here is one pass over the code's bytes, no
//! allocation.

/// The longest final digit run that makes a family; longer runs are matched
/// exactly but have no unknown codes.
pub const MAX_FAMILY_DIGITS: usize = 18;

/// The longest code accepted (bytes). Longer "codes" are documents' prose or
/// garbage, and they would inflate the matcher's look-ahead window.
pub const MAX_CODE_LEN: usize = 128;

/// Why a string is not a code; the message says what a code is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeShapeError {
    #[error(
        "is empty; a code is letters, digits and . - _ : (e.g. Ecs.0013, DBS.200001, InvalidParameterValue)"
    )]
    Empty,
    #[error(
        "has {byte_desc} at byte {at}; a code holds only ASCII letters, digits and the separators . - _ :"
    )]
    BadByte { at: usize, byte_desc: String },
    #[error("must begin and end with a letter or digit, not {0:?}")]
    BadEnd(char),
    #[error("is {0} bytes long; a code has at most {MAX_CODE_LEN}")]
    TooLong(usize),
}

/// Whether `b` may appear inside a code: ASCII letter, digit, `.`, `-`, `_`, `:`.
#[inline]
pub fn is_code_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':')
}

/// Checks that `s` has the shape of a code (see the module docs).
pub fn check_code(s: &str) -> Result<(), CodeShapeError> {
    let bytes = s.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err(CodeShapeError::Empty);
    };
    if let Some(at) = bytes.iter().position(|&b| !is_code_byte(b)) {
        let byte_desc = match s[at..].chars().next() {
            Some(c) if c.is_control() || c == ' ' => format!("{c:?}"),
            Some(c) => format!("'{c}'"),
            None => "a byte".to_string(),
        };
        return Err(CodeShapeError::BadByte { at, byte_desc });
    }
    for b in [first, last] {
        if !b.is_ascii_alphanumeric() {
            return Err(CodeShapeError::BadEnd(b as char));
        }
    }
    if bytes.len() > MAX_CODE_LEN {
        return Err(CodeShapeError::TooLong(bytes.len()));
    }
    Ok(())
}

/// Whether `s` has the shape of a code.
pub fn is_code(s: &str) -> bool {
    check_code(s).is_ok()
}

/// The family of a code: its stem (everything before the final digit run,
/// separator included) and the number of digits in that run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Family<'a> {
    /// `DBS.` for `DBS.200001`.
    pub stem: &'a str,
    /// 6 for `DBS.200001`.
    pub digits: usize,
}

impl<'a> Family<'a> {
    /// The stem without its final separator: `DBS` for `DBS.`, `Ecs` for
    /// `Ecs` (a stem may end in a letter: `HTTP2` is (`HTTP`, 1)).
    pub fn prefix(&self) -> &'a str {
        match self.stem.as_bytes().last() {
            Some(b'.' | b'-' | b'_' | b':') => &self.stem[..self.stem.len() - 1],
            _ => self.stem,
        }
    }
}

/// The family of `code`, or `None` for word codes, purely numeric codes and
/// final digit runs longer than [`MAX_FAMILY_DIGITS`]. `code` is assumed to
/// satisfy [`check_code`]; for other strings the answer is unspecified but
/// never a panic.
pub fn family(code: &str) -> Option<Family<'_>> {
    let bytes = code.as_bytes();
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits == bytes.len() || digits > MAX_FAMILY_DIGITS {
        return None;
    }
    Some(Family {
        stem: &code[..bytes.len() - digits],
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_the_spec_table_are_codes() {
        for c in [
            "Ecs.0013",
            "DBS.200001",
            "CBC.18000016",
            "ORA-00942",
            "SVCSTG.CCE-ADDONMGR.4000003",
            "APIGW.0301",
            "InvalidParameterValue",
            "AuthFailure.SignatureFailure",
            "ThrottlingException",
            "10000000",
            "111404022",
            "a:b_c-d.e",
            "X",
        ] {
            assert_eq!(check_code(c), Ok(()), "{c}");
        }
    }

    #[test]
    fn other_strings_are_rejected_with_the_reason() {
        assert_eq!(check_code(""), Err(CodeShapeError::Empty));
        assert_eq!(check_code("Ecs."), Err(CodeShapeError::BadEnd('.')));
        assert_eq!(check_code("-1"), Err(CodeShapeError::BadEnd('-')));
        assert_eq!(check_code("_a"), Err(CodeShapeError::BadEnd('_')));
        assert!(matches!(
            check_code("a b"),
            Err(CodeShapeError::BadByte { at: 1, .. })
        ));
        assert!(matches!(
            check_code("Ecs.001é"),
            Err(CodeShapeError::BadByte { at: 7, .. })
        ));
        assert!(matches!(
            check_code("a/b"),
            Err(CodeShapeError::BadByte { at: 1, .. })
        ));
        let long = "A".repeat(MAX_CODE_LEN + 1);
        assert_eq!(
            check_code(&long),
            Err(CodeShapeError::TooLong(MAX_CODE_LEN + 1))
        );
        // The message names what a code is.
        let msg = check_code("a b").unwrap_err().to_string();
        assert!(msg.contains("letters, digits"), "{msg}");
    }

    #[test]
    fn families_by_hand() {
        let f = |c| family(c).map(|f| (f.stem, f.digits, f.prefix()));
        assert_eq!(f("Ecs.0013"), Some(("Ecs.", 4, "Ecs")));
        assert_eq!(f("DBS.200001"), Some(("DBS.", 6, "DBS")));
        assert_eq!(f("CBC.18000016"), Some(("CBC.", 8, "CBC")));
        assert_eq!(f("ORA-00942"), Some(("ORA-", 5, "ORA")));
        assert_eq!(
            f("SVCSTG.CCE-ADDONMGR.4000003"),
            Some(("SVCSTG.CCE-ADDONMGR.", 7, "SVCSTG.CCE-ADDONMGR"))
        );
        assert_eq!(f("HTTP2"), Some(("HTTP", 1, "HTTP")));
        assert_eq!(f("InvalidParameterValue"), None);
        assert_eq!(f("AuthFailure.SignatureFailure"), None);
        assert_eq!(f("111404022"), None);
        let (eighteen, nineteen) = (
            format!("A.{}", "1".repeat(18)),
            format!("A.{}", "1".repeat(19)),
        );
        assert_eq!(family(&eighteen).map(|x| x.digits), Some(18));
        assert_eq!(family(&nineteen), None);
        assert_eq!(f(""), None);
    }
}
