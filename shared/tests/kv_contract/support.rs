//! Fixtures: a `Kv` over the transport under test, isolated by key prefix,
//! plus a direct connection to the same server for checking what landed.

use std::path::PathBuf;

use folio_testing::redis_server::{RedisServer, TlsFiles};
use folio_testing::upstash::UpstashEmulator;
use folio_testing::{TestPrefix, redis_url};
use shared::config::{Config, Function};
use shared::kv::Kv;

pub const REST_TOKEN: &str = "folio-emulator-token-1234";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tcp,
    Tls,
    Rest,
}

pub struct Fixture {
    pub kind: Kind,
    pub prefix: TestPrefix,
    pub kv: Kv,
    /// The variables that built `kv` (a second "instance" is built from them).
    pub vars: Vec<(String, String)>,
    pub emulator: Option<UpstashEmulator>,
    pub tls: Option<(RedisServer, CertDir)>,
}

impl Fixture {
    pub async fn new(kind: Kind) -> Fixture {
        shared::install_crypto_provider();
        let prefix = TestPrefix::new();
        let (vars, emulator, tls) = match kind {
            Kind::Tcp => (vec![("REDIS_URL", redis_url())], None, None),
            Kind::Tls => {
                let certs = CertDir::generate();
                let server = RedisServer::start_tls(&certs.files()).expect("TLS redis-server");
                let vars = vec![
                    ("REDIS_URL", server.url()),
                    ("REDIS_TLS_CA_FILE", certs.ca_path().display().to_string()),
                ];
                (vars, None, Some((server, certs)))
            }
            Kind::Rest => {
                let emulator = UpstashEmulator::start(&redis_url(), REST_TOKEN)
                    .await
                    .expect("emulator");
                let vars = vec![
                    ("UPSTASH_REDIS_REST_URL", emulator.url()),
                    ("UPSTASH_REDIS_REST_TOKEN", REST_TOKEN.to_owned()),
                ];
                (vars, Some(emulator), None)
            }
        };
        let mut vars: Vec<(String, String)> =
            vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        vars.push(("REDIS_KEY_PREFIX".into(), prefix.prefix.clone()));
        let kv = kv_from(&vars);
        Fixture {
            kind,
            prefix,
            kv,
            vars,
            emulator,
            tls,
        }
    }

    /// Another process's handle on the same Redis: its own connection and
    /// in-process state.
    pub fn another_instance(&self) -> Kv {
        kv_from(&self.vars)
    }

    /// A blocking connection straight to the server behind the transport.
    pub fn raw(&self) -> redis::Connection {
        let client = match &self.tls {
            None => redis::Client::open(redis_url()).expect("client"),
            Some((server, certs)) => redis::Client::build_with_tls(
                server.url(),
                redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(std::fs::read(certs.ca_path()).expect("ca")),
                },
            )
            .expect("tls client"),
        };
        client.get_connection().expect("raw connection")
    }
}

/// A `Kv` built the way a function builds it: from variables alone.
pub fn kv_from(vars: &[(String, String)]) -> Kv {
    let mut all = vec![(
        "DATABASE_URL".to_owned(),
        "postgres://127.0.0.1/unused".to_owned(),
    )];
    all.extend_from_slice(vars);
    let config = Config::from_vars(Function::Health, all).expect("config");
    Kv::from_config(&config.redis).expect("kv")
}

/// A CA and a server certificate for `localhost`/127.0.0.1, generated now.
pub struct CertDir {
    pub dir: PathBuf,
}

impl CertDir {
    pub fn generate() -> CertDir {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let dir = std::env::temp_dir().join(format!("folio-certs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("cert dir");
        let ca_key = KeyPair::generate().expect("ca key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "folio test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().expect("server key");
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("server params");
        let cert = params.signed_by(&key, &issuer).expect("server cert");
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write ca");
        std::fs::write(dir.join("server.pem"), cert.pem()).expect("write cert");
        std::fs::write(dir.join("server.key"), key.serialize_pem()).expect("write key");
        CertDir { dir }
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn files(&self) -> TlsFiles {
        TlsFiles {
            cert: self.dir.join("server.pem"),
            key: self.dir.join("server.key"),
            ca: self.ca_path(),
        }
    }
}

impl Drop for CertDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
