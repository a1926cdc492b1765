//! The node's history, kept in the worker's record: every task it ran with the states it went
//! through and when, its outcome, the fee it earned and how long it executed; and the node's own
//! events (slashes, kick-outs, payments, notices). `status` and the dashboard show it.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{B256, U256};
use protocol::task_status::TaskStatus;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::record::{b256, Record, RecordError};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// One task as the node saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskHistory {
    pub task: B256,
    pub task_type: u8,
    pub first_seen_ms: i64,
    /// Each state the worker saw the task in, with when it first saw it.
    pub states: Vec<(String, i64)>,
    /// The final state (or `FailedLocally`), once there is one.
    pub outcome: Option<String>,
    /// What the contract paid this node for the task, in wei.
    pub fee_wei: Option<String>,
    pub execution_ms: Option<i64>,
}

/// A node event: `slashed`, `kicked_out`, `payment`, `credit`, or a notice sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeEvent {
    pub at_ms: i64,
    pub kind: String,
    pub task: Option<B256>,
    pub message: String,
}

/// Totals over the whole history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HistorySummary {
    pub tasks: u64,
    /// Tasks by outcome (`EndSuccess`, `EndAborted`, …; unfinished ones under `running`).
    pub outcomes: BTreeMap<String, u64>,
    pub fees_earned_wei: String,
    pub slashes: u64,
    pub kick_outs: u64,
}

