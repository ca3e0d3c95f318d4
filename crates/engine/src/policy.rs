//! Which calls a relay lets through: canonical paths and rules.
//!
//! Shared so the relay enforces exactly what the console shows: the console
//! evaluates the same rules to disable what would be refused.
//!
//! Rules are lines `allow|deny METHOD PATTERN`, first match wins, no match
//! denies. METHOD is a method or `*`; PATTERN is a canonical path whose
//! segments are literals, `*` (one segment) or a final `**` (any rest).

use std::fmt;

use percent_encoding::percent_decode_str;

/// A request path with the version prefix stripped, percent-encoding and
/// dot segments resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalPath {
    /// `v1.41` when the path had a version prefix.
    pub version: Option<String>,
    pub segments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path does not start with /")]
    NotAbsolute,
    #[error("the path has an empty segment (//)")]
    EmptySegment,
    #[error("the path has a segment that is not valid percent-encoded UTF-8")]
    BadEncoding,
    #[error("the path is ambiguous: an encoded /, \\, % or NUL in a segment (double encoding?), or a version prefix that is not first")]
    Ambiguous,
    #[error("the path climbs above the root with ..")]
    AboveRoot,
}

impl CanonicalPath {
    pub fn parse(raw: &str) -> Result<CanonicalPath, PathError> {
        let rest = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
        let mut segments: Vec<String> = Vec::new();
        let mut version = None;
        let count = rest.split('/').count();
        for (i, seg) in rest.split('/').enumerate() {
            // A trailing slash is the only empty segment allowed.
            if seg.is_empty() {
                if i + 1 == count && i > 0 {
                    continue;
                }
                if count == 1 {
                    break;
                }
                return Err(PathError::EmptySegment);
            }
            let decoded = percent_decode_str(seg)
                .decode_utf8()
                .map_err(|_| PathError::BadEncoding)?;
            if decoded.contains(['/', '\\', '%', '\0']) {
                return Err(PathError::Ambiguous);
            }
            match decoded.as_ref() {
                "." => {}
                ".." => {
                    segments.pop().ok_or(PathError::AboveRoot)?;
                }
                v if i == 0 && is_version(v) => version = Some(v.to_owned()),
                s => segments.push(s.to_owned()),
            }
        }
        // `/containers/../v1.41/…` would be checked as `/v1.41/…` and then
        // read by the engine as a version prefix: refuse the spelling.
        if segments.first().is_some_and(|s| is_version(s)) {
            return Err(PathError::Ambiguous);
        }
        Ok(CanonicalPath { version, segments })
    }

    /// The path the rules see: `/containers/abc/kill`.
    pub fn path(&self) -> String {
        format!("/{}", self.segments.join("/"))
    }

