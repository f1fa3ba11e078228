//! "Buy the course": opens the course's purchase page (from the platform) in the system's
//! browser through the shell, which accepts web addresses only.

use tutorchat_shared::app::commands::UrlArgs;
use yew::prelude::*;

use crate::hooks::background::run_in_background;
use crate::tauri;

#[derive(Properties, PartialEq)]
pub(crate) struct BuyCourseProps {
    pub url: AttrValue,
}

#[function_component]
pub(crate) fn BuyCourse(props: &BuyCourseProps) -> Html {
    let url = props.url.clone();
    let onclick = Callback::from(move |_: MouseEvent| {
        let args = UrlArgs {
            url: url.to_string(),
        };
        run_in_background("open_url", async move { tauri::open_url(&args).await });
    });
    html! {
        <button id="buy-course" type="button" class="primary" onclick={onclick}>
            { "Buy the course" }
        </button>
    }
}
