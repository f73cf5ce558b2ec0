//! A CORS doctor: sends the requests a browser would send for a cross-origin `fetch()`, then
//! explains whether the browser would let the page read the response, and if not, why and how
//! to fix it.
//!
//! ```text
//! cargo run --example doctor -- http://127.0.0.1:9000/upload --origin http://127.0.0.1:8000 --method POST
//! cargo run --example doctor -- --help
//! ```
//!
//! It decides whether a preflight is needed, sends it and checks the response as the Fetch
//! standard specifies, then sends the request itself and runs the CORS check on its response. When
//! that response lacks `Access-Control-Allow-Origin` and no preflight ran, it also sends a
//! preflight of its own, which a browser would not send, to tell a missing CORS setup from a
//! CORS layer that sits too deep to see the response.

#[path = "doctor/args.rs"]
mod args;
#[path = "common/cli.rs"]
mod cli;
#[path = "doctor/client.rs"]
mod client;
#[path = "doctor/fetch_rules.rs"]
mod fetch_rules;
#[path = "doctor/verdict.rs"]
mod verdict;

use std::process::ExitCode;

use http::header::{
    ACCEPT, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, LOCATION, ORIGIN,
};
use http::{HeaderName, HeaderValue, StatusCode};

use args::{Command, Options};
use client::{OutgoingRequest, ResponseHead};
use fetch_rules::{AccessFailure, MethodAllowance, RequestHeader};
use verdict::{CorsEvidence, Facts, Problem, Stage};

/// The width that the verdict paragraphs are wrapped to.
const TEXT_WIDTH: usize = 80;

/// The doctor's finding, which sets the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The page could read the response.
    Readable,
    /// A browser would block the request or its response.
    Blocked,
    /// No HTTP response that the doctor could read came: the connection failed or timed out,
    /// the reply is not HTTP/1.x, or its head is larger than the doctor accepts.
    NoResponse,
}

impl Outcome {
    fn exit_code(self) -> ExitCode {
        match self {
            Self::Readable => ExitCode::SUCCESS,
            Self::Blocked => ExitCode::from(1),
            Self::NoResponse => ExitCode::from(3),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            print!("{}", args::help_text());
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!("Run `cargo run --example doctor -- --help` for the options.");
            return ExitCode::from(args::USAGE_EXIT_CODE);
        }
    };
    diagnose(&options).await.exit_code()
}

/// Runs the steps a browser would run, printing each, and ends with the verdict.
async fn diagnose(options: &Options) -> Outcome {
    print_call(options);
    let unsafe_names = fetch_rules::unsafe_request_header_names(&options.headers);
    let facts = Facts {
        origin: &options.origin,
        method: &options.method,
        unsafe_names: &unsafe_names,
        credentials: options.credentials,
    };

    if fetch_rules::is_bad_port(options.target.port) {
        let problem = Problem::BadPort(options.target.port);
        // `print_call` ended with a blank line already.
        print_wrapped("", &verdict::blocked_before_sending(&problem, &facts));
        return Outcome::Blocked;
    }
    if options.origin == options.target.origin {
        return check_same_origin(options).await;
    }

    let mut evidence = CorsEvidence::None;
    match preflight_cause(options, &unsafe_names) {
        Some(cause) => {
            print_wrapped("", &format!("Preflight, needed because {cause}:"));
            match check_preflight(options, &facts).await {
                Ok(()) => evidence = CorsEvidence::PreflightPassed,
                Err(outcome) => return outcome,
            }
        }
        None => {
            let text = format!(
                "Preflight: not needed, because {} and every request header are \
                 CORS-safelisted.",
                options.method
            );
            print_wrapped("", &text);
            println!();
        }
    }
    check_request(options, &facts, evidence).await
}

/// Returns why the request needs a preflight, or `None` when it needs none.
fn preflight_cause(options: &Options, unsafe_names: &[String]) -> Option<String> {
    let mut causes = Vec::new();
    if !fetch_rules::is_safelisted_method(&options.method) {
        causes.push(format!(
            "method {} is not CORS-safelisted (only GET, HEAD and POST are)",
            options.method
        ));
    }
    match unsafe_names {
        [] => {}
        [name] => causes.push(format!("request header {name} is not CORS-safelisted")),
        names => causes.push(format!(
            "request headers {} are not CORS-safelisted",
            names.join(", ")
        )),
    }
    if causes.is_empty() {
        None
    } else {
        Some(causes.join(", and "))
    }
}

