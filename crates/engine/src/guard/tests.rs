use serde_json::{json, Value};

use super::*;
use crate::route::route;

fn guard() -> Guard {
    Guard {
        allow_binds: vec![PathBuf::from("/srv/data")],
    }
}

fn body(kind: Body, v: &Value) -> Result<Vec<Lookup>, Refusal> {
    guard().check_body(kind, v.to_string().as_bytes())
}

fn create(v: Value) -> Result<Vec<Lookup>, Refusal> {
    body(Body::ContainerCreate, &v)
}

fn refused(r: Result<Vec<Lookup>, Refusal>) -> String {
    match r {
        Ok(l) => panic!("passed, with lookups {l:?}"),
        Err(e) => e.to_string(),
    }
}

/// What the 20.10 CLI sends for `docker run --rm -v /srv/data/x:/data busybox true`.
fn cli_run() -> Value {
    serde_json::from_str(
        r#"{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,
    "AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":[],"Cmd":["true"],
    "Image":"busybox","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":{},
    "HostConfig":{"Binds":["/srv/data/x:/data"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},
    "NetworkMode":"default","PortBindings":{},"RestartPolicy":{"Name":"no","MaximumRetryCount":0},
    "AutoRemove":true,"VolumeDriver":"","VolumesFrom":null,"CapAdd":null,"CapDrop":null,
    "CgroupnsMode":"","Dns":[],"DnsOptions":[],"DnsSearch":[],"ExtraHosts":null,"GroupAdd":null,
    "IpcMode":"","Cgroup":"","Links":null,"OomScoreAdj":0,"PidMode":"","Privileged":false,
    "PublishAllPorts":false,"ReadonlyRootfs":false,"SecurityOpt":null,"UTSMode":"","UsernsMode":"",
    "ShmSize":0,"ConsoleSize":[0,0],"Isolation":"","CpuShares":0,"Memory":0,"NanoCpus":0,
    "CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":[],"BlkioDeviceReadBps":null,
    "BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,"CpuPeriod":0,
    "CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"","CpusetMems":"",
    "Devices":[],"DeviceCgroupRules":null,"DeviceRequests":null,"KernelMemory":0,"KernelMemoryTCP":0,
    "MemoryReservation":0,"MemorySwap":0,"MemorySwappiness":null,"OomKillDisable":false,
    "PidsLimit":null,"Ulimits":null,"CpuCount":0,"CpuPercent":0,"IOMaximumIOps":0,
    "IOMaximumBandwidth":0,"MaskedPaths":null,"ReadonlyPaths":null},
    "NetworkingConfig":{"EndpointsConfig":{}}}"#,
    )
    .unwrap()
}

#[test]
fn what_the_cli_sends_passes() {
    assert_eq!(create(cli_run()), Ok(vec![]));
    let mut named = cli_run();
    named["HostConfig"]["Binds"] = json!(["data:/data", "/anonymous"]);
    named["HostConfig"]["SecurityOpt"] = json!(["no-new-privileges"]);
    named["HostConfig"]["Sysctls"] = json!({"net.core.somaxconn": "1024"});
    named["HostConfig"]["CapDrop"] = json!(["ALL"]);
    assert_eq!(
        create(named),
        Ok(vec![Lookup::Volume {
            name: "data".into(),
            field: "HostConfig.Binds".into()
        }])
    );
}

#[test]
fn keys_are_read_as_go_reads_them() {
    let host = |h: Value| create(json!({"Image": "x", "HostConfig": h}));
    let r = refused(host(json!({"privileged": true})));
    assert!(
        r.starts_with("HostConfig.Privileged (sent as \"privileged\")"),
        "{r}"
    );
    assert!(refused(host(json!({"binds": ["/:/host"]}))).contains("outside the allowed"));
    assert!(refused(host(json!({"Bind\u{17f}": ["/:/host"]}))).contains("outside"));
    assert!(refused(host(json!({"networkmode": "host"}))).contains("host's network"));
    assert!(refused(host(json!({"Networ\u{212a}Mode": "host"}))).contains("host's network"));
    assert!(refused(host(json!({"CapAdd": "SYS_ADMIN"}))).starts_with("HostConfig.CapAdd"));
    assert!(refused(host(json!({"Pr\u{131}vileged": true}))).starts_with("HostConfig.Privileged"));
    // The legacy top-level HostConfig.
    assert!(refused(create(json!({"Image": "x", "Privileged": true}))).starts_with("Privileged"));
    assert!(refused(create(json!({"Image": "x", "binds": ["/etc:/x"]}))).contains("outside"));
    // Two keys for one field: the engine takes the last; the guard won't guess.
    let dup = br#"{"Image":"x","HostConfig":{"Privileged":false,"Privileged":true}}"#;
    let r = guard().check_body(Body::ContainerCreate, dup).unwrap_err();
    assert!(r.why.contains("name the same field"), "{r}");
    let folded = br#"{"Image":"x","HostConfig":{"Privileged":false,"privileged":true}}"#;
    assert!(guard().check_body(Body::ContainerCreate, folded).is_err());
    let mounts = json!([{"type": "bind", "source": "/", "target": "/h"}]);
    assert!(refused(host(json!({"Mounts": mounts}))).starts_with("HostConfig.Mounts[0].Source"));
    let exec = json!({"Cmd": ["sh"], "privileged": true});
    assert!(refused(body(Body::Exec, &exec)).starts_with("Privileged"));
}

