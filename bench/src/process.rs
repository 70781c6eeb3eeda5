//! The controller under test, in a process of its own, and what `/proc` says about a process.
//!
//! A driver starts `controller-under-test` (a controller with the scripted endpoint of
//! `aps_test_support::scripted`, see that binary) and talks to it over the API like any client. Running it apart
//! keeps the driver's own memory, connections and CPU out of the controller's figures. The child
//! answers `stats` on its standard input with one line of `key=value` counters (store reads,
//! task changes written, commits, lateness); closing its input stops it, and [`kill`] sends
//! `SIGKILL` the way the crash test does.
//!
//! [`kill`]: ControllerProcess::kill

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use uuid::Uuid;

/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/PID/stat`.
const TICKS_PER_SEC: f64 = 100.0;

/// How the child's scripted endpoint answers, and how fast the controller's time runs.
#[derive(Debug, Clone, Copy)]
pub struct ChildScript {
    /// `--time-scale`.
    pub time_scale: f64,
    /// 202s per transaction before the 200 (`u32::MAX`: never done).
    pub accepts: u32,
    /// `APS-Retry-Timeout`, seconds.
    pub retry_secs: u64,
    /// API requests served at once (the controller's default is 1024).
    pub max_requests: usize,
    /// Connections one client may hold (`None`: the controller's default, a quarter of its
    /// connection limit).
    pub max_connections_per_client: Option<usize>,
}

/// A running `controller-under-test`.
pub struct ControllerProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    /// The API's base URL.
    pub url: String,
    /// The instance installed on the scripted endpoint.
    pub application: Uuid,
    /// How long `ControllerBuilder::start` took in the child (open, migrate, resume).
    pub start: Duration,
    /// From spawning the process to its `ready` line.
    pub ready_after: Duration,
}

impl ControllerProcess {
    /// Starts the controller on the database file `db` (created when missing).
    pub async fn spawn(db: &Path, script: ChildScript) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?.with_file_name("controller-under-test");
        let began = Instant::now();
        let mut child = Command::new(&exe)
            .arg("--db")
            .arg(db)
            .args(["--time-scale", &script.time_scale.to_string()])
            .args(["--accepts", &script.accepts.to_string()])
            .args(["--retry", &script.retry_secs.to_string()])
            .args(["--max-requests", &script.max_requests.to_string()])
            .args(
                script
                    .max_connections_per_client
                    .map(|n| format!("--max-connections-per-client={n}")),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow!("controller-under-test ended before it was ready"))?;
        let ready_after = began.elapsed();
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["ready", url, application, start_us] = words[..] else {
            bail!("unexpected first line from controller-under-test: {line}");
        };
        Ok(Self {
            url: url.to_owned(),
            application: application.parse()?,
            start: Duration::from_micros(start_us.parse()?),
            ready_after,
            child,
            stdin,
            lines,
        })
    }

    /// The child's counters (see `controller-under-test`); the lateness ones cover the rechecks
    /// since the previous call.
    pub async fn stats(&mut self) -> anyhow::Result<HashMap<String, u64>> {
        self.stdin.write_all(b"stats\n").await?;
        let line = self
            .lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow!("controller-under-test ended"))?;
        line.split_whitespace()
            .map(|pair| {
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow!("bad stats line: {line}"))?;
                Ok((key.to_owned(), value.parse()?))
            })
            .collect()
    }

    /// One counter of [`stats`](Self::stats).
    pub async fn stat(&mut self, name: &str) -> anyhow::Result<u64> {
        self.stats()
            .await?
            .get(name)
            .copied()
            .ok_or_else(|| anyhow!("no {name} in the stats"))
    }

    /// The child's process id.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.child
            .id()
            .ok_or_else(|| anyhow!("the controller has ended"))
    }

    /// Kills the child with `SIGKILL` and reaps it.
    pub async fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// Resident memory of a process (`VmRSS`), and its peak (`VmHWM`), in MiB.
pub fn memory_mib(pid: &str) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| anyhow!("no {name} in /proc/{pid}/status"))?;
        let kib: f64 = line
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| anyhow!("bad line {line}"))?
            .parse()?;
        Ok(kib / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// CPU time (user + system) a process has used, in seconds.
pub fn cpu_secs(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("bad /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15: the 12th and 13th after the name.
    let ticks = |i: usize| -> anyhow::Result<f64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?
            .parse::<f64>()?)
    };
    Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SEC)
}

/// Prints one figure as `name value unit`, the line `bench/run.sh` collects.
pub fn figure(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("{name} {value} {unit}");
}
