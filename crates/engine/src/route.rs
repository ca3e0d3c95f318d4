//! Which Engine API route a request reaches, decided the way dockerd's
//! router decides it.
//!
//! dockerd hands every request to gorilla/mux. Each route is registered
//! twice, as `/v{version:[0-9.]+}<template>` and as `<template>`, with one
//! exact (case-sensitive) method; the templates are matched as regular
//! expressions against the percent-decoded path, and a variable written
//! `{name:.*}` spans as many segments as it likes (`/images/{name:.*}/get`
//! takes `/images/library/busybox/get`). mux redirects a path that is not
//! clean (`.`, `..`, `//`) instead of routing it.
//!
//! [`route`] reads a request the same way, over the union of the routes of
//! every engine Berth supports (API 1.41 to the current one), and refuses
//! what the engine could read differently: spellings of the version other
//! than `vMAJOR.MINOR`, encoded slashes, control characters, dot segments,
//! and a path two routes could both take. [`Routed::forward`] gives the
//! path to send, which reads back as exactly what was decided.

use std::fmt;
use std::sync::OnceLock;

use percent_encoding::percent_decode_str;

use crate::ApiVersion;

/// What a call does, for the audit log and for presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Reads state and changes nothing.
    Read,
    /// Changes something.
    Change,
    /// Copies data out of a container or image (files, an export, a
    /// saved image), into a container's files, or enters one (attach,
    /// exec): audited like a change, and allowed by a rule only by name.
    CopyOut,
}

/// One route of the Engine API (or of the relay's own).
#[derive(Debug, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// As moby writes it: `/containers/{name:.*}/json`.
    pub template: &'static str,
    pub class: Class,
}

const fn r(method: &'static str, template: &'static str, class: Class) -> Route {
    Route {
        method,
        template,
        class,
    }
}

use Class::{Change, CopyOut, Read};

