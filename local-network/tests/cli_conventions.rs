//! The conventions every binary of the network follows, checked on the real executables
//! (taskctl, node-worker, relay, devnet): every flag described in its help, keys only from files
//! or the environment, subcommands showing only their own flags, shell completions, and errors
//! as one `error: …` line (JSON under --json), never a backtrace or colour.

use std::path::PathBuf;
use std::process::{Command, Output};

const BINARIES: [&str; 4] = ["taskctl", "node-worker", "relay", "devnet"];

fn binary(name: &str) -> PathBuf {
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().parent().unwrap().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build it first (cargo test --workspace builds it)",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    let dir = std::env::temp_dir();
    Command::new(binary(name))
        .args(args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "1")
        .env_remove("RUST_LOG")
        .env_remove("NODE_WORKER_CONFIG")
        .env_remove("TASKCTL_PRIVATE_KEY_FILE")
        .env_remove("RELAY_PRIVATE_KEY_FILE")
        .env_remove("RELAY_CONTRACT")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The subcommands listed under "Commands:" in a help text (less `help`).
fn subcommands(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Commands:" {
            inside = true;
            continue;
        }
        if inside {
            let Some(name) = line
                .strip_prefix("  ")
                .and_then(|l| l.split_whitespace().next())
            else {
                break;
            };
            if name != "help" {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Every help text of `name`, with the command path that printed it.
fn all_helps(name: &str) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut queue = vec![Vec::<String>::new()];
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let o = run(name, &args);
        assert!(o.status.success(), "{name} {args:?}: {}", text(&o.stderr));
        let help = text(&o.stdout);
        for sub in subcommands(&help) {
            let mut p = path.clone();
            p.push(sub);
            queue.push(p);
        }
        out.push((path, help));
    }
    out
}

/// The option lines of a help text (`--help` prints one option per entry, wrapped or not).
fn option_entries(help: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Options:" || line == "Arguments:" {
            inside = true;
            continue;
        }
        if !inside || line.is_empty() {
            inside = inside && !line.is_empty();
            continue;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if indent <= 6
            && (trimmed.starts_with('-') || trimmed.starts_with('<') || trimmed.starts_with('['))
        {
            entries.push(trimmed.to_string());
        } else if let Some(last) = entries.last_mut() {
            // A wrapped entry's description starts on its own line.
            last.push_str("  ");
            last.push_str(trimmed);
        }
    }
    entries
}

#[test]
fn every_flag_and_argument_is_described_and_no_key_is_taken_on_the_command_line() {
    for name in BINARIES {
        let helps = all_helps(name);
        assert!(helps.len() > 1, "{name} has subcommands");
        for (path, help) in &helps {
            for entry in option_entries(help) {
                // "--flag <VALUE>  Description": the description follows two spaces.
                let described = entry
                    .split_once("  ")
                    .map(|(_, d)| !d.trim().is_empty())
                    .unwrap_or(false);
                assert!(described, "{name} {path:?}: `{entry}` has no description");
                let flag = entry.split_whitespace().find(|w| w.starts_with("--"));
                if let Some(flag) = flag {
                    let flag = flag.trim_end_matches(',');
                    // Public keys are not secrets.
                    let secret = flag.contains("key") && !flag.contains("public-key");
                    assert!(
                        !secret || flag.ends_with("-file"),
                        "{name} {path:?}: {flag} takes a key on the command line"
                    );
                }
            }
        }
    }
}