#[test]
fn every_way_to_a_host_path_is_a_bind() {
    let host = |h: Value| create(json!({"Image": "x", "HostConfig": h}));
    let opts = json!({"type": "none", "o": "bind", "device": "/"});
    let volume_mount = json!([{"Type": "volume", "Source": "v", "Target": "/h",
        "VolumeOptions": {"DriverConfig": {"Name": "local", "Options": opts}}}]);
    assert!(refused(host(json!({"Mounts": volume_mount}))).contains("outside"));
    assert!(refused(body(
        Body::VolumeCreate,
        &json!({"Name": "v", "DriverOpts": opts})
    ))
    .contains("outside"));
    let fine = json!({"type": "none", "o": "bind,ro", "device": "/srv/data/v"});
    assert_eq!(
        body(Body::VolumeCreate, &json!({"DriverOpts": fine})),
        Ok(vec![])
    );
    let tmpfs = json!({"type": "tmpfs", "device": "tmpfs", "o": "size=64m,uid=1000"});
    assert_eq!(
        body(Body::VolumeCreate, &json!({"DriverOpts": tmpfs})),
        Ok(vec![])
    );
    let disk = json!({"type": "ext4", "device": "/dev/sda1"});
    assert!(refused(body(Body::VolumeCreate, &json!({"DriverOpts": disk}))).contains("host's"));
    assert!(refused(body(Body::VolumeCreate, &json!({"Driver": "sshfs"}))).starts_with("Driver"));
    // VolumesFrom and named volumes are looked up.
    assert_eq!(
        host(json!({"VolumesFrom": ["db:ro"]})),
        Ok(vec![Lookup::VolumesOf {
            name: "db".into(),
            field: "HostConfig.VolumesFrom".into()
        }])
    );
    assert!(refused(host(json!({"VolumesFrom": ["../x"]}))).contains("not a name"));
    assert!(refused(host(json!({"Binds": ["/srv/data/../../etc:/x"]}))).contains("outside"));
    assert!(refused(host(json!({"VolumeDriver": "sshfs"}))).starts_with("HostConfig.VolumeDriver"));
}

