//! Opening a chat with a tutor or student in a course (`create_chat`, which finds the
//! existing one too). A student without the course gets `not_enrolled`: that becomes the
//! store's upgrade offer (the course and where to buy it), not an error.

use tutorchat_shared::app::commands::CreateChatArgs;
use tutorchat_shared::{ApiError, CourseId, CourseRef, ErrorCode, UserId};
use yew::prelude::*;

use crate::hooks::use_route::navigate_to;
use crate::hooks::use_store;
use crate::route::Route;
use crate::state::{Action, UpgradeOffer};
use crate::tauri;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StartChat {
    /// Opens the chat with this person in this course.
    pub start: Callback<(CourseRef, UserId)>,
    /// The request on its way, if any.
    pub pending: Option<(CourseId, UserId)>,
    pub error: Option<ApiError>,
    pub dismiss: Callback<()>,
}

#[hook]
pub(crate) fn use_start_chat() -> StartChat {
    let dispatcher = use_store().dispatcher();
    let pending = use_state(|| None::<(CourseId, UserId)>);
    let error = use_state(|| None::<ApiError>);

    let start = {
        let (pending, error, dispatcher) = (pending.clone(), error.clone(), dispatcher.clone());
        use_callback((), move |(course, with): (CourseRef, UserId), _| {
            pending.set(Some((course.id.clone(), with.clone())));
            error.set(None);
            dispatcher.dispatch(Action::Upgrade(None));
            let (pending, error, dispatcher) = (pending.clone(), error.clone(), dispatcher.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let args = CreateChatArgs {
                    course_id: course.id.clone(),
                    with,
                };
                let answer = tauri::create_chat(&args).await;
                pending.set(None);
                match answer {
                    Ok(chat) => {
                        let id = chat.id;
                        dispatcher.dispatch(Action::ChatOpened(chat));
                        navigate_to(Route::Chat(id));
                    }
                    Err(e) if e.code == ErrorCode::NotEnrolled => {
                        dispatcher.dispatch(Action::Upgrade(Some(UpgradeOffer {
                            course: course_to_buy(course, e.course_id, e.course_title),
                            purchase_url: e.purchase_url,
                        })));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let dismiss = {
        let error = error.clone();
        use_callback((), move |(), _| {
            error.set(None);
            dispatcher.dispatch(Action::Upgrade(None));
        })
    };
    StartChat {
        start,
        pending: (*pending).clone(),
        error: (*error).clone(),
        dismiss,
    }
}

/// The course the refusal names, which is the one pressed unless the server says otherwise.
fn course_to_buy(pressed: CourseRef, named: Option<CourseId>, title: Option<String>) -> CourseRef {
    match named {
        Some(id) if id != pressed.id => CourseRef {
            title: title.unwrap_or_else(|| id.to_string()),
            id,
        },
        _ => pressed,
    }
}
