//! Share passwords, from the host's cryptographically secure `wasi:random`.
//!
//! 24 characters drawn uniformly (rejection sampling, no modulo bias) from 66 symbols, with
//! at least one lower-case letter, upper-case letter, digit and symbol: about 145 bits, and
//! acceptable to NextCloud's password policy in its strictest built-in setting (length, all
//! character classes; a random string is not among the common-password list).

use crate::bindings::wasi::random::random::get_random_bytes;
use crate::prelude::*;

pub const LENGTH: usize = 24;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"-_.!+=#%?";

/// A fresh password from the host's CSPRNG.
pub fn generate() -> String {
    generate_from(|n| get_random_bytes(n as u64))
}

/// A password from the given source of random bytes.
pub fn generate_from(mut random: impl FnMut(usize) -> Vec<u8>) -> String {
    let alphabet: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
    // The largest multiple of the alphabet's size below 256: bytes at or above it are
    // discarded so that every symbol is equally likely.
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
        if [LOWER, UPPER, DIGITS, SYMBOLS]
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
    fn passwords_have_every_class_and_the_length() {
        for seed in 1..500 {
            let p = generate_from(xorshift(seed));
            assert_eq!(p.len(), LENGTH);
            for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
                assert!(p.bytes().any(|c| class.contains(&c)), "{p} lacks a class");
            }
        }
    }

    #[test]
    fn biased_bytes_are_rejected() {
        // A source that only yields bytes above the rejection limit never picks them.
        let mut calls = 0;
        let mut random = xorshift(7);
        let p = generate_from(|n| {
            calls += 1;
            if calls == 1 { vec![255; n] } else { random(n) }
        });
        assert_eq!(p, generate_from(xorshift(7)));
        assert!(calls > 1);
    }
}
