//! TLS to the engine (issue 3): a real dockerd started with --tlsverify and
//! certificates made here.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// A second private dockerd that only speaks TLS with client certificates.
struct TlsEngine {
    child: Child,
    port: u16,
    _root: tempfile::TempDir,
}

impl TlsEngine {
    fn start(pki: &Path) -> TlsEngine {
        let root = tempfile::Builder::new()
            .prefix("berth-tls")
            .tempdir_in("/tmp")
            .unwrap();
        let port = free_port();
        let at = |p: &str| root.path().join(p);
        let log = std::fs::File::create(at("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--tlsverify")
            .arg("--tlscacert")
            .arg(pki.join("ca.pem"))
            .arg("--tlscert")
            .arg(pki.join("server-cert.pem"))
            .arg("--tlskey")
            .arg(pki.join("server-key.pem"))
            .arg("-H")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .arg("--data-root")
            .arg(at("data"))
            .arg("--exec-root")
            .arg(at("exec"))
            .arg("--pidfile")
            .arg(at("dockerd.pid"))
            .args([
                "--storage-driver",
                "vfs",
                "--bridge",
                "none",
                "--iptables=false",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd");
        let engine = TlsEngine {
            child,
            port,
            _root: root,
        };
        let cli = |args: &[&str]| {
            Command::new("docker")
                .args(["-H", &format!("tcp://127.0.0.1:{port}")])
                .args(args)
                .env("DOCKER_TLS_VERIFY", "1")
                .env("DOCKER_CERT_PATH", pki)
                .output()
                .unwrap()
        };
        wait_for("the TLS dockerd", Duration::from_secs(60), || {
            cli(&["version"]).status.success()
        });
        engine
    }
}

impl Drop for TlsEngine {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = wait_until(Duration::from_secs(20), || {
            self.child.try_wait().ok().flatten().is_some()
        });
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_tls_engine_through_docker_tls_verify_and_cert_path() {
    let pki = tempfile::tempdir().unwrap();
    make_pki(pki.path());
    let engine = TlsEngine::start(pki.path());
    let docker_host = format!("tcp://127.0.0.1:{}", engine.port);
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
