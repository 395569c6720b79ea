//! A call's outcome in a word or two, as the tables print it: the host's one classification
//! of failures (`ErrorKind`), in its words.

use shared_folder_host::HostError;

/// `ok`, or the kind of error: `remote 500`, `transport`, `timeout`, `trapped`, …
pub fn kind<T>(result: &Result<T, HostError>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(error) => error.kind().to_string(),
    }
}
