//! Passwords from the host's cryptographically secure `wasi:random`, made of given character
//! classes, each with a least count.
//!
//! A password is drawn whole, every character uniform over all the classes' symbols, and drawn
//! again while a class falls short of its least count: so it is uniform over every password of
//! that length that meets the counts, and its characters are as close to uniform over the
//! alphabet as the counts allow (the reliability suite checks that statistically). Every draw is uniform (rejection sampling, no
//! modulo bias). Only when the least counts make a whole draw unlikely to meet them (none of
//! [`WHOLE_DRAWS`] did) are the least counts drawn from their classes first, the rest from all
//! classes, and the whole shuffled (Fisher–Yates): that meets the policy, at the price of
//! over-representing small classes. A provider names the classes and the length its storage's
//! password policy asks for.

#[cfg(target_arch = "wasm32")]
use crate::bindings::wasi::random::random::get_random_bytes;
use crate::prelude::*;

/// Lower-case letters, upper-case letters and digits, whole.
pub const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
pub const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
pub const DIGITS: &[u8] = b"0123456789";

/// Symbols of one kind, and how many of them a password must have at least.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class {
    /// Distinct ASCII characters, at most 256.
    pub symbols: &'static [u8],
    pub min: usize,
}

/// Random bytes are asked for this many at a time.
const BATCH: usize = 64;

/// Whole draws tried before the least counts are drawn first instead.
pub const WHOLE_DRAWS: usize = 1000;

/// A fresh password of `length` characters from the host's CSPRNG; `None` when `classes`
/// cannot make one (see [`generate_from`]).
pub fn generate(classes: &[Class], length: usize) -> Option<String> {
    generate_from(random_bytes, classes, length)
}

/// `n` bytes from `wasi:random/random`, the host's CSPRNG.
#[cfg(target_arch = "wasm32")]
fn random_bytes(n: usize) -> Vec<u8> {
    get_random_bytes(n as u64)
}

/// Natively, where there is no `wasi:random`, for the providers' tests only: not a CSPRNG.
#[cfg(not(target_arch = "wasm32"))]
fn random_bytes(n: usize) -> Vec<u8> {
    crate::testing::random_bytes(n)
}

/// A password from the given source of random bytes: `None` when there is no class, a class
/// has no symbol or more than 256 or a symbol that is not ASCII, or the least counts add up
/// to more than `length`.
pub fn generate_from(
    random: impl FnMut(usize) -> Vec<u8>,
    classes: &[Class],
    length: usize,
) -> Option<String> {
    let usable =
        |class: &Class| (1..=256).contains(&class.symbols.len()) && class.symbols.is_ascii();
    let least: usize = classes.iter().map(|class| class.min).sum();
    if classes.is_empty() || !classes.iter().all(usable) || least > length {
        return None;
    }
    let all: Vec<u8> = classes
        .iter()
        .flat_map(|c| c.symbols.iter().copied())
        .collect();
    if all.len() > 256 {
        return None;
    }
    let mut draw = Draws {
        random,
        buffer: Vec::new(),
    };
    let meets = |password: &[u8]| {
        classes.iter().all(|class| {
            password
                .iter()
                .filter(|c| class.symbols.contains(c))
                .count()
                >= class.min
        })
    };
    for _ in 0..WHOLE_DRAWS {
        let password: Vec<u8> = (0..length).map(|_| all[draw.below(all.len())]).collect();
        if meets(&password) {
            // Every byte is ASCII (checked above).
            return Some(password.into_iter().map(char::from).collect());
        }
    }
    let mut password = Vec::with_capacity(length);
    for class in classes {
        for _ in 0..class.min {
            password.push(class.symbols[draw.below(class.symbols.len())]);
        }
    }
    while password.len() < length {
        password.push(all[draw.below(all.len())]);
    }
    for i in (1..password.len()).rev() {
        let j = draw.below(i + 1);
        password.swap(i, j);
    }
    // Every byte is ASCII (checked above).
    Some(password.into_iter().map(char::from).collect())
}

/// Uniform draws from a source of random bytes.
struct Draws<R> {
    random: R,
    /// Bytes not used yet, taken from the end.
    buffer: Vec<u8>,
}

