//! The allowlists: for each body the guard reads, its fields known to be
//! safe, and how each is checked. A field not listed passes only at its
//! default value.

use super::{Guard, Lookup, Refusal};
use crate::gojson::{fold, members, Json};

/// How a listed field is checked.
pub(super) enum Rule {
    /// Any value is safe.
    Any,
    /// Only these strings (the engine compares them exactly).
    OneOf(&'static [&'static str]),
    /// Only null or absent: for lists where `[]` is not the default
    /// (`MaskedPaths: []` unmasks everything).
    Absent(&'static str),
    /// An object with these fields.
    Struct(Fields),
    /// A list of objects with these fields.
    List(Fields),
    /// Checked by a function.
    Check(CheckFn),
}

type CheckFn = fn(&mut Ctx, &str, &Json) -> Result<(), Refusal>;

pub(super) struct Field {
    name: &'static str,
    rule: Rule,
}

const fn f(name: &'static str, rule: Rule) -> Field {
    Field { name, rule }
}

use Rule::{Absent, Any, Check, List, OneOf, Struct};

pub(super) struct Ctx<'g> {
    guard: &'g Guard,
    pub(super) lookups: Vec<Lookup>,
}

fn at(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn bad_value(field: &str, e: String) -> Refusal {
    Refusal::new(field, e)
}

/// Fields the engine knows that the guard refuses, with why: a key that
/// folds to one of them is named as the engine names it.
const REFUSED: &[(&str, &str)] = &[
    ("Privileged", "a privileged container is root on the host"),
    ("CapAdd", "extra capabilities reach past the container"),
    (
        "CapabilityAdd",
        "extra capabilities reach past the container",
    ),
    (
        "Capabilities",
        "extra capabilities reach past the container",
    ),
    ("Devices", "devices reach the host"),
    ("DeviceCgroupRules", "devices reach the host"),
    ("DeviceRequests", "devices reach the host"),
    ("CgroupParent", "another cgroup than the engine's own"),
    ("Cgroup", "another container's cgroup"),
    ("Runtime", "another runtime than the engine's default"),
    (
        "Annotations",
        "runtime annotations change how the runtime confines it",
    ),
    ("DriverOpts", "driver options are not known to be safe"),
    ("PluginSpec", "only containers are guarded"),
    ("NetworkAttachmentSpec", "only containers are guarded"),
    ("Ingress", "the Swarm's ingress network"),
    ("ClusterVolumeSpec", "cluster (CSI) volumes are not guarded"),
    (
        "ImageOptions",
        "only bind, volume and tmpfs mounts are guarded",
    ),
    (
        "ClusterOptions",
        "only bind, volume and tmpfs mounts are guarded",
    ),
    ("CredentialSpec", "it changes the confinement"),
    ("SELinuxContext", "it changes the confinement"),
    ("Profile", "it changes the confinement"),
];

/// A field not on the list: as the engine names it, if it is one the guard
/// knows to refuse.
fn unlisted(path: &str, key: &str) -> Refusal {
    let folded = fold(key);
    match REFUSED.iter().find(|(name, _)| fold(name) == folded) {
        Some((name, why)) => Refusal {
            sent_as: (key != *name).then(|| key.to_owned()),
            ..Refusal::new(at(path, name), *why)
        },
        None => Refusal::new(
            at(path, key),
            "not known to be safe (a guarded relay passes only fields known to be safe)",
        ),
    }
}

/// Whether a field of the engine's is listed in `fields` or refused with a
/// reason.
#[cfg(test)]
pub(super) fn decided(fields: Fields, name: &str) -> bool {
    let name = fold(name);
    fields
        .iter()
        .flat_map(|l| l.iter())
        .any(|f| fold(f.name) == name)
        || REFUSED.iter().any(|(n, _)| fold(n) == name)
}

fn reason(name: &str) -> &'static str {
    REFUSED
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("not known to be safe", |(_, why)| why)
}

impl<'g> Ctx<'g> {
    pub(super) fn new(guard: &'g Guard) -> Self {
        Ctx {
            guard,
            lookups: Vec::new(),
        }
    }

    /// Checks an object against `fields`: listed ones by their rule, any
    /// other at its default only.
    pub(super) fn walk(&mut self, path: &str, value: &Json, fields: Fields) -> Result<(), Refusal> {
        let fields = || fields.iter().flat_map(|list| list.iter());
        let names: Vec<&'static str> = fields().map(|f| f.name).collect();
        let m = members(value, &names)
            .map_err(|e| Refusal::new(if path.is_empty() { "the body" } else { path }, e))?;
        for (name, key, v) in &m.known {
            let field = fields().find(|f| f.name == *name).expect("a listed field");
            let here = at(path, name);
            self.apply(&here, &field.rule, v).map_err(|mut r| {
                if r.field == here && key != name {
                    r.sent_as = Some((*key).to_owned());
                }
                r
            })?;
        }
        for (key, v) in &m.unknown {
            if !v.is_zero() {
                return Err(unlisted(path, key));
            }
        }
        Ok(())
    }

