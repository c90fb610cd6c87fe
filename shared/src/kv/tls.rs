//! The trust store for `rediss://` when `REDIS_TLS_CA_FILE` is set.
//!
//! redis-rs takes extra roots only as a PEM bundle that *replaces* its
//! built-in public roots (`TlsCertificates::root_cert`), and it accepts no
//! rustls `ClientConfig` of ours. To trust the file *beside* the public roots,
//! the bundle handed over is the file's certificates followed by the system's
//! roots (`rustls-native-certs`: `SSL_CERT_FILE`/`SSL_CERT_DIR` or the
//! distribution's store). Without the variable, redis-rs keeps its compiled-in
//! webpki roots and this module is not used.

use base64::Engine;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The file's certificates plus the system roots, as one PEM bundle.
/// Fails when the file cannot be read or holds no certificate.
pub(super) fn root_bundle(ca_file: &str) -> anyhow::Result<Vec<u8>> {
    let pem = std::fs::read(ca_file)
        .map_err(|e| anyhow::anyhow!("REDIS_TLS_CA_FILE cannot be read: {}", e.kind()))?;
    let own = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| anyhow::anyhow!("REDIS_TLS_CA_FILE is not a PEM certificate bundle"))?;
    if own.is_empty() {
        anyhow::bail!("REDIS_TLS_CA_FILE holds no certificate");
    }
    let system = rustls_native_certs::load_native_certs();
    if system.certs.is_empty() {
        tracing::warn!(
            "no system root certificates found; rediss:// trusts only REDIS_TLS_CA_FILE"
        );
    }
    let mut bundle = Vec::with_capacity(pem.len() + system.certs.len() * 2048);
    for cert in own.iter().chain(system.certs.iter()) {
        append_pem(&mut bundle, cert);
    }
    tracing::debug!(
        own = own.len(),
        system = system.certs.len(),
        "rediss:// trust store built"
    );
    Ok(bundle)
}

fn append_pem(out: &mut Vec<u8>, cert: &CertificateDer<'_>) {
    let body = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    out.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END CERTIFICATE-----\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_without_echoing_it() {
        let dir = std::env::temp_dir().join(format!("folio-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("ca.pem");
        std::fs::write(&path, "secret-looking junk").expect("write");
        let err = root_bundle(path.to_str().expect("utf-8 path")).expect_err("no certs");
        assert!(!err.to_string().contains("junk"), "{err}");
        assert!(root_bundle("/nonexistent/ca.pem").is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_bundle_keeps_the_system_roots_beside_the_file() {
        let system = rustls_native_certs::load_native_certs().certs;
        let Some(first) = system.first() else {
            return; // a machine without a system store: nothing to keep
        };
        let dir = std::env::temp_dir().join(format!("folio-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("ca.pem");
        let mut pem = Vec::new();
        append_pem(&mut pem, first);
        std::fs::write(&path, &pem).expect("write");
        let bundle = root_bundle(path.to_str().expect("utf-8 path")).expect("bundle");
        let count = CertificateDer::pem_slice_iter(&bundle).count();
        assert_eq!(count, system.len() + 1);
        let _ = std::fs::remove_dir_all(dir);
    }
}
