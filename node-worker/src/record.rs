//! The worker's own record in SQLite (WAL journal, FULL sync): every task it took with the stage
//! it reached and its score and files, and every transaction it signed, written before the
//! transaction is broadcast. After a crash the worker resumes from here and the contract's state,
//! so it never executes a scored task again and never signs a second transaction for one action.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::B256;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("worker record {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("worker record: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("worker record holds a malformed row: {0}")]
    Malformed(String),
}

/// How far the worker got with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Parameters being fetched or the model running; nothing recorded yet.
    Executing,
    /// Score and files recorded; the score is (being) submitted.
    Scored,
    /// The parameters failed validation; the error is (being) reported.
    ParamsError,
    /// A local failure: the task is left to time out.
    Failed,
    /// The result is on the relay.
    Uploaded,
    /// The task reached a final state on chain.
    Ended,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Executing => "executing",
            Stage::Scored => "scored",
            Stage::ParamsError => "params_error",
            Stage::Failed => "failed",
            Stage::Uploaded => "uploaded",
            Stage::Ended => "ended",
        }
    }

    fn parse(text: &str) -> Option<Stage> {
        Some(match text {
            "executing" => Stage::Executing,
            "scored" => Stage::Scored,
            "params_error" => Stage::ParamsError,
            "failed" => Stage::Failed,
            "uploaded" => Stage::Uploaded,
            "ended" => Stage::Ended,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub commitment: B256,
    pub task_type: u8,
    pub stage: Stage,
    pub score: Option<Vec<u8>>,
    pub files: Vec<PathBuf>,
    pub note: Option<String>,
    pub executions: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxState {
    Pending,
    Mined,
    Reverted,
    /// Never mined and no longer minable (its nonce went to another transaction).
    Dropped,
}

impl TxState {
    fn as_str(self) -> &'static str {
        match self {
            TxState::Pending => "pending",
            TxState::Mined => "mined",
            TxState::Reverted => "reverted",
            TxState::Dropped => "dropped",
        }
    }

    fn parse(text: &str) -> Option<TxState> {
        Some(match text {
            "pending" => TxState::Pending,
            "mined" => TxState::Mined,
            "reverted" => TxState::Reverted,
            "dropped" => TxState::Dropped,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TxRecord {
    pub hash: B256,
    pub nonce: u64,
    pub action: String,
    pub task: Option<B256>,
    pub raw: Vec<u8>,
    pub state: TxState,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tasks (
    commitment BLOB PRIMARY KEY,
    task_type INTEGER NOT NULL,
    stage TEXT NOT NULL,
    score BLOB,
    files TEXT NOT NULL DEFAULT '[]',
    note TEXT,
    executions INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    hash BLOB PRIMARY KEY,
    nonce INTEGER NOT NULL,
    action TEXT NOT NULL,
    task BLOB,
    raw BLOB NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_by_task ON transactions (task, action);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    task BLOB PRIMARY KEY,
    task_type INTEGER NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    states TEXT NOT NULL DEFAULT '[]',
    outcome TEXT,
    fee_wei TEXT,
    execution_ms INTEGER,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS node_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    task BLOB,
    message TEXT NOT NULL
);
";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A `tasks` row as SQLite returns it, before decoding.
type TaskRow = (
    Vec<u8>,
    u8,
    String,
    Option<Vec<u8>>,
    String,
    Option<String>,
    u32,
);

pub struct Record {
    conn: Mutex<Connection>,
}

pub(crate) fn b256(bytes: Vec<u8>) -> Result<B256, RecordError> {
    B256::try_from(bytes.as_slice()).map_err(|_| RecordError::Malformed("a 32-byte hash".into()))
}

impl Record {
    pub fn open(path: &Path) -> Result<Record, RecordError> {
        let open_err = |source| RecordError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        Ok(Record {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (statements are
        // atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn task_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TaskRow> {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
        ))
    }

    fn decode_task(raw: TaskRow) -> Result<TaskRecord, RecordError> {
        let (commitment, task_type, stage, score, files, note, executions) = raw;
        Ok(TaskRecord {
            commitment: b256(commitment)?,
            task_type,
            stage: Stage::parse(&stage).ok_or_else(|| RecordError::Malformed(stage.clone()))?,
            score,
            files: serde_json::from_str(&files)
                .map_err(|e| RecordError::Malformed(e.to_string()))?,
            note,
            executions,
        })
    }

    const TASK_COLUMNS: &'static str =
        "commitment, task_type, stage, score, files, note, executions";

    pub fn task(&self, commitment: &B256) -> Result<Option<TaskRecord>, RecordError> {
        let raw = self
            .conn()
            .query_row(
                &format!(
                    "SELECT {} FROM tasks WHERE commitment = ?1",
                    Self::TASK_COLUMNS
                ),
                params![commitment.as_slice()],
                Self::task_from_row,
            )
            .optional()?;
        raw.map(Self::decode_task).transpose()
    }

    /// Tasks not yet seen in a final state.
    pub fn open_tasks(&self) -> Result<Vec<TaskRecord>, RecordError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {} FROM tasks WHERE stage != 'ended' ORDER BY updated_at",
            Self::TASK_COLUMNS
        ))?;
        let rows = stmt
            .query_map([], Self::task_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(Self::decode_task).collect()
    }

    /// Records that execution of a task begins (counting attempts).
    pub fn begin_execution(&self, commitment: &B256, task_type: u8) -> Result<(), RecordError> {
        self.conn().execute(
            "INSERT INTO tasks (commitment, task_type, stage, executions, updated_at)
             VALUES (?1, ?2, 'executing', 1, ?3)
             ON CONFLICT (commitment) DO UPDATE SET executions = executions + 1, updated_at = ?3",
            params![commitment.as_slice(), task_type, now()],
        )?;
        Ok(())
    }

    pub fn record_score(
        &self,
        commitment: &B256,
        score: &[u8],
        files: &[PathBuf],
    ) -> Result<(), RecordError> {
        let files =
            serde_json::to_string(files).map_err(|e| RecordError::Malformed(e.to_string()))?;
        self.conn().execute(
            "UPDATE tasks SET stage = 'scored', score = ?2, files = ?3, updated_at = ?4
             WHERE commitment = ?1",
            params![commitment.as_slice(), score, files, now()],
        )?;
        Ok(())
    }

    pub fn set_stage(
        &self,
        commitment: &B256,
        stage: Stage,
        note: Option<&str>,
    ) -> Result<(), RecordError> {
        self.conn().execute(
            "UPDATE tasks SET stage = ?2, note = COALESCE(?3, note), updated_at = ?4
             WHERE commitment = ?1",
            params![commitment.as_slice(), stage.as_str(), note, now()],
        )?;
        Ok(())
    }

    /// Records a task the worker learns of only in a later stage (e.g. after losing its record).
    pub fn ensure_task(&self, commitment: &B256, task_type: u8) -> Result<(), RecordError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO tasks (commitment, task_type, stage, updated_at)
             VALUES (?1, ?2, 'executing', ?3)",
            params![commitment.as_slice(), task_type, now()],
        )?;
        Ok(())
    }

    pub fn insert_tx(&self, tx: &TxRecord) -> Result<(), RecordError> {
        self.conn().execute(
            "INSERT INTO transactions (hash, nonce, action, task, raw, state, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                tx.hash.as_slice(),
                tx.nonce as i64,
                tx.action,
                tx.task.as_ref().map(|t| t.as_slice().to_vec()),
                tx.raw,
                tx.state.as_str(),
                now()
            ],
        )?;
        Ok(())
    }

    pub fn set_tx_state(&self, hash: &B256, state: TxState) -> Result<(), RecordError> {
        self.conn().execute(
            "UPDATE transactions SET state = ?2 WHERE hash = ?1",
            params![hash.as_slice(), state.as_str()],
        )?;
        Ok(())
    }

    fn txs_where(
        &self,
        condition: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<TxRecord>, RecordError> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT hash, nonce, action, task, raw, state FROM transactions WHERE {condition}
             ORDER BY nonce, created_at"
        ))?;
        let rows = stmt
            .query_map(args, |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                    row.get::<_, Vec<u8>>(4)?,
                    row.get::<_, String>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(hash, nonce, action, task, raw, state)| {
                Ok(TxRecord {
                    hash: b256(hash)?,
                    nonce: nonce as u64,
                    action,
                    task: task.map(b256).transpose()?,
                    raw,
                    state: TxState::parse(&state)
                        .ok_or_else(|| RecordError::Malformed(state.clone()))?,
                })
            })
            .collect()
    }

    pub fn pending_txs(&self) -> Result<Vec<TxRecord>, RecordError> {
        self.txs_where("state = 'pending'", [])
    }

    /// Every transaction signed for `action` on `task`, oldest first.
    pub fn txs_for(&self, task: Option<&B256>, action: &str) -> Result<Vec<TxRecord>, RecordError> {
        match task {
            Some(t) => self.txs_where("task = ?1 AND action = ?2", params![t.as_slice(), action]),
            None => self.txs_where("task IS NULL AND action = ?1", params![action]),
        }
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, RecordError> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), RecordError> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_and_transactions_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.sqlite");
        let c = B256::repeat_byte(7);
        {
            let record = Record::open(&path).unwrap();
            record.begin_execution(&c, 1).unwrap();
            record
                .record_score(&c, &[1, 2, 3], &[PathBuf::from("/r/result.json")])
                .unwrap();
            record
                .insert_tx(&TxRecord {
                    hash: B256::repeat_byte(9),
                    nonce: 4,
                    action: "submitTaskScore".into(),
                    task: Some(c),
                    raw: vec![0xaa],
                    state: TxState::Pending,
                })
                .unwrap();
            record.set_meta("next_block", "12").unwrap();
        }
        let record = Record::open(&path).unwrap();
        let task = record.task(&c).unwrap().unwrap();
        assert_eq!(task.stage, Stage::Scored);
        assert_eq!(task.score.as_deref(), Some(&[1u8, 2, 3][..]));
        assert_eq!(task.executions, 1);
        assert_eq!(record.pending_txs().unwrap().len(), 1);
        assert_eq!(
            record.txs_for(Some(&c), "submitTaskScore").unwrap()[0].nonce,
            4
        );
        record
            .set_tx_state(&B256::repeat_byte(9), TxState::Mined)
            .unwrap();
        assert!(record.pending_txs().unwrap().is_empty());
        assert_eq!(record.meta("next_block").unwrap().as_deref(), Some("12"));
        record
            .set_stage(&c, Stage::Ended, Some("EndSuccess"))
            .unwrap();
        assert!(record.open_tasks().unwrap().is_empty());
    }
}
