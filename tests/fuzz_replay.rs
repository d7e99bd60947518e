//! The fuzz targets' bodies on stable Rust: `service` (`fuzz/fuzz_body.rs`) and `offline`
//! (`fuzz/fuzz_offline.rs`), each replayed over its committed corpus (`fuzz/corpus/<target>`, plus
//! any crash inputs left in `fuzz/artifacts/<target>`) and over proptest-generated inputs, so that
//! `cargo test` keeps the fuzz invariants without nightly. `fuzz/run.sh` does the real (bounded)
//! fuzzing run with cargo-fuzz.

// Needs the test suite's own dependencies (feature `__dev`): run it with `cargo test --all-features`.
#![cfg(feature = "__dev")]

#[path = "../fuzz/fuzz_body.rs"]
mod fuzz_body;

#[path = "../fuzz/fuzz_offline.rs"]
mod fuzz_offline;

use std::path::Path;

use proptest::prelude::*;

fn replay_dir(dir: &Path) -> usize {
    replay_dir_with(dir, fuzz_body::run)
}

fn replay_dir_with(dir: &Path, run: fn(&[u8])) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| run(&data));
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

/// The `offline` target's corpus: every seed keeps the invariants (among them the inputs that made
/// `events.aggregate` work for seconds, overflow a range or a clock, or answer another key).
#[test]
fn offline_corpus_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = replay_dir_with(&root.join("corpus/offline"), fuzz_offline::run);
    assert!(
        seeds >= 30,
        "the committed corpus is there ({seeds} inputs)"
    );
    replay_dir_with(&root.join("artifacts/offline"), fuzz_offline::run);
}

/// The offline decoder: NUL-separated calls, `!` for another key, `@` to move the clock.
#[test]
fn offline_inputs_decode_into_calls() {
    use fuzz_offline::Step;
    let steps = fuzz_offline::decode(b"customers.list\n{}\0!customers.get\0@60\0x");
    assert_eq!(
        steps,
        [
            Step::Call {
                op: "customers.list".into(),
                body: b"{}".to_vec(),
                right_key: true
            },
            Step::Call {
                op: "customers.get".into(),
                body: Vec::new(),
                right_key: false
            },
            Step::Advance(60),
            Step::Call {
                op: "x".into(),
                body: Vec::new(),
                right_key: true
            },
        ]
    );
}

fn offline_input() -> impl Strategy<Value = Vec<u8>> {
    let op = prop_oneof![
        proptest::sample::select(vec![
            "customers.get_or_create",
            "customers.get",
            "customers.list",
            "customers.update",
            "customers.delete",
            "entities.create",
            "entities.list",
            "plans.list",
            "billing.attach",
            "billing.multi_attach",
            "billing.preview_attach",
            "billing.update",
            "billing.setup_payment",
            "balances.check",
            "balances.track",
            "events.list",
            "events.aggregate",
            "referrals.create_code",
            "referrals.redeem_code",
            "!customers.list",
            "@2678400",
        ])
        .prop_map(str::to_owned),
        "[a-z._/!@0-9]{0,12}",
    ];
    let number = prop_oneof![
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("1e30".to_owned()),
        Just("-1e308".to_owned()),
        Just("1e15".to_owned()),
        Just("253402300799999".to_owned()),
        Just("18446744073709551616".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
    ];
    let value = prop_oneof![
        number.clone(),
        proptest::sample::select(vec![
            "\"u1\"",
            "\"messages\"",
            "\"pro\"",
            "\"top_up\"",
            "\"free\"",
            "null",
            "true",
            "[]",
            "{}",
            "[\"messages\",\"seats\"]",
            "\"hour\"",
            "\"month\"",
            "\"3bc\"",
            "\"90d\"",
            "\"overflow\"",
            "[{\"plan_id\":\"pro\"}]",
        ])
        .prop_map(str::to_owned),
        (number.clone(), number).prop_map(|(a, b)| format!("{{\"start\":{a},\"end\":{b}}}")),
    ];
    let field = proptest::sample::select(vec![
        "customer_id",
        "feature_id",
        "plan_id",
        "entity_id",
        "value",
        "required_balance",
        "custom_range",
        "range",
        "bin_size",
        "group_by",
        "limit",
        "plans",
        "overage_behavior",
        "cancel_action",
        "program_id",
        "code",
    ]);
    let body = prop_oneof![
        proptest::collection::vec((field, value), 0..6).prop_map(|fields| {
            let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            format!("{{{}}}", inner.join(",")).into_bytes()
        }),
        proptest::collection::vec(any::<u8>(), 0..64),
    ];
    proptest::collection::vec((op, body), 1..6).prop_map(|calls| {
        let mut out = Vec::new();
        for (i, (op, body)) in calls.into_iter().enumerate() {
            if i > 0 {
                out.push(0);
            }
            out.extend_from_slice(op.as_bytes());
            out.push(b'\n');
            out.extend(body.into_iter().filter(|b| *b != 0));
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_calls_keep_the_offline_fuzz_invariants(data in offline_input()) {
        fuzz_offline::run(&data);
    }
}
