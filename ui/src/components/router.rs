//! The screen: a splash while the session is restored, the login page without a user, and
//! otherwise the signed-in frame (top bar, connection banner, a course offer, error toast)
//! around the page
//! the URL hash names. Also where the app-wide hooks run: the shell connection, the chat
//! list, the connection state, and the active chat.

use yew::prelude::*;

use crate::components::{ConnectionBanner, ErrorToast, NavBar, NotificationPrompt, UpgradePrompt};
use crate::hooks::{
    use_back_online, use_chat_list, use_connection_state, use_logout, use_route, use_server_limits,
    use_shell, use_store,
};
use crate::pages::{ChatsPage, LoginPage, SearchPage, SettingsPage, StudentsPage, TutorsPage};
use crate::route::Route;
use crate::state::Action;

#[function_component]
pub(crate) fn Router() -> Html {
    let store = use_store();
    use_shell(&store);
    use_chat_list(&store);
    use_connection_state(&store);
    use_server_limits(&store);
    let route = use_route();
    let back_online = use_back_online(store.connection);
    let logout = use_logout();

    let resolved = store.user.as_ref().map(|u| route.route.resolve(u.role));
    {
        let (current, redirect) = (route.route, route.redirect.clone());
        use_effect_with((current, resolved), move |&(current, resolved)| {
            if let Some(to) = resolved.filter(|to| *to != current) {
                redirect.emit(to);
            }
        });
    }
    {
        let dispatcher = store.dispatcher();
        use_effect_with(resolved.and_then(Route::chat), move |&active| {
            dispatcher.dispatch(Action::SetActiveChat(active));
        });
    }

    if store.restoring {
        return html! {
            <div class="splash" role="status">
                <span class="spinner"></span>
                <span>{ "Starting Tutorchat…" }</span>
            </div>
        };
    }
    let (Some(user), Some(current)) = (store.user.clone(), resolved) else {
        return html! { <LoginPage notice={store.notice.clone()} /> };
    };
    let page = match current {
        Route::Tutors => html! { <TutorsPage /> },
        Route::Students => html! { <StudentsPage /> },
        Route::Chats | Route::Home => {
            html! { <ChatsPage active={None::<tutorchat_shared::ChatId>} /> }
        }
        Route::Chat(id) => html! { <ChatsPage active={Some(id)} /> },
        Route::Search(chat) => html! { <SearchPage chat={chat} /> },
        Route::Settings => html! { <SettingsPage /> },
    };
    let dismiss = {
        let dispatcher = store.dispatcher();
        Callback::from(move |()| dispatcher.dispatch(Action::DismissError))
    };
    let dismiss_offer = {
        let dispatcher = store.dispatcher();
        Callback::from(move |()| dispatcher.dispatch(Action::Upgrade(None)))
    };
    html! {
        <div class="app">
            <NavBar user={user} route={current} unread_total={store.unread_total()}
                on_navigate={route.navigate.clone()} on_logout={logout} />
            <ConnectionBanner state={store.connection} back_online={back_online} />
            <NotificationPrompt />
            if let Some(offer) = store.upgrade.clone() {
                <UpgradePrompt offer={offer} on_dismiss={dismiss_offer} />
            }
            <main class="content">{ page }</main>
            <ErrorToast error={store.error.clone()} on_dismiss={dismiss} />
        </div>
    }
}
