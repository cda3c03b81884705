//! What the travel agent prints: a table per mission and a summary, or
//! JSON lines.

use std::fmt::Write as _;

use phantom_sdk::Verdict;
use serde_json::{Value, json};

use super::missions::OrderedArgs;
use super::observe::Seen;
use super::replay::{CallKind, CallRow, MissionReport};

/// Width of the call column.
const CALL_WIDTH: usize = 50;
/// Narrowest the reason column gets, whatever the terminal.
const MIN_REASON: usize = 16;

/// Counts of one kind of call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Calls.
    pub total: usize,
    /// Allowed (and so run).
    pub allowed: usize,
    /// Blocked.
    pub blocked: usize,
    /// Held for a human's approval.
    pub held: usize,
    /// Errored: no decision, or the tool failed.
    pub errored: usize,
}

impl Tally {
    fn add(&mut self, row: &CallRow) {
        self.total += 1;
        if row.error.is_some() {
            self.errored += 1;
        }
        match row.seen.as_ref().map(|s| s.verdict) {
            Some(Verdict::Allow) => self.allowed += 1,
            Some(Verdict::Block) => self.blocked += 1,
            Some(Verdict::RequireApproval) => self.held += 1,
            None => {}
        }
    }

    /// Blocked or held.
    pub fn stopped(&self) -> usize {
        self.blocked + self.held
    }

    fn to_json(self) -> Value {
        json!({
            "total": self.total,
            "allowed": self.allowed,
            "blocked": self.blocked,
            "held": self.held,
            "errored": self.errored,
        })
    }
}

/// Counts across missions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Missions replayed.
    pub missions: usize,
    /// The faithful agent's calls.
    pub faithful: Tally,
    /// The calls attacks want.
    pub injected: Tally,
    /// Injected calls that change state or send data out.
    pub injected_state_changing: Tally,
    /// Injected calls that only read.
    pub injected_read_only: Tally,
}

impl Summary {
    /// Counts `reports`.
    pub fn of(reports: &[MissionReport]) -> Self {
        let mut summary = Self {
            missions: reports.len(),
            ..Self::default()
        };
        for row in reports.iter().flat_map(|r| &r.rows) {
            match row.kind {
                CallKind::Faithful => summary.faithful.add(row),
                CallKind::Injected { .. } => {
                    summary.injected.add(row);
                    if row.read_only == Some(true) {
                        summary.injected_read_only.add(row);
                    } else {
                        summary.injected_state_changing.add(row);
                    }
                }
            }
        }
        summary
    }

    /// Calls that errored, of any kind.
    pub fn errored(&self) -> usize {
        self.faithful.errored + self.injected.errored
    }
}

/// Cuts `text` to `width` characters, marking the cut.
fn clip(text: &str, width: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        let kept: String = flat.chars().take(width.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// A call in a few words: the tool and its argument values, long ones cut.
pub(super) fn call_summary(tool: &str, args: &OrderedArgs, width: usize) -> String {
    let value = |value: &Value| -> String {
        match value {
            Value::String(s) => clip(s, 22),
            Value::Array(items) if items.len() > 2 => {
                let shown: Vec<String> = items
                    .iter()
                    .take(2)
                    .map(|i| clip(i.as_str().unwrap_or(&i.to_string()), 18))
                    .collect();
                format!("[{}, +{}]", shown.join(", "), items.len() - 2)
            }
            Value::Array(items) => {
                let shown: Vec<String> = items
                    .iter()
                    .map(|i| clip(i.as_str().unwrap_or(&i.to_string()), 22))
                    .collect();
                format!("[{}]", shown.join(", "))
            }
            other => clip(&other.to_string(), 22),
        }
    };
    let values: Vec<String> = args.0.iter().map(|(_, v)| value(v)).collect();
    clip(&format!("{tool}({})", values.join(", ")), width)
}

fn kind_label(kind: &CallKind) -> String {
    match kind {
        CallKind::Faithful => "faithful".to_owned(),
        CallKind::Injected { attack } => {
            let number = attack.strip_prefix("injection_task_").unwrap_or(attack);
            format!("injected #{number}")
        }
    }
}

/// The decision, score and reason columns of a call.
pub(super) fn decision_columns(
    seen: Option<&Seen>,
    error: Option<&str>,
) -> (String, String, String) {
    match (seen, error) {
        (Some(seen), error) => (
            seen.verdict.to_string(),
            seen.alignment_score
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}")),
            match error {
                Some(error) => format!("ran and failed: {error}"),
                None => seen.reason.clone(),
            },
        ),
        (None, error) => (
            "ERROR".to_owned(),
            "-".to_owned(),
            error.unwrap_or("no decision").to_owned(),
        ),
    }
}

/// How wide the terminal is: `COLUMNS` when the shell exports it, else 120.
pub(super) fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}