    fn apply(&mut self, here: &str, rule: &Rule, v: &Json) -> Result<(), Refusal> {
        match rule {
            Any => Ok(()),
            OneOf(allowed) => {
                let s = v.string().map_err(|e| bad_value(here, e))?;
                if allowed.contains(&s) {
                    Ok(())
                } else {
                    Err(Refusal::new(
                        here,
                        format!("{s:?} is not one of {}", allowed_list(allowed)),
                    ))
                }
            }
            Absent(why) => match v {
                Json::Null => Ok(()),
                _ => Err(Refusal::new(here, *why)),
            },
            Struct(fields) => self.walk(here, v, fields),
            List(fields) => {
                for (i, item) in v
                    .items()
                    .map_err(|e| bad_value(here, e))?
                    .iter()
                    .enumerate()
                {
                    self.walk(&format!("{here}[{i}]"), item, fields)?;
                }
                Ok(())
            }
            Check(check) => check(self, here, v),
        }
    }

    fn lookup(&mut self, lookup: Lookup) -> Result<(), Refusal> {
        let (Lookup::SharedContainer { name, .. }
        | Lookup::VolumesOf { name, .. }
        | Lookup::Entered { name, .. }
        | Lookup::Volume { name, .. }
        | Lookup::Network { name, .. }) = &lookup;
        // A name the engine could resolve through another path than the
        // one the guard asks about is refused.
        if name.is_empty()
            || name == "."
            || name == ".."
            || name.contains(['/', '\\', '%'])
            || name.chars().any(char::is_control)
        {
            return Err(Refusal::new(
                lookup.field(),
                format!("{name:?} is not a name the guard can look up"),
            ));
        }
        if !self.lookups.contains(&lookup) {
            self.lookups.push(lookup);
        }
        Ok(())
    }

    fn bind(&self, here: &str, source: &str) -> Result<(), Refusal> {
        if self.guard.bind_allowed(source) {
            Ok(())
        } else {
            Err(Refusal::new(
                here,
                format!("a bind of {source:?}, outside the allowed bind folders (--allow-bind)"),
            ))
        }
    }

    /// An existing volume: local, and binding nothing outside the allowed
    /// folders.
    pub(super) fn existing_volume(
        &mut self,
        field: &str,
        name: &str,
        v: &Json,
    ) -> Result<(), Refusal> {
        let m = members(v, &["Driver", "Options"]).map_err(|e| bad_value(field, e))?;
        let driver = m
            .get("Driver")
            .map_or(Ok(""), Json::string)
            .map_err(|e| bad_value(field, e))?;
        if driver != "local" {
            return Err(Refusal::new(
                field,
                format!(
                    "the volume {name:?} has the driver {driver:?}; only local volumes are guarded"
                ),
            ));
        }
        let opts = m.get("Options").unwrap_or(&Json::Null);
        local_options(self, &format!("{field} (the volume {name:?})"), opts)
    }

    /// An existing container whose namespaces (`shared`) or volumes another
    /// would take.
    pub(super) fn existing_container(
        &mut self,
        field: &str,
        name: &str,
        v: &Json,
        shared: bool,
    ) -> Result<(), Refusal> {
        let m = members(v, &["HostConfig", "Mounts"]).map_err(|e| bad_value(field, e))?;
        let refuse =
            |why: String| Err(Refusal::new(field, format!("the container {name:?} {why}")));
        for (i, mount) in m
            .get("Mounts")
            .unwrap_or(&Json::Null)
            .items()
            .map_err(|e| bad_value(field, e))?
            .iter()
            .enumerate()
        {
            let mm =
                members(mount, &["Type", "Source", "Name"]).map_err(|e| bad_value(field, e))?;
            let s = |k| {
                mm.get(k)
                    .map_or(Ok(""), Json::string)
                    .map_err(|e| bad_value(field, e))
            };
            match s("Type")? {
                "bind" if !self.guard.bind_allowed(s("Source")?) => {
                    return refuse(format!(
                        "binds {:?}, outside the allowed bind folders",
                        s("Source")?
                    ))
                }
                "bind" | "tmpfs" => {}
                "volume" => self.lookup(Lookup::Volume {
                    name: s("Name")?.to_owned(),
                    field: format!("{field} (mount {i} of {name:?})"),
                })?,
                other => {
                    return refuse(format!(
                        "has a {other:?} mount, which the guard does not know"
                    ))
                }
            }
        }
        if !shared {
            return Ok(());
        }
        let host = m.get("HostConfig").unwrap_or(&Json::Null);
        existing_privileges(
            self.guard,
            &format!("{field} (the container {name:?})"),
            host,
        )?;
        let h = members(host, &["NetworkMode", "PidMode", "IpcMode"])
            .map_err(|e| bad_value(field, e))?;
        for k in ["NetworkMode", "PidMode", "IpcMode"] {
            let mode = h
                .get(k)
                .map_or(Ok(""), Json::string)
                .map_err(|e| bad_value(field, e))?;
            if mode == "host" || mode.starts_with("container:") {
                return refuse(format!("has {k}={mode} (a namespace shared onward)"));
            }
        }
        Ok(())
    }
}

