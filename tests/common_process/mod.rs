//! Runs an example binary as a child process for end-to-end tests, reads the `api:` and `page:`
//! URLs it prints, and kills it when dropped.
//!
//! The binary must be built already: plain `cargo test` builds every example before running
//! the tests, but `cargo test --test NAME` does not, so run `cargo build --examples` first then.

// Each test file uses a different subset of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// How long an example may take to bind its listeners and print its URLs. Startup takes
/// milliseconds, and the margin covers a loaded CI machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running example, killed and reaped when dropped, so that a failed assert does not leave
/// it running.
pub struct ExampleProcess {
    child: Child,
    api: String,
    page: String,
    stderr: Arc<Mutex<String>>,
}

impl ExampleProcess {
    /// Starts the example `name` with `args` and waits until it prints its URLs.
    ///
    /// # Panics
    ///
    /// Panics if the binary is missing or older than its sources. Panics with the example's
    /// stderr if the example exits, or prints no URLs for 30 seconds, before printing both.
    pub fn spawn(name: &str, args: &[&str]) -> Self {
        let mut command = example_command(name);
        command.args(args);
        Self::spawn_command(command)
    }

    /// Starts the example `name` on free loopback ports for the API and the page, expecting
    /// `token` in the upload token header, with `args` after those, and waits for its URLs.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_on_loopback(name: &str, token: &str, args: &[&str]) -> Self {
        let mut all_args = vec![
            "--addr",
            "127.0.0.1:0",
            "--page-addr",
            "127.0.0.1:0",
            "--token",
            token,
        ];
        all_args.extend_from_slice(args);
        Self::spawn(name, &all_args)
    }

    /// Starts a command made by [`example_command`], after the caller has added arguments or
    /// environment variables, and waits until it prints its URLs. Stdout and stderr are
    /// replaced by pipes.
    ///
    /// # Panics
    ///
    /// As [`spawn`](Self::spawn).
    pub fn spawn_command(mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("failed to start {command:?}: {error}"));

        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_pipe = child.stderr.take().expect("stderr is piped");
        collect_stderr(stderr_pipe, Arc::clone(&stderr));
        let stdout_pipe = child.stdout.take().expect("stdout is piped");
        let lines = forward_lines(stdout_pipe);

        // From here on, a panic drops `process`, which kills the child.
        let mut process = Self {
            child,
            api: String::new(),
            page: String::new(),
            stderr,
        };
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while process.api.is_empty() || process.page.is_empty() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(remaining) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("api: ") {
                        process.api = url.to_owned();
                    } else if let Some(url) = line.strip_prefix("page: ") {
                        process.page = url.to_owned();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = process.child.wait();
                    // The stderr thread may still be copying the last lines.
                    thread::sleep(Duration::from_millis(100));
                    panic!(
                        "{command:?} exited ({status:?}) before printing its URLs; stderr:\n{}",
                        process.stderr()
                    );
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{command:?} printed no `api:` and `page:` lines within {STARTUP_TIMEOUT:?}; \
                     stderr:\n{}",
                    process.stderr()
                ),
            }
        }
        process
    }

    /// Returns the API's base URL without a trailing slash, such as `http://127.0.0.1:40123`.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// Returns the demo page's URL, such as `http://127.0.0.1:40124/`.
    pub fn page(&self) -> &str {
        &self.page
    }

    /// Returns the demo page's origin, the `Origin` header a browser sends from the page, such
    /// as `http://127.0.0.1:40124`.
    pub fn page_origin(&self) -> &str {
        self.page.trim_end_matches('/')
    }

    /// Returns what the example wrote to stderr so far, such as a panic message.
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }
}

impl Drop for ExampleProcess {
    fn drop(&mut self) {
        // The child may have exited already; either way it must not outlive the test.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the example `name` with `args` until it exits, as for `--help` or invalid arguments,
/// and returns its exit status and output.
///
/// # Panics
///
/// Panics if the example cannot start, or is still running after `timeout`; it is killed then.
pub fn run_to_exit(name: &str, args: &[&str], timeout: Duration) -> Output {
    let mut command = example_command(name);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|error| panic!("failed to start {command:?}: {error}"));
    // The pipes are read while the child runs, because a child whose output fills a pipe
    // buffer (64 KiB on Linux) blocks until someone reads it.
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let stdout = String::from_utf8_lossy(&join_reader(stdout)).into_owned();
                let stderr = String::from_utf8_lossy(&join_reader(stderr)).into_owned();
                panic!(
                    "{command:?} was still running after {timeout:?}; stdout:\n{stdout}\n\
                     stderr:\n{stderr}"
                );
            }
            Err(error) => panic!("failed to wait for {command:?}: {error}"),
        }
    };
    Output {
        status,
        stdout: join_reader(stdout),
        stderr: join_reader(stderr),
    }
}

/// Reads `pipe` to its end on a new thread. Reading stops early on a read error, which only
/// shortens the output that a test checks.
fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn join_reader(reader: thread::JoinHandle<Vec<u8>>) -> Vec<u8> {
    reader.join().expect("the pipe reader thread panicked")
}

/// Returns a command for the built example `name`, without arguments.
///
/// # Panics
///
/// Panics if the binary is missing, or older than a source file it was built from, which would
/// make the test check stale code.
pub fn example_command(name: &str) -> Command {
    let binary = example_binary(name);
    let Some(built) = modified(&binary) else {
        panic!(
            "example binary {} not found; build it with `cargo build --example {name}` \
             (plain `cargo test` builds the examples, `cargo test --test NAME` does not)",
            binary.display()
        );
    };
    let newer = sources(&binary)
        .into_iter()
        .find(|source| modified(source).is_some_and(|time| time > built));
    if let Some(newer) = newer {
        panic!(
            "example binary {} is older than its source {}; rebuild it with \
             `cargo build --example {name}`",
            binary.display(),
            newer.display()
        );
    }
    Command::new(binary)
}

/// Returns the path of the example binary `name` in the target directory of the running test:
/// tests run from `target/<profile>/deps/`, examples are built into `target/<profile>/examples/`.
pub fn example_binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary has a path");
    let profile_dir = test_binary
        .parent()
        .and_then(Path::parent)
        .expect("the test binary lies in target/<profile>/deps/");
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|meta| meta.modified()).ok()
}

/// Returns the source files that `binary` was built from, read from the dep-info file that
/// cargo writes beside it (`target: source source ...`, a space inside a path escaped as
/// `\ `). Returns nothing when that file is missing.
fn sources(binary: &Path) -> Vec<PathBuf> {
    let Ok(dep_info) = std::fs::read_to_string(binary.with_extension("d")) else {
        return Vec::new();
    };
    let Some((_target, list)) = dep_info
        .lines()
        .next()
        .and_then(|line| line.split_once(": "))
    else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    let mut current = String::new();
    let mut characters = list.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => current.extend(characters.next()),
            ' ' if !current.is_empty() => paths.push(PathBuf::from(std::mem::take(&mut current))),
            ' ' => {}
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        paths.push(PathBuf::from(current));
    }
    paths
}

/// Sends each line of `pipe` to the returned channel until the pipe closes. Reading goes on
/// after the receiver is dropped, so that the child never blocks on a full pipe.
fn forward_lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            let _ = sender.send(line);
        }
    });
    receiver
}

/// Appends everything read from `pipe` to `text` until the pipe closes.
fn collect_stderr(pipe: impl Read + Send + 'static, text: Arc<Mutex<String>>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if let Ok(mut text) = text.lock() {
                        text.push_str(&String::from_utf8_lossy(&buffer));
                    }
                }
            }
        }
    });
}
