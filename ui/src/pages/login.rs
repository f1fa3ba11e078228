//! Sign in: server address, email, password. Refusals show the shell's message.

use tutorchat_shared::app::commands::LoginArgs;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::{Icon, IconKind};
use crate::hooks::use_login;

/// Where a local server listens by default.
const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

#[derive(Properties, PartialEq)]
pub(crate) struct LoginPageProps {
    /// Why the user is here again (the session ended), if they did not sign out.
    #[prop_or_default]
    pub notice: Option<String>,
}

#[function_component]
pub(crate) fn LoginPage(props: &LoginPageProps) -> Html {
    let login = use_login();
    let server = use_state(|| DEFAULT_SERVER.to_owned());
    // Whether the user has typed a server (then the remembered one must not replace it).
    let server_edited = use_mut_ref(|| false);
    {
        // The server signed in to last, kept by the shell after signing out.
        let (server, edited) = (server.clone(), server_edited.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(prefs) = crate::tauri::preferences().await {
                    if !*edited.borrow() {
                        server.set(prefs.server);
                    }
                }
            });
        });
    }
    let email = use_state(String::new);
    let password = use_state(String::new);
    let missing = use_state(|| false);

    let bind = |field: &UseStateHandle<String>| {
        let field = field.clone();
        Callback::from(move |e: InputEvent| {
            field.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onsubmit = {
        let (server, email, password, missing) = (
            server.clone(),
            email.clone(),
            password.clone(),
            missing.clone(),
        );
        let submit = login.submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let args = LoginArgs {
                server: server.trim().to_owned(),
                email: email.trim().to_owned(),
                password: (*password).clone(),
            };
            let incomplete =
                args.server.is_empty() || args.email.is_empty() || args.password.is_empty();
            missing.set(incomplete);
            if !incomplete {
                submit.emit(args);
            }
        })
    };
    let error = if *missing {
        Some("Enter the server address, your email and your password.".to_owned())
    } else {
        login.error.as_ref().map(|e| e.message.clone())
    };
    html! {
        <div class="login-page">
            <form class="login-card" onsubmit={onsubmit} novalidate={true} aria-labelledby="login-title">
                <div class="login-brand">
                    <Icon kind={IconKind::Logo} size={40} />
                    <h1 id="login-title">{ "Tutorchat" }</h1>
                    <p class="muted">{ "Talk with your tutors and students, course by course." }</p>
                </div>
                if let Some(notice) = &props.notice {
                    <p class="notice" role="status">{ notice }</p>
                }
                <label for="server">{ "Server" }</label>
                <input id="server" type="url" autocomplete="url" spellcheck="false"
                    value={(*server).clone()}
                    onfocus={{
                        let edited = server_edited.clone();
                        Callback::from(move |_: FocusEvent| *edited.borrow_mut() = true)
                    }}
                    oninput={{
                        let edited = server_edited.clone();
                        bind(&server).reform(move |e: InputEvent| {
                            *edited.borrow_mut() = true;
                            e
                        })
                    }} />
                <label for="email">{ "Email" }</label>
                <input id="email" type="email" autocomplete="username" spellcheck="false"
                    placeholder="you@school.example" value={(*email).clone()} oninput={bind(&email)} />
                <label for="password">{ "Password" }</label>
                <input id="password" type="password" autocomplete="current-password"
                    value={(*password).clone()} oninput={bind(&password)} />
                if let Some(error) = error {
                    <p id="login-error" class="form-error" role="alert">{ error }</p>
                }
                <button id="login-submit" type="submit" class="primary wide" disabled={login.pending}>
                    { if login.pending { "Signing in…" } else { "Sign in" } }
                </button>
            </form>
        </div>
    }
}
