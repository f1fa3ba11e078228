//! The file about to be sent, above the message box: its preview (or a file icon), name and
//! size, and a way to take it back. The message box's text goes with it as its caption.

use tutorchat_shared::app::commands::FileInfo;
use yew::prelude::*;

use crate::components::{Icon, IconKind};
use tutorchat_shared::media::human_size;

#[derive(Properties, PartialEq)]
pub(crate) struct AttachmentDraftProps {
    pub file: FileInfo,
    pub on_remove: Callback<()>,
}

#[function_component]
pub(crate) fn AttachmentDraft(props: &AttachmentDraftProps) -> Html {
    let f = &props.file;
    let remove = props.on_remove.reform(|_: MouseEvent| ());
    html! {
        <div id="attachment-draft" class="attachment-draft">
            if let Some(preview) = f.preview.clone() {
                <img class="draft-preview" src={preview} alt="" />
            } else {
                <span class="draft-icon"><Icon kind={IconKind::File} size={28} /></span>
            }
            <span class="file-text">
                <span class="file-name" title={f.name.clone()}>{ &f.name }</span>
                <span class="file-size">{ format!("{} · add a caption below, or just send", human_size(f.size)) }</span>
            </span>
            <button type="button" class="draft-remove" onclick={remove} aria-label="Remove the attachment">
                <Icon kind={IconKind::Close} />
            </button>
        </div>
    }
}
