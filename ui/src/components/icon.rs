//! Inline SVG icons (no icon font, no emoji: they render the same everywhere). Decorative:
//! the control around an icon carries the accessible name.

use yew::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IconKind {
    Back,
    Phone,
    Video,
    Send,
    Clock,
    Lock,
    Close,
    ArrowDown,
    Chat,
    Logo,
    More,
    BellOff,
    Archive,
    Block,
    Search,
    Paperclip,
    File,
    Download,
}

#[derive(Properties, PartialEq)]
pub(crate) struct IconProps {
    pub kind: IconKind,
    #[prop_or(20)]
    pub size: u32,
}

#[function_component]
pub(crate) fn Icon(props: &IconProps) -> Html {
    let body = match props.kind {
        IconKind::Back => html! { <path d="M15 18l-6-6 6-6" /> },
        IconKind::Phone => html! {
            <path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.7a2 2 0 0 1-.5 2.1L8 9.8a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.7.7a2 2 0 0 1 1.7 2z" />
        },
        IconKind::Video => html! {
            <>
                <path d="M23 7l-7 5 7 5V7z" />
                <rect x="1" y="5" width="15" height="14" rx="2" ry="2" />
            </>
        },
        IconKind::Send => html! {
            <>
                <path d="M22 2L11 13" />
                <path d="M22 2l-7 20-4-9-9-4 20-7z" />
            </>
        },
        IconKind::Clock => html! {
            <>
                <circle cx="12" cy="12" r="9" />
                <path d="M12 7v5l3 2" />
            </>
        },
        IconKind::Lock => html! {
            <>
                <rect x="4" y="11" width="16" height="10" rx="2" />
                <path d="M8 11V7a4 4 0 0 1 8 0v4" />
            </>
        },
        IconKind::Close => html! { <path d="M18 6L6 18M6 6l12 12" /> },
        IconKind::ArrowDown => html! { <path d="M12 5v14M19 12l-7 7-7-7" /> },
        IconKind::Chat => html! {
            <path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9 9 0 0 1-3.9-.9L3 21l1.9-5.1A8.4 8.4 0 0 1 12 3a8.4 8.4 0 0 1 9 8.5z" />
        },
        IconKind::More => html! {
            <>
                <circle cx="12" cy="5" r="1" />
                <circle cx="12" cy="12" r="1" />
                <circle cx="12" cy="19" r="1" />
            </>
        },
        IconKind::BellOff => html! {
            <>
                <path d="M13.7 21a2 2 0 0 1-3.4 0" />
                <path d="M18.6 13A17.9 17.9 0 0 1 18 8" />
                <path d="M6.3 6.3A6 6 0 0 0 6 8c0 7-3 9-3 9h14" />
                <path d="M18 8a6 6 0 0 0-9.3-5" />
                <path d="M1 1l22 22" />
            </>
        },
        IconKind::Archive => html! {
            <>
                <path d="M21 8v13H3V8" />
                <rect x="1" y="3" width="22" height="5" />
                <path d="M10 12h4" />
            </>
        },
        IconKind::Block => html! {
            <>
                <circle cx="12" cy="12" r="10" />
                <path d="M4.9 4.9l14.2 14.2" />
            </>
        },
        IconKind::Search => html! {
            <>
                <circle cx="11" cy="11" r="7" />
                <path d="M21 21l-4.3-4.3" />
            </>
        },
        IconKind::Paperclip => html! {
            <path d="M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" />
        },
        IconKind::File => html! {
            <>
                <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />
                <path d="M14 2v6h6" />
            </>
        },
        IconKind::Download => html! {
            <>
                <path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4" />
                <path d="M7 10l5 5 5-5" />
                <path d="M12 15V3" />
            </>
        },
        IconKind::Logo => html! {
            <>
                <path d="M21 11.5a8.4 8.4 0 0 1-9 8.4 9 9 0 0 1-3.9-.9L3 21l1.9-5.1A8.4 8.4 0 0 1 12 3a8.4 8.4 0 0 1 9 8.5z" />
                <path d="M8 10.5l4-2 4 2-4 2z" />
                <path d="M10 11.5v2c1.3.8 2.7.8 4 0v-2" />
            </>
        },
    };
    let size = props.size.to_string();
    html! {
        <svg class="icon" width={size.clone()} height={size} viewBox="0 0 24 24" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
            aria-hidden="true" focusable="false">
            { body }
        </svg>
    }
}
