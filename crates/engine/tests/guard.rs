//! The guard against the engine's own types: container bodies made from
//! bollard's models (generated from the Engine API specification) and
//! serialized by serde, their keys then respelled as Go's decoder would
//! still match them. Whatever the spelling, the guard must decide as the
//! typed value says it should.

use std::collections::HashMap;
use std::path::PathBuf;

use berth_engine::guard::{Body, Guard, Lookup};
use berth_engine::models::{ContainerCreateBody, DeviceMapping, HostConfig};
use proptest::prelude::*;
use serde_json::Value;

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

fn host_config() -> impl Strategy<Value = HostConfig> {
    (
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(proptest::collection::vec(
                pick(&["NET_ADMIN", "SYS_ADMIN"]),
                0..2,
            )),
            proptest::collection::vec(
                pick(&["/srv/data/a:/a", "/etc:/e", "vol:/v", "/anon"]),
                0..3,
            ),
            proptest::option::of(pick(&["default", "bridge", "none", "host"])),
            proptest::option::of(pick(&["", "host"])),
        ),
        (
            proptest::option::of(proptest::collection::vec(
                pick(&[
                    "no-new-privileges",
                    "seccomp=unconfined",
                    "apparmor=unconfined",
                ]),
                0..2,
            )),
            proptest::option::of(proptest::collection::vec(pick(&["/proc/kcore"]), 0..2)),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
            proptest::option::of(pick(&["net.core.somaxconn", "kernel.core_pattern"])),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (privileged, cap_add, binds, net, pid),
                (secopt, masked, memory, device, sysctl, ro),
            )| HostConfig {
                privileged,
                cap_add: cap_add.map(|v| v.into_iter().map(String::from).collect()),
                binds: Some(binds.into_iter().map(String::from).collect()),
                network_mode: net.map(String::from),
                pid_mode: pid.map(String::from),
                security_opt: secopt.map(|v| v.into_iter().map(String::from).collect()),
                masked_paths: masked.map(|v| v.into_iter().map(String::from).collect()),
                memory: memory.map(i64::from),
                devices: device.then(|| {
                    vec![DeviceMapping {
                        path_on_host: Some("/dev/sda".into()),
                        path_in_container: Some("/dev/sda".into()),
                        cgroup_permissions: Some("rwm".into()),
                    }]
                }),
                sysctls: sysctl.map(|k| HashMap::from([(k.to_owned(), "1".to_owned())])),
                readonly_rootfs: ro,
                ..Default::default()
            },
        )
}

/// What the guard must decide, read off the typed value.
fn expected(h: &HostConfig) -> (bool, bool) {
    let binds = h.binds.clone().unwrap_or_default();
    let refused = h.privileged == Some(true)
        || h.cap_add.as_ref().is_some_and(|c| !c.is_empty())
        || binds.iter().any(|b| b.starts_with("/etc"))
        || h.network_mode.as_deref() == Some("host")
        || h.pid_mode.as_deref() == Some("host")
        || h.security_opt
            .iter()
            .flatten()
            .any(|o| o != "no-new-privileges")
        || h.masked_paths.is_some()
        || h.devices.as_ref().is_some_and(|d| !d.is_empty())
        || h.sysctls
            .iter()
            .flatten()
            .any(|(k, _)| k.starts_with("kernel."));
    let looks_up_vol = binds.iter().any(|b| b.starts_with("vol:"));
    (refused, looks_up_vol)
}

/// A spelling of `key` Go's decoder matches to the same field.
fn respell(key: &str, choices: &[u8]) -> String {
    key.chars()
        .zip(choices.iter().cycle())
        .map(|(c, n)| {
            let options: &[char] = match c.to_ascii_lowercase() {
                's' => &['s', 'S', '\u{17f}'],
                'k' => &['k', 'K', '\u{212a}'],
                'i' => &['i', 'I', '\u{131}', '\u{130}'],
                _ => &[],
            };
            if options.is_empty() {
                if n % 2 == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                }
            } else {
                options[*n as usize % options.len()]
            }
        })
        .collect()
}

/// Respells the keys of the body's structs (not of its maps: Go reads map
/// keys exactly).
fn respell_structs(v: &mut Value, choices: &[u8], depth: usize) {
    if let Value::Object(map) = v {
        let old = std::mem::take(map);
        for (k, mut val) in old {
            let is_map = matches!(
                k.as_str(),
                "Sysctls" | "Labels" | "Volumes" | "ExposedPorts"
            );
            if depth < 3 && !is_map {
                respell_structs(&mut val, choices, depth + 1);
            }
            map.insert(respell(&k, &choices[k.len() % choices.len()..]), val);
        }
    } else if let Value::Array(items) = v {
        for item in items {
            respell_structs(item, choices, depth + 1);
        }
    }
}

fn guard() -> Guard {
    Guard {
        allow_binds: vec![PathBuf::from("/srv/data")],
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn the_guard_decides_as_the_typed_body_says(h in host_config(), choices in proptest::collection::vec(any::<u8>(), 1..16)) {
        let body = ContainerCreateBody { image: Some("x".into()), host_config: Some(h.clone()), ..Default::default() };
        let exact = serde_json::to_value(&body).unwrap();
        // serde reads back what it wrote: the exact spelling is the model's.
        let again: ContainerCreateBody = serde_json::from_value(exact.clone()).unwrap();
        prop_assert_eq!(again.host_config.as_ref(), Some(&h));

        let (refused, looks_up_vol) = expected(&h);
        let mut respelled = exact.clone();
        respell_structs(&mut respelled, &choices, 0);
        for v in [&exact, &respelled] {
            let got = guard().check_body(Body::ContainerCreate, v.to_string().as_bytes());
            prop_assert_eq!(got.is_err(), refused, "{} -> {:?}", v, got);
            if let Ok(lookups) = got {
                let vol = lookups.iter().any(|l| matches!(l, Lookup::Volume { name, .. } if name == "vol"));
                prop_assert_eq!(vol, looks_up_vol);
            }
        }
    }
}
