//! The share passwords of the load run, put through a statistical sanity check: all distinct,
//! each acceptable to NextCloud's default password policy (docs/nextcloud-behaviour.md, "Password policy": at least
//! 10 characters, not a common password), every character class present, and characters
//! spread over the alphabet as a uniform draw does (a χ² test). The provider redraws a
//! password that lacks a class, which makes the small classes (digits, symbols) a little more
//! frequent than 1/66; the expected counts below account for that exactly.

use std::collections::{BTreeMap, HashSet};

use crate::Failures;

/// NextCloud's default minimum length for share passwords.
const POLICY_MIN_LENGTH: usize = 10;
/// χ² with 65 degrees of freedom (66 symbols) exceeds this with probability 10⁻⁴ when the
/// characters are uniform.
const CHI_SQUARED_LIMIT: f64 = 116.0;

/// The character classes a password must have one of each of.
const CLASSES: [fn(char) -> bool; 4] = [
    |c| c.is_ascii_lowercase(),
    |c| c.is_ascii_uppercase(),
    |c| c.is_ascii_digit(),
    |c| !c.is_ascii_alphanumeric(),
];

/// Expected number of characters of class `k` in a password of `length` characters drawn
/// uniformly from classes of `sizes`, given that it has every class (inclusion–exclusion over
/// the sets of classes that are missing).
fn share_of_class(k: usize, sizes: &[usize; 4], length: usize) -> f64 {
    let n: usize = sizes.iter().sum();
    let (n, length) = (n as f64, length as i32);
    let (mut with_all, mut of_k) = (0.0, 0.0);
    for missing in 0u32..16 {
        let sign = if missing.count_ones() % 2 == 0 {
            1.0
        } else {
            -1.0
        };
        let gone: usize = (0..4)
            .filter(|i| missing & (1 << i) != 0)
            .map(|i| sizes[i])
            .sum();
        let rest = (n - gone as f64) / n;
        with_all += sign * rest.powi(length);
        if missing & (1 << k) == 0 {
            of_k += sign * f64::from(length) * (sizes[k] as f64 / n) * rest.powi(length - 1);
        }
    }
    of_k / with_all
}

pub fn check(passwords: &[String], failures: &mut Failures) {
    println!("== Share passwords from the load run ==\n");
    let distinct: HashSet<&String> = passwords.iter().collect();
    let shortest = passwords
        .iter()
        .map(|p| p.chars().count())
        .min()
        .unwrap_or(0);
    let classes = |p: &String| {
        [
            p.chars().any(|c| c.is_ascii_lowercase()),
            p.chars().any(|c| c.is_ascii_uppercase()),
            p.chars().any(|c| c.is_ascii_digit()),
            p.chars().any(|c| !c.is_ascii_alphanumeric()),
        ]
        .iter()
        .all(|has| *has)
    };
    let with_all_classes = passwords.iter().filter(|p| classes(p)).count();
    let mut counts: BTreeMap<char, usize> = BTreeMap::new();
    for c in passwords.iter().flat_map(|p| p.chars()) {
        *counts.entry(c).or_default() += 1;
    }
    let length = passwords.first().map_or(0, |p| p.chars().count());
    let sizes = CLASSES.map(|class| counts.keys().filter(|c| class(**c)).count());
    let chi_squared: f64 = counts
        .iter()
        .map(|(c, &n)| {
            let class = CLASSES.iter().position(|class| class(*c)).unwrap_or(0);
            let expected = passwords.len() as f64 * share_of_class(class, &sizes, length)
                / sizes[class] as f64;
            (n as f64 - expected).powi(2) / expected
        })
        .sum();
    let bits = shortest as f64 * (counts.len() as f64).log2();

    println!("{:<44} {}", "passwords", passwords.len());
    println!("{:<44} {}", "distinct", distinct.len());
    println!(
        "{:<44} {shortest} (policy: ≥ {POLICY_MIN_LENGTH})",
        "shortest"
    );
    println!(
        "{:<44} {with_all_classes}",
        "with lower, upper, digit and symbol"
    );
    println!("{:<44} {}", "alphabet seen", counts.len());
    println!(
        "{:<44} {chi_squared:.1} (limit {CHI_SQUARED_LIMIT} at p = 10⁻⁴, {} degrees of freedom)",
        "χ² of character counts vs a uniform draw",
        counts.len().saturating_sub(1)
    );
    println!(
        "{:<44} {bits:.0} bits\n",
        "entropy per password (uniform draw)"
    );

    failures.check(passwords.len() >= 2000, || {
        format!("passwords: only {}", passwords.len())
    });
    failures.check(distinct.len() == passwords.len(), || {
        "passwords: repeats".into()
    });
    failures.check(shortest >= POLICY_MIN_LENGTH, || {
        format!("passwords: one has {shortest} characters")
    });
    failures.check(with_all_classes == passwords.len(), || {
        "passwords: a class missing".into()
    });
    failures.check(counts.len() == 66, || {
        format!("passwords: {} symbols seen, 66 expected", counts.len())
    });
    failures.check(chi_squared < CHI_SQUARED_LIMIT, || {
        format!("passwords: χ² {chi_squared:.1}")
    });
}
