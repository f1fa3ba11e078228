//! The people one may chat with, by course: a student's tutors (`available_tutors`) or a
//! tutor's students (`students`, optionally for one course). Also keeps the course list of
//! the last unfiltered answer, so a course filter does not shrink its own options.

use tutorchat_shared::api::ContactsByCourse;
use tutorchat_shared::app::commands::StudentsArgs;
use tutorchat_shared::{ApiError, CourseId, CourseRef};
use yew::prelude::*;

use crate::tauri;

/// Which list to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContactQuery {
    Tutors,
    Students(Option<CourseId>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ContactsHandle {
    pub data: Option<ContactsByCourse>,
    pub loading: bool,
    pub error: Option<ApiError>,
    /// Every course of the last unfiltered answer.
    pub courses: Vec<CourseRef>,
}

#[hook]
pub(crate) fn use_contacts(query: ContactQuery) -> ContactsHandle {
    let data = use_state(|| None::<ContactsByCourse>);
    let loading = use_state(|| true);
    let error = use_state(|| None::<ApiError>);
    let courses = use_state(Vec::<CourseRef>::new);
    let latest = use_mut_ref(|| 0_u64);
    {
        let (data, loading, error, courses) = (
            data.clone(),
            loading.clone(),
            error.clone(),
            courses.clone(),
        );
        use_effect_with(query, move |query| {
            let ticket = {
                let mut latest = latest.borrow_mut();
                *latest += 1;
                *latest
            };
            loading.set(true);
            let query = query.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = match &query {
                    ContactQuery::Tutors => tauri::available_tutors().await,
                    ContactQuery::Students(course_id) => {
                        tauri::students(&StudentsArgs {
                            course_id: course_id.clone(),
                        })
                        .await
                    }
                };
                if *latest.borrow() != ticket {
                    return;
                }
                loading.set(false);
                match answer {
                    Ok(answer) => {
                        let unfiltered =
                            matches!(query, ContactQuery::Tutors | ContactQuery::Students(None));
                        if unfiltered {
                            courses.set(answer.courses.iter().map(|c| c.course.clone()).collect());
                        }
                        error.set(None);
                        data.set(Some(answer));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    ContactsHandle {
        data: (*data).clone(),
        loading: *loading,
        error: (*error).clone(),
        courses: (*courses).clone(),
    }
}
