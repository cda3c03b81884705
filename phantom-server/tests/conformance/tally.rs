//! Pass/fail counting shared by the suites.

use crate::known;

/// Counts one suite's assertions.
pub struct Tally {
    suite: &'static str,
    passed: usize,
    failed: Vec<String>,
    not_supported: Vec<String>,
}

impl Tally {
    pub fn new(suite: &'static str) -> Self {
        Self {
            suite,
            passed: 0,
            failed: Vec::new(),
            not_supported: Vec::new(),
        }
    }

    /// Records one assertion. `name` identifies it for the known-failure table.
    pub fn record(&mut self, name: &str, outcome: Result<(), String>) {
        let known = known::reason(self.suite, name);
        match (outcome, known) {
            (Ok(()), None) => self.passed += 1,
            (Ok(()), Some(_)) => {
                // A listed assertion that now passes: count it, and say so, so the table shrinks.
                self.passed += 1;
                println!(
                    "[{}] listed as not supported but passes: {name}",
                    self.suite
                );
            }
            (Err(_), Some(reason)) => self.not_supported.push(format!("{name}: {reason}")),
            (Err(why), None) => self.failed.push(format!("{name}: {why}")),
        }
    }

    /// Prints the counts; `false` when an assertion failed that is not listed as not supported.
    #[must_use]
    pub fn finish(self) -> bool {
        for f in &self.failed {
            println!("[{}] FAILED {f}", self.suite);
        }
        for n in &self.not_supported {
            println!("[{}] not supported: {n}", self.suite);
        }
        println!(
            "{}: {} passed, {} failed, {} skipped (not supported)",
            self.suite,
            self.passed,
            self.failed.len(),
            self.not_supported.len()
        );
        self.failed.is_empty()
    }
}