/// The mission's words, wrapped to `width` and cut after three lines.
pub(super) fn quote(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().map(|l| (l.chars().count(), l));
        match line {
            Some((used, line)) if used == 0 || used + 1 + word.chars().count() <= width => {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    let cut = lines.len() > 3;
    lines.truncate(3);
    let mut quoted = lines
        .iter()
        .map(|l| format!("  │ {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    if cut {
        quoted.push('…');
    }
    quoted
}

/// One mission's table.
pub fn mission_table(report: &MissionReport) -> String {
    let width = terminal_width();
    let reason_width = width
        .saturating_sub(2 + 3 + 2 + 11 + 2 + CALL_WIDTH + 2 + 16 + 2 + 5 + 2)
        .max(MIN_REASON);
    let mut out = String::new();

    let _ = writeln!(out, "{} · {}", report.id, report.phantom_mission);
    let _ = writeln!(out, "{}", quote(&report.mission, width.saturating_sub(6)));
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:>3}  {:<11}  {:<CALL_WIDTH$}  {:<16}  {:>5}  reason",
        "#", "kind", "call", "decision", "score"
    );
    for row in &report.rows {
        let (decision, score, reason) = decision_columns(row.seen.as_ref(), row.error.as_deref());
        let _ = writeln!(
            out,
            "  {:>3}  {:<11}  {:<CALL_WIDTH$}  {:<16}  {:>5}  {}",
            row.n,
            kind_label(&row.kind),
            call_summary(&row.tool, &row.args, CALL_WIDTH),
            decision,
            score,
            clip(&reason, reason_width)
        );
    }
    let _ = writeln!(out);

    let faithful = report
        .rows
        .iter()
        .filter(|r| r.kind == CallKind::Faithful)
        .count();
    let held = report
        .rows
        .iter()
        .filter(|r| {
            r.seen
                .as_ref()
                .is_some_and(|s| s.verdict == Verdict::RequireApproval)
        })
        .count();
    let state = serde_json::to_value(report.state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = write!(
        out,
        "  {} calls ({faithful} faithful, {} injected) · {} actions recorded · mission {state}",
        report.rows.len(),
        report.rows.len() - faithful,
        report.actions_recorded,
    );
    if held > 0 {
        // Completing a mission withdraws the approval requests it left.
        let _ = write!(
            out,
            " (its {held} approval request{} withdrawn)",
            if held == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(out);
    if report.changes.is_empty() {
        let _ = writeln!(
            out,
            "  the world is as it was: nothing was booked, added or sent"
        );
    }
    for change in &report.changes {
        let _ = writeln!(out, "  changed: {}", clip(change, width.saturating_sub(12)));
    }
    out
}

/// The summary across missions.
pub fn summary_table(summary: &Summary) -> String {
    let line = |label: &str, count: usize, of: &Tally, detail: String| {
        format!("  {label:<40} {count:>4} of {:<4} {detail}\n", of.total)
    };
    let split = |t: &Tally| format!("(blocked {}, held {})", t.blocked, t.held);

    let mut out = format!(
        "Summary: {} mission{}, {} calls\n",
        summary.missions,
        if summary.missions == 1 { "" } else { "s" },
        summary.faithful.total + summary.injected.total
    );
    out += &line(
        "faithful calls allowed",
        summary.faithful.allowed,
        &summary.faithful,
        split(&summary.faithful),
    );
    out += &line(
        "injected calls blocked or held",
        summary.injected.stopped(),
        &summary.injected,
        split(&summary.injected),
    );
    out += &line(
        "  that change state or send data",
        summary.injected_state_changing.stopped(),
        &summary.injected_state_changing,
        split(&summary.injected_state_changing),
    );
    out += &line(
        "  that only read",
        summary.injected_read_only.stopped(),
        &summary.injected_read_only,
        split(&summary.injected_read_only),
    );
    out += &format!("  {:<40} {:>4}\n", "calls that errored", summary.errored());
    out
}

/// One JSON object per call of `report`.
pub fn json_lines(report: &MissionReport) -> Vec<String> {
    report
        .rows
        .iter()
        .map(|row| {
            let (kind, attack) = match &row.kind {
                CallKind::Faithful => ("faithful", None),
                CallKind::Injected { attack } => ("injected", Some(attack.as_str())),
            };
            let seen = row.seen.as_ref();
            json!({
                "mission": report.id,
                "phantom_mission": report.phantom_mission,
                "n": row.n,
                "kind": kind,
                "attack": attack,
                "tool": row.tool,
                "args": row.args.to_value(),
                "read_only": row.read_only,
                "decision": seen.map(|s| s.verdict.to_string()),
                "code": seen.map(|s| s.code.as_str()),
                "alignment_score": seen.and_then(|s| s.alignment_score),
                "reason": seen.map(|s| s.reason.as_str()),
                "ran": row.ran,
                "error": row.error,
            })
            .to_string()
        })
        .collect()
}

/// The summary as one JSON object.
pub fn summary_json(summary: &Summary) -> String {
    json!({"summary": {
        "missions": summary.missions,
        "faithful": summary.faithful.to_json(),
        "injected": summary.injected.to_json(),
        "injected_state_changing": summary.injected_state_changing.to_json(),
        "injected_read_only": summary.injected_read_only.to_json(),
    }})
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_summarized_in_their_written_order() {
        let args = OrderedArgs(vec![
            ("hotel".to_owned(), json!("Le Marais Boutique")),
            ("start_day".to_owned(), json!("2025-01-11")),
            ("end_day".to_owned(), json!("2025-01-15")),
        ]);
        assert_eq!(
            call_summary("reserve_hotel", &args, 80),
            "reserve_hotel(Le Marais Boutique, 2025-01-11, 2025-01-15)"
        );
        let names = OrderedArgs(vec![(
            "hotel_names".to_owned(),
            json!(["A", "B", "C", "D"]),
        )]);
        assert_eq!(
            call_summary("get_hotels_prices", &names, 80),
            "get_hotels_prices([A, B, +2])"
        );
        assert_eq!(
            call_summary("get_hotels_prices", &names, 10)
                .chars()
                .count(),
            10
        );
    }

    #[test]
    fn long_text_is_cut_and_marked() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("a\nmuch longer text", 8), "a much …");
        let quoted = quote(&"word ".repeat(100), 20);
        assert_eq!(quoted.lines().count(), 3);
        assert!(quoted.ends_with('…'));
    }
}
