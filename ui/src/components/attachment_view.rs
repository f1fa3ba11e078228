//! What an image or file message carries, in its bubble: an image's thumbnail at its aspect
//! ratio (the space is kept before it loads, so nothing jumps), opening the viewer; a file's
//! card with its name, size and Open; the upload's or download's progress bar.

use tutorchat_shared::app::commands::AttachmentArgs;
use tutorchat_shared::app::LocalAttachment;
use tutorchat_shared::ClientId;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::components::{Icon, IconKind, ImageViewer};
use crate::hooks::{use_store, use_thumbnail};
use crate::state::Action;
use crate::tauri;
use tutorchat_shared::media::human_size;

/// Longest side of an image in the timeline, in CSS pixels.
const SHOWN_PX: u32 = 260;

#[derive(Properties, PartialEq)]
pub(crate) struct AttachmentViewProps {
    pub attachment: LocalAttachment,
    pub client_id: ClientId,
    pub image: bool,
}

#[function_component]
pub(crate) fn AttachmentView(props: &AttachmentViewProps) -> Html {
    let store = use_store();
    let a = &props.attachment;
    let uploading = store.uploads.get(&props.client_id).copied();
    let downloading =
        a.id.as_ref()
            .and_then(|id| store.downloads.get(id).copied());
    let thumbnail = use_thumbnail(a.id.clone(), props.client_id.clone());
    let viewing = use_state(|| false);
    let progress = uploading
        .map(|p| ("Uploading", p))
        .or(downloading.map(|p| ("Downloading", p)))
        .map(|(what, (done, total))| {
            let percent = done.saturating_mul(100).checked_div(total).unwrap_or(0);
            html! {
                <div class="transfer" role="progressbar" aria-label={what}
                    aria-valuemin="0" aria-valuemax="100" aria-valuenow={percent.to_string()}>
                    <div class="transfer-bar" style={format!("width: {percent}%")}></div>
                </div>
            }
        });

    if props.image && a.is_image() {
        let (w, h) = shown_size(a.width.unwrap_or(1), a.height.unwrap_or(1));
        let open = {
            let viewing = viewing.clone();
            Callback::from(move |_: MouseEvent| viewing.set(true))
        };
        let close = {
            let viewing = viewing.clone();
            Callback::from(move |()| viewing.set(false))
        };
        return html! {
            <figure class="attachment-image">
                <button type="button" class="image-button" onclick={open}
                    disabled={a.id.is_none()} aria-label={format!("Open the image {}", a.name)}
                    style={format!("width: {w}px; aspect-ratio: {} / {}", a.width.unwrap_or(1), a.height.unwrap_or(1))}>
                    if let Some(src) = thumbnail {
                        <img src={src} alt={a.name.clone()} width={w.to_string()} height={h.to_string()} />
                    } else {
                        <span class="image-placeholder" aria-hidden="true"></span>
                    }
                </button>
                { for progress }
                if *viewing {
                    if let Some(id) = a.id.clone() {
                        <ImageViewer attachment_id={id} name={a.name.clone()} on_close={close} />
                    }
                }
            </figure>
        };
    }

    let open = a.id.clone().map(|id| {
        let dispatcher = store.dispatcher();
        Callback::from(move |_: MouseEvent| {
            let (args, dispatcher) = (
                AttachmentArgs {
                    attachment_id: id.clone(),
                },
                dispatcher.clone(),
            );
            spawn_local(async move {
                if let Err(e) = tauri::open_attachment(&args).await {
                    dispatcher.dispatch(Action::DownloadFailed(args.attachment_id));
                    dispatcher.dispatch(Action::Failed(e));
                }
            });
        })
    });
    html! {
        <div class="file-card">
            <span class="file-icon"><Icon kind={IconKind::File} size={28} /></span>
            <span class="file-text">
                <span class="file-name" title={a.name.clone()}>{ &a.name }</span>
                <span class="file-size">{ human_size(a.size) }</span>
            </span>
            if let Some(open) = open {
                <button type="button" class="file-open" onclick={open}
                    aria-label={format!("Open {}", a.name)} title="Download and open">
                    <Icon kind={IconKind::Download} />
                </button>
            }
            { for progress }
        </div>
    }
}

/// An image's size in the timeline: its own, scaled down to fit [`SHOWN_PX`].
fn shown_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (width.max(1), height.max(1));
    let scale = f64::from(SHOWN_PX) / f64::from(w.max(h));
    if scale >= 1.0 {
        return (w, h);
    }
    let fit = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    (fit(w), fit(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_keep_their_aspect_ratio_within_the_bubble() {
        assert_eq!(shown_size(640, 480), (260, 195));
        assert_eq!(shown_size(480, 640), (195, 260));
        assert_eq!(shown_size(100, 50), (100, 50));
        assert_eq!(shown_size(0, 0), (1, 1));
    }
}
