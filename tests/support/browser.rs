//! Headless Chromium for browser tests, driven over the DevTools protocol by chromiumoxide.
//!
//! Include it from a test file with `#[path = "support/browser.rs"] mod browser;`.
//!
//! Run every browser case of a test binary inside one test function and share one [`Browser`]
//! between them. The CDP handler runs as a task on the runtime of the test that launched the
//! browser, so a browser shared across `#[tokio::test]` functions stops working when the first
//! of those runtimes shuts down.
//!
//! Nothing here intercepts requests, because interception can answer CORS preflights itself and
//! hide what the server sent.

// Each test binary that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::error::Error;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::BrowserConfig;
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{self, EventRequestWillBeSent};
use chromiumoxide::cdp::js_protocol::runtime::{EvaluateParams, EventConsoleApiCalled};
use futures_util::StreamExt;
use serde_json::Value;
use tempfile::TempDir;
use tokio::task::JoinHandle;

/// Path of the Chromium binary that Debian's `chromium` package installs.
pub const CHROMIUM_PATH: &str = "/usr/bin/chromium";

/// Environment variable that turns a missing browser from a skip into a test failure, so CI
/// cannot pass without running the browser cases. Only the value `1` turns it on.
pub const REQUIRE_BROWSER_ENV: &str = "FORCE_CORS_REQUIRE_BROWSER";

/// Console text Chromium logs when a response lacks `Access-Control-Allow-Origin`. The page
/// script receives only `TypeError: Failed to fetch`, so this text is the evidence of a CORS
/// block.
pub const MISSING_ALLOW_ORIGIN: &str = "No 'Access-Control-Allow-Origin' header";

/// Chromium feature that makes `Access-Control-Allow-Headers: *` stop covering `Authorization`,
/// as the Fetch standard requires. Without it, Debian's Chromium 156 lets `Authorization`
/// through, which `tests/browser_harness.rs` checks.
pub const NON_WILDCARD_REQUEST_HEADERS: &str = "CorsNonWildcardRequestHeadersSupport";

/// Maximum time for one script evaluation, including the fetches it awaits.
const EVALUATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Maximum time to wait for a console message after the script that caused it has finished,
/// because Chromium sends log entries asynchronously.
const CONSOLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Maximum request body size, in bytes, that Chromium copies into `Network.requestWillBeSent`
/// events. Nothing here reads the bodies.
const MAX_POST_DATA_IN_EVENTS: i64 = 1024;

/// Settings for one browser launch beyond the fixed switches in [`Browser::launch`].
#[derive(Debug, Clone, Default)]
pub struct LaunchOptions {
    enable_features: Vec<String>,
}

impl LaunchOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a Chromium feature name to the `--enable-features` switch.
    pub fn enable_feature(mut self, name: &str) -> Self {
        self.enable_features.push(name.to_owned());
        self
    }
}

/// Launches Chromium, or returns `None` after printing why when it is not installed.
///
/// # Panics
///
/// Panics when Chromium is missing and `FORCE_CORS_REQUIRE_BROWSER=1` is set. Also panics when
/// an installed Chromium fails to start, because a broken installation should fail the test
/// rather than skip it.
pub async fn launch_or_skip(options: LaunchOptions) -> Option<Browser> {
    if let Some(problem) = missing_browser_problem(Path::new(CHROMIUM_PATH)) {
        if std::env::var(REQUIRE_BROWSER_ENV).as_deref() == Ok("1") {
            panic!("{problem} ({REQUIRE_BROWSER_ENV}=1 makes a missing browser a failure)");
        }
        eprintln!("skipping browser test: {problem}");
        return None;
    }

    match Browser::launch(options).await {
        Ok(browser) => Some(browser),
        Err(error) => panic!("failed to launch {CHROMIUM_PATH}: {error}"),
    }
}