/// What an existing container's HostConfig may hold for the guard to let
/// it be shared or entered: nothing a create would be refused for
/// privileges, and no host namespace (its network, pid and ipc modes are
/// the caller's to judge).
pub(super) fn existing_privileges(guard: &Guard, field: &str, host: &Json) -> Result<(), Refusal> {
    let h = members(
        host,
        &[
            "Privileged",
            "CapAdd",
            "Capabilities",
            "Devices",
            "DeviceCgroupRules",
            "DeviceRequests",
            "SecurityOpt",
            "UTSMode",
            "UsernsMode",
            "CgroupParent",
            "Runtime",
            "MaskedPaths",
            "ReadonlyPaths",
            "Sysctls",
        ],
    )
    .map_err(|e| bad_value(field, e))?;
    let refuse = |why: String| Err(Refusal::new(field, why));
    let get = |k| h.get(k).unwrap_or(&Json::Null);
    for k in [
        "Privileged",
        "CapAdd",
        "Capabilities",
        "Devices",
        "DeviceCgroupRules",
        "DeviceRequests",
        "CgroupParent",
    ] {
        if !get(k).is_zero() {
            return refuse(format!("has {k} set ({})", reason(k)));
        }
    }
    // (CgroupnsMode is left out: host is the engine's own default on
    // cgroup v1, and sharing it grants nothing more.)
    for k in ["UTSMode", "UsernsMode"] {
        let mode = get(k).string().map_err(|e| bad_value(field, e))?;
        if mode == "host" {
            return refuse(format!("has {k}=host (the host's namespace)"));
        }
    }
    let runtime = get("Runtime").string().map_err(|e| bad_value(field, e))?;
    if !["", "runc", "io.containerd.runc.v2"].contains(&runtime) {
        return refuse(format!("runs under the runtime {runtime:?}"));
    }
    for k in ["MaskedPaths", "ReadonlyPaths"] {
        if get(k).items().map_err(|e| bad_value(field, e))?.is_empty() {
            return refuse(format!("has no {k} (its /proc is not masked)"));
        }
    }
    let mut ctx = Ctx::new(guard);
    security_opt(&mut ctx, field, get("SecurityOpt"))?;
    sysctls(&mut ctx, field, get("Sysctls"))
}

