//! Faults the tests inject into the stand-in at a chosen step of the protocol: the ways a
//! NextCloud, or the network in front of it, fails (docs/nextcloud-behaviour.md, "Failures the
//! tests inject").

use std::time::Duration;

/// A step of the provider protocol, as the stand-in recognises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Any WebDAV MKCOL.
    Mkcol,
    /// A share creation asking for these permission bits (1 read-only, 15 read-write).
    CreateShare { permissions: u32 },
    /// A share deletion.
    DeleteShare,
    /// A WebDAV DELETE.
    DeleteFolder,
    /// The password policy's generator.
    GeneratePassword,
    /// A listing of the trash bin.
    ListTrash,
    /// A DELETE in the trash bin.
    RemoveFromTrash,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and NextCloud's error body for the endpoint (a Sabre XML error
    /// for WebDAV, an OCS envelope for OCS), without doing anything.
    Status(u16),
    /// `503 Service Unavailable` with `Retry-After: <seconds>`, without doing anything, as a
    /// NextCloud in maintenance mode or a proxy whose backend is away answers.
    Unavailable { retry_after: u32 },
    /// What the request is about vanished just before (a user deleted it): the share or the
    /// folder is removed, then the request is handled as usual, which answers 404. For a
    /// MKCOL, the account's files root is missing: 404 without doing anything.
    Gone,
    /// The server goes away: the request is not handled, its connection and every other one
    /// is closed, and nothing listens (connections are refused) for this long.
    Outage(Duration),
    /// Do the work, then close the connection without an answer (the client cannot know
    /// whether it happened).
    DropConnection,
    /// Do the work, send the answer's head and part of its body, then break the connection.
    ResetMidBody,
    /// Do the work, then wait this long before answering (longer than the client waits).
    SlowAnswer(Duration),
    /// Do the work, answer with its status but a body cut short and garbled (broken JSON or
    /// XML).
    Malformed,
    /// Do nothing and answer 423 Locked, as NextCloud does while another request holds a lock on
    /// the file (docs/nextcloud-behaviour.md, "Locking"; recording `15`): Sabre's `FileLocked` for
    /// WebDAV, an OCS envelope for OCS.
    Locked,
    /// Do nothing and answer HTTP 200 with an OCS envelope whose `statuscode` says 404, as OCS v1
    /// does (docs/nextcloud-behaviour.md, "Answer shapes"; recording `06 [3]`); WebDAV requests are
    /// not affected.
    OcsMismatch,
}

/// Inject `fault` at the `nth` (0-based) occurrence of `step` from now on, once. `S` is the
/// stand-in's kind of step: [`Step`] for this one, `opencloud::Step` for the OpenCloud stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule<S = Step> {
    pub step: S,
    pub nth: usize,
    pub fault: Fault,
}

impl<S> FaultRule<S> {
    pub fn at(step: S, fault: Fault) -> Self {
        FaultRule {
            step,
            nth: 0,
            fault,
        }
    }
}

/// The armed rules; each fires once.
#[derive(Debug)]
pub struct Faults<S = Step> {
    rules: Vec<FaultRule<S>>,
}

impl<S> Default for Faults<S> {
    fn default() -> Self {
        Faults { rules: Vec::new() }
    }
}

impl<S: PartialEq + Copy> Faults<S> {
    pub fn add(&mut self, rule: FaultRule<S>) {
        self.rules.push(rule);
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault to apply to this occurrence of `step`, if one is due; counts the step.
    pub fn take(&mut self, step: S) -> Option<Fault> {
        let mut due = None;
        self.rules.retain_mut(|rule| {
            if rule.step != step || due.is_some() {
                return true;
            }
            if rule.nth == 0 {
                due = Some(rule.fault);
                false
            } else {
                rule.nth -= 1;
                true
            }
        });
        due
    }
}
