//! The top bar: brand, the role's tabs (Tutors or Students, and Chats with the unread
//! total), Search, the user, Settings and Sign out.

use tutorchat_shared::api::UserProfile;
use tutorchat_shared::Role;
use yew::prelude::*;

use crate::components::{Avatar, Icon, IconKind};
use crate::route::Route;

#[derive(Properties, PartialEq)]
pub(crate) struct NavBarProps {
    pub user: UserProfile,
    pub route: Route,
    pub unread_total: u64,
    pub on_navigate: Callback<Route>,
    pub on_logout: Callback<()>,
}

#[function_component]
pub(crate) fn NavBar(props: &NavBarProps) -> Html {
    let tab = |id: &'static str, label: &'static str, to: Route, active: bool, badge: u64| {
        let onclick = props.on_navigate.reform(move |_: MouseEvent| to);
        html! {
            <button id={id} type="button" class={classes!("tab", active.then_some("active"))}
                aria-current={active.then_some("page")} onclick={onclick}>
                { label }
                if badge > 0 {
                    <span class="nav-badge" aria-label={format!("{badge} unread")}>{ badge }</span>
                }
            </button>
        }
    };
    let in_chats = matches!(props.route, Route::Chats | Route::Chat(_));
    let people = match props.user.role {
        Role::Student => tab(
            "nav-tutors",
            "Tutors",
            Route::Tutors,
            props.route == Route::Tutors,
            0,
        ),
        Role::Tutor => tab(
            "nav-students",
            "Students",
            Route::Students,
            props.route == Route::Students,
            0,
        ),
        Role::Admin => html! {},
    };
    let on_logout = props.on_logout.reform(|_: MouseEvent| ());
    html! {
        <header class="topbar">
            <div class="brand">
                <Icon kind={IconKind::Logo} size={26} />
                <span>{ "Tutorchat" }</span>
            </div>
            <nav class="tabs" aria-label="Main">
                { people }
                { tab("nav-chats", "Chats", Route::Chats, in_chats, props.unread_total) }
            </nav>
            <div class="account">
                <button id="nav-search" type="button"
                    class={classes!("icon-button", matches!(props.route, Route::Search(_)).then_some("active"))}
                    aria-label="Search messages" title="Search messages"
                    onclick={props.on_navigate.reform(|_: MouseEvent| Route::Search(None))}>
                    <Icon kind={IconKind::Search} />
                </button>
                <button id="nav-settings" type="button"
                    class={classes!("ghost", (props.route == Route::Settings).then_some("active"))}
                    onclick={props.on_navigate.reform(|_: MouseEvent| Route::Settings)}>
                    { "Settings" }
                </button>
                <Avatar name={props.user.name.clone()} small={true} />
                <span class="user-name" title={props.user.email.clone()}>{ &props.user.name }</span>
                <button id="logout" type="button" class="ghost" onclick={on_logout}>{ "Sign out" }</button>
            </div>
        </header>
    }
}
