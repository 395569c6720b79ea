//! What the runtime tells an operator: its calls, the storage's answers, swaps, instantiation
//! and compile times, recorded through the `metrics` facade where they happen.
//!
//! The runtime installs no recorder: a controller that collects no metrics pays a check of a
//! global per measurement and nothing else, and one that does installs the recorder of its
//! choice (the reference host: Prometheus, `GET /metrics`). [`describe`] gives the recorder
//! each metric's unit and help text; the names are the constants below.
//!
//! No label carries a room id, a URL or a secret: labels are the provider's name (the
//! operator's `[shared_folder].provider`), the operation, an outcome word from
//! [`ErrorKind`], an HTTP status — each from a small set, as Prometheus needs.

use std::time::Duration;

use ::metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

use crate::error::ErrorKind;

/// Counter of finished provider calls, by `provider`, `operation` (`validate`, `create`,
/// `delete`, `purge`) and `outcome` (`ok`, or the kind of failure: see [`outcome`]).
pub const PROVIDER_CALLS: &str = "shared_folder_provider_calls_total";
/// Histogram of a provider call's duration in seconds, instantiation included, by `provider`
/// and `operation`.
pub const PROVIDER_CALL_SECONDS: &str = "shared_folder_provider_call_seconds";
/// Counter of the storage's answers to providers' requests, by `provider` and `status` (the
/// HTTP status, or `none` when no answer came: connection failed or timed out).
pub const STORAGE_RESPONSES: &str = "shared_folder_storage_responses_total";
/// Counter of changes of what serves new rooms, by `provider` (the new one), `change` (`swap`:
/// another component; `reconfigure`: another `[shared_folder]`) and `outcome` (`ok`, or
/// `refused`: what served keeps serving).
pub const PROVIDER_SWAPS: &str = "shared_folder_provider_swaps_total";
/// Histogram of the time to make a fresh instance of a provider (every call makes one), in
/// seconds, by `provider`.
pub const INSTANTIATION_SECONDS: &str = "shared_folder_instantiation_seconds";
/// Histogram of the time to compile a component not compiled before (neither in memory nor in
/// the cache on disk), in seconds.
pub const COMPILE_SECONDS: &str = "shared_folder_compile_seconds";

/// Counter of components refused before they were compiled or swapped in, by `provider` and
/// `reason` (`unsigned`, `untrusted_signer`, `altered`, `digest_mismatch`, … — see
/// [`crate::trust::Refusal::reason`] and the host's own reasons for what it fetched).
pub const COMPONENT_REFUSALS: &str = "shared_folder_component_refusals_total";

/// Gives the installed recorder each metric's unit and help text; call it once the recorder
/// is installed (describing before that reaches no recorder).
pub fn describe() {
    describe_counter!(
        PROVIDER_CALLS,
        Unit::Count,
        "Provider calls finished, by provider, operation and outcome (ok, or the kind of failure)."
    );
    describe_histogram!(
        PROVIDER_CALL_SECONDS,
        Unit::Seconds,
        "Duration of provider calls, instantiation included, by provider and operation."
    );
    describe_counter!(
        STORAGE_RESPONSES,
        Unit::Count,
        "Answers of the storage to the providers' requests, by provider and HTTP status \
         (none: no answer)."
    );
    describe_counter!(
        PROVIDER_SWAPS,
        Unit::Count,
        "Changes of what serves new rooms (swap: component; reconfigure: settings), by \
         provider and outcome."
    );
    describe_histogram!(
        INSTANTIATION_SECONDS,
        Unit::Seconds,
        "Time to make a fresh instance of a provider, by provider."
    );
    describe_counter!(
        COMPONENT_REFUSALS,
        Unit::Count,
        "Components refused before they were compiled or swapped in (unsigned, signed by \
         another key, changed, not the pinned digest, …), by provider and reason."
    );
    describe_histogram!(
        COMPILE_SECONDS,
        Unit::Seconds,
        "Time to compile a component not compiled before."
    );
}

/// A call of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Validate,
    Create,
    Delete,
    Purge,
    List,
    Recover,
}

