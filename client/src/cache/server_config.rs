//! What the server publishes about itself (`GET /api/config`), kept in `meta` so the app
//! checks input against the server's limits also when it starts offline. Until the server has
//! said, the shared defaults.

use rusqlite::{Connection, OptionalExtension};
use tutorchat_shared::api::ServerConfig;
use tutorchat_shared::Limits;

use crate::error::Result;

pub fn save(c: &Connection, config: &ServerConfig) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('server_config', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([serde_json::to_string(config)?])?;
    Ok(())
}

/// What the server last published, if it has.
fn config(c: &Connection) -> Result<Option<ServerConfig>> {
    let json: Option<String> = c
        .prepare_cached("SELECT value FROM meta WHERE key = 'server_config'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    // A config this version cannot read is as good as none.
    Ok(json.and_then(|j| serde_json::from_str::<ServerConfig>(&j).ok()))
}

/// The limits the server last published, or the shared defaults.
pub fn limits(c: &Connection) -> Result<Limits> {
    Ok(config(c)?.map_or_else(Limits::default, |config| config.limits))
}

/// What the server takes as uploads, once it has said (before that the server decides).
pub fn uploads(c: &Connection) -> Result<Option<tutorchat_shared::api::UploadLimits>> {
    Ok(config(c)?.map(|config| config.uploads))
}

/// The server's automatic archiving period; none until it has said.
pub fn archive_after(c: &Connection) -> Result<Option<chrono::Duration>> {
    Ok(config(c)?.and_then(|config| config.archive_after()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_defaults_until_the_server_says_then_what_it_said() {
        let (_dir, cache) = crate::cache::testing::temp_cache();
        cache
            .call(|c| {
                assert_eq!(limits(c)?, Limits::default());
                let said = Limits {
                    max_text_chars: 20,
                    max_url_chars: 300,
                };
                save(
                    c,
                    &ServerConfig {
                        limits: said,
                        uploads: Default::default(),
                        archive_after_days: 0,
                    },
                )?;
                assert_eq!(limits(c)?, said);
                Ok(())
            })
            .await
            .expect("cache");
    }
}