fn allowed_list(allowed: &[&str]) -> String {
    allowed
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An existing network: not the host's.
pub(super) fn existing_network(field: &str, name: &str, v: &Json) -> Result<(), Refusal> {
    let m = members(v, &["Name", "Driver"]).map_err(|e| bad_value(field, e))?;
    let s = |k| {
        m.get(k)
            .map_or(Ok(""), Json::string)
            .map_err(|e| bad_value(field, e))
    };
    if s("Driver")? == "host" || s("Name")? == "host" {
        return Err(Refusal::new(
            field,
            format!("{name:?} is the host's network"),
        ));
    }
    Ok(())
}

// ---- checks ----------------------------------------------------------------

/// `HostConfig.Binds`: `source:target[:mode]`; a source starting with `/`
/// is a host path, anything else a volume name.
fn binds(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for bind in v.strings().map_err(|e| bad_value(here, e))? {
        let parts: Vec<&str> = bind.splitn(4, ':').collect();
        match parts[..] {
            [""] | [] => return Err(Refusal::new(here, "an empty bind")),
            [_target] => {}
            [source, _, ..] if parts.len() <= 3 => {
                if source.starts_with('/') {
                    ctx.bind(here, source)?;
                } else {
                    ctx.lookup(Lookup::Volume {
                        name: source.to_owned(),
                        field: here.to_owned(),
                    })?;
                }
            }
            _ => {
                return Err(Refusal::new(
                    here,
                    format!("{bind:?} is not a bind the guard can read"),
                ))
            }
        }
    }
    Ok(())
}

/// `Mounts`: bind, volume and tmpfs, checked by type.
fn mounts(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for (i, mount) in v
        .items()
        .map_err(|e| bad_value(here, e))?
        .iter()
        .enumerate()
    {
        let at_i = format!("{here}[{i}]");
        ctx.walk(&at_i, mount, &[MOUNT])?;
        let m = members(mount, &["Type", "Source"]).map_err(|e| bad_value(&at_i, e))?;
        let s = |k| {
            m.get(k)
                .map_or(Ok(""), Json::string)
                .map_err(|e| bad_value(&at_i, e))
        };
        match s("Type")? {
            "bind" => ctx.bind(&format!("{at_i}.Source"), s("Source")?)?,
            "volume" if !s("Source")?.is_empty() => ctx.lookup(Lookup::Volume {
                name: s("Source")?.to_owned(),
                field: format!("{at_i}.Source"),
            })?,
            "volume" | "tmpfs" => {}
            other => {
                return Err(Refusal::new(
                    format!("{at_i}.Type"),
                    format!("{other:?} mounts are not guarded (bind, volume and tmpfs are)"),
                ))
            }
        }
    }
    Ok(())
}

/// A volume driver's options: the local driver's, binding only allowed
/// folders or making a tmpfs.
fn local_options(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    let opts = v.map().map_err(|e| bad_value(here, e))?;
    if opts.is_empty() {
        return Ok(());
    }
    let mut kind = "";
    let mut device = "";
    let mut o = "";
    for (k, val) in &opts {
        let s = val.string().map_err(|e| bad_value(here, e))?;
        match *k {
            "type" => kind = s,
            "device" => device = s,
            "o" => o = s,
            other => {
                return Err(Refusal::new(
                    here,
                    format!("the local driver option {other:?} is not known to be safe"),
                ))
            }
        }
    }
    let flags: Vec<&str> = o.split(',').filter(|f| !f.is_empty()).collect();
    let common = |f: &str| {
        [
            "ro", "rw", "nosuid", "nodev", "noexec", "noatime", "relatime",
        ]
        .contains(&f)
    };
    if flags.iter().any(|f| *f == "bind" || *f == "rbind") {
        if let Some(bad) = flags.iter().find(|f| {
            !(common(f) || ["bind", "rbind", "private", "rprivate", "slave", "rslave"].contains(f))
        }) {
            return Err(Refusal::new(
                here,
                format!("the mount option {bad:?} is not known to be safe"),
            ));
        }
        return ctx.bind(here, device);
    }
    if kind == "tmpfs" {
        return tmpfs_flags(here, &flags);
    }
    Err(Refusal::new(
        here,
        format!("it mounts a filesystem of the host's (type={kind:?}, device={device:?}); only binds of allowed folders and tmpfs are"),
    ))
}

/// A tmpfs's mount options: its size, mode, owner and the flags that
/// confine it. Not `remount` (runc remounts whatever is mounted there:
/// `/sys` writable, the host's own filesystem `sync`), `bind`, propagation
/// or anything else.
fn tmpfs_flags(here: &str, flags: &[&str]) -> Result<(), Refusal> {
    const FLAGS: [&str; 13] = [
        "ro",
        "rw",
        "nosuid",
        "nodev",
        "noexec",
        "exec",
        "noatime",
        "relatime",
        "strictatime",
        "nodiratime",
        "diratime",
        "tmpcopyup",
        "notmpcopyup",
    ];
    const VALUES: [&str; 6] = ["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"];
    for flag in flags {
        let ok = match flag.split_once('=') {
            Some((key, _)) => VALUES.contains(&key),
            None => FLAGS.contains(flag),
        };
        if !ok {
            return Err(Refusal::new(
                here,
                format!("the tmpfs option {flag:?} is not known to be safe"),
            ));
        }
    }
    Ok(())
}

/// `HostConfig.Tmpfs`: mount point → options (`size=64m,noexec`).
fn tmpfs(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for (target, opts) in v.map().map_err(|e| bad_value(here, e))? {
        let opts = opts.string().map_err(|e| bad_value(here, e))?;
        let flags: Vec<&str> = opts.split(',').filter(|f| !f.is_empty()).collect();
        tmpfs_flags(&format!("{here}[{target:?}]"), &flags)?;
    }
    Ok(())
}

/// `Mounts[].TmpfsOptions.Options` (API 1.46): `[["noexec"], ["mode", "755"]]`.
fn tmpfs_options(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for opt in v.items().map_err(|e| bad_value(here, e))? {
        let words = opt.strings().map_err(|e| bad_value(here, e))?;
        let flag = match words.as_slice() {
            [flag] => flag.to_string(),
            [key, value] => format!("{key}={value}"),
            _ => return Err(bad_value(here, format!("{words:?} is not an option"))),
        };
        tmpfs_flags(here, &[flag.as_str()])?;
    }
    Ok(())
}

/// A field that may only be left empty, with why.
fn empty(here: &str, v: &Json, why: &str) -> Result<(), Refusal> {
    if v.is_zero() {
        Ok(())
    } else {
        Err(Refusal::new(here, why))
    }
}

/// `Blkio*Device`: host block devices, by path.
fn block_devices(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    empty(
        here,
        v,
        "devices reach the host (and their paths tell what is on it)",
    )
}

/// A service's `Secrets` and `Configs`: what they mount is the Swarm's data.
fn swarm_data(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    empty(
        here,
        v,
        "it hands the Swarm's secrets and configs to the task",
    )
}

/// `HostConfig.NetworkMode`.
fn network_mode(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    let mode = v.string().map_err(|e| bad_value(here, e))?;
    match mode {
        "" | "default" | "bridge" | "none" => Ok(()),
        "host" => Err(Refusal::new(here, "host: the host's network namespace")),
        _ => match mode.strip_prefix("container:") {
            Some(name) => ctx.lookup(Lookup::SharedContainer {
                name: name.to_owned(),
                field: here.to_owned(),
            }),
            None => ctx.lookup(Lookup::Network {
                name: mode.to_owned(),
                field: here.to_owned(),
            }),
        },
    }
}

/// A namespace mode: private, or another container's that passes the guard.
fn namespace(ctx: &mut Ctx, here: &str, v: &Json, private: &[&str]) -> Result<(), Refusal> {
    let mode = v.string().map_err(|e| bad_value(here, e))?;
    if private.contains(&mode) {
        return Ok(());
    }
    match mode.strip_prefix("container:") {
        Some(name) => ctx.lookup(Lookup::SharedContainer {
            name: name.to_owned(),
            field: here.to_owned(),
        }),
        None if mode == "host" => Err(Refusal::new(here, "host: the host's namespace")),
        None => Err(Refusal::new(
            here,
            format!("{mode:?} is not a namespace mode the guard knows"),
        )),
    }
}

fn pid_mode(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    namespace(ctx, here, v, &[""])
}

fn ipc_mode(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    namespace(ctx, here, v, &["", "none", "private", "shareable"])
}

/// `HostConfig.VolumesFrom`: `container[:ro|rw]`.
fn volumes_from(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for entry in v.strings().map_err(|e| bad_value(here, e))? {
        let name = entry.split(':').next().unwrap_or_default();
        ctx.lookup(Lookup::VolumesOf {
            name: name.to_owned(),
            field: here.to_owned(),
        })?;
    }
    Ok(())
}

/// `OomScoreAdj`: 0 or more. Below 0 the kernel's OOM killer spares the
/// container's processes before the host's own (-1000: never kills them).
fn oom_score_adj(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    match v {
        Json::Null => Ok(()),
        Json::Number(n) if *n >= 0.0 => Ok(()),
        Json::Number(n) => Err(Refusal::new(
            here,
            format!(
                "{n}: below 0 the OOM killer takes the host's processes before the container's"
            ),
        )),
        other => Err(bad_value(
            here,
            format!("expected a number, got {}", other.kind()),
        )),
    }
}

/// `OomKillDisable`: off (on, a container without a memory limit can take
/// all of the host's memory and never be killed for it).
fn oom_kill_disable(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    empty(
        here,
        v,
        "the OOM killer would spare the container, whatever memory it takes from the host",
    )
}

/// `Ulimits`: the resource limits a container's processes may raise
/// without privileges; not the scheduling and locking ones (`rtprio`,
/// `rttime` and `nice` let a process starve the host's CPUs, `memlock` pin
/// its memory).
fn ulimits(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    const SAFE: [&str; 11] = [
        "as",
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "msgqueue",
        "nofile",
        "nproc",
        "sigpending",
        "stack",
    ];
    for (i, limit) in v
        .items()
        .map_err(|e| bad_value(here, e))?
        .iter()
        .enumerate()
    {
        let m = members(limit, &["Name", "Soft", "Hard"]).map_err(|e| bad_value(here, e))?;
        let name = m
            .get("Name")
            .map_or(Ok(""), Json::string)
            .map_err(|e| bad_value(here, e))?;
        if !SAFE.contains(&name) {
            return Err(Refusal::new(
                format!("{here}[{i}]"),
                format!("the limit {name:?} is not known to be safe to raise"),
            ));
        }
    }
    Ok(())
}

/// `IPAM.Config`: none, so the engine takes the network's addresses from
/// its own pools. A subnet of the client's choosing can take over
/// addresses the host routes elsewhere (its gateway, its DNS server).
fn ipam_config(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    empty(
        here,
        v,
        "a subnet or gateway of one's choosing can take over addresses the host routes elsewhere; \
         leave it out and the engine picks one from its pools",
    )
}

/// `SecurityOpt`: only `no-new-privileges` (which confines further).
fn security_opt(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for opt in v.strings().map_err(|e| bad_value(here, e))? {
        let nnp = opt == "no-new-privileges"
            || ["=", ":"].iter().any(|sep| {
                opt.strip_prefix("no-new-privileges")
                    .and_then(|rest| rest.strip_prefix(sep))
                    .is_some_and(|b| {
                        [
                            "1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false",
                            "False",
                        ]
                        .contains(&b)
                    })
            });
        if !nnp {
            return Err(Refusal::new(
                here,
                format!("{opt:?} (only no-new-privileges is known to be safe)"),
            ));
        }
    }
    Ok(())
}

/// `Sysctls`: only those the kernel keeps per namespace.
fn sysctls(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    for (key, _) in v.map().map_err(|e| bad_value(here, e))? {
        let plain = key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        let namespaced =
            IPC.contains(&key) || key.starts_with("net.") || key.starts_with("fs.mqueue.");
        if !(plain && namespaced) {
            return Err(Refusal::new(
                here,
                format!("{key:?} is not a sysctl the kernel keeps per namespace"),
            ));
        }
    }
    Ok(())
}

/// Log options of the local drivers.
fn log_options(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    const SAFE: [&str; 10] = [
        "max-size",
        "max-file",
        "compress",
        "labels",
        "labels-regex",
        "env",
        "env-regex",
        "tag",
        "mode",
        "max-buffer-size",
    ];
    for (key, _) in v.map().map_err(|e| bad_value(here, e))? {
        if !SAFE.contains(&key) {
            return Err(Refusal::new(
                here,
                format!("the log option {key:?} is not known to be safe"),
            ));
        }
    }
    Ok(())
}

/// `NetworkingConfig.EndpointsConfig`: network name → endpoint settings.
fn endpoints(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    for (name, settings) in v.map().map_err(|e| bad_value(here, e))? {
        let field = format!("{here}.{name}");
        match name {
            "host" => return Err(Refusal::new(field, "the host's network")),
            "bridge" | "none" | "default" => {}
            _ => ctx.lookup(Lookup::Network {
                name: name.to_owned(),
                field: field.clone(),
            })?,
        }
        ctx.walk(&field, settings, &[ENDPOINT])?;
    }
    Ok(())
}

/// A network named by id.
fn network_ref(ctx: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    let name = v.string().map_err(|e| bad_value(here, e))?;
    match name {
        "" => Ok(()),
        "host" => Err(Refusal::new(here, "the host's network")),
        _ => ctx.lookup(Lookup::Network {
            name: name.to_owned(),
            field: here.to_owned(),
        }),
    }
}

fn network_options(_: &mut Ctx, here: &str, v: &Json) -> Result<(), Refusal> {
    const SAFE: [&str; 4] = [
        "com.docker.network.driver.mtu",
        "com.docker.network.bridge.enable_icc",
        "com.docker.network.bridge.enable_ip_masquerade",
        "com.docker.network.container_iface_prefix",
    ];
    for (key, _) in v.map().map_err(|e| bad_value(here, e))? {
        if !SAFE.contains(&key) {
            return Err(Refusal::new(
                here,
                format!("the network option {key:?} is not known to be safe"),
            ));
        }
    }
    Ok(())
}

// ---- queries ---------------------------------------------------------------

/// `GET /containers/{id}/top`'s `ps_args`: the engine runs the host's
/// `ps` with them, and when that fails with the container's pids added it
/// runs it again without them, for any process on the host; then it quotes
/// what stands in the PID column in its error. So `-p<pid> -o args=PID`
/// reads any host process's command line and environment. Only the
/// options the docker CLI and the console use pass.
pub(super) fn top_query(params: &[(String, String)]) -> Result<(), Refusal> {
    const SAFE: [&str; 3] = ["", "-ef", "aux"];
    for (k, v) in params {
        if k == "ps_args" && !SAFE.contains(&v.as_str()) {
            return Err(Refusal::new(
                "ps_args",
                format!(
                    "{v:?}: the engine runs the host's ps with it, over every process of the host; \
                     known to be safe: {}",
                    allowed_list(&SAFE[1..])
                ),
            ));
        }
    }
    Ok(())
}

/// `POST /containers/{id}/start`: no checkpoint (restoring one reads it
/// from where the client says, on the engine's host).
pub(super) fn start_query(params: &[(String, String)]) -> Result<(), Refusal> {
    match params
        .iter()
        .find(|(k, _)| k == "checkpoint" || k == "checkpoint-dir")
    {
        Some((k, _)) => Err(Refusal::new(
            k.as_str(),
            "a checkpoint is read from where the client says, on the engine's host",
        )),
        None => Ok(()),
    }
}

/// `POST /build`'s parameters (Go reads them case-sensitively).
pub(super) fn build_query(params: &[(String, String)]) -> Result<(), Refusal> {
    const SAFE: [&str; 24] = [
        "t",
        "dockerfile",
        "q",
        "nocache",
        "rm",
        "forcerm",
        "pull",
        "labels",
        "buildargs",
        "target",
        "platform",
        "cachefrom",
        "extrahosts",
        "memory",
        "memswap",
        "cpushares",
        "cpusetcpus",
        "cpusetmems",
        "cpuperiod",
        "cpuquota",
        "shmsize",
        "squash",
        "ulimits",
        "buildid",
    ];
    for (k, v) in params {
        if k == "ulimits" {
            let limits = crate::gojson::parse(v.as_bytes())
                .map_err(|e| bad_value("the build parameter ulimits", e))?;
            let guard = Guard::default();
            ulimits(
                &mut Ctx::new(&guard),
                "the build parameter ulimits",
                &limits,
            )?;
            continue;
        }
        let ok = match k.as_str() {
            "networkmode" => ["", "default", "bridge", "none"].contains(&v.as_str()),
            // BuildKit (2) takes RUN --network=host from the Dockerfile.
            "version" => ["", "1"].contains(&v.as_str()),
            k => SAFE.contains(&k),
        };
        if !ok {
            return Err(Refusal::new(
                format!("the build parameter {k}={v}"),
                "not known to be safe (remote, cgroupparent, isolation, securityopt, session, \
                 outputs, BuildKit and host networking are refused)",
            ));
        }
    }
    Ok(())
}

/// `POST /images/create`: a pull, or an import from the request's body
/// (not from a URL the engine would fetch).
pub(super) fn image_create_query(params: &[(String, String)]) -> Result<(), Refusal> {
    const SAFE: [&str; 6] = ["fromImage", "repo", "tag", "message", "platform", "changes"];
    for (k, v) in params {
        let ok = match k.as_str() {
            "fromSrc" => ["", "-"].contains(&v.as_str()),
            k => SAFE.contains(&k),
        };
        if !ok {
            return Err(Refusal::new(
                format!("the image parameter {k}={v}"),
                "not known to be safe (imports come from the request's body)",
            ));
        }
    }
    Ok(())
}

// ---- the allowlists --------------------------------------------------------

/// A struct's fields, as lists to join (Go promotes an embedded struct's
/// fields into the outer one).
pub(super) type Fields = &'static [&'static [Field]];

