//! TLS to the engine (issue 3): a real dockerd started with --tlsverify and
//! certificates made here.

use std::path::Path;
use std::process::{Command, Stdio};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::util::*;

/// A CA and, signed by it, a server certificate for 127.0.0.1 and
/// localhost and a client certificate, named as dockerd and the docker CLI
/// expect them.
fn make_pki(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.distinguished_name
        .push(DnType::CommonName, "berth test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    write_file(dir, "ca.pem", ca_cert.pem().as_bytes());
    let issuer = Issuer::new(ca, ca_key);
    for (name, sans, purpose) in [
        (
            "server",
            vec!["127.0.0.1".to_owned(), "localhost".to_owned()],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        ("client", vec![], ExtendedKeyUsagePurpose::ClientAuth),
    ] {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![purpose];
        let cert = params.signed_by(&key, &issuer).unwrap();
        let (cert_file, key_file) = if name == "server" {
            ("server-cert.pem", "server-key.pem")
        } else {
            ("cert.pem", "key.pem")
        };
        write_file(dir, cert_file, cert.pem().as_bytes());
        write_file(dir, key_file, key.serialize_pem().as_bytes());
    }
}

#[test]
fn a_tls_engine_through_docker_tls_verify_and_cert_path() {
    let pki = tempfile::tempdir().unwrap();
    make_pki(pki.path());
    let port = free_port();
    let tls = [
        "--tlsverify".to_owned(),
        format!("--tlscacert={}", pki.path().join("ca.pem").display()),
        format!("--tlscert={}", pki.path().join("server-cert.pem").display()),
        format!("--tlskey={}", pki.path().join("server-key.pem").display()),
        format!("-H=tcp://127.0.0.1:{port}"),
    ];
    let cert_path = pki.path().to_owned();
    let _engine = PrivateEngine::start(&tls, move |args| {
        Command::new("docker")
            .args(["-H", &format!("tcp://127.0.0.1:{port}")])
            .args(args)
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", &cert_path)
            .output()
            .unwrap()
            .status
            .success()
    });
    let docker_host = format!("tcp://127.0.0.1:{port}");
    // Configured the way the docker CLI is, and nothing else.
    let relay_trusting = |cert_dir: &Path| {
        let cert_dir = cert_dir.to_string_lossy().into_owned();
        let env = [
            ("DOCKER_HOST", docker_host.as_str()),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", cert_dir.as_str()),
        ];
        Relay::spawn(&[], &env)
    };

    // The relay speaks TLS to the engine; the CLI speaks plain HTTP to it.
    let relay = relay_trusting(pki.path());
    let os = docker_ok(&relay.host(), &["version", "-f", "{{.Server.Os}}"]);
    assert_eq!(os, "linux\n");
    let version = docker_ok(&relay.host(), &["info", "-f", "{{.ServerVersion}}"]);
    assert!(version.starts_with("20."), "{version}");

    // Another CA: the engine's certificate is refused, in words.
    let other = tempfile::tempdir().unwrap();
    make_pki(other.path());
    let wrong = relay_trusting(other.path());
    let out = curl(Some(&wrong), &["-w", "\n%{http_code}"], "/_ping");
    let body = text(&out.stdout);
    assert!(body.ends_with("\n502"), "{body}");
    assert!(body.contains("certificate"), "{body}");
}

/// The docker CLI as it talks to a TLS daemon: DOCKER_TLS_VERIFY and the
/// files in DOCKER_CERT_PATH.
fn docker_tls(port: u16, pki: &Path, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new("docker")
        .args(["-H", &format!("tcp://127.0.0.1:{port}")])
        .args(args)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", pki)
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_relay_serves_https_and_can_require_client_certificates() {
    let pki = tempfile::tempdir().unwrap();
    make_pki(pki.path());
    let file = |name: &str| pki.path().join(name).to_string_lossy().into_owned();
    let (cert, key, ca) = (
        file("server-cert.pem"),
        file("server-key.pem"),
        file("ca.pem"),
    );
    let c = Container::run("https", &[IMAGE, "sleep", "600"]);

    let relay = Relay::start_with(&engine(), &["--tls-cert", &cert, "--tls-key", &key]);
    let ping = Command::new("curl")
        .args(["-sS", "--cacert", &ca])
        .arg(format!("https://127.0.0.1:{}/_ping", relay.port))
        .output()
        .unwrap();
    assert_eq!(text(&ping.stdout), "OK", "{}", text(&ping.stderr));
    // The stock CLI over TLS, hijacked exec and half-close included.
    let exec = docker_tls(
        relay.port,
        pki.path(),
        &["exec", "-i", &c.name, "sh", "-c", "cat; sleep 1; echo done"],
        b"x\n",
    );
    assert_eq!(text(&exec.stdout), "x\ndone\n", "{}", text(&exec.stderr));
    assert!(relay.log().contains("https://"), "{}", relay.log());

    // Requiring client certificates: that is authentication enough to
    // listen beyond loopback, and a client without one is turned away.
    let strict = Relay::spawn_on(
        "0.0.0.0",
        &[
            "--engine",
            &engine(),
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--tls-client-ca",
            &ca,
        ],
        &[],
    );
    let port = strict.port;
    let anonymous = Command::new("curl")
        .args(["-sS", "--cacert", &ca])
        .arg(format!("https://127.0.0.1:{port}/_ping"))
        .output()
        .unwrap();
    assert!(
        !anonymous.status.success(),
        "served without a client certificate"
    );
    let with_cert = docker_tls(port, pki.path(), &["version", "-f", "{{.Server.Os}}"], b"");
    assert_eq!(
        text(&with_cert.stdout),
        "linux\n",
        "{}",
        text(&with_cert.stderr)
    );
}
