//! Which calls a relay lets through: rules over Engine API routes.
//!
//! Shared so the relay enforces exactly what the console shows: the console
//! evaluates the same rules, on the same reading of a path ([`crate::route`]),
//! to disable what would be refused.
//!
//! Rules are lines `allow|deny METHOD PATTERN`, first match wins, no match
//! denies. METHOD is a method or `*`. PATTERN speaks of the engine's route
//! templates, not of raw paths: its segments are literals, `*` (any one
//! segment of a template, a variable such as `{name}` included, however many
//! path segments that variable spans) or a final `**` (any rest). So
//! `/images/*/get` covers every image name, slashes and all, exactly as
//! the engine's `/images/{name:.*}/get` does. A pattern must cover at least
//! one route, and a literal can't stand where the engine takes a name.
//! An allow rule covers a route that copies data out or enters a container
//! only when it names it ([`Rule::covers`]).

use std::fmt;

use crate::route::{self, encode_segment, is_variable, template_segments, Class, Route, Routed};

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
    /// Whether the rule covers `route`. To allow a route that copies data
    /// out of a container or image or enters one ([`Class::CopyOut`]:
    /// archive, export, image save, attach, exec), a rule must name it:
    /// `*` there stands only for the route's variables and `**` for
    /// nothing, so `allow GET /containers/**` does not hand out shells
    /// and filesystems. (`/**` alone is everything, the `full` policy.)
    pub fn covers(&self, route: &Route) -> bool {
        if self.method != "*" && self.method != route.method {
            return false;
        }
        let named_only =
            self.effect == Effect::Allow && route.class == Class::CopyOut && self.pattern != ["**"];
        let template = template_segments(route.template);
        let mut i = 0;
        for (n, p) in self.pattern.iter().enumerate() {
            if p == "**" && n + 1 == self.pattern.len() {
                return !named_only || i == template.len();
            }
            match template.get(i) {
                Some(t) if p == t && !is_variable(t) => i += 1,
                Some(t) if p == "*" && (is_variable(t) || !named_only) => i += 1,
                _ => return false,
            }
        }
        i == template.len()
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

/// Looking, and nothing else: lists, inspect, logs, stats, top, changes,
/// events, disk usage, the Swarm's state (its join tokens taken out), and
/// the flight recorder's history and search.
/// Nothing that changes anything, nothing that reads files out of
/// containers or images (archive, export, image save) or enters them
/// (attach, exec), and nothing that has the engine call out (registry
/// search, distribution): every route not listed is refused.
pub const READ_ONLY: &str = "\
allow GET /_ping
allow HEAD /_ping
allow GET /version
allow GET /info
allow GET /events
allow GET /system/df
allow GET /containers/json
allow GET /containers/*/json
allow GET /containers/*/logs
allow GET /containers/*/stats
allow GET /containers/*/top
allow GET /containers/*/changes
allow GET /images/json
allow GET /images/*/json
allow GET /images/*/history
allow GET /volumes
allow GET /volumes/*
allow GET /networks
allow GET /networks/*
allow GET /plugins
allow GET /plugins/*/json
allow GET /swarm
allow GET /nodes
allow GET /nodes/*
allow GET /services
allow GET /services/*
allow GET /services/*/logs
allow GET /tasks
allow GET /tasks/*
allow GET /tasks/*/logs
allow GET /secrets
allow GET /secrets/*
allow GET /_berth/history/**
allow GET /_berth/search
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
            let path = route::Path::parse(pattern).map_err(|e| err(format!("{pattern:?}: {e}")))?;
            if path.version.is_some() {
                return Err(err("patterns are matched without the version prefix".into()));
            }
            if let Some(p) = path.segments.iter().position(|s| s == "**") {
                if p + 1 != path.segments.len() {
                    return Err(err("** may only end a pattern".into()));
                }
            }
            let rule = Rule {
                effect,
                method: method.to_ascii_uppercase(),
                pattern: path.segments,
            };
            if !route::all_routes().any(|r| rule.covers(r)) {
                return Err(err(format!(
                    "`{rule}` covers no route (patterns speak of routes: \
                     write * where the engine takes a name, e.g. /containers/*/restart)"
                )));
            }
            rules.push(rule);
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

    /// Whether the routed request may pass; `Err` names the rule (or the
    /// lack of one) that refuses it.
    pub fn check(&self, req: &Routed) -> Result<(), String> {
        match self.rules.iter().find(|r| r.covers(req.route)) {
            Some(r) if r.effect == Effect::Allow => Ok(()),
            Some(r) => Err(format!(
                "the {} policy denies {req} (rule `{r}`)",
                self.name
            )),
            None => Err(format!("the {} policy allows no rule for {req}", self.name)),
        }
    }

    /// Whether the relay would let `endpoint` through, read as the relay
    /// reads it (the console asks before offering an action).
    pub fn check_endpoint<T>(&self, endpoint: &crate::Endpoint<T>) -> Result<(), String> {
        let path = endpoint.path.split('?').next().unwrap_or_default();
        let method = endpoint.method.as_str();
        let routed = if path.starts_with(crate::relay::PREFIX) {
            route::relay_route(method, path)
        } else {
            route::route(method, path)
        };
        self.check(&routed.map_err(|e| e.to_string())?)
    }

    /// The rules as text, as `parse` reads them.
    pub fn to_text(&self) -> String {
        self.rules.iter().map(|r| format!("{r}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{route, Class, ENGINE_ROUTES};

    fn allowed(p: &Policy, method: &str, path: &str) -> bool {
        p.check(&route(method, path).unwrap()).is_ok()
    }

    #[test]
    fn read_only_is_an_allowlist_of_reads() {
        let p = Policy::read_only();
        for (m, path) in [
            ("GET", "/v1.41/containers/json"),
            ("GET", "/containers/x/json"),
            ("GET", "/containers/x/logs"),
            ("GET", "/containers/x/stats"),
            ("GET", "/events"),
            ("HEAD", "/_ping"),
            ("GET", "/images/json"),
            ("GET", "/images/library/busybox/json"),
            ("GET", "/swarm"),
        ] {
            assert!(allowed(&p, m, path), "{m} {path}");
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
            // The engine's {name:.*} spans slashes; so does the rule's *.
            ("GET", "/images/library/busybox/get"),
            ("GET", "/swarm/unlockkey"),
            ("GET", "/configs"),
            ("POST", "/session"),
        ] {
            assert!(!allowed(&p, m, path), "{m} {path}");
        }
        // Nothing it allows changes anything or copies data out.
        for r in ENGINE_ROUTES
            .iter()
            .filter(|r| p.rules.iter().any(|rule| rule.covers(r)))
        {
            assert_eq!(r.class, Class::Read, "{} {}", r.method, r.template);
        }
        let why = p
            .check(&route("DELETE", "/v1.41/containers/web").unwrap())
            .unwrap_err();
        assert_eq!(
            why,
            "the read-only policy allows no rule for DELETE /containers/web"
        );
    }

    #[test]
    fn endpoints_are_checked_as_the_relay_reads_them() {
        let api = crate::Api::new(crate::ApiVersion::MIN);
        let ro = Policy::read_only();
        assert!(ro.check_endpoint(&api.containers::<()>(true)).is_ok());
        let stop = ro.check_endpoint(&api.container_action("web", crate::ContainerAction::Stop));
        assert_eq!(
            stop.unwrap_err(),
            "the read-only policy allows no rule for POST /containers/web/stop"
        );
        assert!(ro
            .check_endpoint(&api.image_save("library/busybox:1"))
            .is_err());
        assert!(Policy::full()
            .check_endpoint(&api.container_remove("web", true, true))
            .is_ok());
    }

    #[test]
    fn rules_speak_of_routes() {
        let p = Policy::parse(
            "ops",
            "# operators may restart\nallow POST /containers/*/restart\nallow GET /containers/**\ndeny * /**\n",
        )
        .unwrap();
        assert!(allowed(&p, "POST", "/containers/web/restart"));
        assert!(allowed(&p, "GET", "/containers/web/json"));
        assert!(allowed(&p, "GET", "/containers/json"));
        // A name with a slash reaches the route all the same.
        assert!(allowed(&p, "POST", "/containers/a/b/restart"));
        assert_eq!(
            p.check(&route("POST", "/containers/web/kill").unwrap())
                .unwrap_err(),
            "the ops policy denies POST /containers/web/kill (rule `deny * /**`)"
        );
        assert_eq!(Policy::parse("ops", &p.to_text()).unwrap(), p);
        // Copying out and entering must be named: `**` and `*` don't
        // reach them from an allow rule.
        for path in [
            "/containers/web/export",
            "/containers/web/archive",
            "/containers/web/attach/ws",
        ] {
            assert!(!allowed(&p, "GET", path), "{path}");
        }
        let wide = Policy::parse(
            "wide",
            "allow GET /containers/*/*\nallow * /containers/**\nallow POST /exec/**\n",
        )
        .unwrap();
        assert!(allowed(&wide, "GET", "/containers/web/json"));
        assert!(!allowed(&wide, "GET", "/containers/web/export"));
        assert!(!allowed(&wide, "POST", "/exec/0123/start"));
        assert!(!allowed(&wide, "POST", "/containers/web/attach"));
        let named = Policy::parse(
            "named",
            "allow GET /containers/*/export\nallow POST /containers/*/attach\nallow POST /exec/*/start\n",
        )
        .unwrap();
        assert!(allowed(&named, "GET", "/containers/web/export"));
        assert!(allowed(&named, "POST", "/containers/a/b/attach"));
        assert!(allowed(&named, "POST", "/exec/0123/start"));
        // `/**` alone is everything; a deny rule's wildcards reach them.
        assert!(allowed(&Policy::full(), "GET", "/containers/web/export"));
        let deny = Policy::parse("d", "deny GET /containers/**\nallow * /**\n").unwrap();
        assert!(!allowed(&deny, "GET", "/containers/web/export"));

        // A deny rule's * covers every name the engine's variable takes.
        let d = Policy::parse("d", "deny GET /images/*/get\nallow * /**\n").unwrap();
        assert!(!allowed(&d, "GET", "/images/library/busybox/get"));

        for bad in [
            "allow GET /a/**/b",
            "permit GET /a",
            "allow GET /v1.41/containers/json",
            "allow GET",
            // No such route, and a literal where the engine takes a name.
            "allow GET /containers/*/exprot",
            "allow POST /containers/web/restart",
            "allow GET /images/library/busybox/get",
            "allow PATCH /**",
        ] {
            assert!(Policy::parse("x", bad).is_err(), "{bad}");
        }
        let e = Policy::parse("x", "allow POST /containers/web/restart").unwrap_err();
        assert!(
            e.problem.contains("write * where the engine takes a name"),
            "{e}"
        );
    }
}
