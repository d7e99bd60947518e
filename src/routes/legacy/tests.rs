use super::*;

#[test]
fn keys_convert_as_autumn_js_converts_them() {
    for (raw, snake) in [
        ("productId", "product_id"),
        ("product_id", "product_id"),
        ("checkoutSessionParams", "checkout_session_params"),
        ("aBC", "a_bc"),
        ("xAyB", "x_ay_b"),
        ("abCDe", "ab_cde"),
        ("URLParam", "urlparam"),
        ("feature1Id", "feature1id"),
        ("feature Id", "feature_id"),
        ("some--key", "some_key"),
        ("a -\u{A0}b", "a_b"),
        ("already_Snake", "already_snake"),
        ("ÀbC", "àb_c"),
    ] {
        assert_eq!(snake_case(raw), snake, "{raw:?}");
    }
}

#[test]
fn bodies_convert_except_user_data() {
    let body = br#"{"productId":"a","checkoutSessionParams":{"allowPromotionCodes":true},
        "properties":{"camelKey":{"innerKey":1}},"options":[{"featureId":"seats"}],
        "checkout_session_params":{"innerKey":2},"errorOnNotFound":false}"#;
    let parsed = parse_body(body).unwrap().unwrap();
    assert!(parsed.error_on_not_found_false);
    assert_eq!(
        parsed.value,
        serde_json::json!({
            "product_id": "a",
            "checkout_session_params": {"inner_key": 2},
            "properties": {"camelKey": {"innerKey": 1}},
            "options": [{"feature_id": "seats"}],
            "error_on_not_found": false,
        })
    );
}

#[test]
fn the_later_of_two_converted_keys_wins() {
    let a = parse_body(br#"{"productId":"a","product_id":"b"}"#)
        .unwrap()
        .unwrap();
    assert_eq!(a.value, serde_json::json!({"product_id": "b"}));
    let b = parse_body(br#"{"product_id":"b","productId":"a"}"#)
        .unwrap()
        .unwrap();
    assert_eq!(b.value, serde_json::json!({"product_id": "a"}));
}

#[test]
fn answers_are_checked_without_being_built() {
    assert!(is_json_container(br#" {"a":[1,{"b":null}]} "#));
    assert!(is_json_container(b"[]"));
    assert!(!is_json_container(b"{\"a\":1"), "cut off");
    assert!(!is_json_container(b"{} {}"), "two values");
    assert!(
        !is_json_container(b"\"text\""),
        "a string is not a container"
    );
    assert!(!is_json_container(b"{\"a\":\"\xff\"}"), "not UTF-8");
}

#[test]
fn checking_agrees_with_parsing() {
    for body in [
        &b""[..],
        b" ",
        b"{",
        br#"{"errorOnNotFound":false}"#,
        br#"{"errorOnNotFound":0}"#,
        br#"{"error_on_not_found":false}"#,
        br#"{"errorOnNotFound":false,"a":{"bC":1,"b_c":2}}"#,
        br#"{"errorOnNotFound":false,"a":{"bC":1,"bC":2}}"#,
        br#"[{"errorOnNotFound":false}]"#,
        b"5",
        b"null",
    ] {
        let parsed = parse_body(body).map(|p| p.map(|p| p.error_on_not_found_false));
        let checked = check_body(body).map(|p| p.map(|p| p.error_on_not_found_false));
        assert_eq!(parsed, checked, "{}", String::from_utf8_lossy(body));
    }
}

#[test]
fn bad_bodies_are_refused() {
    assert!(parse_body(b"").unwrap().is_none());
    assert!(parse_body(b" \n").unwrap().is_none());
    assert!(parse_body(b"{").is_err());
    assert!(parse_body(br#"{"a":1,"a":2}"#).is_err());
    assert!(parse_body(b"5").is_err());
    assert!(parse_body(b"null").is_err());
    assert!(parse_body(b"[1]").unwrap().is_some());
}

#[test]
fn routes_and_methods() {
    assert!(
        matches!(find(&["attach"], &Method::POST), Found::Route(r, None) if r.name == "attach")
    );
    assert!(matches!(
        find(&["entities", "e1"], &Method::DELETE),
        Found::Route(r, Some("e1")) if r.kind == Kind::DeleteEntity
    ));
    assert!(matches!(
        find(&["entities", "e1"], &Method::POST),
        Found::Method("GET, DELETE")
    ));
    assert!(matches!(
        find(&["attach"], &Method::GET),
        Found::Method("POST")
    ));
    assert!(matches!(
        find(&["products"], &Method::POST),
        Found::Method("GET")
    ));
    assert!(matches!(
        find(&["customers", "c", "entities"], &Method::POST),
        Found::None
    ));
    assert!(matches!(find(&["Attach"], &Method::POST), Found::None));
}

#[test]
fn query_and_path_decoding() {
    assert_eq!(
        expand_param("a=1&expand=invoices,x"),
        Some("invoices,x".into())
    );
    assert_eq!(
        expand_param("expand=a&expand=b%2Bc+d"),
        Some("b+c d".into())
    );
    assert_eq!(expand_param("expand"), Some(String::new()));
    assert_eq!(expand_param("x=1"), None);
    assert_eq!(percent_decode("a%2Fb%zz%4"), b"a/b%zz%4".to_vec());
    assert_eq!(percent_decode("%2e%2E"), b"..".to_vec());
}
