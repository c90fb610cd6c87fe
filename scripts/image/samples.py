#!/usr/bin/env python3
"""Inputs of the image smoke test (scripts/test-image.sh), made with the standard library
and poppler's pdftoppm only.

  samples.py make DIR      DIR/page.png (a 200 dpi gray scan of PNG_LINES) and
                           DIR/scan.pdf (one page, an image only: no text layer, SCAN_LINES)
  samples.py token SECRET  an HS256 bearer token for user image-smoke, valid 10 minutes
  samples.py check KIND FILE   KIND png|scan|ind: the OCR answer in FILE holds the expected words
"""
import base64
import hashlib
import hmac
import json
import pathlib
import re
import subprocess
import sys
import time
import zlib

PNG_LINES = ["The quick brown fox jumps over the lazy dog.", "Folio checks its container image."]
SCAN_LINES = ["Scanned pages are rendered by PDFium", "and recognised by Tesseract."]
EXPECTED = {
    "png": ["quick", "brown", "fox", "lazy", "container", "image"],
    "scan": ["scanned", "pages", "rendered", "pdfium", "recognised", "tesseract"],
    # Indonesian has no "q": its model reads "quick" as "guick", which is right for it.
    "ind": ["brown", "fox", "lazy", "container"],
}


def text_pdf(pages):
    """A PDF with one page per list of lines, Helvetica 24 pt, with a text layer."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", None,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = "BT /F1 24 Tf 60 700 Td 32 TL " + " ".join(
            "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
            for line in lines) + " ET"
        objs.append(f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                    f"/Resources << /Font << /F1 3 0 R >> >> /Contents {len(objs)} 0 R >>")
        kids.append(f"{len(objs)} 0 R")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    return assemble([o.encode("latin-1") for o in objs])


def image_pdf(width, height, gray, dpi):
    """A one-page PDF whose only content is an 8-bit gray image: what a scanner makes."""
    w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
    data = zlib.compress(gray)
    ops = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
        f"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace "
        f"/DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length {len(data)} >>\n"
        f"stream\n".encode() + data + b"\nendstream",
        f"<< /Length {len(ops)} >>\nstream\n".encode() + ops + b"\nendstream",
    ]
    return assemble(objs)


def assemble(objs):
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def read_pgm(path):
    raw = pathlib.Path(path).read_bytes()
    m = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", raw)
    if not m:
        sys.exit(f"samples: {path} is not an 8-bit PGM")
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, raw[m.end():m.end() + w * h]


def make(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "text.pdf").write_bytes(text_pdf([PNG_LINES, SCAN_LINES]))
    dpi = 200
    render = ["pdftoppm", "-r", str(dpi), "-gray", "-singlefile"]
    subprocess.run(render + ["-f", "1", "-l", "1", "-png", str(out / "text.pdf"),
                             str(out / "page")], check=True)
    subprocess.run(render + ["-f", "2", "-l", "2", str(out / "text.pdf"),
                             str(out / "scan")], check=True)
    w, h, gray = read_pgm(out / "scan.pgm")
    (out / "scan.pdf").write_bytes(image_pdf(w, h, gray, dpi))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(secret):
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "image-smoke", "iat": now, "exp": now + 600}).encode())
    sig = b64(hmac.new(secret.encode(), head + b"." + body, hashlib.sha256).digest())
    print((head + b"." + body + b"." + sig).decode())


def check(kind, path):
    answer = json.loads(pathlib.Path(path).read_text())
    text = answer.get("text", "").lower()
    missing = [w for w in EXPECTED[kind] if w not in text]
    sources = [p.get("source") for p in answer.get("pages", [])]
    if missing or sources != ["ocr"]:
        sys.exit(f"samples: {kind}: missing words {missing}, page sources {sources}, "
                 f"text {answer.get('text')!r}")
    print(f"{kind}: {' '.join(answer['text'].split())!r} "
          f"(confidence {answer['pages'][0].get('confidence')}, {answer.get('elapsed_ms')} ms)")


if __name__ == "__main__":
    cmd = sys.argv[1:2]
    if cmd == ["make"] and len(sys.argv) == 3:
        make(sys.argv[2])
    elif cmd == ["token"] and len(sys.argv) == 3:
        token(sys.argv[2])
    elif cmd == ["check"] and len(sys.argv) == 4:
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
