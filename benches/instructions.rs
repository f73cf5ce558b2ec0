//! Sends N requests of one case through one variant, for counting instructions under callgrind.
//!
//! `benches/instructions.sh` runs this binary twice per variant and case, with N and 2N requests,
//! and takes (I(2N) - I(N)) / N as the instructions per request, which cancels start-up and
//! configuration cost. Each request is built, sent and dropped inside the loop, the same way for
//! every variant, so subtracting the no-layer figure leaves the layer's own cost.
//!
//! Usage: `instructions VARIANT CASE N`, `instructions --list-variants`,
//! `instructions --list-cases`.

mod variants;

use std::convert::Infallible;
use std::hint::black_box;
use std::process::ExitCode;

use http::{Request, Response};
use tower::Service;

use variants::{Body, Case, RequestFactory, Variant, Visit, call_now, check_response};

struct SendRequests {
    variant: Variant,
    case: Case,
    count: u64,
}

impl Visit for SendRequests {
    type Output = ();

    fn visit<S>(self, mut service: S)
    where
        S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
    {
        let factory = RequestFactory::new();
        check_response(
            self.variant,
            self.case,
            &call_now(&mut service, factory.build(self.case)),
        );
        send_requests(&mut service, &factory, self.case, self.count);
    }
}

#[inline(never)]
fn send_requests<S>(service: &mut S, factory: &RequestFactory, case: Case, count: u64)
where
    S: Service<Request<()>, Response = Response<Body>, Error = Infallible>,
{
    for _ in 0..count {
        let response = call_now(service, factory.build(case));
        black_box(response);
    }
}

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
    match arguments.as_slice() {
        // `cargo bench` runs every bench target with `--bench`; this one is driven by the script.
        [] | ["--bench"] => {
            println!("instructions: run benches/instructions.sh to count instructions per request");
            ExitCode::SUCCESS
        }
        ["--list-variants"] => {
            for variant in Variant::all() {
                println!("{}", variant.name());
            }
            ExitCode::SUCCESS
        }
        ["--list-cases"] => {
            for case in Case::MAIN.into_iter().chain([Case::SimpleGetBareResponse]) {
                println!("{}", case.name());
            }
            ExitCode::SUCCESS
        }
        [variant, case, count] => {
            let Some(variant) = Variant::parse(variant) else {
                eprintln!("error: unknown variant {variant:?}; --list-variants lists them");
                return ExitCode::FAILURE;
            };
            let Some(case) = Case::parse(case) else {
                eprintln!("error: unknown case {case:?}; --list-cases lists them");
                return ExitCode::FAILURE;
            };
            let Ok(count) = count.parse::<u64>() else {
                eprintln!("error: invalid request count {count:?}; expected a whole number");
                return ExitCode::FAILURE;
            };
            variants::visit_service(
                variant,
                case,
                SendRequests {
                    variant,
                    case,
                    count,
                },
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: instructions VARIANT CASE N | --list-variants | --list-cases\n\
                 Sends N requests of CASE through VARIANT; benches/instructions.sh runs it under \
                 callgrind."
            );
            ExitCode::FAILURE
        }
    }
}