/// Returns why no browser can be launched from `path`, or `None` when the file exists. The
/// harness drives Chromium over the DevTools protocol and never starts chromedriver, so the
/// message names only the `chromium` package.
pub fn missing_browser_problem(path: &Path) -> Option<String> {
    if path.exists() {
        return None;
    }
    Some(format!(
        "{} not found; install the chromium package",
        path.display()
    ))
}

/// A running headless Chromium with its own temporary profile.
///
/// Call [`Browser::close`] at the end of a test. Dropping it instead kills the process (also
/// after a panic) and removes the profile directory as far as the dying process allows.
pub struct Browser {
    // `None` only after `close` has taken it.
    inner: Option<chromiumoxide::Browser>,
    handler_task: JoinHandle<()>,
    // Declared after `inner` so the profile is removed only after the browser handle is gone.
    user_data_dir: TempDir,
}

impl Browser {
    /// Launches Chromium in new headless mode with a fresh profile and starts the task that
    /// drives its DevTools connection.
    pub async fn launch(options: LaunchOptions) -> Result<Self, Box<dyn Error + Send + Sync>> {
        let user_data_dir = tempfile::Builder::new()
            .prefix("force-cors-chromium-")
            .tempdir()?;

        let mut builder = BrowserConfig::builder()
            .chrome_executable(CHROMIUM_PATH)
            .new_headless_mode()
            // Tests run as root in containers, where Chromium exits at start with the sandbox on.
            .no_sandbox()
            .user_data_dir(user_data_dir.path())
            // Chromium writes its crash report database and a dconf cache under the XDG
            // directories, not under the profile, so these keep them out of the home directory.
            .env(
                "XDG_CONFIG_HOME",
                profile_subdirectory(&user_data_dir, "xdg-config"),
            )
            .env(
                "XDG_CACHE_HOME",
                profile_subdirectory(&user_data_dir, "xdg-cache"),
            )
            // chromiumoxide's 24 default switches include `enable-features` values of its own.
            // Without them, Chromium gets the switches set here plus the few chromiumoxide
            // always adds (debugging port, profile, sandbox, headless).
            .disable_default_args()
            .args(FIXED_SWITCHES);
        // Chromium keeps only the last `--enable-features` switch, so all names go into one.
        if !options.enable_features.is_empty() {
            let features = options.enable_features.join(",");
            builder = builder.arg(("enable-features", features.as_str()));
        }
        let config = builder.build()?;

        let (inner, mut handler) = chromiumoxide::Browser::launch(config).await?;

        // The handler skips unparsable messages itself, so an error here means the connection
        // broke. The stream also ends when the browser closes.
        let handler_task = tokio::spawn(async move {
            while let Some(result) = handler.next().await {
                if let Err(error) = result {
                    eprintln!("Chromium DevTools connection failed: {error}");
                    break;
                }
            }
        });

        Ok(Self {
            inner: Some(inner),
            handler_task,
            user_data_dir,
        })
    }

    /// Opens a new tab and navigates it to `url`, collecting console messages and the requests
    /// the tab sends from before the navigation starts.
    ///
    /// # Panics
    ///
    /// Panics when the tab cannot be created or the navigation fails.
    pub async fn open_page(&self, url: &str) -> Page {
        let browser = self.inner.as_ref().expect("browser is already closed");
        let page = browser
            .new_page("about:blank")
            .await
            .expect("failed to open a new tab");

        let console = Arc::new(Mutex::new(Vec::new()));
        let sent_requests = Arc::new(Mutex::new(Vec::new()));
        let listener_tasks = vec![
            spawn_log_listener(&page, Arc::clone(&console)).await,
            spawn_console_api_listener(&page, Arc::clone(&console)).await,
            spawn_request_listener(&page, Arc::clone(&sent_requests)).await,
        ];

        // chromiumoxide enables the Network domain without `maxPostDataSize`, and Chromium 156
        // then copies each request body, base64-encoded, into its `Network.requestWillBeSent`
        // event. Decoding that for a 32 MiB upload took 5-7 s (debug build, 2 cores) and
        // delayed every other fetch in the tab. Enabling the domain again with a limit replaces
        // the setting.
        let network_settings = network::EnableParams::builder()
            .max_post_data_size(MAX_POST_DATA_IN_EVENTS)
            .build();
        page.execute(network_settings)
            .await
            .expect("failed to limit the request bodies in Network events");

        page.goto(url)
            .await
            .unwrap_or_else(|error| panic!("failed to navigate to {url}: {error}"));

        Page {
            inner: page,
            console,
            sent_requests,
            listener_tasks,
        }
    }