/// Every route of the engines Berth supports: the union of dockerd 20.10's
/// and 29.x's routers (moby `api/server/router`, `daemon/server/router`),
/// without `/debug` (pprof and expvar, which no client needs).
pub const ENGINE_ROUTES: &[Route] = &[
    // system
    r("OPTIONS", "/{anyroute:.*}", Read),
    r("GET", "/_ping", Read),
    r("HEAD", "/_ping", Read),
    r("GET", "/events", Read),
    r("GET", "/info", Read),
    r("GET", "/version", Read),
    r("GET", "/system/df", Read),
    r("POST", "/auth", Change),
    // containers
    r("GET", "/containers/json", Read),
    r("GET", "/containers/{name:.*}/export", CopyOut),
    r("GET", "/containers/{name:.*}/changes", Read),
    r("GET", "/containers/{name:.*}/json", Read),
    r("GET", "/containers/{name:.*}/top", Read),
    r("GET", "/containers/{name:.*}/logs", Read),
    r("GET", "/containers/{name:.*}/stats", Read),
    r("GET", "/containers/{name:.*}/attach/ws", CopyOut),
    r("GET", "/exec/{id:.*}/json", Read),
    r("GET", "/containers/{name:.*}/archive", CopyOut),
    r("HEAD", "/containers/{name:.*}/archive", CopyOut),
    r("POST", "/containers/create", Change),
    r("POST", "/containers/{name:.*}/kill", Change),
    r("POST", "/containers/{name:.*}/pause", Change),
    r("POST", "/containers/{name:.*}/unpause", Change),
    r("POST", "/containers/{name:.*}/restart", Change),
    r("POST", "/containers/{name:.*}/start", Change),
    r("POST", "/containers/{name:.*}/stop", Change),
    r("POST", "/containers/{name:.*}/wait", Read),
    r("POST", "/containers/{name:.*}/resize", Change),
    r("POST", "/containers/{name:.*}/attach", CopyOut),
    r("POST", "/containers/{name:.*}/copy", CopyOut),
    r("POST", "/containers/{name:.*}/exec", Change),
    r("POST", "/exec/{name:.*}/start", CopyOut),
    r("POST", "/exec/{name:.*}/resize", Change),
    r("POST", "/containers/{name:.*}/rename", Change),
    r("POST", "/containers/{name:.*}/update", Change),
    r("POST", "/containers/prune", Change),
    r("POST", "/commit", Change),
    r("PUT", "/containers/{name:.*}/archive", CopyOut),
    r("DELETE", "/containers/{name:.*}", Change),
    // checkpoints (experimental)
    r("GET", "/containers/{name:.*}/checkpoints", Read),
    r("POST", "/containers/{name:.*}/checkpoints", Change),
    r(
        "DELETE",
        "/containers/{name}/checkpoints/{checkpoint}",
        Change,
    ),
    // images
    r("GET", "/images/json", Read),
    r("GET", "/images/search", Read),
    r("GET", "/images/get", CopyOut),
    r("GET", "/images/{name:.*}/get", CopyOut),
    r("GET", "/images/{name:.*}/history", Read),
    r("GET", "/images/{name:.*}/json", Read),
    r("GET", "/images/{name:.*}/attestations", Read),
    r("POST", "/images/load", Change),
    r("POST", "/images/create", Change),
    r("POST", "/images/{name:.*}/push", CopyOut),
    r("POST", "/images/{name:.*}/tag", Change),
    r("POST", "/images/prune", Change),
    r("DELETE", "/images/{name:.*}", Change),
    // build, sessions, BuildKit
    r("POST", "/build", Change),
    r("POST", "/build/prune", Change),
    r("POST", "/build/cancel", Change),
    r("POST", "/session", CopyOut),
    r("POST", "/grpc", CopyOut),
    // distribution
    r("GET", "/distribution/{name:.*}/json", Read),
    // volumes
    r("GET", "/volumes", Read),
    r("GET", "/volumes/{name:.*}", Read),
    r("POST", "/volumes/create", Change),
    r("POST", "/volumes/prune", Change),
    r("PUT", "/volumes/{name:.*}", Change),
    r("DELETE", "/volumes/{name:.*}", Change),
    // networks
    r("GET", "/networks", Read),
    r("GET", "/networks/", Read),
    r("GET", "/networks/{id:.+}", Read),
    r("POST", "/networks/create", Change),
    r("POST", "/networks/{id:.*}/connect", Change),
    r("POST", "/networks/{id:.*}/disconnect", Change),
    r("POST", "/networks/prune", Change),
    r("DELETE", "/networks/{id:.*}", Change),
    // plugins
    r("GET", "/plugins", Read),
    r("GET", "/plugins/{name:.*}/json", Read),
    r("GET", "/plugins/privileges", Read),
    r("DELETE", "/plugins/{name:.*}", Change),
    r("POST", "/plugins/{name:.*}/enable", Change),
    r("POST", "/plugins/{name:.*}/disable", Change),
    r("POST", "/plugins/pull", Change),
    r("POST", "/plugins/{name:.*}/push", CopyOut),
    r("POST", "/plugins/{name:.*}/upgrade", Change),
    r("POST", "/plugins/create", Change),
    r("POST", "/plugins/{name:.*}/set", Change),
    // swarm
    r("GET", "/swarm", Read),
    r("GET", "/swarm/unlockkey", CopyOut),
    r("POST", "/swarm/init", Change),
    r("POST", "/swarm/join", Change),
    r("POST", "/swarm/leave", Change),
    r("POST", "/swarm/update", Change),
    r("POST", "/swarm/unlock", Change),
    r("GET", "/services", Read),
    r("GET", "/services/{id}", Read),
    r("POST", "/services/create", Change),
    r("POST", "/services/{id}/update", Change),
    r("DELETE", "/services/{id}", Change),
    r("GET", "/services/{id}/logs", Read),
    r("GET", "/nodes", Read),
    r("GET", "/nodes/{id}", Read),
    r("DELETE", "/nodes/{id}", Change),
    r("POST", "/nodes/{id}/update", Change),
    r("GET", "/tasks", Read),
    r("GET", "/tasks/{id}", Read),
    r("GET", "/tasks/{id}/logs", Read),
    r("GET", "/secrets", Read),
    r("POST", "/secrets/create", Change),
    r("DELETE", "/secrets/{id}", Change),
    r("GET", "/secrets/{id}", Read),
    r("POST", "/secrets/{id}/update", Change),
    r("GET", "/configs", Read),
    r("POST", "/configs/create", Change),
    r("DELETE", "/configs/{id}", Change),
    r("GET", "/configs/{id}", Read),
    r("POST", "/configs/{id}/update", Change),
];

