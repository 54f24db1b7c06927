//! Personal data at rest (DOMAIN.md §9): ID numbers and phones are sealed with AES-256-GCM
//! under a key from the configuration, and found again through an HMAC-SHA256 blind index.
//! Keys rotate: every ciphertext names its key, old keys still open, and
//! `civgrid keys reencrypt` moves the values to the current key. The blind-index key stays.

use crate::config::Config;
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::collections::HashMap;
use std::path::Path;

/// What a sealed value is, for masking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An ID number: the county and the last four stay.
    Id,
    Phone,
}

impl Kind {
    pub fn mask(self, clear: &str) -> String {
        match self {
            Kind::Id => civgrid_core::ids::mask_id(clear),
            Kind::Phone => civgrid_core::ids::mask_phone(clear),
        }
    }
}

/// The keys in force.
#[derive(Clone)]
pub struct Vault {
    current: String,
    keys: HashMap<String, Aes256Gcm>,
    index: Hmac<Sha256>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    /// `id:hex64`, current first.
    data_keys: Vec<String>,
    index_key: String,
}

fn random_hex() -> String {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    hex::encode(k)
}

impl Vault {
    /// From `data_keys`/`index_key` when set, else from `key_file` (created with new random
    /// keys, readable by the owner only, when missing).
    pub fn load(cfg: &Config) -> anyhow::Result<Vault> {
        if let (Some(d), Some(i)) = (&cfg.data_keys, &cfg.index_key) {
            let keys: Vec<String> = d.split(',').map(|s| s.trim().to_owned()).collect();
            return Vault::from_parts(&keys, i);
        }
        let path = Path::new(&cfg.key_file);
        if !path.exists() {
            Vault::write_file(
                path,
                &KeyFile {
                    data_keys: vec![format!("k1:{}", random_hex())],
                    index_key: random_hex(),
                },
            )?;
            tracing::warn!(
                "已在 {} 生成新的数据加密密钥；生产环境请妥善备份，或用 CIVGRID_DATA_KEYS / CIVGRID_INDEX_KEY 配置",
                path.display()
            );
        }
        let f: KeyFile = serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("无法读取密钥文件 {}", path.display()))?,
        )
        .with_context(|| format!("密钥文件 {} 格式错误", path.display()))?;
        Vault::from_parts(&f.data_keys, &f.index_key)
    }

    fn write_file(path: &Path, f: &KeyFile) -> anyhow::Result<()> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_string_pretty(f)?)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    fn from_parts(data_keys: &[String], index_key: &str) -> anyhow::Result<Vault> {
        let mut keys = HashMap::new();
        let mut current = None;
        for k in data_keys {
            let (id, hex_key) = k
                .split_once(':')
                .context("数据密钥格式应为 id:64位十六进制")?;
            anyhow::ensure!(
                !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "数据密钥编号只能是字母和数字"
            );
            let bytes = hex::decode(hex_key).context("数据密钥不是十六进制")?;
            anyhow::ensure!(bytes.len() == 32, "数据密钥应为 32 字节（64 位十六进制）");
            let cipher = Aes256Gcm::new_from_slice(&bytes).context("数据密钥")?;
            current.get_or_insert_with(|| id.to_owned());
            keys.insert(id.to_owned(), cipher);
        }
        let index = hex::decode(index_key).context("索引密钥不是十六进制")?;
        anyhow::ensure!(index.len() == 32, "索引密钥应为 32 字节（64 位十六进制）");
        Ok(Vault {
            current: current.context("至少需要一个数据密钥")?,
            keys,
            index: <Hmac<Sha256> as Mac>::new_from_slice(&index).context("索引密钥")?,
        })
    }

    /// Adds a new random key in front of `key_file` (the old ones keep opening old values).
    pub fn rotate_file(cfg: &Config) -> anyhow::Result<String> {
        anyhow::ensure!(
            cfg.data_keys.is_none(),
            "数据密钥来自配置 data_keys：请在配置中把新密钥放在最前面"
        );
        Vault::load(cfg)?;
        let path = Path::new(&cfg.key_file);
        let mut f: KeyFile = serde_json::from_str(&std::fs::read_to_string(path)?)?;
        let next = (1..)
            .map(|n| format!("k{n}"))
            .find(|id| !f.data_keys.iter().any(|k| k.starts_with(&format!("{id}:"))))
            .expect("an unused id");
        f.data_keys.insert(0, format!("{next}:{}", random_hex()));
        Vault::write_file(path, &f)?;
        Ok(next)
    }

    /// `k1:` + hex(nonce ‖ ciphertext ‖ tag); a fresh random nonce each time.
    pub fn seal(&self, clear: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self.keys[&self.current]
            .encrypt(Nonce::from_slice(&nonce), clear.as_bytes())
            .expect("AES-GCM encryption of a short value cannot fail");
        let mut out = String::with_capacity(self.current.len() + 1 + 2 * (12 + ct.len()));
        out.push_str(&self.current);
        out.push(':');
        out.push_str(&hex::encode(nonce));
        out.push_str(&hex::encode(ct));
        out
    }

    /// Opens a sealed value (any key still held).
    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        let (id, body) = sealed.split_once(':').context("密文格式错误")?;
        let key = self
            .keys
            .get(id)
            .with_context(|| format!("缺少数据密钥 {id}"))?;
        let bytes = hex::decode(body).context("密文格式错误")?;
        anyhow::ensure!(bytes.len() > 12 + 16, "密文过短");
        let clear = key
            .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
            .map_err(|_| anyhow::anyhow!("密文无法用密钥 {id} 解开"))?;
        Ok(String::from_utf8(clear)?)
    }

    /// A sealed value opened and masked for display (`371502********1234`, `138****1234`);
    /// one no key opens shows as such rather than failing the whole answer.
    pub fn masked(&self, kind: Kind, sealed: &Option<String>) -> Option<String> {
        sealed.as_deref().map(|s| match self.open(s) {
            Ok(clear) => kind.mask(&clear),
            Err(_) => "（无法解密）".into(),
        })
    }

    /// A sealed value opened in clear (for an audited unmask).
    pub fn open_opt(&self, sealed: &Option<String>) -> anyhow::Result<Option<String>> {
        sealed.as_deref().map(|s| self.open(s)).transpose()
    }

    /// Whether a sealed value is under an old key.
    pub fn is_stale(&self, sealed: &str) -> bool {
        sealed
            .split_once(':')
            .is_none_or(|(id, _)| id != self.current)
    }

    /// The blind index of `clear` for one kind of value (`id`, `tail4`, `phone` …): the same
    /// input always gives the same 32 hex characters; without the key it says nothing.
    pub fn blind(&self, kind: &str, clear: &str) -> String {
        let mut m = self.index.clone();
        m.update(kind.as_bytes());
        m.update(&[0]);
        m.update(clear.as_bytes());
        hex::encode(&m.finalize().into_bytes()[..16])
    }
}