#[test]
fn fields_not_known_to_be_safe_are_refused() {
    let host = |h: Value| create(json!({"Image": "x", "HostConfig": h}));
    for (h, field) in [
        (
            json!({"DeviceCgroupRules": ["a *:* rwm"]}),
            "HostConfig.DeviceCgroupRules",
        ),
        (
            json!({"Devices": [{"PathOnHost": "/dev/sda"}]}),
            "HostConfig.Devices",
        ),
        (
            json!({"SecurityOpt": ["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]}),
            "HostConfig.SecurityOpt",
        ),
        (
            json!({"SecurityOpt": ["apparmor=unconfined"]}),
            "HostConfig.SecurityOpt",
        ),
        (
            json!({"SecurityOpt": ["label=disable"]}),
            "HostConfig.SecurityOpt",
        ),
        (
            json!({"SecurityOpt": ["disable"]}),
            "HostConfig.SecurityOpt",
        ),
        (json!({"MaskedPaths": []}), "HostConfig.MaskedPaths"),
        (json!({"ReadonlyPaths": []}), "HostConfig.ReadonlyPaths"),
        (json!({"PidMode": "host"}), "HostConfig.PidMode"),
        (json!({"IpcMode": "host"}), "HostConfig.IpcMode"),
        (json!({"UTSMode": "host"}), "HostConfig.UTSMode"),
        (json!({"UsernsMode": "host"}), "HostConfig.UsernsMode"),
        (json!({"CgroupnsMode": "host"}), "HostConfig.CgroupnsMode"),
        (json!({"Runtime": "other"}), "HostConfig.Runtime"),
        (json!({"CgroupParent": "/"}), "HostConfig.CgroupParent"),
        (
            json!({"Sysctls": {"kernel.core_pattern": "|/x"}}),
            "HostConfig.Sysctls",
        ),
        (
            json!({"LogConfig": {"Type": "syslog"}}),
            "HostConfig.LogConfig.Type",
        ),
        (
            json!({"Capabilities": ["CAP_SYS_ADMIN"]}),
            "HostConfig.Capabilities",
        ),
        (json!({"SomethingNew": true}), "HostConfig.SomethingNew"),
    ] {
        let r = refused(host(h.clone()));
        assert!(r.starts_with(field), "{h}: {r}");
    }
    let net = json!({"Image": "x", "NetworkingConfig": {"EndpointsConfig": {"host": {}}}});
    assert!(refused(create(net)).contains("host's network"));
    // Another container's namespace: looked up.
    assert_eq!(
        host(json!({"PidMode": "container:web"})),
        Ok(vec![Lookup::SharedContainer {
            name: "web".into(),
            field: "HostConfig.PidMode".into()
        }])
    );
    // A network named otherwise (an id, perhaps the host's): looked up.
    assert_eq!(
        host(json!({"NetworkMode": "0123abcd"})),
        Ok(vec![Lookup::Network {
            name: "0123abcd".into(),
            field: "HostConfig.NetworkMode".into()
        }])
    );
}

#[test]
fn what_the_engine_says_of_a_lookup_is_judged() {
    let g = guard();
    let parse = |v: Value| crate::gojson::parse(v.to_string().as_bytes()).unwrap();
    let vol = |field: &str| Lookup::Volume {
        name: "v".into(),
        field: field.into(),
    };
    let bound = parse(
        json!({"Name": "v", "Driver": "local", "Options": {"type": "none", "o": "bind", "device": "/"}}),
    );
    assert!(g
        .check_lookup(&vol("HostConfig.Binds"), Some(&bound))
        .is_err());
    let plain = parse(json!({"Name": "v", "Driver": "local", "Options": null}));
    assert_eq!(g.check_lookup(&vol("x"), Some(&plain)), Ok(vec![]));
    assert_eq!(g.check_lookup(&vol("x"), None), Ok(vec![]));
    let host_net = parse(json!({"Name": "host", "Driver": "host"}));
    let net = Lookup::Network {
        name: "0123".into(),
        field: "HostConfig.NetworkMode".into(),
    };
    assert!(g.check_lookup(&net, Some(&host_net)).is_err());

    let holder = parse(json!({"HostConfig": {"Privileged": false},
        "Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock"}]}));
    let from = Lookup::VolumesOf {
        name: "holder".into(),
        field: "HostConfig.VolumesFrom".into(),
    };
    let r = g.check_lookup(&from, Some(&holder)).unwrap_err();
    assert!(r.why.contains("docker.sock"), "{r}");
    let privileged = parse(
        json!({"HostConfig": {"Privileged": true, "MaskedPaths": [], "ReadonlyPaths": []}, "Mounts": []}),
    );
    let share = Lookup::SharedContainer {
        name: "p".into(),
        field: "HostConfig.PidMode".into(),
    };
    assert!(g.check_lookup(&share, Some(&privileged)).is_err());
    let plain = parse(
        json!({"HostConfig": {"Privileged": false, "NetworkMode": "default",
        "MaskedPaths": ["/proc/kcore"], "ReadonlyPaths": ["/proc/sys"], "Runtime": "runc"},
        "Mounts": [{"Type": "volume", "Name": "data", "Source": "/var/lib/docker/volumes/data/_data"}]}),
    );
    assert_eq!(
        g.check_lookup(&share, Some(&plain)),
        Ok(vec![Lookup::Volume {
            name: "data".into(),
            field: "HostConfig.PidMode (mount 0 of \"p\")".into()
        }])
    );
}

#[test]
fn services_are_guarded_like_containers() {
    let svc = |c: Value| {
        body(
            Body::Service,
            &json!({"TaskTemplate": {"ContainerSpec": c}}),
        )
    };
    assert!(refused(svc(json!({"CapabilityAdd": ["SYS_ADMIN"]}))).contains("CapabilityAdd"));
    assert!(refused(svc(
        json!({"Privileges": {"Seccomp": {"Mode": "unconfined"}}})
    ))
    .contains("Seccomp.Mode"));
    assert!(refused(svc(
        json!({"Privileges": {"SELinuxContext": {"Disable": true}}})
    ))
    .contains("SELinuxContext"));
    assert!(refused(svc(
        json!({"Mounts": [{"Type": "bind", "Source": "/", "Target": "/h"}]})
    ))
    .contains("outside"));
    let top = json!({"Name": "s", "Networks": [{"Target": "host"}], "TaskTemplate": {"ContainerSpec": {"Image": "x"}}});
    assert!(refused(body(Body::Service, &top)).starts_with("Networks[0].Target"));
    let task = json!({"TaskTemplate": {"ContainerSpec": {"Image": "x"}, "Networks": [{"Target": "host"}]}});
    assert!(refused(body(Body::Service, &task)).contains("host's network"));
    let plugin = json!({"TaskTemplate": {"Runtime": "plugin", "PluginSpec": {"Name": "x"}}});
    assert!(refused(body(Body::Service, &plugin)).starts_with("TaskTemplate.Runtime"));
    let fine = json!({"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "x",
        "Mounts": [{"Type": "bind", "Source": "/srv/data/a", "Target": "/a"}]}},
        "Mode": {"Replicated": {"Replicas": 2}}});
    assert_eq!(body(Body::Service, &fine), Ok(vec![]));
}