impl<R: FnMut(usize) -> Vec<u8>> Draws<R> {
    /// A number below `n` (1 to 256), every one equally likely: bytes at or above the largest
    /// multiple of `n` that fits in a byte are discarded.
    fn below(&mut self, n: usize) -> usize {
        let limit = 256 - 256 % n;
        loop {
            let Some(byte) = self.buffer.pop() else {
                self.buffer = (self.random)(BATCH);
                self.buffer.reverse();
                continue;
            };
            if usize::from(byte) < limit {
                return usize::from(byte) % n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::xorshift;

    const SYMBOLS: &[u8] = b"-_.!";

    fn classes(mins: [usize; 4]) -> [Class; 4] {
        let [lower, upper, digits, symbols] = mins;
        [
            Class {
                symbols: LOWER,
                min: lower,
            },
            Class {
                symbols: UPPER,
                min: upper,
            },
            Class {
                symbols: DIGITS,
                min: digits,
            },
            Class {
                symbols: SYMBOLS,
                min: symbols,
            },
        ]
    }

    fn count(password: &str, symbols: &[u8]) -> usize {
        password.bytes().filter(|c| symbols.contains(c)).count()
    }

    #[test]
    fn each_class_has_its_least_count_and_the_length_is_kept() {
        for seed in 1..300 {
            let mins = [1, 2, 3, (seed % 5) as usize];
            let length = 10 + (seed % 20) as usize;
            let p = generate_from(xorshift(seed), &classes(mins), length).unwrap();
            assert_eq!(p.len(), length);
            for (class, min) in [LOWER, UPPER, DIGITS, SYMBOLS].into_iter().zip(mins) {
                assert!(count(&p, class) >= min, "{p} lacks {min} of a class");
            }
        }
    }

    #[test]
    fn the_least_counts_may_fill_the_whole_length() {
        let p = generate_from(xorshift(3), &classes([2, 2, 2, 2]), 8).unwrap();
        for class in [LOWER, UPPER, DIGITS, SYMBOLS] {
            assert_eq!(count(&p, class), 2, "{p}");
        }
    }

    #[test]
    fn what_cannot_make_a_password_is_refused() {
        assert_eq!(generate_from(xorshift(1), &classes([3, 3, 3, 3]), 11), None);
        assert_eq!(generate_from(xorshift(1), &[], 8), None);
        let empty = Class {
            symbols: b"",
            min: 0,
        };
        assert_eq!(generate_from(xorshift(1), &[empty], 8), None);
        let wide = Class {
            symbols: "é".as_bytes(),
            min: 0,
        };
        assert_eq!(generate_from(xorshift(1), &[wide], 8), None);
    }

    #[test]
    fn biased_bytes_are_rejected() {
        // A source whose first batch lies above every rejection limit: none of it is used.
        let mut calls = 0;
        let mut random = xorshift(7);
        let p = generate_from(
            |n| {
                calls += 1;
                if calls == 1 { vec![255; n] } else { random(n) }
            },
            &classes([1, 1, 1, 1]),
            24,
        )
        .unwrap();
        assert_eq!(
            p,
            generate_from(xorshift(7), &classes([1, 1, 1, 1]), 24).unwrap()
        );
        assert!(calls > 1);
    }

    #[test]
    fn characters_are_close_to_uniform_over_the_alphabet() {
        // 2 000 passwords of 24 from 71 symbols, one of each class at least: each symbol
        // about 676 times. Drawing the least counts first would give each of the 9 symbols
        // about 220 more (a third), the 10 digits about 200 more.
        let classes = [
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
                symbols: b"-_.!+=#%?",
                min: 1,
            },
        ];
        let mut random = xorshift(5);
        let mut seen = std::collections::HashMap::<char, usize>::new();
        for _ in 0..2000 {
            let password = generate_from(&mut random, &classes, 24).unwrap();
            for c in password.chars() {
                *seen.entry(c).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), 71);
        let expected = 2000 * 24 / 71;
        assert!(
            seen.values()
                .all(|n| n.abs_diff(expected) < expected * 15 / 100),
            "{seen:?}"
        );
    }

    #[test]
    fn draws_are_uniform() {
        // 26 letters from 26 000 draws: each within 15 % of 1 000.
        let mut draw = Draws {
            random: xorshift(11),
            buffer: Vec::new(),
        };
        let mut seen = [0usize; 26];
        for _ in 0..26_000 {
            seen[draw.below(26)] += 1;
        }
        assert!(seen.iter().all(|n| (850..1150).contains(n)), "{seen:?}");
    }
}