/// Every sealed column, as (table, column).
const SEALED: &[(&str, &str)] = &[
    ("people", "id_enc"),
    ("people", "phone_enc"),
    ("houses", "owner_id_enc"),
    ("houses", "owner_phone_enc"),
    ("orgs", "phone_enc"),
    ("orgs", "legal_rep_id_enc"),
    ("orgs", "legal_rep_phone_enc"),
];

/// Re-seals every value still under an old key with the current one, in batches of 1,000
/// rows per transaction; returns how many values moved.
pub async fn reencrypt(db: &crate::db::Db, vault: &Vault) -> anyhow::Result<usize> {
    let current = format!("{}:%", vault.current);
    let mut moved = 0;
    for (table, col) in SEALED {
        loop {
            let rows: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT id, {col} FROM {table} WHERE {col} IS NOT NULL AND {col} NOT LIKE $1 LIMIT 1000"
            ))
            .bind(&current)
            .fetch_all(&db.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = db.begin().await?;
            for (id, sealed) in &rows {
                let fresh = vault.seal(&vault.open(sealed)?);
                sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE id = $2"))
                    .bind(fresh)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            moved += rows.len();
        }
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(keys: &str) -> Config {
        Config {
            data_keys: Some(keys.into()),
            index_key: Some("11".repeat(32)),
            ..Config::default()
        }
    }

    #[test]
    fn seal_open_and_rotate() {
        let old = Vault::load(&cfg(&format!("k1:{}", "ab".repeat(32)))).unwrap();
        let s = old.seal("34052419800101001X");
        assert!(!s.contains("34052419800101001X"));
        assert_ne!(s, old.seal("34052419800101001X"), "fresh nonce each time");
        assert_eq!(old.open(&s).unwrap(), "34052419800101001X");
        let new = Vault::load(&cfg(&format!(
            "k2:{},k1:{}",
            "cd".repeat(32),
            "ab".repeat(32)
        )))
        .unwrap();
        assert!(new.is_stale(&s));
        assert_eq!(new.open(&s).unwrap(), "34052419800101001X");
        assert!(!new.is_stale(&new.seal("x")));
        assert_eq!(old.blind("id", "a"), new.blind("id", "a"));
        assert_ne!(old.blind("id", "a"), old.blind("phone", "a"));
        let mut t = s.clone();
        t.pop();
        t.push(if s.ends_with('0') { '1' } else { '0' });
        assert!(old.open(&t).is_err(), "tampering is detected");
    }

    #[test]
    fn key_file_is_created_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            key_file: dir.path().join("keys.json").display().to_string(),
            ..Config::default()
        };
        let v = Vault::load(&c).unwrap();
        let s = v.seal("13806351234");
        assert_eq!(Vault::rotate_file(&c).unwrap(), "k2");
        let v2 = Vault::load(&c).unwrap();
        assert_eq!(v2.open(&s).unwrap(), "13806351234");
        assert!(v2.is_stale(&s));
        assert_eq!(v.blind("phone", "1"), v2.blind("phone", "1"));
    }
}
