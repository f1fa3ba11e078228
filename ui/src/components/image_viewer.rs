//! The whole image, over everything (downloaded into the cache first); Escape, the close
//! button or a click outside it closes it.

use tutorchat_shared::app::commands::AttachmentArgs;
use tutorchat_shared::AttachmentId;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::components::{Icon, IconKind};
use crate::tauri;

#[derive(Properties, PartialEq)]
pub(crate) struct ImageViewerProps {
    pub attachment_id: AttachmentId,
    pub name: String,
    pub on_close: Callback<()>,
}

#[function_component]
pub(crate) fn ImageViewer(props: &ImageViewerProps) -> Html {
    let src = use_state(|| None::<Result<String, String>>);
    {
        let src = src.clone();
        use_effect_with(props.attachment_id.clone(), move |id| {
            let args = AttachmentArgs {
                attachment_id: id.clone(),
            };
            spawn_local(async move {
                src.set(Some(tauri::image_data(&args).await.map_err(|e| e.message)));
            });
        });
    }
    let close = props.on_close.reform(|_: MouseEvent| ());
    let keep_open = Callback::from(|e: MouseEvent| e.stop_propagation());
    let on_key = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    // Focused when it opens, so Escape reaches it.
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with((), move |_| {
            if let Some(el) = node.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    let body = match &*src {
        None => html! { <p class="viewer-note">{ "Loading…" }</p> },
        Some(Ok(url)) => {
            html! { <img id="image-viewer-img" src={url.clone()} alt={props.name.clone()} onclick={keep_open} /> }
        }
        Some(Err(why)) => html! { <p class="viewer-note" role="alert">{ why }</p> },
    };
    html! {
        <div id="image-viewer" class="viewer" role="dialog" aria-modal="true"
            aria-label={props.name.clone()} onclick={close.clone()} onkeydown={on_key} tabindex="-1"
            ref={node}>
            <button type="button" class="viewer-close" onclick={close} aria-label="Close the image">
                <Icon kind={IconKind::Close} />
            </button>
            { body }
            <p class="viewer-name">{ &props.name }</p>
        </div>
    }
}
