//! The links' passwords, from the host's cryptographically secure `wasi:random/random`.
//!
//! 24 characters drawn uniformly (rejection sampling: no modulo bias) from 66 symbols, with
//! at least one lower-case letter, upper-case letter, digit and symbol: about 145 bits. Look-
//! alike characters (`l`, `I`, `O`, `0`, `1`) are left out, since people copy these by hand.
//! Adjust the length and the alphabet to the storage's password policy.
//!
//! Never `wasi:random/insecure` or a seeded generator, and never a password in an error
//! message or in the handle.

use crate::bindings::wasi::random::random::get_random_bytes;
use crate::prelude::*;

/// The length of a password, in characters.
pub const LENGTH: usize = 24;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"-_.!+=#%?";

/// A fresh password from the host's CSPRNG.
pub fn generate() -> String {
    generate_from(|n| get_random_bytes(n as u64))
}

/// A password from `random`, a source of `n` random bytes per call.
pub fn generate_from(mut random: impl FnMut(usize) -> Vec<u8>) -> String {
    let classes = [LOWER, UPPER, DIGITS, SYMBOLS];
    let alphabet: Vec<u8> = classes.concat();
    // The largest multiple of the alphabet's size up to 256: bytes at or above it are
    // discarded, so every symbol is equally likely.
    let limit = 256 - 256 % alphabet.len();
    loop {
        let mut password = Vec::with_capacity(LENGTH);
        while password.len() < LENGTH {
            for byte in random(LENGTH * 2) {
                if usize::from(byte) < limit && password.len() < LENGTH {
                    password.push(alphabet[usize::from(byte) % alphabet.len()]);
                }
            }
        }
        // Drawn again, whole, until every class is in it: still uniform over the passwords
        // that have every class.
        if classes
            .iter()
            .all(|class| password.iter().any(|c| class.contains(c)))
        {
            return password.into_iter().map(char::from).collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stand-in for the CSPRNG (xorshift), enough to check the shape.
    fn xorshift(seed: u64) -> impl FnMut(usize) -> Vec<u8> {
        let mut state = seed;
        move |n| {
            (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 32) as u8
                })
                .collect()
        }
    }

    #[test]
    fn passwords_have_the_length_and_every_class() {
        for seed in 1..500 {
            let p = generate_from(xorshift(seed));
            assert_eq!(p.len(), LENGTH);
            for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
                assert!(p.bytes().any(|c| class.contains(&c)), "{p} lacks a class");
            }
        }
    }

    #[test]
    fn biased_bytes_are_discarded() {
        // A source whose first answer holds only bytes above the limit: none of them is used.
        let mut calls = 0;
        let mut random = xorshift(7);
        let p = generate_from(|n| {
            calls += 1;
            if calls == 1 { vec![255; n] } else { random(n) }
        });
        assert_eq!(p, generate_from(xorshift(7)));
        assert!(calls > 1);
    }

    #[test]
    fn two_passwords_differ() {
        let mut random = xorshift(99);
        assert_ne!(generate_from(&mut random), generate_from(&mut random));
    }
}