#[test]
fn subcommands_show_only_their_own_flags() {
    let init = text(&run("node-worker", &["init", "--help"]).stdout);
    assert!(!init.contains("--rpc-url"), "{init}");
    assert!(!init.contains("--private-key-file"), "{init}");
    let status = text(&run("node-worker", &["status", "--help"]).stdout);
    assert!(
        status.contains("--rpc-url") && status.contains("--wei"),
        "{status}"
    );
    let status = text(&run("taskctl", &["status", "--help"]).stdout);
    assert!(
        !status.contains("--private-key-file"),
        "status needs no key: {status}"
    );
    assert!(!status.contains("--relay-url"), "{status}");
    let create = text(&run("taskctl", &["create", "--help"]).stdout);
    assert!(create.contains("--task-version"), "{create}");
    assert!(create.contains("[default: 1.0.0]"), "{create}");
    // `--version` is the program's version, not a task's.
    let version = run("taskctl", &["--version"]);
    assert_eq!(
        text(&version.stdout),
        format!("taskctl {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn every_binary_prints_completions_for_three_shells() {
    for name in BINARIES {
        for (shell, marker) in [
            ("bash", format!("complete -F _{}", name.replace('-', "__"))),
            ("zsh", format!("#compdef {name}")),
            ("fish", format!("complete -c {name}")),
        ] {
            let o = run(name, &["completions", shell]);
            assert!(o.status.success(), "{name} completions {shell}");
            let script = text(&o.stdout);
            assert!(script.contains(&marker), "{name} {shell}: no {marker:?}");
        }
    }
}

#[test]
fn user_errors_are_one_line_without_backtrace_or_colour_and_json_under_json() {
    let dir = tempfile::tempdir().unwrap();
    let not_wasm = dir.path().join("program.wasm");
    std::fs::write(&not_wasm, "hello").unwrap();
    let not_wasm = not_wasm.display().to_string();
    let missing = dir.path().join("missing.key").display().to_string();
    let cases: Vec<(&str, Vec<&str>, String)> = vec![
        (
            "taskctl",
            vec!["phash", "/nonexistent.png"],
            "error: /nonexistent.png: No such file or directory (os error 2)".into(),
        ),
        (
            "taskctl",
            vec![
                "sign",
                "--private-key-file",
                &missing,
                "--timestamp",
                "1",
                "--fields",
                "{}",
            ],
            format!("error: reading {missing}: No such file or directory (os error 2)"),
        ),
        (
            "devnet",
            vec!["deploy", &not_wasm],
            format!(
                "error: {not_wasm} is not a WebAssembly module (no \\0asm header): give the .wasm \
                 that cargo builds for wasm32-unknown-unknown, e.g. \
                 target/wasm32-unknown-unknown/release/NAME.wasm"
            ),
        ),
        (
            "relay",
            vec![
                "--contract",
                "0x0000000000000000000000000000000000000001",
                "--private-key-file",
                &missing,
            ],
            format!("error: reading {missing}: No such file or directory (os error 2)"),
        ),
        (
            "node-worker",
            vec!["status"],
            "error: `private_key_file` is not set: put it in the configuration file \
             (`node-worker init` writes one), or give --private-key-file or \
             NODE_WORKER_PRIVATE_KEY_FILE"
                .into(),
        ),
    ];
    for (name, args, expected) in cases {
        let o = run(name, &args);
        assert_eq!(o.status.code(), Some(1), "{name} {args:?}");
        let stderr = text(&o.stderr);
        assert!(!stderr.contains('\x1b'), "{name}: colour in {stderr:?}");
        assert!(!stderr.contains("backtrace"), "{name}: {stderr}");
        let last = stderr.lines().last().unwrap_or("");
        assert_eq!(last, expected, "{name} {args:?}");
        // Only the worker's configuration line may come before the error.
        let lines = stderr.lines().count();
        assert!(
            lines == 1 || (name == "node-worker" && lines == 2),
            "{stderr}"
        );

        // Under --json the same message is a JSON object on stdout.
        let mut json_args = args.clone();
        json_args.push("--json");
        if name == "relay" {
            continue; // The relay prints no result: it serves.
        }
        let o = run(name, &json_args);
        assert_eq!(o.status.code(), Some(1), "{name} {json_args:?}");
        let value: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{name} --json: {e}: {}", text(&o.stdout)));
        assert_eq!(
            value["error"].as_str(),
            expected.strip_prefix("error: "),
            "{name} {json_args:?}"
        );
    }
}