/// `container.Resources`, without devices and cgroup parents.
pub(super) const RESOURCES: &[Field] = &[
    f("CpuShares", Any),
    f("Memory", Any),
    f("NanoCpus", Any),
    f("BlkioWeight", Any),
    f("BlkioWeightDevice", Check(block_devices)),
    f("BlkioDeviceReadBps", Check(block_devices)),
    f("BlkioDeviceWriteBps", Check(block_devices)),
    f("BlkioDeviceReadIOps", Check(block_devices)),
    f("BlkioDeviceWriteIOps", Check(block_devices)),
    f("CpuPeriod", Any),
    f("CpuQuota", Any),
    f("CpuRealtimePeriod", Any),
    f("CpuRealtimeRuntime", Any),
    f("CpusetCpus", Any),
    f("CpusetMems", Any),
    f("KernelMemory", Any),
    f("KernelMemoryTCP", Any),
    f("MemoryReservation", Any),
    f("MemorySwap", Any),
    f("MemorySwappiness", Any),
    f("OomKillDisable", Check(oom_kill_disable)),
    f("PidsLimit", Any),
    f("Ulimits", Check(ulimits)),
    f("CpuCount", Any),
    f("CpuPercent", Any),
    f("IOMaximumIOps", Any),
    f("IOMaximumBandwidth", Any),
];

