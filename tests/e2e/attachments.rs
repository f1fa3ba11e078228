//! A tutor attaches an image and a PDF (pasted into the message box, as from the clipboard),
//! each shown first as a draft with its preview and sent with a caption; the student's app
//! notifies "📷 Photo" and "📎 name", shows the image's thumbnail at its size and the PDF's
//! card, opens the image in the viewer, and the chat list says what came.

use crate::app::{App, ENTER};
use crate::harness::{Display, ServerProc};

/// Pastes a file into the message box as the clipboard would: a PNG drawn on a canvas, or
/// bytes given as text, under `name` and `mime`.
async fn paste_file(app: &App, name: &str, mime: &str, pdf_text: Option<&str>) {
    let script = r#"
        const [name, mime, text, done] = arguments;
        const paste = (blob) => {
            const file = new File([blob], name, { type: mime });
            const data = new DataTransfer();
            data.items.add(file);
            const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
            document.querySelector('textarea#message-input').dispatchEvent(event);
            done(true);
        };
        if (text !== null) {
            paste(new Blob([text], { type: mime }));
            return;
        }
        const canvas = document.createElement('canvas');
        canvas.width = 640; canvas.height = 400;
        const g = canvas.getContext('2d');
        g.fillStyle = '#ffffff'; g.fillRect(0, 0, 640, 400);
        g.strokeStyle = '#c9cfe0'; g.lineWidth = 1;
        for (let x = 40; x < 640; x += 40) { g.beginPath(); g.moveTo(x, 0); g.lineTo(x, 400); g.stroke(); }
        for (let y = 40; y < 400; y += 40) { g.beginPath(); g.moveTo(0, y); g.lineTo(640, y); g.stroke(); }
        g.strokeStyle = '#4a5fd8'; g.lineWidth = 4; g.beginPath();
        for (let x = 0; x <= 640; x += 4) { const t = (x - 320) / 80; const y = 360 - t * t * 18; x ? g.lineTo(x, y) : g.moveTo(x, y); }
        g.stroke();
        g.fillStyle = '#1d2433'; g.font = 'bold 28px sans-serif'; g.fillText('f(x) = x²  — exercise 3', 24, 44);
        canvas.toBlob(paste, 'image/png');
    "#;
    let text = pdf_text.map_or(serde_json::Value::Null, |t| serde_json::json!(t));
    app.web
        .execute_async(
            script,
            vec![serde_json::json!(name), serde_json::json!(mime), text],
        )
        .await
        .expect("paste a file");
}

/// An element's text as the page has it now (read in one step, so a re-render between
/// finding it and reading it cannot lose it).
async fn text_of(app: &App, css: &str) -> String {
    app.find(css).await;
    app.web
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
            vec![serde_json::json!(css)],
        )
        .await
        .expect("read text")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