    /// Returns the browser's product name and version as DevTools reports them, such as
    /// `Chrome/156.0.8078.114`.
    ///
    /// # Panics
    ///
    /// Panics when the DevTools command fails.
    pub async fn version(&self) -> String {
        let browser = self.inner.as_ref().expect("browser is already closed");
        browser
            .version()
            .await
            .expect("failed to read the browser version")
            .product
    }

    /// Closes Chromium and waits for its process to exit.
    ///
    /// # Panics
    ///
    /// Panics when the browser does not exit, so that a test does not pass while leaving a
    /// browser process behind.
    pub async fn close(mut self) {
        let mut inner = self.inner.take().expect("browser is already closed");
        inner.close().await.expect("failed to close Chromium");
        inner
            .wait()
            .await
            .expect("failed to wait for Chromium to exit");
        self.handler_task.abort();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Dropping the chromiumoxide handle kills the process if `close` did not run.
        self.inner.take();
        self.handler_task.abort();
        // `TempDir` removes the profile when the field drops and ignores errors, which can
        // happen while a killed browser is still writing to it.
    }
}

fn profile_subdirectory(user_data_dir: &TempDir, name: &str) -> String {
    user_data_dir
        .path()
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Switches every launch gets, written without leading dashes because chromiumoxide adds them
/// (a leading `--` would become `----` and Chromium would ignore the switch).
const FIXED_SWITCHES: [&str; 16] = [
    // Debian's launcher script checks /dev/shm unless this is set and prints a shell error.
    "disable-dev-shm-usage",
    "disable-gpu",
    "disable-quic",
    "no-first-run",
    "no-default-browser-check",
    // Keep the browser from sending requests of its own during a test.
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "disable-default-apps",
    "disable-extensions",
    // Keep timers and rendering at full speed in a headless tab that never has focus.
    "disable-background-timer-throttling",
    "disable-renderer-backgrounding",
    "disable-backgrounding-occluded-windows",
    "disable-hang-monitor",
    "disable-breakpad",
    "metrics-recording-only",
];

async fn spawn_log_listener(
    page: &chromiumoxide::Page,
    console: Arc<Mutex<Vec<ConsoleEntry>>>,
) -> JoinHandle<()> {
    let mut events = page
        .event_listener::<EventEntryAdded>()
        .await
        .expect("failed to subscribe to Log.entryAdded");
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            console.lock().unwrap().push(ConsoleEntry {
                text: event.entry.text.clone(),
                url: event.entry.url.clone(),
            });
        }
    })
}

async fn spawn_console_api_listener(
    page: &chromiumoxide::Page,
    console: Arc<Mutex<Vec<ConsoleEntry>>>,
) -> JoinHandle<()> {
    let mut events = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .expect("failed to subscribe to Runtime.consoleAPICalled");
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            let arguments: Vec<String> = event
                .args
                .iter()
                .map(|argument| match (&argument.value, &argument.description) {
                    (Some(Value::String(text)), _) => text.clone(),
                    (Some(value), _) => value.to_string(),
                    (None, Some(description)) => description.clone(),
                    (None, None) => String::new(),
                })
                .collect();
            console.lock().unwrap().push(ConsoleEntry {
                text: arguments.join(" "),
                url: None,
            });
        }
    })
}