/// The relay's own routes that rules speak of (the others are the relay's
/// plumbing, each checked as the engine call it carries): the flight
/// recorder's history and search.
pub const RELAY_ROUTES: &[Route] = &[
    r("GET", "/_berth/history", Read),
    r("GET", "/_berth/history/{id}", Read),
    r("GET", "/_berth/history/{id}/logs", Read),
    r("GET", "/_berth/search", Read),
];

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(&'static str),
    /// `{name}`: one non-empty segment (`[^/]+`).
    One(&'static str),
    /// `{name:.*}` or `{name:.+}`: one or more whole segments.
    Span {
        name: &'static str,
        nonempty: bool,
    },
}

struct Compiled {
    route: &'static Route,
    parts: Vec<Part>,
}

fn compile(route: &'static Route) -> Compiled {
    let parts = route.template[1..]
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                None => Part::Literal(seg),
                Some(var) => match var.split_once(':') {
                    None => Part::One(var),
                    Some((name, ".*")) => Part::Span {
                        name,
                        nonempty: false,
                    },
                    Some((name, ".+")) => Part::Span {
                        name,
                        nonempty: true,
                    },
                    Some((_, other)) => panic!("unsupported route pattern {other:?}"),
                },
            },
        )
        .collect::<Vec<_>>();
    if let Some(span) = parts.iter().position(|p| matches!(p, Part::Span { .. })) {
        assert!(
            parts[span + 1..]
                .iter()
                .all(|p| matches!(p, Part::Literal(_))),
            "only literals may follow a span: {}",
            route.template
        );
    }
    Compiled { route, parts }
}

fn table(routes: &'static [Route], cell: &'static OnceLock<Vec<Compiled>>) -> &'static [Compiled] {
    cell.get_or_init(|| routes.iter().map(compile).collect())
}

fn engine_table() -> &'static [Compiled] {
    static CELL: OnceLock<Vec<Compiled>> = OnceLock::new();
    table(ENGINE_ROUTES, &CELL)
}

fn relay_table() -> &'static [Compiled] {
    static CELL: OnceLock<Vec<Compiled>> = OnceLock::new();
    table(RELAY_ROUTES, &CELL)
}

/// Every route a rule may speak of: the engine's and the relay's own.
pub fn all_routes() -> impl Iterator<Item = &'static Route> {
    ENGINE_ROUTES.iter().chain(RELAY_ROUTES)
}

/// The template's segments as rules see them: variables are `{name}`.
pub fn template_segments(template: &str) -> Vec<String> {
    template[1..]
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(var) => format!("{{{}}}", var.split(':').next().unwrap_or(var)),
                None => seg.to_owned(),
            },
        )
        .collect()
}

/// Whether a template segment is a variable.
pub fn is_variable(segment: &str) -> bool {
    segment.starts_with('{')
}

/// Matches path segments against a template's parts; the variables'
/// values (decoded, segments joined with `/`) on success.
fn matches(parts: &[Part], segs: &[String]) -> Option<Vec<(&'static str, String)>> {
    let Some((first, rest)) = parts.split_first() else {
        return segs.is_empty().then(Vec::new);
    };
    match first {
        Part::Literal(lit) => {
            let (seg, more) = segs.split_first()?;
            (seg == lit).then(|| matches(rest, more)).flatten()
        }
        Part::One(name) => {
            let (seg, more) = segs.split_first()?;
            if seg.is_empty() {
                return None;
            }
            let mut vars = matches(rest, more)?;
            vars.insert(0, (*name, seg.clone()));
            Some(vars)
        }
        Part::Span { name, nonempty } => {
            // Only literals follow a span (checked when compiled), so it
            // takes every segment but theirs: the one split Go's greedy
            // `.*` can make, found without a search.
            let n = segs.len().checked_sub(rest.len()).filter(|n| *n > 0)?;
            let mut vars = matches(rest, &segs[n..])?;
            let value = segs[..n].join("/");
            if *nonempty && value.is_empty() {
                return None;
            }
            vars.insert(0, (*name, value));
            Some(vars)
        }
    }
}

