//! A student's tutors, by course, with a Message button each. A tutor who teaches several of
//! the student's courses appears under each; the button pressed picks the course.

use tutorchat_shared::CourseId;
use yew::prelude::*;

use crate::components::TutorItem;
use crate::hooks::{use_contacts, use_start_chat, use_store, ContactQuery};

#[function_component]
pub(crate) fn TutorsPage() -> Html {
    let store = use_store();
    let contacts = use_contacts(ContactQuery::Tutors);
    let start = use_start_chat();

    let busy = |course: &CourseId, tutor: &tutorchat_shared::UserId| {
        start
            .pending
            .as_ref()
            .is_some_and(|(c, t)| c == course && t == tutor)
    };
    let groups = contacts.data.as_ref().map(|data| {
        data.courses
            .iter()
            .filter(|group| !group.contacts.is_empty())
            .map(|group| {
                let heading = format!("course-{}", group.course.id);
                html! {
                    <section class="course-group" aria-labelledby={heading.clone()} key={group.course.id.to_string()}>
                        <h2 id={heading}>{ &group.course.title }</h2>
                        <ul class="contact-list">
                            { for group.contacts.iter().map(|tutor| html! {
                                <TutorItem key={tutor.id.to_string()} course={group.course.clone()}
                                    tutor={tutor.clone()}
                                    online={store.is_online(&tutor.id, tutor.online)}
                                    busy={busy(&group.course.id, &tutor.id)}
                                    on_message={start.start.clone()} />
                            }) }
                        </ul>
                    </section>
                }
            })
            .collect::<Html>()
    });
    let empty = contacts
        .data
        .as_ref()
        .is_some_and(|d| d.courses.iter().all(|g| g.contacts.is_empty()));

    html! {
        <div class="people-page">
            <header class="page-header">
                <h1>{ "Your tutors" }</h1>
                <p class="muted">{ "Ask the tutors of your courses anything — they usually answer within a day." }</p>
            </header>
            if let Some(error) = &start.error {
                <p class="form-error" role="alert">{ &error.message }</p>
            }
            if let Some(error) = &contacts.error {
                <p class="form-error" role="alert">{ &error.message }</p>
            }
            if contacts.loading && contacts.data.is_none() {
                <p class="list-note" role="status">{ "Loading your tutors…" }</p>
            }
            if empty {
                <div class="empty-state">
                    <p>{ "No tutors yet." }</p>
                    <p class="muted">{ "The tutors of the courses you buy appear here." }</p>
                </div>
            }
            { groups.unwrap_or_default() }
        </div>
    }
}
