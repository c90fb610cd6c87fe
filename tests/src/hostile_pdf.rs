//! A PDF that is tiny on the wire and slow to draw: form XObjects nested
//! `depth` deep, each drawing the next `fanout` times, the innermost a few
//! strokes. Rendering it draws `fanout^depth` copies (the PDF form of a
//! "billion laughs"), which keeps PDFium busy for seconds to minutes.

/// Builds the file (hand-written objects, a correct xref table).
pub fn nested_forms(depth: u32, fanout: u32) -> Vec<u8> {
    // 1: catalog, 2: pages, 3: page, 4: page content, 5..: forms (5 = outermost).
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /XObject << /F 5 0 R >> >> >>"
            .into(),
        stream("", "q /F Do Q\n"),
    ];
    for level in 0..depth {
        let id = 5 + level;
        let body = if level + 1 == depth {
            "0.2 w 0 0 m 612 792 l S 0 792 m 612 0 l S 10 10 600 770 re S\n".to_owned()
        } else {
            let mut body = String::new();
            for i in 0..fanout {
                // Each copy slightly moved and shrunk, so nothing is culled.
                body.push_str(&format!("q 0.98 0 0 0.98 {} {} cm /F Do Q\n", i % 7, i % 5));
            }
            body
        };
        let resources = if level + 1 == depth {
            String::new()
        } else {
            format!("/Resources << /XObject << /F {} 0 R >> >>", id + 1)
        };
        objects.push(stream(
            &format!("/Type /XObject /Subtype /Form /BBox [0 0 612 792] {resources}"),
            &body,
        ));
    }
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dictionary: &str, body: &str) -> String {
    format!(
        "<< {dictionary} /Length {} >>\nstream\n{body}endstream",
        body.len()
    )
}