#[test]
fn requests_are_checked_before_their_bodies() {
    let g = guard();
    let check = |m: &str, p: &str, q: Option<&str>| g.check_request(&route(m, p).unwrap(), q, &[]);
    assert_eq!(
        check("POST", "/v1.41/containers/create", None),
        Ok(Some(Body::ContainerCreate))
    );
    assert_eq!(check("POST", "/containers/x/start", None), Ok(None));
    // A start could carry a HostConfig below API 1.24.
    assert!(check("POST", "/v1.23/containers/x/start", None).is_err());
    assert!(check("POST", "/build", Some("t=x&networkmode=host")).is_err());
    assert!(check("POST", "/build", Some("t=x&version=2")).is_err());
    assert!(check("POST", "/build", Some("remote=https://example.com/x.tar")).is_err());
    assert!(check("POST", "/build", Some("t=x;networkmode=host")).is_err());
    assert_eq!(
        check("POST", "/build", Some("t=app%3A1&rm=1&networkmode=none")),
        Ok(None)
    );
    assert!(check(
        "POST",
        "/images/create",
        Some("fromSrc=http://169.254.169.254/")
    )
    .is_err());
    assert_eq!(
        check("POST", "/images/create", Some("fromImage=busybox&tag=1")),
        Ok(None)
    );
    assert_eq!(
        check("POST", "/images/create", Some("fromSrc=-&repo=x")),
        Ok(None)
    );
    for (m, p) in [
        ("POST", "/plugins/pull"),
        ("POST", "/plugins/create"),
        ("POST", "/plugins/vieux/sshfs/enable"),
        ("POST", "/session"),
        ("POST", "/grpc"),
        ("POST", "/swarm/join"),
        ("POST", "/swarm/init"),
        ("GET", "/swarm/unlockkey"),
    ] {
        assert!(check(m, p, None).is_err(), "{m} {p}");
    }
    let kill = route("POST", "/containers/x/kill").unwrap();
    for ct in [
        &b"Application/X-WWW-Form-Urlencoded; charset=utf-8"[..],
        b" application/x-www-form-urlencoded ",
        b"application/x-www-form-urlencoded; x=\xff",
        b"multipart/form-data; boundary=XYZ",
        b"application/json\x00",
    ] {
        assert!(g.check_request(&kill, None, &[ct]).is_err(), "{ct:?}");
    }
    assert!(g
        .check_request(&kill, None, &[b"application/json", b"text/plain"])
        .is_err());
    for ct in [
        &b"application/json"[..],
        b"application/x-tar",
        b"text/plain; charset=utf-8",
    ] {
        assert_eq!(g.check_request(&kill, None, &[ct]), Ok(None));
    }
}

