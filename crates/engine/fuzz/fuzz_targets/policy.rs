//! The path canonicalizer and the policy matcher on arbitrary input: no
//! panics, and the properties the relay relies on hold.

#![no_main]

use berth_engine::{CanonicalPath, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(path) = CanonicalPath::parse(text) {
        // What is forwarded reads back as what was checked.
        let again = CanonicalPath::parse(&path.forward()).expect("a forwarded path parses");
        assert_eq!(again, path, "forwarded {:?}", path.forward());
        // Nothing left to resolve, nothing the engine would read otherwise.
        for s in &path.segments {
            assert!(
                !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '%', '\0']),
                "{s:?}"
            );
        }
        // Read-only lets nothing change, whatever the spelling.
        let ro = Policy::read_only();
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            assert!(
                ro.check(method, &path).is_err(),
                "read-only allowed {method} {}",
                path.path()
            );
        }
    }

    // A rules file parses or is refused, and what parses prints back.
    if let Ok(policy) = Policy::parse("fuzz", text) {
        assert_eq!(Policy::parse("fuzz", &policy.to_text()).unwrap(), policy);
    }
});
