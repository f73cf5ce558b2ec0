//! Time per request of each variant and case, in process, with criterion.
//!
//! Run with `cargo bench --bench overhead`. After criterion's own output, a table lists the median
//! time per request and the difference to the no-layer baseline for the same case, read from the
//! estimates that this run wrote. The median is less disturbed than the mean by other processes
//! taking the CPU during a sample.

mod variants;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion};
use http::{Request, Response};
use tower::Service;

use variants::{Body, Case, RequestFactory, Variant, Visit, call_now, check_response};

/// Registers the benchmark of one variant and case in the case's group.
struct RegisterBenchmark<'a, 'g> {
    group: &'a mut BenchmarkGroup<'g, WallTime>,
    factory: &'a RequestFactory,
    variant: Variant,
    case: Case,
}

impl Visit for RegisterBenchmark<'_, '_> {
    type Output = ();

    fn visit<S>(self, mut service: S)
    where
        S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
    {
        let Self {
            group,
            factory,
            variant,
            case,
        } = self;
        check_response(variant, case, &call_now(&mut service, factory.build(case)));

        // The request is built in the untimed setup and the response is dropped after timing.
        group.bench_function(benchmark_id(variant), |bencher| {
            bencher.iter_batched(
                || factory.build(case),
                |request| call_now(&mut service, request),
                BatchSize::SmallInput,
            );
        });
    }
}

/// Names a benchmark `CASE/no-layer` or `CASE/LIBRARY/CONFIG`, which is also the directory of
/// its estimates under criterion's output directory.
fn benchmark_id(variant: Variant) -> BenchmarkId {
    match variant {
        Variant::NoLayer => BenchmarkId::from_parameter("no-layer"),
        Variant::ForceCors(config) => BenchmarkId::new("force-cors", config.name()),
        Variant::TowerHttp(config) => BenchmarkId::new("tower-http", config.name()),
    }
}

fn main() {
    let started = SystemTime::now();
    let factory = RequestFactory::new();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args();

    for case in Case::MAIN {
        let mut group = criterion.benchmark_group(case.name());
        for variant in Variant::all() {
            let register = RegisterBenchmark {
                group: &mut group,
                factory: &factory,
                variant,
                case,
            };
            variants::visit_service(variant, case, register);
        }
        group.finish();
    }
    criterion.final_summary();

    print_summary(&criterion_directory(), started);
}

/// Returns the directory where criterion writes its estimates, found the way criterion 0.7 finds
/// it: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else `criterion` in the target
/// directory that contains this executable (`target/release/deps/overhead-HASH`).
fn criterion_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let executable = std::env::current_exe().expect("the path of this executable is readable");
    executable
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("criterion")
}

/// Reads the median time in nanoseconds of one benchmark, if this run measured it.
fn median_nanoseconds(
    directory: &Path,
    case: Case,
    variant: Variant,
    since: SystemTime,
) -> Option<f64> {
    let path = directory
        .join(case.name())
        .join(variant.name())
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// Prints a Markdown table: for each variant and case, the median time per request and, in
/// brackets, the difference to the no-layer baseline of the same case.
fn print_summary(directory: &Path, since: SystemTime) {
    let mut rows = Vec::new();
    for variant in Variant::all() {
        let mut cells = Vec::new();
        for case in Case::MAIN {
            let cell = match (
                median_nanoseconds(directory, case, variant, since),
                median_nanoseconds(directory, case, Variant::NoLayer, since),
            ) {
                (Some(time), _) if variant == Variant::NoLayer => format!("{time:.0}"),
                (Some(time), Some(baseline)) => format!("{time:.0} ({:+.0})", time - baseline),
                (Some(time), None) => format!("{time:.0}"),
                (None, _) => "-".to_owned(),
            };
            cells.push(cell);
        }
        rows.push((variant.name(), cells));
    }
    if rows
        .iter()
        .all(|(_, cells)| cells.iter().all(|cell| cell == "-"))
    {
        println!("No estimates were written by this run, so there is no summary table.");
        return;
    }

    println!();
    println!(
        "Median time per request in ns (difference to no-layer), from {}",
        directory.display()
    );
    println!();
    let header: Vec<&str> = Case::MAIN.iter().map(|case| case.name()).collect();
    println!("| variant | {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(header.len()));
    for (name, cells) in rows {
        println!("| {name} | {} |", cells.join(" | "));
    }
}
