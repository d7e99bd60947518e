//! The `service` fuzz target's body (`fuzz/fuzz_body.rs`) on stable Rust: replayed over the committed
//! corpus (`fuzz/corpus/service`, plus any crash inputs left in `fuzz/artifacts/service`) and over
//! proptest-generated requests, so that `cargo test` keeps the fuzz invariants without nightly.
//! `fuzz/run.sh` does the real (bounded) fuzzing run with cargo-fuzz.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

#[path = "../fuzz/fuzz_body.rs"]
mod fuzz_body;

use std::path::Path;

use proptest::prelude::*;

fn replay_dir(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| fuzz_body::run(&data));
            assert!(
                result.is_ok(),
                "{} fails the fuzz invariants",
                path.display()
            );
            n += 1;
        }
    }
    n
}

#[test]
fn corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = replay_dir(&root.join("corpus/service"));
    assert!(
        seeds >= 10,
        "the committed corpus is there ({seeds} inputs)"
    );
    replay_dir(&root.join("artifacts/service"));
}

/// The decoder reaches the service: a well-formed seed is decoded into the request it spells.
#[test]
fn inputs_decode_into_requests() {
    let (req, pick) = fuzz_body::decode(
        b"\x00/api/autumn/attach\nx-customer-id: cus_1\n\n{\"planId\":\"pro\"}\x07",
    )
    .unwrap();
    assert_eq!(req.method(), "POST");
    assert_eq!(req.uri().path(), "/api/autumn/attach");
    assert_eq!(req.headers()["x-customer-id"], "cus_1");
    assert_eq!(pick, 7);
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    let route = prop_oneof![
        proptest::sample::select(vec![
            "getOrCreateCustomer",
            "getEntity",
            "attach",
            "previewAttach",
            "updateSubscription",
            "multiAttach",
            "setupPayment",
            "openCustomerPortal",
            "redeemReferralCode",
            "listPlans",
            "listEvents",
            "aggregateEvents",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z./%]{0,10}",
    ];
    let prefix = proptest::sample::select(vec!["/api/autumn/", "/", "//api/autumn//", "/x/"]);
    let headers = proptest::collection::vec(
        prop_oneof![
            "[a-z]{1,8}: [ -~]{0,12}",
            Just("x-customer-id: cus_p".to_owned()),
            Just("x-customer-id: ".to_owned()),
            "content-length: [0-9]{1,9}",
        ],
        0..4,
    );
    let body = prop_oneof![
        "\\{(\"[a-zA-Z_]{1,10}\":(\"[a-z]{0,5}\"|[0-9]{1,3}|null|true|\\[\\]|\\{\\}),){0,5}\"planId\":\"p\"\\}"
            .prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..200),
    ];
    (any::<u8>(), prefix, route, headers, body, any::<u8>()).prop_map(
        |(m, prefix, route, headers, body, pick)| {
            let mut out = vec![m];
            out.extend_from_slice(format!("{prefix}{route}\n").as_bytes());
            for h in headers {
                out.extend_from_slice(h.as_bytes());
                out.push(b'\n');
            }
            out.push(b'\n');
            out.extend_from_slice(&body);
            out.push(pick);
            out
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn generated_requests_keep_the_fuzz_invariants(data in input()) {
        fuzz_body::run(&data);
    }

    #[test]
    fn arbitrary_bytes_keep_the_fuzz_invariants(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzz_body::run(&data);
    }
}