const LOG_CONFIG: &[Field] = &[
    f("Type", OneOf(&["", "json-file", "local", "none"])),
    f("Config", Check(log_options)),
];

pub(super) const MOUNT: &[Field] = &[
    f("Type", Any),   // checked with Source, by mounts()
    f("Source", Any), // idem
    f("Target", Any),
    f("ReadOnly", Any),
    f("Consistency", Any),
    f(
        "BindOptions",
        Struct(&[&[
            f("Propagation", Any),
            f("NonRecursive", Any),
            f("CreateMountpoint", Any),
            f("ReadOnlyNonRecursive", Any),
            f("ReadOnlyForceRecursive", Any),
        ]]),
    ),
    f(
        "VolumeOptions",
        Struct(&[&[
            f("NoCopy", Any),
            f("Labels", Any),
            f("Subpath", Any),
            f(
                "DriverConfig",
                Struct(&[&[
                    f("Name", OneOf(&["", "local"])),
                    f("Options", Check(local_options)),
                ]]),
            ),
        ]]),
    ),
    f(
        "TmpfsOptions",
        Struct(&[&[
            f("SizeBytes", Any),
            f("Mode", Any),
            f("Options", Check(tmpfs_options)),
        ]]),
    ),
];

pub(super) const ENDPOINT: &[Field] = &[
    f("IPAMConfig", Any),
    f("Links", Any),
    f("Aliases", Any),
    f("GwPriority", Any),
    f("NetworkID", Check(network_ref)),
    f("EndpointID", Any),
    f("Gateway", Any),
    f("IPAddress", Any),
    f("IPPrefixLen", Any),
    f("IPv6Gateway", Any),
    f("GlobalIPv6Address", Any),
    f("GlobalIPv6PrefixLen", Any),
    f("MacAddress", Any),
    f("DNSNames", Any),
];

