//! The router and the policy on arbitrary input: no panics, and the
//! properties the relay relies on hold.

#![no_main]

use berth_engine::{route, Class, Policy};
use libfuzzer_sys::fuzz_target;

const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "get", "PATCH"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let method = METHODS[pick as usize % METHODS.len()];

    if let Ok(routed) = route(method, text) {
        // What is forwarded reads back as exactly what was decided.
        let again = route(method, &routed.forward()).expect("a forwarded path routes");
        assert_eq!(again, routed, "forwarded {:?}", routed.forward());
        // Nothing the engine could read differently: no escapes left, no
        // dot segments, no control characters, a canonical version.
        for s in &routed.path.segments {
            assert!(
                s != "." && s != ".." && !s.contains(['/', '\\', '%']) && !s.chars().any(char::is_control),
                "{s:?}"
            );
        }
        if let Some(v) = routed.path.version {
            assert!(routed.forward().starts_with(&format!("/v{}.{}/", v.major, v.minor)));
        }
        assert_eq!(routed.method, routed.route.method, "methods match exactly");
        // Read-only passes reads only, whatever the spelling.
        if Policy::read_only().check(&routed).is_ok() {
            assert_eq!(routed.route.class, Class::Read, "{method} {text}");
        }
    }

    // A rules file parses or is refused, and what parses prints back.
    if let Ok(policy) = Policy::parse("fuzz", text) {
        assert_eq!(Policy::parse("fuzz", &policy.to_text()).unwrap(), policy);
    }
});
