//! Share passwords, from the host's cryptographically secure `wasi:random` (through
//! `provider_kit::password`).
//!
//! 24 characters from 66 symbols, with at least one lower-case letter, upper-case letter,
//! digit and symbol: about 145 bits, and acceptable to NextCloud's password policy in its
//! strictest built-in setting (length, all character classes; a random string is not among the
//! common-password list). Letters and digits that are easily confused (l, I, O, 0, 1) are left
//! out.

use crate::prelude::*;
use provider_kit::password::{self, Class};

pub const LENGTH: usize = 24;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"-_.!+=#%?";

const CLASSES: [Class; 4] = [
    Class {
        symbols: LOWER,
        min: 1,
    },
    Class {
        symbols: UPPER,
        min: 1,
    },
    Class {
        symbols: DIGITS,
        min: 1,
    },
    Class {
        symbols: SYMBOLS,
        min: 1,
    },
];

/// A fresh password from the host's CSPRNG.
pub fn generate() -> String {
    // The classes are fixed and fit the length: the kit refuses neither.
    password::generate(&CLASSES, LENGTH).unwrap_or_default()
}

/// A password from the given source of random bytes.
pub fn generate_from(random: impl FnMut(usize) -> Vec<u8>) -> String {
    password::generate_from(random, &CLASSES, LENGTH).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use provider_kit::testing::xorshift;

    #[test]
    fn passwords_have_every_class_and_the_length() {
        for seed in 1..500 {
            let p = generate_from(xorshift(seed));
            assert_eq!(p.len(), LENGTH);
            for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
                assert!(p.bytes().any(|c| class.contains(&c)), "{p} lacks a class");
            }
        }
    }
}