/// `container.HostConfig`'s own fields (its Resources are promoted into it).
pub(super) const HOST_CONFIG: &[Field] = &[
    f("Binds", Check(binds)),
    f("ContainerIDFile", Any),
    f("LogConfig", Struct(&[LOG_CONFIG])),
    f("NetworkMode", Check(network_mode)),
    f("PortBindings", Any),
    f("RestartPolicy", Any),
    f("AutoRemove", Any),
    f("VolumeDriver", OneOf(&["", "local"])),
    f("VolumesFrom", Check(volumes_from)),
    f("ConsoleSize", Any),
    f("CapDrop", Any),
    f("CgroupnsMode", OneOf(&["", "private"])),
    f("Dns", Any),
    f("DnsOptions", Any),
    f("DnsSearch", Any),
    f("ExtraHosts", Any),
    f("GroupAdd", Any),
    f("IpcMode", Check(ipc_mode)),
    f("Links", Any),
    f("OomScoreAdj", Check(oom_score_adj)),
    f("PidMode", Check(pid_mode)),
    f("PublishAllPorts", Any),
    f("ReadonlyRootfs", Any),
    f("SecurityOpt", Check(security_opt)),
    f("StorageOpt", Any),
    f("Tmpfs", Check(tmpfs)),
    f("UTSMode", OneOf(&[""])),
    f("UsernsMode", OneOf(&[""])),
    f("ShmSize", Any),
    f("Sysctls", Check(sysctls)),
    f("Isolation", OneOf(&["", "default"])),
    f("Mounts", Check(mounts)),
    f(
        "MaskedPaths",
        Absent("it replaces the engine's list; an empty one unmasks /proc and /sys"),
    ),
    f(
        "ReadonlyPaths",
        Absent("it replaces the engine's list; an empty one makes /proc and /sys writable"),
    ),
    f("Init", Any),
];

/// `container.Config`.
const CONFIG: &[Field] = &[
    f("Hostname", Any),
    f("Domainname", Any),
    f("User", Any),
    f("AttachStdin", Any),
    f("AttachStdout", Any),
    f("AttachStderr", Any),
    f("ExposedPorts", Any),
    f("Tty", Any),
    f("OpenStdin", Any),
    f("StdinOnce", Any),
    f("Env", Any),
    f("Cmd", Any),
    f("Healthcheck", Any),
    f("ArgsEscaped", Any),
    f("Image", Any),
    f("Volumes", Any),
    f("WorkingDir", Any),
    f("Entrypoint", Any),
    f("NetworkDisabled", Any),
    f("MacAddress", Any),
    f("OnBuild", Any),
    f("Labels", Any),
    f("StopSignal", Any),
    f("StopTimeout", Any),
    f("Shell", Any),
];