const PDF: &str = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_tutor_sends_an_image_and_a_pdf_and_the_student_sees_and_opens_them() {
    let _serial = crate::harness::serial().await;
    let display = Display::start();
    let data = tempfile::tempdir().expect("server data");
    let server = ServerProc::start(data.path());

    let tutor = App::launch(&display).await;
    let student = App::launch(&display).await;
    tutor.login(&server.url(), "ada@tutorchat.test").await;
    student.login(&server.url(), "sam@tutorchat.test").await;

    // Ada opens her chat with Sam and pastes a picture of the exercise.
    tutor.click("#nav-chats").await;
    tutor.click("li.chat-item[data-chat-id='1']").await;
    tutor
        .wait_for("textarea#message-input", "the chat opens")
        .await;
    paste_file(&tutor, "exercise-3.png", "image/png", None).await;
    tutor
        .wait_for(
            "#attachment-draft img.draft-preview",
            "the image's draft with its preview",
        )
        .await;
    let drafted = text_of(&tutor, "#attachment-draft .file-name").await;
    assert!(drafted.contains("exercise-3.png"), "{drafted:?}");
    tutor
        .type_into("textarea#message-input", "The graph for exercise 3")
        .await;
    if let Some(dir) = crate::app::screenshot_dir() {
        tutor.screenshot(&dir.join("attachment-draft.png")).await;
    }
    tutor.keys("textarea#message-input", ENTER).await;
    tutor
        .wait_for(
            ".message.own.with-attachment[data-state='sent'] .attachment-image img",
            "the image is uploaded and sent",
        )
        .await;
    // And a PDF, without a caption.
    paste_file(&tutor, "exercises-week3.pdf", "application/pdf", Some(PDF)).await;
    tutor.wait_for("#attachment-draft", "the PDF's draft").await;
    tutor.click("#send-button").await;
    tutor
        .wait_for(
            ".message.own[data-state='sent'] .file-card .file-name",
            "the PDF is sent",
        )
        .await;
    // A program named like a picture is refused before anything is uploaded.
    paste_file(&tutor, "cat.png", "image/png", Some("\u{7f}ELF\u{2}\u{1}\u{1}\0\0\0\0\0\0\0\0\0\u{2}\0>\0\u{1}\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")).await;
    tutor
        .wait_for("#input-error:not(:empty)", "the refusal")
        .await;
    assert!(
        text_of(&tutor, "#input-error")
            .await
            .contains("does not take"),
        "{}",
        text_of(&tutor, "#input-error").await
    );
    assert!(!tutor.exists("#attachment-draft").await);

    // Sam, elsewhere in the app, was told what came.
    student
        .wait_notification("📷 Photo · The graph for exercise 3")
        .await;
    student.wait_notification("📎 exercises-week3.pdf").await;

    // Sam sees both: the thumbnail at the image's proportions, the PDF's card.
    student.click("#nav-chats").await;
    student.click("li.chat-item[data-chat-id='1']").await;
    student
        .wait_for(
            ".message:not(.own) .attachment-image img",
            "the image's thumbnail",
        )
        .await;
    let ratio = student
        .web
        .execute(
            "const b = document.querySelector('.message:not(.own) .image-button').getBoundingClientRect(); return b.width / b.height;",
            vec![],
        )
        .await
        .expect("measure");
    let ratio = ratio.as_f64().expect("a number");
    assert!((ratio - 1.6).abs() < 0.05, "640×400 shown at {ratio}");
    assert_eq!(
        text_of(&student, ".message:not(.own) .file-card .file-name").await,
        "exercises-week3.pdf"
    );
    assert_eq!(
        text_of(&student, ".message:not(.own).with-attachment .caption").await,
        "The graph for exercise 3"
    );
    if let Some(dir) = crate::app::screenshot_dir() {
        student.screenshot(&dir.join("attachments.png")).await;
    }
    // The chat list says what came last.
    student.click("#nav-chats").await;
    student
        .wait_for("li.chat-item[data-chat-id='1']", "the chat list")
        .await;
    assert!(
        text_of(&student, "li.chat-item[data-chat-id='1'] .chat-preview")
            .await
            .contains("📎 exercises-week3.pdf"),
        "{}",
        text_of(&student, "li.chat-item[data-chat-id='1'] .chat-preview").await
    );

    // Sam opens the image.
    student.click("li.chat-item[data-chat-id='1']").await;
    student
        .wait_for(".message:not(.own) .image-button", "the image")
        .await;
    student.click(".message:not(.own) .image-button").await;
    student
        .wait_for("#image-viewer img#image-viewer-img", "the full image")
        .await;
    let natural = student
        .web
        .execute(
            "const i = document.getElementById('image-viewer-img'); return [i.naturalWidth, i.naturalHeight];",
            vec![],
        )
        .await
        .expect("measure");
    assert_eq!(natural, serde_json::json!([640, 400]));
    if let Some(dir) = crate::app::screenshot_dir() {
        student.screenshot(&dir.join("image-viewer.png")).await;
    }
    student.click(".viewer-close").await;
    student
        .wait_gone("#image-viewer", "the viewer closes")
        .await;

    tutor.close().await;
    student.close().await;
}
