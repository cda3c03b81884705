//! A real `phantom` process for a test: started on a free port with a fresh
//! data directory and a manual clock, stopped (gracefully) when dropped or
//! restarted on the same directory.

use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use phantom_sdk::{
    CreateMission, IssueToken, IssuedToken, MissionRecord, PhantomClient, SecretKind,
};
use tokio::process::{Child, Command};

/// The server under test.
pub struct Server {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    key: String,
    /// An operator's client.
    pub operator: PhantomClient,
    extra: Vec<(String, String)>,
}

fn free_port() -> u16 {
    // The port is released before the server binds it; another process
    // taking it in between would make the start fail loudly, not silently.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Server {
    /// Starts a server with a manual clock.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment settings, e.g.
    /// `("PHANTOM_CRITICAL_RESOURCES", "db:prod")`.
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        let key = phantom_server::secrets::generate(SecretKind::ApiKey).expect("random");
        let mut server = Self {
            child: None,
            dir: tempfile::tempdir().expect("a temp dir"),
            port: free_port(),
            key: key.expose().to_owned(),
            operator: PhantomClient::anonymous("http://unused").expect("a client"),
            extra: extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        server.operator = PhantomClient::operator(&server.url(), &server.key).expect("a valid key");
        server.spawn().await;
        server
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The management API key.
    pub fn key(&self) -> &str {
        &self.key
    }

    async fn spawn(&mut self) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_phantom-e2e-server"));
        command
            .arg("serve")
            .env_clear()
            .env("PHANTOM_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("PHANTOM_DATA_DIR", self.dir.path())
            .env("PHANTOM_API_KEY", &self.key)
            .env("PHANTOM_CLOCK", "manual")
            .env("PHANTOM_LOG", "warn")
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (name, value) in &self.extra {
            command.env(name, value);
        }
        self.child = Some(command.spawn().expect("the server starts"));

        let anonymous = PhantomClient::anonymous(&self.url()).expect("a client");
        let started = Instant::now();
        while anonymous.health().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not become healthy"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
            .await
            .expect("the server stops within 20s after SIGTERM")
            .expect("the server's exit status");
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
    }

    /// Stops the server and starts it again on the same data directory.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }

    /// Kills the server without warning (SIGKILL) and starts it again.
    pub async fn crash_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill");
        }
        self.spawn().await;
    }

    /// Moves the server's manual clock forward.
    pub async fn advance(&self, by: &str) {
        let _: serde_json::Value = self
            .operator
            .raw(
                reqwest::Method::POST,
                "/v1/test/clock",
                Some(&serde_json::json!({"advance": by})),
            )
            .await
            .expect("the clock moves");
    }

    /// A token for `intent` with `scope`, limits as given.
    pub async fn token(
        &self,
        intent: &str,
        scope: &[&str],
        max_actions: Option<u32>,
        max_access: &str,
        mission_id: Option<&str>,
    ) -> IssuedToken {
        self.operator
            .issue_token(&IssueToken {
                agent: "agent:test".to_owned(),
                on_behalf_of: "user:123".to_owned(),
                mission_id: mission_id.map(str::to_owned),
                intent: intent.to_owned(),
                constraints: phantom_sdk::Constraints {
                    max_access: max_access.parse().expect("a duration"),
                    scope: scope.iter().map(|s| (*s).to_owned()).collect(),
                    max_actions,
                },
            })
            .await
            .expect("the token is issued")
    }

    /// A mission for user:123.
    pub async fn mission(&self, intent: &str) -> MissionRecord {
        self.operator
            .create_mission(&CreateMission {
                user: "user:123".to_owned(),
                intent: intent.to_owned(),
                timeout: "7d".parse().expect("a duration"),
                durable: true,
                requires_entitlements: Vec::new(),
            })
            .await
            .expect("the mission is created")
    }

    /// A client for the agent holding `token`.
    pub fn agent(&self, token: &IssuedToken) -> PhantomClient {
        self.operator
            .as_agent(&token.token)
            .expect("a well-formed token")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // kill_on_drop reaps the process; nothing else to release.
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}