/// Sends the preflight and checks its response. Returns the outcome to stop with when a
/// browser would go no further.
async fn check_preflight(options: &Options, facts: &Facts<'_>) -> Result<(), Outcome> {
    let request = preflight_request(options, facts.unsafe_names);
    let head = send_and_print(options, &request).await?;

    let mut problems = Vec::new();
    if is_redirect(head.status) {
        problems.push(Problem::PreflightRedirect {
            status: head.status,
            location: header_text(&head, &LOCATION),
        });
    } else if !head.status.is_success() {
        problems.push(Problem::PreflightStatus {
            status: head.status,
            has_allow_origin: head.headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN),
        });
    } else {
        println!(
            "  ok: status {} is in the 200-299 range",
            head.status.as_u16()
        );
    }
    match fetch_rules::check_access(&head.headers, &options.origin, options.credentials) {
        Ok(()) => print_access_ok(&head, options),
        Err(failure) => problems.push(Problem::Access(failure)),
    }
    if problems.is_empty() {
        let result = fetch_rules::check_preflight_lists(
            &head.headers,
            &options.method,
            facts.unsafe_names,
            options.credentials,
        );
        print_preflight_allowances(&result, options);
        problems.extend(result.failures.into_iter().map(Problem::Preflight));
    }
    for problem in &problems {
        let reason = verdict::reason(problem, Stage::Preflight, facts);
        print_wrapped("  ", &format!("fail: {reason}"));
    }

    if let Some(problem) = problems.first() {
        print_paragraph(&verdict::blocked_at_preflight(problem, head.status, facts));
        return Err(Outcome::Blocked);
    }
    print_max_age(&head);
    println!();
    Ok(())
}

fn preflight_request(options: &Options, unsafe_names: &[String]) -> OutgoingRequest {
    let mut headers = vec![
        (ORIGIN, header_value(&options.origin)),
        (ACCESS_CONTROL_REQUEST_METHOD, header_value(&options.method)),
    ];
    if !unsafe_names.is_empty() {
        // Browsers join the names with a bare comma.
        let names = unsafe_names.join(",");
        headers.push((ACCESS_CONTROL_REQUEST_HEADERS, header_value(&names)));
    }
    headers.push((ACCEPT, HeaderValue::from_static("*/*")));
    OutgoingRequest::new(&options.target, "OPTIONS", headers, None)
}

fn print_preflight_allowances(result: &fetch_rules::PreflightResult, options: &Options) {
    let method = &options.method;
    match result.method {
        Some(MethodAllowance::Safelisted) => {
            println!("  ok: method {method} is CORS-safelisted");
        }
        Some(MethodAllowance::Listed) => {
            println!("  ok: method {method} is listed in Access-Control-Allow-Methods");
        }
        Some(MethodAllowance::Wildcard) => println!(
            "  ok: method {method} is covered by Access-Control-Allow-Methods: *, which counts \
             without credentials"
        ),
        None => {}
    }
    for header in &result.headers {
        if header.listed {
            println!(
                "  ok: request header {} is listed in Access-Control-Allow-Headers",
                header.name
            );
        } else {
            println!(
                "  ok: request header {} is covered by Access-Control-Allow-Headers: *, which \
                 counts without credentials",
                header.name
            );
        }
    }
}

fn print_max_age(head: &ResponseHead) {
    match fetch_rules::max_age_seconds(&head.headers) {
        Some(seconds) => print_wrapped(
            "  ",
            &format!(
                "max age: the browser may reuse this preflight result for {seconds} s \
                 (Chromium caps it at 7200 s, Firefox at 86400 s, according to MDN)"
            ),
        ),
        None => print_wrapped(
            "  ",
            &format!(
                "max age: no valid Access-Control-Max-Age, so the browser reuses this \
                 preflight result for {} s only",
                fetch_rules::DEFAULT_MAX_AGE_SECONDS
            ),
        ),
    }
}

/// Sends the request itself and runs the CORS check on its response.
async fn check_request(options: &Options, facts: &Facts<'_>, evidence: CorsEvidence) -> Outcome {
    println!("Request:");
    let request = cors_request(options);
    let head = match send_and_print(options, &request).await {
        Ok(head) => head,
        Err(outcome) => return outcome,
    };

    match fetch_rules::check_access(&head.headers, &options.origin, options.credentials) {
        Ok(()) => {
            print_access_ok(&head, options);
            if let (true, Some(location)) =
                (is_redirect(head.status), header_text(&head, &LOCATION))
            {
                let text =
                    verdict::followed_redirect(head.status, &location, &options.target.origin);
                print_paragraph(&text);
                return Outcome::Readable;
            }
            let access = fetch_rules::response_header_access(&head.headers, options.credentials);
            print_paragraph(&verdict::readable(
                head.status,
                &access.readable,
                &access.hidden,
            ));
            Outcome::Readable
        }
        Err(failure) => {
            let missing = failure == AccessFailure::MissingAllowOrigin;
            let problem = Problem::Access(failure);
            let reason = verdict::reason(&problem, Stage::Request, facts);
            print_wrapped("  ", &format!("fail: {reason}"));
            let evidence = if missing && evidence == CorsEvidence::None {
                probe_cors_layer(options).await
            } else {
                evidence
            };
            let text = verdict::blocked_response(&problem, head.status, evidence, facts);
            print_paragraph(&text);
            Outcome::Blocked
        }
    }
}