#[test]
fn the_engine_is_not_asked_to_read_the_host() {
    let g = guard();
    let check = |m: &str, p: &str, q: Option<&str>| g.check_request(&route(m, p).unwrap(), q, &[]);
    // `top`: the host's ps, over the host's processes.
    assert_eq!(check("GET", "/containers/web/top", None), Ok(None));
    assert_eq!(
        check("GET", "/containers/web/top", Some("ps_args=-ef")),
        Ok(None)
    );
    assert_eq!(
        check("GET", "/containers/web/top", Some("ps_args=aux")),
        Ok(None)
    );
    for q in [
        "ps_args=-oargs%3DPID%20e%20-p1",
        "ps_args=-p1",
        "ps_args=-ef&ps_args=-p1",
        "ps_args=-ef;x",
    ] {
        assert!(check("GET", "/containers/web/top", Some(q)).is_err(), "{q}");
    }
    // Checkpoints are written and read where the client says.
    assert!(check("POST", "/containers/web/checkpoints", None).is_err());
    // (Its DELETE route reads two ways: the router refuses it already.)
    assert!(route("DELETE", "/containers/web/checkpoints/c1").is_err());
    assert_eq!(check("GET", "/containers/web/checkpoints", None), Ok(None));
    assert!(check("POST", "/containers/web/start", Some("checkpoint=c1")).is_err());
    assert!(check("POST", "/containers/web/start", Some("checkpoint-dir=/x")).is_err());
    assert_eq!(check("POST", "/containers/web/start", None), Ok(None));
    // A rollback applies a spec the guard never sees.
    assert!(check(
        "POST",
        "/services/web/update",
        Some("version=3&rollback=previous")
    )
    .is_err());
    assert_eq!(
        check("POST", "/services/web/update", Some("version=3")),
        Ok(Some(Body::Service))
    );
    assert_eq!(
        check("POST", "/networks/n1/connect", None),
        Ok(Some(Body::NetworkConnect))
    );
}

