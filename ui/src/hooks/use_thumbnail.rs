//! An attachment's thumbnail as a `data:` URL: from the shell's cache (fetched there when
//! missing), or a pending image's local preview; asked again when the store says it arrived.

use tutorchat_shared::app::commands::ThumbnailArgs;
use tutorchat_shared::{AttachmentId, ClientId};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::hooks::use_store;
use crate::tauri;

#[hook]
pub(crate) fn use_thumbnail(
    attachment: Option<AttachmentId>,
    client_id: ClientId,
) -> Option<String> {
    let store = use_store();
    let version = attachment
        .as_ref()
        .and_then(|id| store.thumbnails.get(id).copied())
        .unwrap_or(0);
    let url = use_state(|| None::<String>);
    {
        let url = url.clone();
        use_effect_with(
            (attachment, client_id, version),
            move |(attachment, client_id, _)| {
                let args = ThumbnailArgs {
                    attachment_id: attachment.clone(),
                    client_id: client_id.clone(),
                };
                spawn_local(async move {
                    if let Ok(Some(found)) = tauri::thumbnail(&args).await {
                        url.set(Some(found));
                    }
                });
            },
        );
    }
    (*url).clone()
}
