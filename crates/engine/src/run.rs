//! The create form's content, as `docker run` takes it: checked field by
//! field, turned into the create body, shown as the equivalent command
//! line, and read back from an existing container (duplicate / edit).
//!
//! The body is built as JSON (the console carries no serializer for the
//! full create model); tests check that it reads as the official
//! [`ContainerCreateBody`](crate::models::ContainerCreateBody).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// One field of the form, to hang an error on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Image,
    Name,
    Command,
    Entrypoint,
    Env,
    Ports,
    Volumes,
    Network,
    Restart,
    Labels,
    Memory,
    Cpus,
}

impl Field {
    pub fn id(self) -> &'static str {
        match self {
            Field::Image => "image",
            Field::Name => "name",
            Field::Command => "command",
            Field::Entrypoint => "entrypoint",
            Field::Env => "env",
            Field::Ports => "ports",
            Field::Volumes => "volumes",
            Field::Network => "network",
            Field::Restart => "restart",
            Field::Labels => "labels",
            Field::Memory => "memory",
            Field::Cpus => "cpus",
        }
    }
}

/// What the form holds: text as typed, one item per line for lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    pub image: String,
    pub name: String,
    pub command: String,
    pub entrypoint: String,
    pub env: String,
    pub ports: String,
    pub volumes: String,
    pub network: String,
    pub restart: String,
    pub labels: String,
    pub memory: String,
    pub cpus: String,
    pub tty: bool,
    pub stdin: bool,
}

pub type Problems = Vec<(Field, String)>;

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// `512m`, `1g`, `1.5GiB`, `1048576` → bytes, as docker's RAMInBytes reads.
pub fn parse_bytes(text: &str) -> Result<i64, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t
        .strip_suffix("ib")
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    match num.trim().parse::<f64>() {
        Ok(n) if n > 0.0 && n.is_finite() => Ok((n * mult as f64) as i64),
        _ => Err(format!("{text:?} is not a size: try 512m or 1g")),
    }
}

/// A published port: `[ip:][host:]container[/proto]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Port {
    ip: String,
    host: String,
    container: String,
}

fn parse_port(spec: &str) -> Result<Port, String> {
    let (addr, proto) = match spec.rsplit_once('/') {
        Some((a, p)) => (a, p),
        None => (spec, "tcp"),
    };
    if !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(format!("{spec:?}: the protocol must be tcp, udp or sctp"));
    }
    // An IPv6 address comes in brackets: [::1]:8080:80.
    let (ip, rest) = match addr.strip_prefix('[') {
        Some(r) => match r.split_once("]:") {
            Some((ip, rest)) => (ip.to_owned(), rest),
            None => return Err(format!("{spec:?}: unclosed [")),
        },
        None => (String::new(), addr),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => (ip, "", *c),
        [h, c] => (ip, *h, *c),
        [i, h, c] if ip.is_empty() => (i.to_string(), *h, *c),
        _ => return Err(format!("{spec:?} is not [ip:]host:container[/proto]")),
    };
    let port_ok = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    if !port_ok(container) || !(host.is_empty() || port_ok(host)) {
        return Err(format!("{spec:?}: ports are numbers from 1 to 65535"));
    }
    Ok(Port {
        ip,
        host: host.to_owned(),
        container: format!("{container}/{proto}"),
    })
}

fn parse_restart(text: &str) -> Result<Option<Value>, String> {
    let t = text.trim();
    let (name, count) = match t.split_once(':') {
        Some((n, c)) => (n, Some(c)),
        None => (t, None),
    };
    match (name, count) {
        ("" | "no", None) => Ok(None),
        ("always" | "unless-stopped", None) => Ok(Some(json!({ "Name": name }))),
        ("on-failure", None) => Ok(Some(json!({ "Name": name }))),
        ("on-failure", Some(n)) => match n.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(json!({ "Name": name, "MaximumRetryCount": n }))),
            _ => Err(format!("{n:?} is not a retry count")),
        },
        _ => Err(format!(
            "{t:?}: use no, always, unless-stopped or on-failure[:N]"
        )),
    }
}