// Chromium reports CORS preflights here too, with method `OPTIONS`, although page JavaScript
// cannot observe them.
async fn spawn_request_listener(
    page: &chromiumoxide::Page,
    sent_requests: Arc<Mutex<Vec<SentRequest>>>,
) -> JoinHandle<()> {
    let mut events = page
        .event_listener::<EventRequestWillBeSent>()
        .await
        .expect("failed to subscribe to Network.requestWillBeSent");
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            sent_requests.lock().unwrap().push(SentRequest {
                method: event.request.method.clone(),
                url: event.request.url.clone(),
            });
        }
    })
}

/// A console message or log entry of a tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleEntry {
    pub text: String,
    /// The resource the entry is about, when Chromium names one. A network error such as
    /// `Failed to load resource: net::ERR_EMPTY_RESPONSE` carries the failed request's URL
    /// here and not in its text. A CORS block names the request's URL in its text and carries
    /// the page's URL here.
    pub url: Option<String>,
}

/// A request that a tab sent, as Chromium reported it in `Network.requestWillBeSent`.
///
/// Chromium may report a request that it then does not send, such as the actual request after a
/// failed preflight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
}

/// A browser tab with the console messages it has produced and the requests it has sent so far.
pub struct Page {
    inner: chromiumoxide::Page,
    console: Arc<Mutex<Vec<ConsoleEntry>>>,
    sent_requests: Arc<Mutex<Vec<SentRequest>>>,
    listener_tasks: Vec<JoinHandle<()>>,
}

/// What page JavaScript observed from one `fetch` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The promise resolved, so CORS let the page read the response.
    Response(FetchResponse),
    /// The promise rejected. For a CORS block the text is only `TypeError: Failed to fetch`.
    Rejected(String),
}

/// A response as page JavaScript can read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    pub status: u16,
    /// Headers the page can read, with lowercase names. Without `Access-Control-Expose-Headers`
    /// CORS hides all but the safelisted ones.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl FetchOutcome {
    /// Returns the response, or panics with the rejection when the fetch failed.
    pub fn expect_response(self, context: &str) -> FetchResponse {
        match self {
            FetchOutcome::Response(response) => response,
            FetchOutcome::Rejected(error) => {
                panic!("{context}: expected a readable response, but fetch rejected: {error}")
            }
        }
    }

    /// Returns the rejection text, or panics with the response when the fetch succeeded.
    pub fn expect_rejected(self, context: &str) -> String {
        match self {
            FetchOutcome::Rejected(error) => error,
            FetchOutcome::Response(response) => panic!(
                "{context}: expected fetch to reject, but it resolved with status {}",
                response.status
            ),
        }
    }
}

impl FetchResponse {
    /// Returns the value of the header `name`, which must be lowercase.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header_name, _)| header_name == name)
            .map(|(_, value)| value.as_str())
    }
}

impl Page {
    /// Evaluates a JavaScript expression in the page, awaits it if it is a promise, and
    /// returns its value as JSON.
    ///
    /// # Panics
    ///
    /// Panics when the expression throws, its promise rejects, the value cannot be converted to
    /// JSON, or the evaluation takes longer than 20 seconds. Catch rejections in the script
    /// (`.catch(...)`) to inspect them.
    pub async fn eval_json(&self, expression: &str) -> Value {
        let params = EvaluateParams::builder()
            .expression(expression)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .expect("EvaluateParams without an expression");

        let evaluation = tokio::time::timeout(EVALUATION_TIMEOUT, self.inner.evaluate(params))
            .await
            .unwrap_or_else(|_| {
                panic!("evaluating `{expression}` timed out after {EVALUATION_TIMEOUT:?}")
            })
            .unwrap_or_else(|error| panic!("evaluating `{expression}` failed: {error}"));

        // `undefined` has no JSON value.
        evaluation.value().cloned().unwrap_or(Value::Null)
    }

    /// Calls `fetch(url, init)` from the page and reports whether its promise resolved.
    ///
    /// `init` is the `RequestInit` object as JSON, for example
    /// `json!({"headers": {"Authorization": "Bearer x"}})`.
    pub async fn fetch(&self, url: &str, init: Value) -> FetchOutcome {
        // Serializing `init` as JSON makes it a valid JavaScript literal.
        self.fetch_with_init_script(url, &init.to_string()).await
    }