/// The create request's own fields.
const CREATE_WRAPPER: &[Field] = &[
    f("HostConfig", Struct(&[HOST_CONFIG, RESOURCES])),
    f(
        "NetworkingConfig",
        Struct(&[&[f("EndpointsConfig", Check(endpoints))]]),
    ),
    f("Cpuset", Any),
];

/// `POST /containers/create`: `container.Config`, `HostConfig`,
/// `NetworkingConfig`, and (as dockerd 20.10 reads them) HostConfig's
/// fields at the top level too.
pub(super) const CONTAINER_CREATE: Fields = &[CONFIG, CREATE_WRAPPER, HOST_CONFIG, RESOURCES];

/// `POST /containers/{id}/update`: `container.UpdateConfig`.
pub(super) const CONTAINER_UPDATE: Fields =
    &[RESOURCES, &[f("RestartPolicy", Any), f("Init", Any)]];

/// `POST /containers/{id}/exec`: everything but Privileged.
pub(super) const EXEC: Fields = &[&[
    f("User", Any),
    f("Tty", Any),
    f("ConsoleSize", Any),
    f("AttachStdin", Any),
    f("AttachStderr", Any),
    f("AttachStdout", Any),
    f("Detach", Any),
    f("DetachKeys", Any),
    f("Env", Any),
    f("WorkingDir", Any),
    f("Cmd", Any),
]];

/// `POST /volumes/create`.
pub(super) const VOLUME_CREATE: Fields = &[&[
    f("Name", Any),
    f("Driver", OneOf(&["", "local"])),
    f("DriverOpts", Check(local_options)),
    f("Labels", Any),
]];

/// `POST /networks/create`: bridge and overlay networks.
pub(super) const NETWORK_CREATE: Fields = &[&[
    f("Name", Any),
    f("CheckDuplicate", Any),
    f("Driver", OneOf(&["", "bridge", "overlay"])),
    f("Scope", Any),
    f("EnableIPv4", Any),
    f("EnableIPv6", Any),
    f(
        "IPAM",
        Struct(&[&[
            f("Driver", OneOf(&["", "default"])),
            f("Config", Check(ipam_config)),
        ]]),
    ),
    f("Internal", Any),
    f("Attachable", Any),
    f("ConfigOnly", Any),
    f("ConfigFrom", Any),
    f("Options", Check(network_options)),
    f("Labels", Any),
]];

/// `POST /networks/{id}/connect`: `network.ConnectOptions`.
pub(super) const NETWORK_CONNECT: Fields = &[&[
    f("Container", Any),
    f("EndpointConfig", Struct(&[ENDPOINT])),
]];

const ATTACHMENT: &[Field] = &[f("Target", Check(network_ref)), f("Aliases", Any)];

pub(super) const PRIVILEGES: &[Field] = &[
    f("Seccomp", Struct(&[&[f("Mode", OneOf(&["", "default"]))]])),
    f("AppArmor", Struct(&[&[f("Mode", OneOf(&["", "default"]))]])),
    f("NoNewPrivileges", Any),
];

pub(super) const CONTAINER_SPEC: &[Field] = &[
    f("Image", Any),
    f("Labels", Any),
    f("Command", Any),
    f("Args", Any),
    f("Hostname", Any),
    f("Env", Any),
    f("Dir", Any),
    f("User", Any),
    f("Groups", Any),
    f("Privileges", Struct(&[PRIVILEGES])),
    f("Init", Any),
    f("StopSignal", Any),
    f("TTY", Any),
    f("OpenStdin", Any),
    f("ReadOnly", Any),
    f("Mounts", Check(mounts)),
    f("StopGracePeriod", Any),
    f("Healthcheck", Any),
    f("Hosts", Any),
    f("DNSConfig", Any),
    f("Secrets", Check(swarm_data)),
    f("Configs", Check(swarm_data)),
    f("Isolation", OneOf(&["", "default"])),
    f("Sysctls", Check(sysctls)),
    f("CapabilityDrop", Any),
    f("Ulimits", Check(ulimits)),
    f("OomScoreAdj", Check(oom_score_adj)),
];

pub(super) const TASK_SPEC: &[Field] = &[
    f("ContainerSpec", Struct(&[CONTAINER_SPEC])),
    f("Resources", Any),
    f("RestartPolicy", Any),
    f("Placement", Any),
    f("Networks", List(&[ATTACHMENT])),
    f(
        "LogDriver",
        Struct(&[&[
            f("Name", OneOf(&["", "json-file", "local", "none"])),
            f("Options", Check(log_options)),
        ]]),
    ),
    f("ForceUpdate", Any),
    f("Runtime", OneOf(&["", "container"])),
];

/// `POST /services/create` and `/services/{id}/update`: `swarm.ServiceSpec`
/// (with 20.10's top-level `Networks`).
pub(super) const SERVICE: Fields = &[&[
    f("Name", Any),
    f("Labels", Any),
    f("TaskTemplate", Struct(&[TASK_SPEC])),
    f("Mode", Any),
    f("UpdateConfig", Any),
    f("RollbackConfig", Any),
    f("Networks", List(&[ATTACHMENT])),
    f("EndpointSpec", Any),
]];