fn words(field: Field, text: &str, problems: &mut Problems) -> Option<Vec<String>> {
    if text.trim().is_empty() {
        return None;
    }
    match shell_words::split(text) {
        Ok(w) => Some(w),
        Err(e) => {
            problems.push((field, format!("{e}")));
            None
        }
    }
}

impl RunSpec {
    /// The create body, or every problem found, each on its field.
    pub fn body(&self) -> Result<Value, Problems> {
        let mut problems = Problems::new();
        let image = self.image.trim();
        if image.is_empty() {
            problems.push((Field::Image, "an image is needed".into()));
        } else if image.contains(char::is_whitespace) {
            problems.push((Field::Image, "an image reference has no spaces".into()));
        }
        let name = self.name.trim();
        let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !name.is_empty() && !name_ok {
            problems.push((
                Field::Name,
                "letters, digits and _ . - only, starting with a letter or digit".into(),
            ));
        }
        let mut config = Map::new();
        let mut host = Map::new();
        config.insert("Image".into(), json!(image));
        if let Some(cmd) = words(Field::Command, &self.command, &mut problems) {
            config.insert("Cmd".into(), json!(cmd));
        }
        if let Some(ep) = words(Field::Entrypoint, &self.entrypoint, &mut problems) {
            config.insert("Entrypoint".into(), json!(ep));
        }
        let mut env = vec![];
        for l in lines(&self.env) {
            match l.split_once('=') {
                Some((k, _)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                    env.push(l.to_owned())
                }
                _ => problems.push((Field::Env, format!("{l:?} is not NAME=value"))),
            }
        }
        if !env.is_empty() {
            config.insert("Env".into(), json!(env));
        }
        let mut exposed = Map::new();
        let mut bindings: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for l in lines(&self.ports) {
            match parse_port(l) {
                Ok(p) => {
                    exposed.insert(p.container.clone(), json!({}));
                    bindings
                        .entry(p.container)
                        .or_default()
                        .push(json!({ "HostIp": p.ip, "HostPort": p.host }));
                }
                Err(e) => problems.push((Field::Ports, e)),
            }
        }
        if !exposed.is_empty() {
            config.insert("ExposedPorts".into(), Value::Object(exposed));
            host.insert("PortBindings".into(), json!(bindings));
        }
        let (mut binds, mut anonymous) = (vec![], Map::new());
        for l in lines(&self.volumes) {
            let parts: Vec<&str> = l.split(':').collect();
            match parts.as_slice() {
                [dst] if dst.starts_with('/') => {
                    anonymous.insert((*dst).to_owned(), json!({}));
                }
                [src, dst] | [src, dst, _] if !src.is_empty() && dst.starts_with('/') => {
                    binds.push(l.to_owned())
                }
                _ => problems.push((
                    Field::Volumes,
                    format!("{l:?} is not /path, volume:/path or /host:/path[:ro]"),
                )),
            }
        }
        if !binds.is_empty() {
            host.insert("Binds".into(), json!(binds));
        }
        if !anonymous.is_empty() {
            config.insert("Volumes".into(), Value::Object(anonymous));
        }
        let network = self.network.trim();
        if !network.is_empty() {
            host.insert("NetworkMode".into(), json!(network));
        }
        match parse_restart(&self.restart) {
            Ok(Some(r)) => {
                host.insert("RestartPolicy".into(), r);
            }
            Ok(None) => {}
            Err(e) => problems.push((Field::Restart, e)),
        }
        let mut labels = Map::new();
        for l in lines(&self.labels) {
            match l.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    labels.insert(k.to_owned(), json!(v));
                }
                _ => problems.push((Field::Labels, format!("{l:?} is not key=value"))),
            }
        }
        if !labels.is_empty() {
            config.insert("Labels".into(), Value::Object(labels));
        }
        if !self.memory.trim().is_empty() {
            match parse_bytes(&self.memory) {
                Ok(b) if b < 6 << 20 => {
                    problems.push((Field::Memory, "the engine needs at least 6 MiB".into()))
                }
                Ok(b) => {
                    host.insert("Memory".into(), json!(b));
                }
                Err(e) => problems.push((Field::Memory, e)),
            }
        }
        if !self.cpus.trim().is_empty() {
            match self.cpus.trim().parse::<f64>() {
                Ok(c) if c > 0.0 && c <= 1024.0 => {
                    host.insert("NanoCpus".into(), json!((c * 1e9) as i64));
                }
                _ => problems.push((
                    Field::Cpus,
                    format!("{:?} is not a number of CPUs such as 0.5 or 2", self.cpus),
                )),
            }
        }
        if self.tty {
            config.insert("Tty".into(), json!(true));
        }
        if self.stdin {
            config.insert("OpenStdin".into(), json!(true));
            config.insert("AttachStdin".into(), json!(true));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        if !host.is_empty() {
            config.insert("HostConfig".into(), Value::Object(host));
        }
        Ok(Value::Object(config))
    }

    /// The same container as a `docker run` command line.
    pub fn command_line(&self) -> String {
        let mut args: Vec<String> = vec!["docker".into(), "run".into(), "-d".into()];
        let mut opt = |flag: &str, value: &str| {
            args.push(flag.into());
            args.push(value.into());
        };
        if !self.name.trim().is_empty() {
            opt("--name", self.name.trim());
        }
        for l in lines(&self.env) {
            opt("-e", l);
        }
        for l in lines(&self.ports) {
            opt("-p", l);
        }
        for l in lines(&self.volumes) {
            opt("-v", l);
        }
        if !self.network.trim().is_empty() {
            opt("--network", self.network.trim());
        }
        if !matches!(self.restart.trim(), "" | "no") {
            opt("--restart", self.restart.trim());
        }
        for l in lines(&self.labels) {
            opt("--label", l);
        }
        if !self.memory.trim().is_empty() {
            opt("--memory", self.memory.trim());
        }
        if !self.cpus.trim().is_empty() {
            opt("--cpus", self.cpus.trim());
        }
        if !self.entrypoint.trim().is_empty() {
            opt("--entrypoint", self.entrypoint.trim());
        }
        match (self.stdin, self.tty) {
            (true, true) => args.push("-it".into()),
            (true, false) => args.push("-i".into()),
            (false, true) => args.push("-t".into()),
            _ => {}
        }
        args.push(self.image.trim().into());
        let mut line = shell_words::join(&args);
        if !self.command.trim().is_empty() {
            line.push(' ');
            line.push_str(self.command.trim());
        }
        line
    }

    /// The form for a new container like `inspect` (the engine's JSON for
    /// `GET /containers/{id}/json`).
    pub fn from_inspect(c: &Value) -> RunSpec {
        let text = |p: &str| {
            c.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let list = |p: &str| -> Vec<String> {
            c.pointer(p)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut ports = vec![];
        if let Some(map) = c
            .pointer("/HostConfig/PortBindings")
            .and_then(Value::as_object)
        {
            for (port, binds) in map {
                let port = port.strip_suffix("/tcp").unwrap_or(port);
                for b in binds.as_array().into_iter().flatten() {
                    let ip = b["HostIp"].as_str().unwrap_or_default();
                    let hp = b["HostPort"].as_str().unwrap_or_default();
                    ports.push(match (ip, hp) {
                        ("", "") => port.to_owned(),
                        ("", hp) => format!("{hp}:{port}"),
                        (ip, hp) => format!("{ip}:{hp}:{port}"),
                    });
                }
            }
        }
        let mut volumes = list("/HostConfig/Binds");
        if let Some(v) = c.pointer("/Config/Volumes").and_then(Value::as_object) {
            let anonymous: Vec<String> = v
                .keys()
                .filter(|k| {
                    !volumes
                        .iter()
                        .any(|b| b.split(':').nth(1) == Some(k.as_str()))
                })
                .cloned()
                .collect();
            volumes.extend(anonymous);
        }
        let mut labels: Vec<String> = c
            .pointer("/Config/Labels")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let restart = match (
            text("/HostConfig/RestartPolicy/Name").as_str(),
            c.pointer("/HostConfig/RestartPolicy/MaximumRetryCount")
                .and_then(Value::as_i64),
        ) {
            ("on-failure", Some(n)) if n > 0 => format!("on-failure:{n}"),
            ("" | "no", _) => String::new(),
            (name, _) => name.to_owned(),
        };
        let memory = c
            .pointer("/HostConfig/Memory")
            .and_then(Value::as_i64)
            .filter(|m| *m > 0);
        let cpus = c
            .pointer("/HostConfig/NanoCpus")
            .and_then(Value::as_i64)
            .filter(|n| *n > 0);
        let network = text("/HostConfig/NetworkMode");
        RunSpec {
            image: text("/Config/Image"),
            name: format!("{}-copy", text("/Name").trim_start_matches('/')),
            command: shell_words::join(list("/Config/Cmd")),
            entrypoint: shell_words::join(list("/Config/Entrypoint")),
            env: list("/Config/Env").join("\n"),
            ports: ports.join("\n"),
            volumes: volumes.join("\n"),
            network: if network == "default" {
                String::new()
            } else {
                network
            },
            restart,
            labels: labels.join("\n"),
            memory: memory
                .map(|m| {
                    if m % (1 << 20) == 0 {
                        format!("{}m", m >> 20)
                    } else {
                        m.to_string()
                    }
                })
                .unwrap_or_default(),
            cpus: cpus
                .map(|n| (n as f64 / 1e9).to_string())
                .unwrap_or_default(),
            tty: c.pointer("/Config/Tty") == Some(&Value::Bool(true)),
            stdin: c.pointer("/Config/OpenStdin") == Some(&Value::Bool(true)),
        }
    }
}

/// The form field an engine error is about, when its words say so.
pub fn field_of_error(message: &str) -> Option<Field> {
    let m = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    if has(&["port is already allocated", "port", "bind for"]) && !has(&["mount"]) {
        Some(Field::Ports)
    } else if has(&["mount", "volume", "bind source", "invalid mode"]) {
        Some(Field::Volumes)
    } else if has(&[
        "container name",
        "is already in use",
        "invalid container name",
    ]) {
        Some(Field::Name)
    } else if has(&["network"]) {
        Some(Field::Network)
    } else if has(&[
        "no such image",
        "image",
        "repository",
        "manifest",
        "pull access denied",
    ]) {
        Some(Field::Image)
    } else if has(&["restart policy"]) {
        Some(Field::Restart)
    } else if has(&["memory"]) {
        Some(Field::Memory)
    } else if has(&["cpu"]) {
        Some(Field::Cpus)
    } else if has(&["executable file not found", "exec:"]) {
        Some(Field::Command)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ContainerCreateBody;

    fn full() -> RunSpec {
        RunSpec {
            image: "nginx:1.27".into(),
            name: "web".into(),
            command: "sh -c 'echo hi; sleep 9'".into(),
            entrypoint: String::new(),
            env: "A=1\n\n B=two words \n".into(),
            ports: "8080:80\n127.0.0.1:8443:443/tcp\n53/udp".into(),
            volumes: "/data\ncache:/cache\n/srv:/srv:ro".into(),
            network: "bridge".into(),
            restart: "on-failure:3".into(),
            labels: "com.example.team=ops".into(),
            memory: "256m".into(),
            cpus: "0.5".into(),
            tty: true,
            stdin: true,
        }
    }

    #[test]
    fn the_body_reads_as_the_official_model() {
        let body = full().body().unwrap();
        let model: ContainerCreateBody = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(model.image.as_deref(), Some("nginx:1.27"));
        assert_eq!(model.cmd.unwrap(), ["sh", "-c", "echo hi; sleep 9"]);
        assert_eq!(model.env.unwrap(), ["A=1", "B=two words"]);
        let host = model.host_config.unwrap();
        assert_eq!(host.memory, Some(256 << 20));
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(host.binds.unwrap(), ["cache:/cache", "/srv:/srv:ro"]);
        let bindings = host.port_bindings.unwrap();
        let b = bindings["443/tcp"].as_ref().unwrap();
        assert_eq!(
            (b[0].host_ip.as_deref(), b[0].host_port.as_deref()),
            (Some("127.0.0.1"), Some("8443"))
        );
        assert!(bindings.contains_key("53/udp"));
        assert_eq!(body["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 3);
        assert_eq!(body["Volumes"]["/data"], json!({}));
        assert_eq!(body["OpenStdin"], true);
    }

    #[test]
    fn problems_land_on_their_fields() {
        let bad = RunSpec {
            image: String::new(),
            name: "-bad".into(),
            env: "NOEQUALS".into(),
            ports: "80:99999\nabc".into(),
            volumes: "relative".into(),
            restart: "sometimes".into(),
            memory: "lots".into(),
            cpus: "-1".into(),
            command: "echo 'unclosed".into(),
            ..Default::default()
        };
        let fields: Vec<Field> = bad
            .body()
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        for f in [
            Field::Image,
            Field::Name,
            Field::Env,
            Field::Ports,
            Field::Volumes,
            Field::Restart,
            Field::Memory,
            Field::Cpus,
            Field::Command,
        ] {
            assert!(fields.contains(&f), "{f:?} in {fields:?}");
        }
        assert_eq!(parse_bytes("1.5g"), Ok(3 << 29));
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
    }

    #[test]
    fn the_command_line_and_back_from_inspect() {
        let line = full().command_line();
        assert_eq!(
            line,
            "docker run -d --name web -e 'A=1' -e 'B=two words' -p 8080:80 -p 127.0.0.1:8443:443/tcp -p 53/udp -v /data -v cache:/cache -v /srv:/srv:ro --network bridge --restart on-failure:3 --label 'com.example.team=ops' --memory 256m --cpus 0.5 -it nginx:1.27 sh -c 'echo hi; sleep 9'"
        );
        // What the engine says of such a container reads back as the form.
        let body = full().body().unwrap();
        let mut inspect = json!({ "Name": "/web", "Config": body.clone(), "HostConfig": body["HostConfig"].clone() });
        inspect["Config"]["Volumes"] = json!({ "/data": {}, "/cache": {}, "/srv": {} });
        let back = RunSpec::from_inspect(&inspect);
        assert_eq!(back.name, "web-copy");
        assert_eq!(back.env, "A=1\nB=two words");
        assert_eq!(back.volumes, "cache:/cache\n/srv:/srv:ro\n/data");
        assert_eq!(back.memory, "256m");
        assert_eq!(back.restart, "on-failure:3");
        let mut again = back.body().unwrap();
        let mut want = body;
        // Only the port order may differ (maps are sorted).
        again["HostConfig"]["PortBindings"] = json!(null);
        want["HostConfig"]["PortBindings"] = json!(null);
        assert_eq!(again, want);
    }

    #[test]
    fn engine_errors_find_their_field() {
        assert_eq!(field_of_error("driver failed programming external connectivity: Bind for 0.0.0.0:8080 failed: port is already allocated"), Some(Field::Ports));
        assert_eq!(
            field_of_error("Conflict. The container name \"/web\" is already in use by container"),
            Some(Field::Name)
        );
        assert_eq!(
            field_of_error("No such image: nope:latest"),
            Some(Field::Image)
        );
        assert_eq!(
            field_of_error(
                "invalid mount config for type \"bind\": bind source path does not exist: /nope"
            ),
            Some(Field::Volumes)
        );
        assert_eq!(
            field_of_error("network nope not found"),
            Some(Field::Network)
        );
        assert_eq!(field_of_error("something else"), None);
    }
}
