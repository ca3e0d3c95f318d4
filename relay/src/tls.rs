//! TLS to the engine (`tcp://host:2376` with client certificates, as the
//! docker CLI does it) and, later, for the relay's own listener.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", path.display());
    Ok(certs)
}

fn key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .with_context(|| format!("reading the private key {}", path.display()))
}

/// Where the docker CLI keeps its TLS files: `DOCKER_CERT_PATH`, else
/// `~/.docker`.
pub fn docker_cert_path() -> PathBuf {
    match std::env::var_os("DOCKER_CERT_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".docker"),
    }
}

/// The client side for an engine started with `--tlsverify`: its
/// certificate is checked against `ca.pem`, and `cert.pem`/`key.pem`
/// identify the relay. There is no way to turn the check off.
pub fn engine_client(dir: &Path) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for ca in certs(&dir.join("ca.pem"))? {
        roots.add(ca).context("adding ca.pem")?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs(&dir.join("cert.pem"))?, key(&dir.join("key.pem"))?)
        .context("cert.pem and key.pem do not make a client identity")?;
    Ok(Arc::new(config))
}

/// The relay's own HTTPS: `cert` (chain) and `key`; with `client_ca`, only
/// clients presenting a certificate it signed get in.
pub fn server(
    cert: &Path,
    key_file: &Path,
    client_ca: Option<&Path>,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certs(ca)? {
                roots.add(c).context("adding the client CA")?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider(),
            )
            .build()
            .context("the client CA")?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs(cert)?, key(key_file)?)
        .context("--tls-cert and --tls-key do not make a server identity")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
