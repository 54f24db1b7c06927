//! One typed configuration: defaults → `civgrid.toml` → `CIVGRID_*` environment variables.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `sqlite://path/to/file.db` (default) or `postgres://user@host/db`.
    pub database_url: String,
    /// Address the server listens on.
    pub listen: String,
    /// Minutes a session may stay unused before it expires.
    pub session_idle_minutes: i64,
    /// Failed logins within `lockout_window_minutes` that lock an account.
    pub lockout_max_failures: i64,
    pub lockout_window_minutes: i64,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
    /// How far (metres) `grids/locate` looks for the nearest grid when a point is in none.
    pub locate_max_distance_m: f64,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Optional basemap tile URL template (`https://…/{z}/{x}/{y}.png`); none = no basemap.
    pub basemap_url: Option<String>,
    /// Attribution shown under the basemap (e.g. `© 天地图`).
    pub basemap_attribution: Option<String>,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Where photos are stored (content-addressed, with thumbnails).
    pub files_dir: String,
    /// Largest accepted photo in bytes.
    pub max_photo_bytes: usize,
    /// Largest accepted upload (an event with its photos) in bytes.
    pub max_upload_bytes: usize,
    /// Working periods of a working day, `HH:MM-HH:MM,…`.
    pub working_hours: String,
    /// Seconds between runs of the deadline and webhook job.
    pub tick_seconds: u64,
    /// Attempts before a webhook delivery is given up.
    pub webhook_max_attempts: i64,
    /// Largest import file accepted (people, houses, organisations).
    pub max_import_bytes: usize,
    /// Where the data keys live (created with fresh random keys on first start) when
    /// `data_keys` is not set.
    pub key_file: String,
    /// Encryption keys for personal data, `id:hex64,id:hex64,…`, the first one current (the
    /// others still decrypt; `civgrid keys reencrypt` moves every value to the current one).
    pub data_keys: Option<String>,
    /// The blind-index key (hex64). It never rotates: exact lookups depend on it.
    pub index_key: Option<String>,
    /// Days grid workers' location points are kept (older points are deleted by the job).
    pub track_retention_days: i64,
    /// A CJK font for bulletin PDFs (OpenType/TrueType, or a collection); when absent the
    /// usual places of Noto Sans CJK (Debian `fonts-noto-cjk`) are tried.
    pub pdf_font: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://civgrid-data/civgrid.db".into(),
            listen: "127.0.0.1:8080".into(),
            session_idle_minutes: 30,
            lockout_max_failures: 5,
            lockout_window_minutes: 10,
            lockout_minutes: 15,
            locate_max_distance_m: 500.0,
            max_body_bytes: 2 * 1024 * 1024,
            basemap_url: None,
            basemap_attribution: None,
            secure_cookies: false,
            files_dir: "civgrid-data/files".into(),
            max_photo_bytes: 8 * 1024 * 1024,
            max_upload_bytes: 40 * 1024 * 1024,
            working_hours: "08:30-12:00,13:30-18:00".into(),
            tick_seconds: 30,
            webhook_max_attempts: 8,
            max_import_bytes: 512 * 1024 * 1024,
            key_file: "civgrid-data/keys.json".into(),
            data_keys: None,
            index_key: None,
            track_retention_days: 90,
            pdf_font: None,
        }
    }
}

impl Config {
    /// Loads the layered configuration; `file` defaults to `civgrid.toml` in the working dir.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let file = file.unwrap_or(Path::new("civgrid.toml"));
        let cfg: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("CIVGRID_"))
            .extract()?;
        Ok(cfg)
    }
}

/// Secrets redact themselves: the database URL may hold a password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("lockout_max_failures", &self.lockout_max_failures)
            .field("lockout_window_minutes", &self.lockout_window_minutes)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("locate_max_distance_m", &self.locate_max_distance_m)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("basemap_url", &self.basemap_url)
            .field("files_dir", &self.files_dir)
            .field("max_photo_bytes", &self.max_photo_bytes)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("working_hours", &self.working_hours)
            .field("tick_seconds", &self.tick_seconds)
            .field("webhook_max_attempts", &self.webhook_max_attempts)
            .field("max_import_bytes", &self.max_import_bytes)
            .field("key_file", &self.key_file)
            .field("data_keys", &self.data_keys.as_ref().map(|_| "***"))
            .field("index_key", &self.index_key.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn layers_and_redaction() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "civgrid.toml",
                "listen = \"0.0.0.0:9000\"\nlockout_minutes = 20\n",
            )?;
            jail.set_env("CIVGRID_LOCKOUT_MINUTES", "30");
            let c = Config::load(None).expect("config");
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.lockout_minutes, 30);
            assert_eq!(c.lockout_max_failures, 5);
            Ok(())
        });
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