/// Why a request reaches no route Berth can stand behind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("the path does not start with /")]
    NotAbsolute,
    #[error("the path has an empty segment (//)")]
    EmptySegment,
    #[error("the path is not ASCII with valid percent-encoded UTF-8")]
    BadEncoding,
    #[error("the path is ambiguous: an encoded /, \\ or % (double encoding?) in a segment")]
    Ambiguous,
    #[error("the path holds a control character")]
    Control,
    #[error("the path has a . or .. segment")]
    DotSegment,
    #[error("the API version {0:?} is not written as vMAJOR.MINOR (the engine reads any v[0-9.]+ as a version)")]
    BadVersion(String),
    #[error("{method} {path} is no Engine API route")]
    NoRoute { method: String, path: String },
    #[error(
        "{method} is not a method of {path} (methods are upper case, as the engine matches them)"
    )]
    WrongMethod { method: String, path: String },
    #[error("{method} {path} could reach more than one Engine API route")]
    Undecided { method: String, path: String },
}

impl RouteError {
    /// The HTTP status the relay answers with.
    pub fn status(&self) -> u16 {
        match self {
            RouteError::NoRoute { .. } | RouteError::WrongMethod { .. } => 404,
            _ => 400,
        }
    }
}

/// A request path split into decoded segments, with the version prefix
/// taken off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub version: Option<ApiVersion>,
    /// Decoded; a trailing slash is a final empty segment, and `/` is one
    /// empty segment.
    pub segments: Vec<String>,
}

impl Path {
    /// Splits and decodes a request path as Go's URL parser does, refusing
    /// what could be read two ways.
    pub fn parse(raw: &str) -> Result<Path, RouteError> {
        // Anything but ASCII is sent percent-encoded.
        if !raw.is_ascii() {
            return Err(RouteError::BadEncoding);
        }
        let rest = raw.strip_prefix('/').ok_or(RouteError::NotAbsolute)?;
        let count = rest.split('/').count();
        let mut segments = Vec::with_capacity(count);
        for (i, seg) in rest.split('/').enumerate() {
            // Only the last segment may be empty: `/` and a trailing slash.
            if seg.is_empty() && i + 1 != count {
                return Err(RouteError::EmptySegment);
            }
            if !valid_escapes(seg) {
                return Err(RouteError::BadEncoding);
            }
            let decoded = percent_decode_str(seg)
                .decode_utf8()
                .map_err(|_| RouteError::BadEncoding)?;
            if decoded.contains(['/', '\\', '%']) {
                return Err(RouteError::Ambiguous);
            }
            if decoded.chars().any(char::is_control) {
                return Err(RouteError::Control);
            }
            if decoded == "." || decoded == ".." {
                return Err(RouteError::DotSegment);
            }
            segments.push(decoded.into_owned());
        }
        // `/v{version:[0-9.]+}/…`: only with something after it, as the
        // engine's pattern has a slash after the version.
        let mut version = None;
        if segments.len() > 1 {
            if let Some(v) = segments[0].strip_prefix('v') {
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    version = Some(canonical_version(v)?);
                    segments.remove(0);
                }
            }
        }
        Ok(Path { version, segments })
    }

    /// The path the rules and messages speak of: decoded, no version.
    pub fn display(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }

    /// The path to send: the version kept, each segment re-encoded, so the
    /// engine decodes exactly these segments.
    pub fn forward(&self) -> String {
        let mut out = String::new();
        if let Some(v) = self.version {
            out.push_str(&v.prefix());
        }
        for s in &self.segments {
            out.push('/');
            out.push_str(&encode_segment(s));
        }
        out
    }
}