impl Operation {
    fn label(self) -> &'static str {
        match self {
            Operation::Validate => "validate",
            Operation::Create => "create",
            Operation::Delete => "delete",
            Operation::Purge => "purge",
            Operation::List => "list",
            Operation::Recover => "recover",
        }
    }
}

/// What changed what serves new rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Swap,
    Reconfigure,
}

/// Counts a finished call of `provider` and records its duration; `failure` is the kind of
/// failure, `None` when it succeeded.
pub(crate) fn call_finished(
    provider: &str,
    operation: Operation,
    took: Duration,
    failure: Option<ErrorKind>,
) {
    let outcome = failure.map_or("ok", self::outcome);
    counter!(
        PROVIDER_CALLS,
        "provider" => provider.to_owned(),
        "operation" => operation.label(),
        "outcome" => outcome
    )
    .increment(1);
    histogram!(
        PROVIDER_CALL_SECONDS,
        "provider" => provider.to_owned(),
        "operation" => operation.label()
    )
    .record(took);
}

/// Counts an answer of the storage (`None`: none came) to a request of `provider`'s.
pub(crate) fn storage_answered(provider: &str, status: Option<http::StatusCode>) {
    let status = status.map_or_else(|| "none".to_owned(), |s| s.as_u16().to_string());
    counter!(
        STORAGE_RESPONSES,
        "provider" => provider.to_owned(),
        "status" => status
    )
    .increment(1);
}

/// Records how long making an instance of `provider` took.
pub(crate) fn instantiated(provider: &str, took: Duration) {
    histogram!(INSTANTIATION_SECONDS, "provider" => provider.to_owned()).record(took);
}

/// Records how long compiling a component took.
pub(crate) fn compiled(took: Duration) {
    histogram!(COMPILE_SECONDS).record(took);
}

/// Counts a change to `provider`, made or refused.
pub(crate) fn swapped(provider: &str, change: Change, made: bool) {
    let change = match change {
        Change::Swap => "swap",
        Change::Reconfigure => "reconfigure",
    };
    let outcome = if made { "ok" } else { "refused" };
    counter!(
        PROVIDER_SWAPS,
        "provider" => provider.to_owned(),
        "change" => change,
        "outcome" => outcome
    )
    .increment(1);
}

/// Counts a component refused before it was compiled or swapped in, for `reason` (one word:
/// [`crate::trust::Refusal::reason`], or the host's own for what it fetched).
pub fn component_refused(provider: &str, reason: &'static str) {
    counter!(
        COMPONENT_REFUSALS,
        "provider" => provider.to_owned(),
        "reason" => reason
    )
    .increment(1);
}

/// The `outcome` label of a failure: one word per [`ErrorKind`], the storage's status only
/// for its rate limit (429), which an operator acts on; the other statuses are in
/// [`STORAGE_RESPONSES`].
pub fn outcome(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRoom => "invalid_room",
        ErrorKind::NoFolder => "no_folder",
        ErrorKind::Configuration => "configuration",
        ErrorKind::RefusedAtLoad => "refused_at_load",
        ErrorKind::Trapped => "trapped",
        ErrorKind::Deadline => "deadline",
        ErrorKind::Unusable => "unusable",
        ErrorKind::Instantiation => "instantiation",
        ErrorKind::Unauthorized => "unauthorized",
        ErrorKind::AlreadyExists => "already_exists",
        ErrorKind::NotFound => "not_found",
        ErrorKind::Remote(429) => "rate_limited",
        ErrorKind::Remote(_) => "remote_error",
        ErrorKind::Transport => "transport",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Protocol => "protocol",
        ErrorKind::Records => "records",
        ErrorKind::RecordsUnavailable => "records_unavailable",
        ErrorKind::NotOffered => "not_offered",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_prometheus_label_words() {
        for kind in [
            ErrorKind::InvalidRoom,
            ErrorKind::Remote(429),
            ErrorKind::Remote(500),
            ErrorKind::AlreadyExists,
            ErrorKind::Records,
            ErrorKind::RecordsUnavailable,
        ] {
            let word = outcome(kind);
            assert!(
                word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{word}"
            );
        }
        assert_eq!(outcome(ErrorKind::Remote(429)), "rate_limited");
        assert_eq!(outcome(ErrorKind::Remote(503)), "remote_error");
    }
}
