//! A tutor's students, by course, with a course filter.

use tutorchat_shared::{CourseId, UserId};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::components::StudentItem;
use crate::hooks::{use_contacts, use_start_chat, use_store, ContactQuery};

#[function_component]
pub(crate) fn StudentsPage() -> Html {
    let store = use_store();
    let filter = use_state(|| None::<CourseId>);
    let contacts = use_contacts(ContactQuery::Students((*filter).clone()));
    let start = use_start_chat();

    let onchange = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            filter.set((!value.is_empty()).then(|| CourseId::new(value)));
        })
    };
    let busy = |course: &CourseId, student: &UserId| {
        start
            .pending
            .as_ref()
            .is_some_and(|(c, s)| c == course && s == student)
    };
    let selected = (*filter).clone();
    let options = contacts.courses.iter().map(|course| {
        let chosen = selected.as_ref() == Some(&course.id);
        html! {
            <option value={course.id.to_string()} selected={chosen}>{ &course.title }</option>
        }
    });
    let groups = contacts.data.as_ref().map(|data| {
        data.courses
            .iter()
            .map(|group| {
                let heading = format!("course-{}", group.course.id);
                html! {
                    <section class="course-group" aria-labelledby={heading.clone()} key={group.course.id.to_string()}>
                        <h2 id={heading}>
                            { &group.course.title }
                            <span class="count">{ group.contacts.len() }</span>
                        </h2>
                        if group.contacts.is_empty() {
                            <p class="muted">{ "No students in this course yet." }</p>
                        } else {
                            <ul class="contact-list">
                                { for group.contacts.iter().map(|student| html! {
                                    <StudentItem key={student.id.to_string()} course={group.course.clone()}
                                        student={student.clone()}
                                        online={store.is_online(&student.id, student.online)}
                                        busy={busy(&group.course.id, &student.id)}
                                        on_message={start.start.clone()} />
                                }) }
                            </ul>
                        }
                    </section>
                }
            })
            .collect::<Html>()
    });
    let empty = contacts.data.as_ref().is_some_and(|d| d.courses.is_empty());

    html! {
        <div class="people-page">
            <header class="page-header with-filter">
                <div>
                    <h1>{ "Your students" }</h1>
                    <p class="muted">{ "Everyone enrolled in the courses you teach." }</p>
                </div>
                <div class="filter">
                    <label for="course-filter">{ "Course" }</label>
                    <select id="course-filter" onchange={onchange}>
                        <option value="" selected={selected.is_none()}>{ "All courses" }</option>
                        { for options }
                    </select>
                </div>
            </header>
            if let Some(error) = &start.error {
                <p class="form-error" role="alert">{ &error.message }</p>
            }
            if let Some(error) = &contacts.error {
                <p class="form-error" role="alert">{ &error.message }</p>
            }
            if contacts.loading && contacts.data.is_none() {
                <p class="list-note" role="status">{ "Loading your students…" }</p>
            }
            if empty {
                <div class="empty-state">
                    <p>{ "No students yet." }</p>
                    <p class="muted">{ "Students of your courses appear here once they enrol." }</p>
                </div>
            }
            { groups.unwrap_or_default() }
        </div>
    }
}