/// Every `%` starts an escape of two hex digits (Go refuses the request
/// otherwise; percent-encoding's decoder would pass the `%` through).
pub(crate) fn valid_escapes(seg: &str) -> bool {
    let b = seg.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |at: usize| b.get(at).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// `1.41` from `1.41`; any other spelling the engine would also read as a
/// version (`1.41.0`, `1.041`, `1.41.`) is refused.
fn canonical_version(v: &str) -> Result<ApiVersion, RouteError> {
    let bad = || RouteError::BadVersion(format!("v{v}"));
    let (major, minor) = v.split_once('.').ok_or_else(bad)?;
    let number = |s: &str| {
        let plain = !s.is_empty() && (s == "0" || !s.starts_with('0')) && s.len() <= 4;
        plain.then(|| s.parse::<u16>().ok()).flatten()
    };
    match (number(major), number(minor)) {
        (Some(major), Some(minor)) => Ok(ApiVersion::new(major, minor)),
        _ => Err(bad()),
    }
}

/// A decoded segment as it is written in a path or a rule: ASCII only,
/// with what would end or split it (`?`, `#`, `%`, spaces, controls)
/// escaped, so parsing it again gives the same segment.
pub fn encode_segment(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'%');
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A request decided: the route it reaches, with its variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub method: String,
    pub path: Path,
    pub route: &'static Route,
    pub params: Vec<(&'static str, String)>,
}

impl Routed {
    /// The value of the route's variable `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path to send on (see [`Path::forward`]).
    pub fn forward(&self) -> String {
        self.path.forward()
    }
}

impl fmt::Display for Routed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path.display())
    }
}

/// The Engine route `method path` reaches, as dockerd would decide it.
pub fn route(method: &str, raw_path: &str) -> Result<Routed, RouteError> {
    route_in(engine_table(), method, Path::parse(raw_path)?)
}

/// The relay route (of [`RELAY_ROUTES`]) `method path` reaches.
pub fn relay_route(method: &str, raw_path: &str) -> Result<Routed, RouteError> {
    let path = Path::parse(raw_path)?;
    if path.version.is_some() {
        return Err(RouteError::NoRoute {
            method: method.to_owned(),
            path: raw_path.to_owned(),
        });
    }
    route_in(relay_table(), method, path)
}

