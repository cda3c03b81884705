//! What the example agents share: a Phantom server to talk to, embedded
//! unless one is named.

pub mod travel;

use phantom_sdk::{PhantomClient, SecretKind};
use phantom_server::{Config, RunningServer};

/// A Phantom server for an example: the one at `PHANTOM_URL` (with
/// `PHANTOM_API_KEY`), or an embedded one on a fresh temporary directory.
pub struct Phantom {
    /// An operator's client for it.
    pub operator: PhantomClient,
    embedded: Option<(RunningServer, std::path::PathBuf)>,
}

impl Phantom {
    /// Connects to `PHANTOM_URL`, or starts an embedded server.
    ///
    /// # Errors
    ///
    /// A message if the server cannot be reached or started.
    pub async fn connect() -> Result<Self, String> {
        if let Ok(url) = std::env::var("PHANTOM_URL") {
            let key = std::env::var("PHANTOM_API_KEY")
                .map_err(|_| "PHANTOM_URL needs PHANTOM_API_KEY")?;
            let operator = PhantomClient::operator(&url, &key).map_err(|e| e.to_string())?;
            return Ok(Self {
                operator,
                embedded: None,
            });
        }

        let key =
            phantom_server::secrets::generate(SecretKind::ApiKey).map_err(|e| e.to_string())?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let data_dir =
            std::env::temp_dir().join(format!("phantom-example-{}-{nanos}", std::process::id()));

        // The MiniLM weights where `phantom model fetch` puts them (or where
        // PHANTOM_MODEL_DIR says), not under the temporary data directory.
        let model_dir = std::env::var_os("PHANTOM_MODEL_DIR")
            .map_or_else(|| Config::default().model_dir(), std::path::PathBuf::from);
        let config = Config {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.clone(),
            model_dir: Some(model_dir),
            api_key: Some(key.expose().parse().map_err(|_| "unreachable")?),
            log: "warn".to_owned(),
            ..Config::default()
        };
        let server = phantom_server::start(config, false)
            .await
            .map_err(|e| e.to_string())?;
        // The server logs at `warn` here; which semantic tier runs is worth a line.
        eprintln!("embedded Phantom: {}", server.intent_engine());
        let operator =
            PhantomClient::operator(&server.url(), key.expose()).map_err(|e| e.to_string())?;
        Ok(Self {
            operator,
            embedded: Some((server, data_dir)),
        })
    }

    /// Stops the embedded server, if any, and removes its directory.
    pub async fn shutdown(self) {
        if let Some((server, dir)) = self.embedded {
            let _ = server.stop().await;
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
