//! What a room id may be. The contract (`wit/provider.wit`, `invalid-room`) hands a provider
//! room ids that can name one folder safely; the host refuses any other before it issues a
//! ticket, records anything or calls a provider, so every way in (REST, signaling, CLI) says
//! the same thing about the same id.

/// The longest room id, in bytes: one folder name on common file systems.
pub const MAX_BYTES: usize = 255;

/// Why `room` cannot be a room id, if it cannot: empty, `.` or `..`, a `/` or `\`, a control
/// character, or longer than [`MAX_BYTES`]. The message quotes at most the id's first 40
/// characters.
pub fn check(room: &str) -> Result<(), String> {
    let reason = if room.is_empty() {
        "is empty"
    } else if room == "." || room == ".." {
        "must not be '.' or '..'"
    } else if room.contains(['/', '\\']) {
        "must not contain '/' or '\\'"
    } else if room.chars().any(char::is_control) {
        "must not contain control characters"
    } else if room.len() > MAX_BYTES {
        "is longer than 255 bytes"
    } else {
        return Ok(());
    };
    let shown: String = room.chars().take(40).collect();
    let more = if shown.len() < room.len() { "…" } else { "" };
    Err(format!("room id {shown:?}{more} {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_cannot_name_one_folder_are_refused() {
        for good in ["room-1", "räum-😀-会议", "a.b", "...", &"x".repeat(255)] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for (bad, reason) in [
            ("", "is empty"),
            (".", "'.' or '..'"),
            ("..", "'.' or '..'"),
            ("a/b", "'/'"),
            ("a\\b", "'/'"),
            ("a\nb", "control"),
            ("a\u{7f}b", "control"),
        ] {
            let error = check(bad).unwrap_err();
            assert!(error.contains(reason), "{bad:?}: {error}");
        }
        let long = check(&"x".repeat(20_000)).unwrap_err();
        assert!(
            long.contains("longer than 255") && long.len() < 120,
            "{long}"
        );
    }
}