/// The route of `path` among `table`.
fn route_in(table: &'static [Compiled], method: &str, path: Path) -> Result<Routed, RouteError> {
    let mut found: Option<(&'static Route, Vec<(&'static str, String)>)> = None;
    let mut other_case = false;
    for c in table {
        let Some(params) = matches(&c.parts, &path.segments) else {
            continue;
        };
        if c.route.method != method {
            other_case |= c.route.method.eq_ignore_ascii_case(method);
            continue;
        }
        if found.is_some() {
            return Err(RouteError::Undecided {
                method: method.to_owned(),
                path: path.display(),
            });
        }
        found = Some((c.route, params));
    }
    let (method, path_text) = (method.to_owned(), path.display());
    match found {
        Some((route, params)) => Ok(Routed {
            method,
            path,
            route,
            params,
        }),
        None if other_case => Err(RouteError::WrongMethod {
            method,
            path: path_text,
        }),
        None => Err(RouteError::NoRoute {
            method,
            path: path_text,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(method: &str, path: &str) -> (&'static str, Vec<(&'static str, String)>) {
        let r = route(method, path).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (r.route.template, r.params)
    }

    #[test]
    fn variables_span_segments_as_the_engine_lets_them() {
        assert_eq!(
            routed("GET", "/images/library/busybox/get"),
            (
                "/images/{name:.*}/get",
                vec![("name", "library/busybox".to_owned())]
            )
        );
        assert_eq!(
            routed("GET", "/v1.41/distribution/registry.example:5000/a/b/json").1,
            vec![("name", "registry.example:5000/a/b".to_owned())]
        );
        assert_eq!(
            routed("POST", "/plugins/vieux/sshfs:latest/enable").0,
            "/plugins/{name:.*}/enable"
        );
        // The greedy span: the last /json ends the name.
        assert_eq!(
            routed("GET", "/containers/a/json/json").1,
            vec![("name", "a/json".to_owned())]
        );
        assert_eq!(routed("GET", "/containers/json").0, "/containers/json");
        assert_eq!(routed("GET", "/images/get").0, "/images/get");
        assert_eq!(routed("GET", "/networks/").0, "/networks/");
        assert_eq!(routed("GET", "/networks/a/b").1, vec![("id", "a/b".into())]);
        // `{id}` is one segment.
        assert!(matches!(
            route("GET", "/services/a/b"),
            Err(RouteError::NoRoute { .. })
        ));
        assert_eq!(
            routed("DELETE", "/containers/x/").1,
            vec![("name", "x/".into())]
        );
    }

    #[test]
    fn methods_match_exactly() {
        assert!(matches!(
            route("post", "/containers/x/kill"),
            Err(RouteError::WrongMethod { .. })
        ));
        assert!(matches!(
            route("HEAD", "/containers/json"),
            Err(RouteError::NoRoute { .. })
        ));
        assert!(route("HEAD", "/_ping").is_ok());
    }

    #[test]
    fn versions_are_vmajor_minor_or_refused() {
        let v = route("GET", "/v1.41/containers/json").unwrap();
        assert_eq!(v.path.version, Some(ApiVersion::new(1, 41)));
        assert_eq!(v.forward(), "/v1.41/containers/json");
        for bad in [
            "v1.41.0",
            "v1.41.",
            "v1.41.0.0",
            "v1",
            "v01.41",
            "v1.041",
            "v.",
            "v1..41",
        ] {
            assert_eq!(
                route("GET", &format!("/{bad}/containers/x/export")),
                Err(RouteError::BadVersion(bad.to_owned())),
                "{bad}"
            );
        }
        // Decoded first, as Go does.
        assert_eq!(
            route("GET", "/%761.41/_ping").unwrap().path.version,
            Some(ApiVersion::new(1, 41))
        );
        // `v` followed by anything else is an ordinary segment.
        assert!(matches!(
            route("GET", "/vx/_ping"),
            Err(RouteError::NoRoute { .. })
        ));
        assert!(matches!(
            route("GET", "/v1.41/v1.41/_ping"),
            Err(RouteError::BadVersion(_)) | Err(RouteError::NoRoute { .. })
        ));
    }

    #[test]
    fn spellings_that_could_read_two_ways_are_refused() {
        for (path, err) in [
            ("/containers/a%2Fb/kill", RouteError::Ambiguous),
            ("/containers/a%252Fb/kill", RouteError::Ambiguous),
            ("/containers/a%5Cb/kill", RouteError::Ambiguous),
            ("/containers/%00/kill", RouteError::Control),
            ("/containers/a%0Ab/json", RouteError::Control),
            ("/containers//kill", RouteError::EmptySegment),
            ("//containers/json", RouteError::EmptySegment),
            ("/containers/../x/kill", RouteError::DotSegment),
            ("/containers/%2e%2e/x/kill", RouteError::DotSegment),
            ("/./_ping", RouteError::DotSegment),
            ("/%ff", RouteError::BadEncoding),
            ("/containers/a%zz/json", RouteError::BadEncoding),
            ("/containers/a%4/json", RouteError::BadEncoding),
            ("/containers/vi\u{e9}ctim/json", RouteError::BadEncoding),
            ("containers/json", RouteError::NotAbsolute),
        ] {
            assert_eq!(route("GET", path), Err(err), "{path}");
        }
        // Two routes at once: the engine's order would decide; Berth won't.
        assert!(matches!(
            route("DELETE", "/containers/a/checkpoints/b"),
            Err(RouteError::Undecided { .. })
        ));
    }

    #[test]
    fn long_paths_are_matched_in_linear_time() {
        // A span once tried every split: 4000 segments took 20 s of CPU.
        let long = format!("/containers/{}json", "a/".repeat(20_000));
        let started = std::time::Instant::now();
        let r = route("GET", &long).unwrap();
        assert_eq!(r.route.template, "/containers/{name:.*}/json");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn what_is_forwarded_reads_back_as_what_was_decided() {
        for (method, path) in [
            ("GET", "/v1.41/containers/y%20z/json"),
            ("GET", "/images/berth-test/busybox:latest/json"),
            ("GET", "/_ping"),
            ("OPTIONS", "/"),
            ("GET", "/networks/"),
            ("GET", "/containers/%C3%A9t%C3%A9/json"),
        ] {
            let first = route(method, path).unwrap();
            let again = route(method, &first.forward()).unwrap();
            assert_eq!(first, again, "{path}");
        }
        assert_eq!(route("OPTIONS", "/").unwrap().forward(), "/");
    }

    #[test]
    fn every_template_compiles_and_templates_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in engine_table() {
            assert!(
                seen.insert((c.route.method, c.route.template)),
                "{c:?}",
                c = c.route
            );
            let spans = c
                .parts
                .iter()
                .filter(|p| matches!(p, Part::Span { .. }))
                .count();
            assert!(spans <= 1, "{}", c.route.template);
        }
    }
}
