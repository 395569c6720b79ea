//! JSON without `std`: [`serde-json-core`](serde_json_core), whose errors carry no formatted
//! message (which keeps number and float formatting out of the component), with the two things
//! it lacks added — escaped surrogate pairs, and output of any length.

use crate::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The largest text [`encode`] writes.
const MAX_ENCODED: usize = 1 << 20;

/// Parses `body` as a `T`; `None` when it is not one. Escaped strings (PHP escapes every `/`)
/// are unescaped through a buffer as long as the body; fields `T` does not name are skipped.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let body = join_surrogate_pairs(body);
    let mut unescaped = vec![0u8; body.len()];
    serde_json_core::from_slice_escaped::<T>(&body, &mut unescaped)
        .ok()
        .map(|(value, _)| value)
}

/// `value` as JSON text, `None` if it is larger than 1 MiB.
pub fn encode<T: Serialize>(value: &T) -> Option<String> {
    let mut size = 256;
    while size <= MAX_ENCODED {
        let mut buffer = vec![0u8; size];
        if let Ok(written) = serde_json_core::to_slice(value, &mut buffer) {
            buffer.truncate(written);
            return String::from_utf8(buffer).ok();
        }
        size *= 2;
    }
    None
}

/// `body` with every escaped UTF-16 surrogate pair (`\ud83d\ude00`) written as the UTF-8 of
/// the character it encodes (😀); everything else as it was.
///
/// NextCloud's JSON (PHP's `json_encode`) escapes every non-ASCII character, and one outside
/// the Basic Multilingual Plane as a surrogate pair (docs/nextcloud-behaviour.md, "JSON text";
/// recording 16 [1]); any JSON writer may. That is valid JSON, but `serde-json-core` reads each
/// `\uXXXX` as a character of its own and refuses a surrogate. A lone surrogate is left as it
/// is, and refused by the parser: it encodes no character.
///
/// A backslash only occurs inside strings in JSON, and each escape is stepped over whole, so
/// an escaped backslash followed by `u` (`\\ud83d`) is never mistaken for an escape.
pub fn join_surrogate_pairs(body: &[u8]) -> Vec<u8> {
    let mut joined = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.iter().position(|&b| b == b'\\') {
        joined.extend_from_slice(&rest[..at]);
        rest = &rest[at..];
        let paired = escaped_unit(rest).zip(escaped_unit(rest.get(6..).unwrap_or_default()));
        match paired {
            Some((high @ 0xD800..=0xDBFF, low @ 0xDC00..=0xDFFF)) => {
                let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                let mut utf8 = [0u8; 4];
                if let Some(c) = char::from_u32(code) {
                    joined.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
                rest = &rest[12..];
            }
            _ => {
                // Any other escape: the backslash and the character it escapes, as they are.
                let step = rest.len().min(2);
                joined.extend_from_slice(&rest[..step]);
                rest = &rest[step..];
            }
        }
    }
    joined.extend_from_slice(rest);
    joined
}

/// The code unit of a `\uXXXX` escape at the start of `text`.
fn escaped_unit(text: &[u8]) -> Option<u32> {
    let hex = text.strip_prefix(b"\\u")?.get(..4)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(core::str::from_utf8(hex).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn only_real_surrogate_pairs_are_joined() {
        let joined = |text: &str| String::from_utf8(join_surrogate_pairs(text.as_bytes())).unwrap();
        assert_eq!(joined(r#""\ud83d\ude00""#), "\"😀\"");
        // An escaped backslash followed by text that looks like an escape stays as it is.
        assert_eq!(joined(r#""\\ud83d\ude00""#), r#""\\ud83d\ude00""#);
        // Lone or reversed surrogates, short or non-hex escapes: unchanged (the parser
        // refuses the surrogates).
        for text in [
            r#""\ud83d""#,
            r#""\ude00\ud83d""#,
            r#""\ud83d\u0041""#,
            r#""\ud83d\ude0""#,
            r#""\ud83d\uzzzz""#,
            r#""\n\"\/\u00e4""#,
            "\\",
        ] {
            assert_eq!(joined(text), text);
        }
        assert!(parse::<String>(br#""\ud83d""#).is_none());
        assert_eq!(parse::<String>(br#""a\ud83d\ude00b""#).unwrap(), "a😀b");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    }

    #[test]
    fn text_of_any_length_is_written_and_read_back() {
        for length in [0, 1, 300, 5_000, 100_000] {
            let sample = Sample {
                name: "\"é\\".repeat(length),
                note: None,
            };
            let text = encode(&sample).unwrap();
            assert!(!text.contains("note"));
            assert_eq!(parse::<Sample>(text.as_bytes()).unwrap(), sample);
        }
        let huge = Sample {
            name: "x".repeat(MAX_ENCODED),
            note: Some("n".into()),
        };
        assert_eq!(encode(&huge), None);
    }

    #[test]
    fn unknown_fields_nested_values_and_numbers_are_skipped() {
        let text = br#"{"other":{"a":[1,2.5e3,{"b":null}],"c":true},"name":"n","x":-1}"#;
        assert_eq!(
            parse::<Sample>(text).unwrap(),
            Sample {
                name: "n".into(),
                note: None
            }
        );
        assert_eq!(parse::<Sample>(b"{\"name\":1}"), None);
        assert_eq!(parse::<Sample>(b"<html>"), None);
    }
}