    /// Calls `fetch(url, init)` from the page, where `init` is a JavaScript expression, and
    /// reports whether its promise resolved.
    ///
    /// Use it for a `RequestInit` that JSON cannot express, such as
    /// `{method: "POST", body: new Uint8Array(1024)}`.
    pub async fn fetch_with_init_script(&self, url: &str, init_script: &str) -> FetchOutcome {
        // Serializing the URL as JSON makes it a valid JavaScript literal.
        let expression = format!(
            "fetch({url}, {init_script}).then(
                async (response) => ({{
                    status: response.status,
                    headers: [...response.headers],
                    body: await response.text(),
                }}),
                (error) => ({{ error: String(error) }}),
            )",
            url = Value::from(url),
        );
        let value = self.eval_json(&expression).await;

        if let Some(error) = value.get("error") {
            let text = error.as_str().unwrap_or_default().to_owned();
            return FetchOutcome::Rejected(text);
        }
        let response = parse_fetch_response(&value)
            .unwrap_or_else(|| panic!("unexpected fetch result from the page: {value}"));
        FetchOutcome::Response(response)
    }

    /// Returns the texts of all console messages and log entries received so far.
    pub fn console_messages(&self) -> Vec<String> {
        self.console_entries()
            .into_iter()
            .map(|entry| entry.text)
            .collect()
    }

    /// Returns all console messages and log entries received so far, with their URLs.
    pub fn console_entries(&self) -> Vec<ConsoleEntry> {
        self.console.lock().unwrap().clone()
    }

    /// Returns the requests the tab has sent so far, CORS preflights included, in the order
    /// Chromium reported them.
    pub fn sent_requests(&self) -> Vec<SentRequest> {
        self.sent_requests.lock().unwrap().clone()
    }

    /// Waits up to 5 seconds for a console message that contains every fragment and returns it.
    pub async fn wait_for_console(&self, fragments: &[&str]) -> Option<String> {
        let deadline = tokio::time::Instant::now() + CONSOLE_TIMEOUT;
        loop {
            let found = self
                .console_messages()
                .into_iter()
                .find(|message| fragments.iter().all(|fragment| message.contains(fragment)));
            if found.is_some() || tokio::time::Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asserts that Chromium logged a CORS block for `url` because the response had no
    /// `Access-Control-Allow-Origin`.
    ///
    /// A rejected fetch alone proves nothing, because a server that is down also rejects with
    /// `Failed to fetch`. The console message names the URL and the missing header.
    pub async fn assert_blocked_missing_allow_origin(&self, url: &str) {
        self.assert_console_contains(&[url, MISSING_ALLOW_ORIGIN])
            .await;
    }

    /// Asserts that a console message containing every fragment arrives within 5 seconds.
    pub async fn assert_console_contains(&self, fragments: &[&str]) {
        if self.wait_for_console(fragments).await.is_none() {
            panic!(
                "no console message contains all of {fragments:?}; console messages:\n{}",
                self.console_messages().join("\n")
            );
        }
    }

    /// Closes the tab.
    pub async fn close(self) {
        // `Page` implements `Drop`, so the tab handle is cloned out instead of moved.
        self.inner
            .clone()
            .close()
            .await
            .expect("failed to close tab");
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        for task in &self.listener_tasks {
            task.abort();
        }
    }
}

fn parse_fetch_response(value: &Value) -> Option<FetchResponse> {
    let status = u16::try_from(value.get("status")?.as_u64()?).ok()?;
    let body = value.get("body")?.as_str()?.to_owned();
    let mut headers = Vec::new();
    for pair in value.get("headers")?.as_array()? {
        let name = pair.get(0)?.as_str()?.to_owned();
        let header_value = pair.get(1)?.as_str()?.to_owned();
        headers.push((name, header_value));
    }
    Some(FetchResponse {
        status,
        headers,
        body,
    })
}