/// Builds the request itself: `Origin`, the `Accept` that `fetch` adds when the page sets none,
/// and the page's headers with the values of a repeated name combined, as browsers send them.
fn cors_request(options: &Options) -> OutgoingRequest {
    let mut headers = vec![(ORIGIN, header_value(&options.origin))];
    let page_headers = combine_headers(&options.headers);
    if !page_headers.iter().any(|(name, _)| name == ACCEPT) {
        headers.push((ACCEPT, HeaderValue::from_static("*/*")));
    }
    headers.extend(page_headers);
    OutgoingRequest::new(
        &options.target,
        &options.method,
        headers,
        options.body_bytes,
    )
}

/// Sends a preflight of the doctor's own when the response lacks CORS headers and no preflight
/// ran, to learn whether the server has a CORS layer for the page's origin at all.
async fn probe_cors_layer(options: &Options) -> CorsEvidence {
    println!();
    let text = format!(
        "Probe, which a browser would not send: a preflight for {}, to learn whether the \
         server sends CORS headers for this origin at all.",
        options.method
    );
    print_wrapped("", &text);
    let request = preflight_request(options, &[]);
    let Ok(head) = send_and_print(options, &request).await else {
        return CorsEvidence::None;
    };
    // Credentials are left out of this check: the question is whether a CORS layer handles the
    // origin at all, and `*` with credentials has its own verdict.
    if fetch_rules::check_access(&head.headers, &options.origin, false).is_ok() {
        println!("  The probe got CORS headers for this origin.");
        CorsEvidence::ProbePassed
    } else {
        println!("  The probe got no CORS headers for this origin either.");
        CorsEvidence::None
    }
}

/// Sends a request from a page of the URL's own origin, which no CORS rule restricts.
async fn check_same_origin(options: &Options) -> Outcome {
    let text = format!(
        "Same origin: the page and the URL share the origin {}, so no CORS rules apply.",
        options.origin
    );
    print_wrapped("", &text);
    println!("Request:");
    // A browser sends `Origin` on a same-origin request only when the method is not GET or HEAD.
    let mut headers = Vec::new();
    if options.method != "GET" && options.method != "HEAD" {
        headers.push((ORIGIN, header_value(&options.origin)));
    }
    headers.extend(combine_headers(&options.headers));
    let request = OutgoingRequest::new(
        &options.target,
        &options.method,
        headers,
        options.body_bytes,
    );
    match send_and_print(options, &request).await {
        Ok(head) => {
            print_paragraph(&verdict::same_origin(head.status, &options.origin));
            Outcome::Readable
        }
        Err(outcome) => outcome,
    }
}

/// Sends `request`, prints it and its response head, or prints why no response came and returns
/// [`Outcome::NoResponse`].
async fn send_and_print(
    options: &Options,
    request: &OutgoingRequest,
) -> Result<ResponseHead, Outcome> {
    print_request(options, request);
    match client::send(&options.target, request, options.timeout).await {
        Ok(head) => {
            print_response(&head);
            Ok(head)
        }
        Err(error) => {
            println!("  (no response: {error})");
            print_paragraph(&verdict::no_response(&error));
            Err(Outcome::NoResponse)
        }
    }
}

/// Prints the `fetch()` call that the options describe, the page origin, and what `fetch`
/// changes in the request.
fn print_call(options: &Options) {
    println!("{}", fetch_call(options));
    println!("from a page on {}", options.origin);

    if !options.dropped_headers.is_empty() {
        let names: Vec<&str> = options
            .dropped_headers
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        let text = format!(
            "Note: fetch() drops the headers {}, because only the browser may set them, so \
             the doctor does not send them either.",
            names.join(", ")
        );
        print_wrapped("", &text);
    }
    if options.added_content_type {
        println!(
            "Note: fetch() adds Content-Type: {} for a string body.",
            args::STRING_BODY_CONTENT_TYPE
        );
    }
    println!();
}

