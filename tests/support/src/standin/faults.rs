//! Faults the tests inject into the stand-in: at a chosen step of the protocol, an error
//! status, a dropped connection, or an answer that comes too late.

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
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status without doing anything.
    Status(u16),
    /// Do the work, then close the connection without an answer (the client cannot know
    /// whether it happened).
    DropConnection,
    /// Do the work, then wait this long before answering (longer than the client waits).
    SlowAnswer(Duration),
}

/// Inject `fault` at the `nth` (0-based) occurrence of `step` from now on, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    pub step: Step,
    pub nth: usize,
    pub fault: Fault,
}

impl FaultRule {
    pub fn at(step: Step, fault: Fault) -> Self {
        FaultRule {
            step,
            nth: 0,
            fault,
        }
    }
}

/// The armed rules; each fires once.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<FaultRule>,
}

impl Faults {
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault to apply to this occurrence of `step`, if one is due; counts the step.
    pub fn take(&mut self, step: Step) -> Option<Fault> {
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
