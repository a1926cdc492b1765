//! The node-worker processes of the local network: one data dir, key file and log per node,
//! joined through the worker's own `join` command and killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{bail, Context, Result};

/// How to run the worker's commands for one node.
#[derive(Clone)]
pub struct NodeCli {
    pub name: String,
    args: Vec<String>,
    exe: PathBuf,
    log: PathBuf,
}

pub struct NodeProcess {
    pub name: String,
    pub address: Address,
    pub dishonest: bool,
    /// The node's notices (slash, kick-out, failed task), one JSON object per line, written by
    /// the worker's notice command.
    pub notices: PathBuf,
    pub cli: NodeCli,
    child: Option<Child>,
}

pub struct NodeSetup<'a> {
    pub exe: &'a Path,
    pub logs: &'a Path,
    pub rpc_url: &'a str,
    pub contract: Address,
    pub relay_url: &'a str,
    pub model_cache: &'a Path,
    pub gpu: &'a str,
    pub stake_wei: String,
}

impl NodeProcess {
    pub fn new(
        setup: &NodeSetup<'_>,
        index: usize,
        signer: &PrivateKeySigner,
        dishonest: bool,
    ) -> Result<NodeProcess> {
        let name = format!("node-{index}");
        let dir = setup.logs.join(&name);
        std::fs::create_dir_all(&dir)?;
        let key_file = dir.join("node.key");
        std::fs::write(
            &key_file,
            format!("0x{}", hex::encode(signer.credential().to_bytes())),
        )?;
        let mut args: Vec<String> = [
            "--rpc-url",
            setup.rpc_url,
            "--contract",
            &setup.contract.to_string(),
            "--relay-url",
            setup.relay_url,
            "--private-key-file",
            &key_file.display().to_string(),
            "--data-dir",
            &dir.display().to_string(),
            "--model-cache-dir",
            &setup.model_cache.display().to_string(),
            "--gpu-name",
            setup.gpu,
            "--gpu-vram-gb",
            "24",
            "--stake",
            &setup.stake_wei,
            "--poll-interval-ms",
            "200",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let notices = dir.join("notices.jsonl");
        args.push("--notice-command".into());
        args.push(format!(
            "printf '%s\\n' \"$NOTICE_JSON\" >> '{}'",
            notices.display()
        ));
        if dishonest {
            args.push("--dishonest".into());
        }
        Ok(NodeProcess {
            name: name.clone(),
            address: signer.address(),
            dishonest,
            notices,
            cli: NodeCli {
                log: setup.logs.join(format!("{name}.log")),
                name,
                args,
                exe: setup.exe.to_path_buf(),
            },
            child: None,
        })
    }

    pub fn command(&self, sub: &str) -> Result<()> {
        self.cli.command(sub)
    }

    /// The notices the worker sent so far.
    pub fn notices(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.notices)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Starts `node-worker run`.
    pub fn start(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.cli.log)?;
        let child = Command::new(&self.cli.exe)
            .arg("run")
            .args(&self.cli.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.cli.exe.display()))?;
        self.child = Some(child);
        Ok(())
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl NodeCli {
    /// Runs a one-shot worker command (join, pause, resume, quit), its output appended to the
    /// node's log.
    pub fn command(&self, sub: &str) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let status = Command::new(&self.exe)
            .arg(sub)
            .args(&self.args)
            .stdout(log.try_clone()?)
            .stderr(log)
            .status()
            .with_context(|| format!("running {} {sub}", self.exe.display()))?;
        if !status.success() {
            bail!(
                "{}: `node-worker {sub}` failed; see {}",
                self.name,
                self.log.display()
            );
        }
        Ok(())
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