type HistoryRow = (
    Vec<u8>,
    u8,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

impl Record {
    /// Notes that `task` was seen in `status` (a new state is appended once; a final state is
    /// its outcome); whether the state was new.
    pub fn history_state(
        &self,
        task: &B256,
        task_type: u8,
        status: TaskStatus,
    ) -> Result<bool, RecordError> {
        self.history_step(task, task_type, &status.to_string(), status.is_final())
    }

    /// Notes a local failure (the task is left to time out on chain).
    pub fn history_failed(&self, task: &B256, task_type: u8) -> Result<(), RecordError> {
        // The outcome until the chain ends the task (its final state replaces it).
        self.history_step(task, task_type, "FailedLocally", true)?;
        Ok(())
    }

    fn history_step(
        &self,
        task: &B256,
        task_type: u8,
        state: &str,
        is_outcome: bool,
    ) -> Result<bool, RecordError> {
        let now = now_ms();
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO history (task, task_type, first_seen_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?3)",
            params![task.as_slice(), task_type, now],
        )?;
        let states: String = conn.query_row(
            "SELECT states FROM history WHERE task = ?1",
            params![task.as_slice()],
            |row| row.get(0),
        )?;
        let mut states: Vec<(String, i64)> = serde_json::from_str(&states)
            .map_err(|e| RecordError::Malformed(format!("history states: {e}")))?;
        if states.last().map(|(s, _)| s.as_str()) != Some(state) {
            states.push((state.to_string(), now));
            let text = serde_json::to_string(&states)
                .map_err(|e| RecordError::Malformed(e.to_string()))?;
            conn.execute(
                "UPDATE history SET states = ?2, updated_ms = ?3,
                   outcome = CASE WHEN ?4 THEN ?5 ELSE outcome END
                 WHERE task = ?1",
                params![task.as_slice(), text, now, is_outcome, state],
            )?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Notes how long the task's execution took.
    pub fn history_execution(&self, task: &B256, millis: i64) -> Result<(), RecordError> {
        self.conn().execute(
            "UPDATE history SET execution_ms = ?2 WHERE task = ?1",
            params![task.as_slice(), millis],
        )?;
        Ok(())
    }

    /// Adds a payment for `task` (the fee; a group task may pay in one transaction).
    pub fn history_fee(&self, task: &B256, amount: U256) -> Result<bool, RecordError> {
        let conn = self.conn();
        let current: Option<Option<String>> = conn
            .query_row(
                "SELECT fee_wei FROM history WHERE task = ?1",
                params![task.as_slice()],
                |row| row.get(0),
            )
            .optional()?;
        let Some(current) = current else {
            return Ok(false);
        };
        let total = current
            .and_then(|t| t.parse::<U256>().ok())
            .unwrap_or_default()
            + amount;
        conn.execute(
            "UPDATE history SET fee_wei = ?2 WHERE task = ?1",
            params![task.as_slice(), total.to_string()],
        )?;
        Ok(true)
    }

    /// Whether the history holds `task`.
    pub fn in_history(&self, task: &B256) -> Result<bool, RecordError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM history WHERE task = ?1",
                params![task.as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The most recent tasks first.
    pub fn history(&self, limit: usize) -> Result<Vec<TaskHistory>, RecordError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT task, task_type, first_seen_ms, states, outcome, fee_wei, execution_ms
             FROM history ORDER BY first_seen_ms DESC, rowid DESC LIMIT ?1",
        )?;
        let rows: Vec<HistoryRow> = stmt
            .query_map(params![limit as i64], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(
                |(task, task_type, first_seen_ms, states, outcome, fee_wei, execution_ms)| {
                    Ok(TaskHistory {
                        task: b256(task)?,
                        task_type,
                        first_seen_ms,
                        states: serde_json::from_str(&states)
                            .map_err(|e| RecordError::Malformed(format!("history states: {e}")))?,
                        outcome,
                        fee_wei,
                        execution_ms,
                    })
                },
            )
            .collect()
    }

    pub fn add_node_event(
        &self,
        kind: &str,
        task: Option<&B256>,
        message: &str,
    ) -> Result<(), RecordError> {
        self.conn().execute(
            "INSERT INTO node_events (at_ms, kind, task, message) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms(), kind, task.map(|t| t.to_vec()), message],
        )?;
        Ok(())
    }

    /// The most recent events first.
    pub fn node_events(&self, limit: usize) -> Result<Vec<NodeEvent>, RecordError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT at_ms, kind, task, message FROM node_events ORDER BY id DESC LIMIT ?1",
        )?;
        let rows: Vec<(i64, String, Option<Vec<u8>>, String)> = stmt
            .query_map(params![limit as i64], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|(at_ms, kind, task, message)| {
                Ok(NodeEvent {
                    at_ms,
                    kind,
                    task: task.map(b256).transpose()?,
                    message,
                })
            })
            .collect()
    }

    pub fn history_summary(&self) -> Result<HistorySummary, RecordError> {
        let conn = self.conn();
        let mut summary = HistorySummary::default();
        let mut fees = U256::ZERO;
        let mut stmt = conn.prepare("SELECT outcome, fee_wei FROM history")?;
        let rows: Vec<(Option<String>, Option<String>)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (outcome, fee) in rows {
            summary.tasks += 1;
            *summary
                .outcomes
                .entry(outcome.unwrap_or_else(|| "running".into()))
                .or_default() += 1;
            fees += fee.and_then(|f| f.parse::<U256>().ok()).unwrap_or_default();
        }
        summary.fees_earned_wei = fees.to_string();
        let count = |kind: &str| -> Result<u64, RecordError> {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM node_events WHERE kind = ?1",
                params![kind],
                |row| row.get::<_, i64>(0),
            )? as u64)
        };
        summary.slashes = count("slashed")?;
        summary.kick_outs = count("kicked_out")?;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_outcomes_fees_and_events_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.sqlite");
        let task = B256::repeat_byte(7);
        {
            let record = Record::open(&path).unwrap();
            for status in [
                TaskStatus::Started,
                TaskStatus::Started,
                TaskStatus::ParametersUploaded,
                TaskStatus::EndSuccess,
            ] {
                record.history_state(&task, 1, status).unwrap();
            }
            record.history_execution(&task, 1234).unwrap();
            assert!(record.history_fee(&task, U256::from(500)).unwrap());
            assert!(!record.history_fee(&B256::ZERO, U256::from(1)).unwrap());
            record.add_node_event("slashed", None, "slashed").unwrap();
        }
        let record = Record::open(&path).unwrap();
        let history = record.history(10).unwrap();
        assert_eq!(history.len(), 1);
        let states: Vec<&str> = history[0].states.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(states, ["Started", "ParametersUploaded", "EndSuccess"]);
        assert_eq!(history[0].outcome.as_deref(), Some("EndSuccess"));
        assert_eq!(history[0].fee_wei.as_deref(), Some("500"));
        assert_eq!(history[0].execution_ms, Some(1234));
        let summary = record.history_summary().unwrap();
        assert_eq!(summary.tasks, 1);
        assert_eq!(summary.outcomes["EndSuccess"], 1);
        assert_eq!(summary.fees_earned_wei, "500");
        assert_eq!(summary.slashes, 1);
        assert_eq!(record.node_events(5).unwrap()[0].kind, "slashed");
    }
}