/// Returns the JavaScript `fetch()` call with the method, headers, credentials mode and body of
/// the options, leaving out the defaults.
fn fetch_call(options: &Options) -> String {
    let mut fields = Vec::new();
    if options.method != "GET" {
        fields.push(format!("method: {}", js_string(&options.method)));
    }

    // The headers as the page sets them: without the content type that `fetch` adds, but with
    // the ones that `fetch` drops.
    let entries: Vec<String> = options
        .headers
        .iter()
        .filter(|(name, _)| !(options.added_content_type && name == http::header::CONTENT_TYPE))
        .chain(&options.dropped_headers)
        .map(|(name, value)| {
            let value = lossy(value.as_bytes());
            format!("{}: {}", js_string(name.as_str()), js_string(&value))
        })
        .collect();
    if !entries.is_empty() {
        fields.push(format!("headers: {{ {} }}", entries.join(", ")));
    }

    if options.credentials {
        fields.push(String::from("credentials: \"include\""));
    }
    if let Some(bytes) = options.body_bytes {
        fields.push(format!("body: \"x\".repeat({bytes})"));
    }
    if fields.is_empty() {
        format!("fetch({})", js_string(&options.target.url))
    } else {
        format!(
            "fetch({}, {{ {} }})",
            js_string(&options.target.url),
            fields.join(", ")
        )
    }
}

fn print_request(options: &Options, request: &OutgoingRequest) {
    println!(
        "  > {} {} HTTP/1.1",
        request.method, options.target.path_and_query
    );
    for (name, value) in &request.headers {
        println!("  > {name}: {}", lossy(value.as_bytes()));
    }
    if let Some(bytes) = request.body_bytes {
        println!("  > ({bytes}-byte body)");
    }
}

fn print_response(head: &ResponseHead) {
    println!(
        "  < {:?} {} {}",
        head.version,
        head.status.as_u16(),
        head.status.canonical_reason().unwrap_or_default()
    );
    for (name, value) in &head.headers {
        println!("  < {name}: {}", lossy(value.as_bytes()));
    }
    if !head.headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        println!("  < (no access-control-allow-origin)");
    }
    if head.body_cut_short {
        print_wrapped(
            "  ",
            "(The server closed the connection before the whole body arrived, as servers do \
             when they reject a body unread. Chromium reads the response anyway, and so does \
             the doctor.)",
        );
    }
}

fn print_access_ok(head: &ResponseHead, options: &Options) {
    let allow_origin = header_text(head, &ACCESS_CONTROL_ALLOW_ORIGIN).unwrap_or_default();
    if allow_origin == "*" {
        println!("  ok: Access-Control-Allow-Origin is *, which counts without credentials");
    } else {
        println!("  ok: Access-Control-Allow-Origin is the page's origin");
    }
    if options.credentials {
        println!("  ok: Access-Control-Allow-Credentials is true");
    }
}

/// Prints `text` after a blank line, wrapped at [`TEXT_WIDTH`] columns.
fn print_paragraph(text: &str) {
    println!();
    print_wrapped("", text);
}

/// Prints `text` wrapped at [`TEXT_WIDTH`] columns, each line starting with `indent`. A word
/// longer than a line, such as a URL, gets a line of its own.
fn print_wrapped(indent: &str, text: &str) {
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        let empty = line.len() == indent.len();
        if !empty && line.len() + 1 + word.len() > TEXT_WIDTH {
            println!("{line}");
            line.truncate(indent.len());
        } else if !empty {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        println!("{line}");
    }
}

/// Combines the values of repeated header names with `, `, keeping the order of first
/// appearance.
fn combine_headers(headers: &[RequestHeader]) -> Vec<RequestHeader> {
    let mut combined: Vec<(HeaderName, Vec<u8>)> = Vec::new();
    for (name, value) in headers {
        match combined.iter_mut().find(|(existing, _)| existing == name) {
            Some((_, bytes)) => {
                bytes.extend_from_slice(b", ");
                bytes.extend_from_slice(value.as_bytes());
            }
            None => combined.push((name.clone(), value.as_bytes().to_vec())),
        }
    }
    combined
        .into_iter()
        .filter_map(|(name, bytes)| Some((name, HeaderValue::from_bytes(&bytes).ok()?)))
        .collect()
}

/// Tells whether `status` is one of the Fetch standard's redirect statuses. A 300 or 304 is an
/// ordinary response to it.
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn header_text(head: &ResponseHead, name: &HeaderName) -> Option<String> {
    head.headers.get(name).map(|value| lossy(value.as_bytes()))
}

/// Converts a string that the argument parser already checked, such as the origin or the
/// method, into a header value.
fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Quotes `text` as a JavaScript string literal.
fn js_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("{text:?}"))
}