#[test]
fn limits_that_reach_the_host_are_refused() {
    let host = |h: Value| create(json!({"Image": "busybox", "HostConfig": h}));
    assert_eq!(host(json!({"OomScoreAdj": 500})), Ok(vec![]));
    assert!(refused(host(json!({"OomScoreAdj": -1000}))).contains("OomScoreAdj"));
    assert!(refused(host(json!({"OomKillDisable": true}))).contains("OomKillDisable"));
    assert_eq!(host(json!({"OomKillDisable": false})), Ok(vec![]));
    assert_eq!(
        host(json!({"Ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]})),
        Ok(vec![])
    );
    for name in ["rtprio", "rttime", "nice", "memlock", "RTPRIO"] {
        let r = refused(host(
            json!({"Ulimits": [{"name": name, "Soft": 99, "Hard": 99}]}),
        ));
        assert!(r.contains("Ulimits[0]"), "{r}");
    }
    // The same in a service's spec.
    let svc = |c: Value| {
        body(
            Body::Service,
            &json!({"TaskTemplate": {"ContainerSpec": c}}),
        )
    };
    assert!(svc(json!({"Image": "busybox", "OomScoreAdj": -17})).is_err());
    assert!(svc(
        json!({"Image": "busybox", "Ulimits": [{"Name": "rtprio", "Soft": 1, "Hard": 1}]})
    )
    .is_err());
}

#[test]
fn a_tmpfs_is_a_tmpfs_and_nothing_more() {
    let host = |h: Value| create(json!({"Image": "busybox", "HostConfig": h}));
    assert_eq!(
        host(json!({"Tmpfs": {"/run": "size=64m,mode=1777,noexec,nosuid"}})),
        Ok(vec![])
    );
    for opts in [
        "remount",
        "size=1m,remount",
        "bind",
        "rshared",
        "sync",
        "suid",
    ] {
        let r = refused(host(json!({"Tmpfs": {"/sys/": opts}})));
        assert!(r.contains("HostConfig.Tmpfs"), "{opts}: {r}");
    }
    let mount = |o: Value| {
        host(json!({"Mounts": [{"Type": "tmpfs", "Target": "/x", "TmpfsOptions": {"Options": o}}]}))
    };
    assert_eq!(mount(json!([["noexec"], ["mode", "755"]])), Ok(vec![]));
    assert!(mount(json!([["remount"]])).is_err());
    // Devices by path, and a Swarm's data, are refused too.
    assert!(refused(host(
        json!({"BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1}]})
    ))
    .contains("devices reach the host"));
    let svc = |c: Value| {
        body(
            Body::Service,
            &json!({"TaskTemplate": {"ContainerSpec": c}}),
        )
    };
    assert!(svc(json!({"Image": "busybox", "Secrets": [{"SecretID": "s1"}]})).is_err());
    assert!(svc(json!({"Image": "busybox", "Configs": [{"ConfigID": "c1"}]})).is_err());
    // A build's limits are read as a create's.
    let g = guard();
    let build = |q: &str| g.check_request(&route("POST", "/build").unwrap(), Some(q), &[]);
    assert_eq!(build("t=x&ulimits=%5B%5D"), Ok(None));
    assert!(build(
        "ulimits=%5B%7B%22Name%22%3A%22rtprio%22%2C%22Soft%22%3A9%2C%22Hard%22%3A9%7D%5D"
    )
    .is_err());
}

#[test]
fn networks_take_the_engines_addresses() {
    let net = |v: Value| body(Body::NetworkCreate, &v);
    assert_eq!(
        net(json!({"Name": "n", "Driver": "bridge", "IPAM": {"Driver": "default", "Config": []}})),
        Ok(vec![])
    );
    let r = refused(net(
        json!({"Name": "n", "IPAM": {"Config": [{"Subnet": "192.0.2.128/25", "Gateway": "192.0.2.254"}]}}),
    ));
    assert!(r.starts_with("IPAM.Config"), "{r}");
    // Connecting takes the endpoint's known fields only.
    let connect = |v: Value| body(Body::NetworkConnect, &v);
    assert_eq!(
        connect(json!({"Container": "web", "EndpointConfig": {"Aliases": ["db"]}})),
        Ok(vec![])
    );
    assert!(
        connect(json!({"Container": "web", "EndpointConfig": {"DriverOpts": {"a": "b"}}})).is_err()
    );
}

#[test]
fn a_container_is_judged_again_as_the_engine_made_it() {
    let g = guard();
    let parse = |v: Value| crate::gojson::parse(v.to_string().as_bytes()).unwrap();
    let id = "6322f575b481407c151e31ef647629b014bd019e69a4f2f3aeee9604be2be739";
    let made = |mut host: Value, mounts: Value| {
        // As the engine fills them in for any container but a privileged one.
        host["MaskedPaths"] = json!(["/proc/kcore"]);
        host["ReadonlyPaths"] = json!(["/proc/sys"]);
        parse(json!({"Id": "abc", "HostConfig": host, "Mounts": mounts}))
    };
    assert_eq!(
        g.check_created(&made(json!({"NetworkMode": "default"}), json!([]))),
        Ok(vec![])
    );
    // A VolumesFrom whose source was swapped: its binds are the new
    // container's own mounts now.
    let swapped = made(
        json!({"VolumesFrom": ["bait"]}),
        json!([{"Type": "bind", "Source": "/etc", "Destination": "/x"}]),
    );
    assert!(g.check_created(&swapped).is_err());
    assert_eq!(
        g.check_created(&made(
            json!({}),
            json!([{"Type": "bind", "Source": "/srv/data/x"}])
        )),
        Ok(vec![])
    );
    // Namespaces shared by id (the engine pins a name it found) are
    // looked up again; a name it did not find is refused.
    assert_eq!(
        g.check_created(&made(
            json!({"PidMode": format!("container:{id}")}),
            json!([])
        )),
        Ok(vec![Lookup::SharedContainer {
            name: id.into(),
            field: "HostConfig.PidMode".into()
        }])
    );
    assert!(g
        .check_created(&made(json!({"NetworkMode": "container:ghost"}), json!([])))
        .is_err());
    assert!(g
        .check_created(&made(json!({"IpcMode": "host"}), json!([])))
        .is_err());
    // And a container the engine does not have is no container to share.
    let shared = Lookup::SharedContainer {
        name: "ghost".into(),
        field: "HostConfig.NetworkMode".into(),
    };
    assert!(g.check_lookup(&shared, None).is_err());
}

#[test]
fn environments_lose_their_values() {
    let mut v = json!({"Config": {"Env": ["PATH=/bin", "TOKEN=s3cret", "EMPTY"]},
        "Spec": {"TaskTemplate": {"ContainerSpec": {"Env": ["A=b=c"]}}},
        "List": [{"Env": ["X=1"]}], "Other": {"Envs": ["Y=2"]}});
    redact_env(&mut v);
    assert_eq!(v["Config"]["Env"], json!(["PATH=…", "TOKEN=…", "EMPTY=…"]));
    assert_eq!(
        v["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"],
        json!(["A=…"])
    );
    assert_eq!(v["List"][0]["Env"], json!(["X=…"]));
    assert_eq!(v["Other"]["Envs"], json!(["Y=2"]));
    assert!(carries_env("/containers/{name:.*}/json") && !carries_env("/containers/json"));
}

#[test]
fn swarm_answers_lose_their_join_tokens() {
    let mut v = json!({"ID": "x", "JoinTokens": {"Worker": "SWMTKN-1-w", "Manager": "SWMTKN-1-m"}, "Spec": {}});
    redact_swarm(&mut v);
    assert_eq!(v, json!({"ID": "x", "Spec": {}}));
}

/// Every field of the engine's types is one the guard has decided on:
/// allowed and checked, or refused with a reason. (A field it has not
/// decided on is refused too, as "not known to be safe"; this keeps that
/// for fields newer than this list.)
#[test]
fn the_allowlists_cover_the_engines_own_types() {
    use crate::models as m;
    let cases: Vec<(&str, &[&str], schema::Fields)> = vec![
        (
            "ContainerCreateBody",
            crate::gojson::struct_fields::<m::ContainerCreateBody>(),
            schema::CONTAINER_CREATE,
        ),
        (
            "HostConfig",
            crate::gojson::struct_fields::<m::HostConfig>(),
            &[schema::HOST_CONFIG, schema::RESOURCES],
        ),
        (
            "ContainerUpdateBody",
            crate::gojson::struct_fields::<m::ContainerUpdateBody>(),
            schema::CONTAINER_UPDATE,
        ),
        (
            "ExecConfig",
            crate::gojson::struct_fields::<m::ExecConfig>(),
            schema::EXEC,
        ),
        (
            "Mount",
            crate::gojson::struct_fields::<m::Mount>(),
            &[schema::MOUNT],
        ),
        (
            "EndpointSettings",
            crate::gojson::struct_fields::<m::EndpointSettings>(),
            &[schema::ENDPOINT],
        ),
        (
            "VolumeCreateRequest",
            crate::gojson::struct_fields::<m::VolumeCreateRequest>(),
            schema::VOLUME_CREATE,
        ),
        (
            "NetworkCreateRequest",
            crate::gojson::struct_fields::<m::NetworkCreateRequest>(),
            schema::NETWORK_CREATE,
        ),
        (
            "ServiceSpec",
            crate::gojson::struct_fields::<m::ServiceSpec>(),
            schema::SERVICE,
        ),
        (
            "TaskSpec",
            crate::gojson::struct_fields::<m::TaskSpec>(),
            &[schema::TASK_SPEC],
        ),
        (
            "TaskSpecContainerSpec",
            crate::gojson::struct_fields::<m::TaskSpecContainerSpec>(),
            &[schema::CONTAINER_SPEC],
        ),
        (
            "TaskSpecContainerSpecPrivileges",
            crate::gojson::struct_fields::<m::TaskSpecContainerSpecPrivileges>(),
            &[schema::PRIVILEGES],
        ),
    ];
    let mut undecided = vec![];
    for (ty, names, fields) in cases {
        assert!(!names.is_empty(), "{ty}");
        undecided.extend(
            names
                .iter()
                .filter(|name| !schema::decided(fields, name))
                .map(|name| format!("{ty}.{name}")),
        );
    }
    assert!(undecided.is_empty(), "not decided on: {undecided:?}");
}

#[test]
fn links_inside_an_allowed_folder_are_followed() {
    let allowed = tempfile::tempdir().unwrap();
    let root = allowed.path();
    std::os::unix::fs::symlink("/", root.join("root")).unwrap();
    std::fs::create_dir(root.join("real")).unwrap();
    let g = Guard {
        allow_binds: vec![root.to_owned()],
    };
    let at = |p: &str| root.join(p).to_str().unwrap().to_owned();
    assert!(g.bind_allowed(&at("real")));
    assert!(
        g.bind_allowed(&at("real/not-yet")),
        "the engine makes missing folders"
    );
    assert!(!g.bind_allowed(&at("root")));
    assert!(!g.bind_allowed(&at("root/etc")));
    assert!(!g.bind_allowed(&at("root/not-yet/deeper")));
    assert!(!g.bind_allowed("/etc"));
}