    /// The path to forward: the version prefix kept, each segment
    /// re-encoded, so the engine gets exactly what was checked.
    pub fn forward(&self) -> String {
        let mut out = String::new();
        if let Some(v) = &self.version {
            out.push('/');
            out.push_str(v);
        }
        for s in &self.segments {
            out.push('/');
            out.push_str(&encode_segment(s));
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

/// A decoded segment as it is written in a path or a rule: ASCII only,
/// with what would end or split it (`?`, `#`, `%`, spaces, controls)
/// escaped, so parsing it again gives the same segment.
fn encode_segment(s: &str) -> String {
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

fn is_version(s: &str) -> bool {
    s.strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty() && !b.is_empty() && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
        })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub effect: Effect,
    /// Upper-case method, or `*`.
    pub method: String,
    pub pattern: Vec<String>,
}

impl Rule {
    fn matches(&self, method: &str, segments: &[String]) -> bool {
        if self.method != "*" && !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut i = 0;
        for (n, p) in self.pattern.iter().enumerate() {
            if p == "**" && n + 1 == self.pattern.len() {
                return true;
            }
            match segments.get(i) {
                Some(s) if p == "*" || p == s => i += 1,
                _ => return false,
            }
        }
        i == segments.len()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let effect = if self.effect == Effect::Allow {
            "allow"
        } else {
            "deny"
        };
        let pattern: Vec<String> = self.pattern.iter().map(|p| encode_segment(p)).collect();
        write!(f, "{effect} {} /{}", self.method, pattern.join("/"))
    }
}

/// A named list of rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {problem}")]
pub struct RuleError {
    pub line: usize,
    pub problem: String,
}

/// Everything.
pub const FULL: &str = "allow * /**\n";

/// Lists, inspect, logs, stats, events; nothing that changes anything, and
/// nothing that reads or enters containers' files or processes either.
pub const READ_ONLY: &str = "\
deny * /containers/*/export
deny * /containers/*/archive
deny * /containers/*/attach/**
deny * /exec/**
deny * /images/get
deny * /images/*/get
deny * /session
deny * /grpc
allow GET /**
allow HEAD /**
";

impl Policy {
    pub fn parse(name: &str, text: &str) -> Result<Policy, RuleError> {
        let mut rules = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let err = |problem: String| RuleError {
                line: n + 1,
                problem,
            };
            let words: Vec<&str> = line.split_whitespace().collect();
            let [effect, method, pattern] = words[..] else {
                return Err(err(format!(
                    "expected `allow|deny METHOD /pattern`, got {line:?}"
                )));
            };
            let effect = match effect {
                "allow" => Effect::Allow,
                "deny" => Effect::Deny,
                other => return Err(err(format!("{other:?} is neither allow nor deny"))),
            };
            if method != "*" && !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(err(format!("{method:?} is not a method")));
            }
            let pattern =
                CanonicalPath::parse(pattern).map_err(|e| err(format!("{pattern:?}: {e}")))?;
            if pattern.version.is_some() {
                return Err(err("patterns are matched without the version prefix".into()));
            }
            if let Some(p) = pattern.segments.iter().position(|s| s == "**") {
                if p + 1 != pattern.segments.len() {
                    return Err(err("** may only end a pattern".into()));
                }
            }
            rules.push(Rule {
                effect,
                method: method.to_ascii_uppercase(),
                pattern: pattern.segments,
            });
        }
        Ok(Policy {
            name: name.to_owned(),
            rules,
        })
    }

    pub fn full() -> Policy {
        Policy::parse("full", FULL).expect("the full preset parses")
    }

    pub fn read_only() -> Policy {
        Policy::parse("read-only", READ_ONLY).expect("the read-only preset parses")
    }

    /// Whether `method path` may pass; `Err` names the rule (or the lack of
    /// one) that refuses it.
    pub fn check(&self, method: &str, path: &CanonicalPath) -> Result<(), String> {
        match self
            .rules
            .iter()
            .find(|r| r.matches(method, &path.segments))
        {
            Some(r) if r.effect == Effect::Allow => Ok(()),
            Some(r) => Err(format!(
                "the {} policy denies {method} {} (rule `{r}`)",
                self.name,
                path.path()
            )),
            None => Err(format!(
                "the {} policy allows no rule for {method} {}",
                self.name,
                path.path()
            )),
        }
    }

    /// Whether the relay would let `endpoint` through, from its method and
    /// path (the console asks before offering an action).
    pub fn check_endpoint<T>(&self, endpoint: &crate::Endpoint<T>) -> Result<(), String> {
        let path = endpoint.path.split('?').next().unwrap_or_default();
        let path = CanonicalPath::parse(path).map_err(|e| e.to_string())?;
        self.check(endpoint.method.as_str(), &path)
    }

    /// The rules as text, as `parse` reads them.
    pub fn to_text(&self) -> String {
        self.rules.iter().map(|r| format!("{r}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(p: &str) -> Result<String, PathError> {
        CanonicalPath::parse(p).map(|c| c.path())
    }

    #[test]
    fn canonical_paths() {
        assert_eq!(
            canon("/v1.41/containers/json"),
            Ok("/containers/json".into())
        );
        assert_eq!(
            canon("/containers/abc/../def/./kill"),
            Ok("/containers/def/kill".into())
        );
        assert_eq!(
            canon("/v1.41/containers/%61bc/kill"),
            Ok("/containers/abc/kill".into())
        );
        assert_eq!(
            canon("/images/library/busybox:1/json"),
            Ok("/images/library/busybox:1/json".into())
        );
        assert_eq!(canon("/_ping"), Ok("/_ping".into()));
        assert_eq!(canon("/"), Ok("/".into()));
        assert_eq!(canon("/containers/json/"), Ok("/containers/json".into()));
        // A version only counts as the first segment.
        assert_eq!(canon("/containers/v1.41"), Ok("/containers/v1.41".into()));
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        assert_eq!(canon("/containers/a%2Fb/kill"), Err(PathError::Ambiguous));
        assert_eq!(canon("/containers/a%252Fb/kill"), Err(PathError::Ambiguous));
        assert_eq!(canon("/containers/a%5Cb"), Err(PathError::Ambiguous));
        assert_eq!(canon("/containers/%00/kill"), Err(PathError::Ambiguous));
        assert_eq!(canon("/containers//kill"), Err(PathError::EmptySegment));
        assert_eq!(canon("//containers/json"), Err(PathError::EmptySegment));
        assert_eq!(canon("/../etc/passwd"), Err(PathError::AboveRoot));
        assert_eq!(canon("/%ff"), Err(PathError::BadEncoding));
        assert_eq!(canon("containers/json"), Err(PathError::NotAbsolute));
        // A version prefix reached through `..` is not one the rules saw.
        assert_eq!(
            canon("/containers/../v1.41/containers/x/exec"),
            Err(PathError::Ambiguous)
        );
        assert_eq!(
            canon("/v1.41/v1.40/containers/json"),
            Err(PathError::Ambiguous)
        );
    }

    #[test]
    fn forwards_what_was_checked() {
        let c = CanonicalPath::parse("/v1.41/containers/x/../y%20z/kill").unwrap();
        assert_eq!(c.forward(), "/v1.41/containers/y%20z/kill");
        assert_eq!(CanonicalPath::parse("/_ping").unwrap().forward(), "/_ping");
        assert_eq!(CanonicalPath::parse("/").unwrap().forward(), "/");
    }

    #[test]
    fn read_only_preset() {
        let p = Policy::read_only();
        let ok = |m: &str, path: &str| p.check(m, &CanonicalPath::parse(path).unwrap()).is_ok();
        for (m, path) in [
            ("GET", "/v1.41/containers/json"),
            ("GET", "/containers/x/json"),
            ("GET", "/containers/x/logs"),
            ("GET", "/containers/x/stats"),
            ("GET", "/events"),
            ("HEAD", "/_ping"),
            ("GET", "/images/json"),
        ] {
            assert!(ok(m, path), "{m} {path}");
        }
        for (m, path) in [
            ("DELETE", "/containers/x"),
            ("POST", "/containers/x/kill"),
            ("POST", "/containers/create"),
            ("GET", "/containers/x/export"),
            ("GET", "/containers/x/archive"),
            ("HEAD", "/containers/x/archive"),
            ("POST", "/containers/x/attach"),
            ("GET", "/containers/x/attach/ws"),
            ("POST", "/containers/x/exec"),
            ("GET", "/exec/abc/json"),
            ("GET", "/images/get"),
            ("GET", "/images/busybox/get"),
            ("POST", "/session"),
        ] {
            assert!(!ok(m, path), "{m} {path}");
        }
        let why = p
            .check(
                "DELETE",
                &CanonicalPath::parse("/v1.41/containers/web").unwrap(),
            )
            .unwrap_err();
        assert_eq!(
            why,
            "the read-only policy allows no rule for DELETE /containers/web"
        );
    }

    #[test]
    fn endpoints_are_checked_by_their_method_and_path() {
        let api = crate::Api::new(crate::ApiVersion::MIN);
        let ro = Policy::read_only();
        assert!(ro.check_endpoint(&api.containers(true)).is_ok());
        let stop = ro.check_endpoint(&api.container_action("web", crate::ContainerAction::Stop));
        assert_eq!(
            stop.unwrap_err(),
            "the read-only policy allows no rule for POST /containers/web/stop"
        );
        assert!(Policy::full()
            .check_endpoint(&api.container_remove("web", true, true))
            .is_ok());
    }

    #[test]
    fn custom_rules() {
        let p = Policy::parse(
            "ops",
            "# operators may restart\nallow POST /containers/*/restart\nallow GET /containers/**\ndeny * /**\n",
        )
        .unwrap();
        let check = |m: &str, path: &str| p.check(m, &CanonicalPath::parse(path).unwrap());
        assert!(check("POST", "/containers/web/restart").is_ok());
        assert!(check("GET", "/containers/web/json").is_ok());
        assert!(
            check("GET", "/containers").is_ok(),
            "** matches nothing too"
        );
        assert_eq!(
            check("POST", "/containers/web/kill").unwrap_err(),
            "the ops policy denies POST /containers/web/kill (rule `deny * /**`)"
        );
        assert_eq!(Policy::parse("ops", &p.to_text()).unwrap(), p);
        // Segments that need escaping print escaped (found by the fuzzer).
        let odd = Policy::parse("odd", "deny * /a%23b/c%20d/%03/%E2%80%83\n").unwrap();
        assert_eq!(odd.to_text(), "deny * /a%23b/c%20d/%03/%E2%80%83\n");
        assert_eq!(Policy::parse("odd", &odd.to_text()).unwrap(), odd);
        assert!(Policy::parse("x", "allow GET /a/**/b").is_err());
        assert!(Policy::parse("x", "permit GET /a").is_err());
        assert!(Policy::parse("x", "allow GET /v1.41/a").is_err());
        assert!(Policy::parse("x", "allow GET").is_err());
    }
}
